// PATCH requests: the operations that bring a user in step, filters, and group membership in chunks.
import { Role } from '../../core/model';
import { PATCH_SCHEMA, USER_SCHEMA } from './schemas';
import { ScimUserFields, scimValue, setAt } from './userFields';
import { chunk } from './bulk';

// ---------- PATCH operations ----------

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
}

/** A SCIM filter comparing one attribute, the value escaped as a JSON string (RFC 7644 §3.4.2.2). */
export function eqFilter(attribute: string, value: string): string {
  return `${attribute} eq ${JSON.stringify(value)}`;
}

function sameEmails(current: ScimUserFields['emails'], desired: ScimUserFields['emails']): boolean {
  if (!desired) return true;
  const primary = (current ?? []).find((e) => e.primary) ?? (current ?? [])[0];
  return !!primary && primary.value.toLowerCase() === desired[0].value.toLowerCase() && (current ?? []).filter((e) => e.primary).length <= 1;
}

/**
 * How role changes are written: value by value (`add roles`, `remove roles[value eq "x"]`, RFC 7644
 * §3.5.2), or, for apps that refuse value-filtered paths, one `replace roles` with the whole list
 * (`otherRoles`: the values the app holds outside Roster Sync's roles, sent back unchanged).
 */
export interface RolePatchForm {
  whole: boolean;
  otherRoles?: unknown[];
}

/** The values of a SCIM user's `roles` that are not among Roster Sync's roles, as the app holds them. */
export function otherRoleValues(raw: Record<string, any>, knownRoles: Role[]): unknown[] {
  const known = new Set(knownRoles.map((r) => r.toLowerCase()));
  return (Array.isArray(raw.roles) ? raw.roles : []).filter((r: any) => !known.has(String(typeof r === 'string' ? r : r?.value ?? '').toLowerCase()));
}

/** Whether a PATCH was refused for its value-filtered path (RFC 7644 §3.12: 400 invalidPath, or invalidFilter). */
export function refusedValuePath(status: number, body: any, sentOps: PatchOperation[]): boolean {
  if (status !== 400 || !sentOps.some((op) => typeof op.path === 'string' && op.path.includes('['))) return false;
  const type = body && typeof body === 'object' ? String(body.scimType ?? '') : '';
  return type === 'invalidPath' || type === 'invalidFilter' || type === 'noTarget' || (!type && /path|filter/i.test(String(body?.detail ?? '')));
}

/**
 * The PATCH operations that turn `current` into `desired`, touching only what
 * differs. Roles are added and removed value by value, so roles the app gave
 * (outside Roster Sync's known roles) are never removed.
 */
export function userPatchOps(current: ScimUserFields, desired: ScimUserFields, roleForm: RolePatchForm = { whole: false }): PatchOperation[] {
  const ops: PatchOperation[] = [];
  if (current.userName !== desired.userName) ops.push({ op: 'replace', path: 'userName', value: desired.userName });
  if (desired.externalId !== undefined && current.externalId !== desired.externalId) ops.push({ op: 'replace', path: 'externalId', value: desired.externalId });
  if (desired.displayName !== undefined && current.displayName !== desired.displayName) ops.push({ op: 'replace', path: 'displayName', value: desired.displayName });
  if (desired.name) {
    const cur = current.name ?? { formatted: '' };
    const differs = (['formatted', 'givenName', 'familyName'] as const).some((k) => desired.name![k] !== undefined && cur[k] !== desired.name![k]);
    // The whole value: RFC 7644 keeps sub-attributes a replace leaves out, but some servers drop them.
    if (differs) ops.push({ op: 'replace', path: 'name', value: { ...desired.name } });
  }
  if (desired.emails && !sameEmails(current.emails, desired.emails)) ops.push({ op: 'replace', path: 'emails', value: desired.emails });
  if (desired.active !== undefined && current.active !== desired.active) ops.push({ op: 'replace', path: 'active', value: desired.active });
  if (desired.roles) {
    const cur = new Set((current.roles ?? []).map((r) => r.toLowerCase()));
    const want = new Set(desired.roles.map((r) => r.toLowerCase()));
    const add = desired.roles.filter((r) => !cur.has(r.toLowerCase()));
    const remove = (current.roles ?? []).filter((r) => !want.has(r.toLowerCase()));
    if (roleForm.whole && (add.length || remove.length)) {
      // For apps that refuse value-filtered paths: the whole list, keeping the roles the app gave itself.
      ops.push({ op: 'replace', path: 'roles', value: [...(roleForm.otherRoles ?? []), ...desired.roles.map((value) => ({ value }))] });
      return ops;
    }
    if (add.length) ops.push({ op: 'add', path: 'roles', value: add.map((value) => ({ value })) });
    for (const r of remove) ops.push({ op: 'remove', path: `roles[${eqFilter('value', r)}]` });
  }
  for (const [path, value] of Object.entries(desired.extra ?? {})) {
    const held = current.extra?.[path] ?? '';
    if (held === value) continue;
    // An emptied value is removed (RFC 7644 §3.5.2.2), not replaced by an empty string the app might refuse.
    ops.push(value === '' ? { op: 'remove', path } : { op: 'replace', path, value: scimValue(path, value) });
  }
  return ops;
}

/** The body of POST /Users. */
export function createUserBody(desired: ScimUserFields): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [USER_SCHEMA], userName: desired.userName };
  if (desired.externalId !== undefined) body.externalId = desired.externalId;
  if (desired.displayName !== undefined) body.displayName = desired.displayName;
  if (desired.name) body.name = { ...desired.name };
  if (desired.emails) body.emails = desired.emails;
  if (desired.active !== undefined) body.active = desired.active;
  if (desired.roles && desired.roles.length) body.roles = desired.roles.map((value) => ({ value }));
  for (const [path, value] of Object.entries(desired.extra ?? {})) if (value !== '') setAt(body, path, value);
  return body;
}

const READ_ONLY = new Set(['id', 'meta', 'groups']);

/** The body of PUT /Users/{id} when PATCH is not offered: the server's copy with the managed attributes replaced. */
export function replaceUserBody(raw: Record<string, any>, current: ScimUserFields, desired: ScimUserFields): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!READ_ONLY.has(k)) body[k] = v;
  if (!Array.isArray(body.schemas)) body.schemas = [USER_SCHEMA];
  body.userName = desired.userName;
  if (desired.externalId !== undefined) body.externalId = desired.externalId;
  if (desired.displayName !== undefined) body.displayName = desired.displayName;
  if (desired.name) body.name = { ...(typeof raw.name === 'object' && raw.name ? raw.name : {}), ...desired.name };
  if (desired.emails && !sameEmails(current.emails, desired.emails)) body.emails = desired.emails;
  if (desired.active !== undefined) body.active = desired.active;
  if (desired.roles) {
    const known = new Set((current.roles ?? []).map((r) => r.toLowerCase()));
    const others = (Array.isArray(raw.roles) ? raw.roles : []).filter((r: any) => !known.has(String(r?.value ?? r).toLowerCase()));
    body.roles = [...others, ...desired.roles.map((value) => ({ value }))];
  }
  for (const [path, value] of Object.entries(desired.extra ?? {})) setAt(body, path, value);
  return body;
}

/** Whether a SCIM write changes anything at all. */
export function userDiffers(current: ScimUserFields, desired: ScimUserFields): boolean {
  return userPatchOps(current, desired).length > 0;
}

// ---------- group membership ----------

export interface MemberDelta {
  userId: string;
  op: 'add' | 'remove';
}

/**
 * PATCH bodies changing a group's members, at most `max` members per request:
 * adds as one `add members` operation, removals one `members[value eq …]` each
 * (RFC 7644 §3.5.2.2). Never a rewrite of the whole member list.
 */
export function memberPatchBodies(deltas: MemberDelta[], max: number): { body: Record<string, unknown>; userIds: string[] }[] {
  const out: { body: Record<string, unknown>; userIds: string[] }[] = [];
  for (const part of chunk(deltas, Math.max(1, max))) {
    const adds = part.filter((d) => d.op === 'add').map((d) => d.userId);
    const ops: PatchOperation[] = [];
    if (adds.length) ops.push({ op: 'add', path: 'members', value: adds.map((value) => ({ value })) });
    for (const d of part) if (d.op === 'remove') ops.push({ op: 'remove', path: `members[${eqFilter('value', d.userId)}]` });
    out.push({ body: { schemas: [PATCH_SCHEMA], Operations: ops }, userIds: part.map((d) => d.userId) });
  }
  return out;
}

export function patchBody(ops: PatchOperation[]): Record<string, unknown> {
  return { schemas: [PATCH_SCHEMA], Operations: ops };
}
