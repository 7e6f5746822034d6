// Accounts as SCIM users: the fields Roster Sync sends (mapped attributes included), and those it
// reads back from the app's users.
import { Account, AccountStatus, Role } from '../../core/model';
import { AttributeMapping } from '../../core/attributes';
import { USER_SCHEMA } from './schemas';
import { ScimSettings } from './scimSettings';

// ---------- attribute mapping ----------

/** The attributes Roster Sync manages on a SCIM user, in a comparable form. */
export interface ScimUserFields {
  userName: string;
  externalId?: string;
  displayName?: string;
  name?: { formatted: string; givenName?: string; familyName?: string };
  emails?: { value: string; type: string; primary: boolean }[];
  active?: boolean;
  /** Role values (roles mapping only). */
  roles?: string[];
  /** Mapped attributes by SCIM path (`title`, `urn:…:enterprise:2.0:User:department`); '' means not set. */
  extra?: Record<string, string>;
}

// ---------- mapped attributes (Settings → Attributes, rows with a SCIM target) ----------

export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
/** The Enterprise User's manager is a complex value whose `value` is the manager's SCIM id (RFC 7643 §4.3). */
export const MANAGER_PATH = `${ENTERPRISE_SCHEMA}:manager`;

/** An attribute path split into the extension schema it belongs to ('' for the core schema) and the attribute within it. */
export function splitScimPath(path: string): { schema: string; attribute: string[] } {
  if (!path.startsWith('urn:')) return { schema: '', attribute: path.split('.') };
  const at = path.lastIndexOf(':');
  return { schema: path.slice(0, at), attribute: path.slice(at + 1).split('.') };
}

/** The value an app user holds at a SCIM path, as text ('' when absent); a manager gives its SCIM id. */
export function valueAt(raw: Record<string, any>, path: string): string {
  const { schema, attribute } = splitScimPath(path);
  let v: any = schema ? raw[schema] : raw;
  for (const key of attribute) v = v && typeof v === 'object' ? v[key] : undefined;
  if (path === MANAGER_PATH) v = v && typeof v === 'object' ? v.value : v;
  return v === undefined || v === null ? '' : String(v);
}

/** The JSON value sent for a path: text, or for the manager `{ value: <SCIM id> }`. */
export function scimValue(path: string, value: string): unknown {
  return path === MANAGER_PATH ? { value } : value;
}

/** Sets a path in a resource body (creating the extension object), and names the extension in `schemas`. */
export function setAt(body: Record<string, any>, path: string, value: string): void {
  const { schema, attribute } = splitScimPath(path);
  let target: Record<string, any> = body;
  if (schema) {
    target = body[schema] = { ...(body[schema] && typeof body[schema] === 'object' ? body[schema] : {}) };
    const schemas: string[] = Array.isArray(body.schemas) ? body.schemas : [USER_SCHEMA];
    if (!schemas.includes(schema)) body.schemas = [...schemas, schema];
  }
  for (const key of attribute.slice(0, -1)) target = target[key] = { ...(target[key] && typeof target[key] === 'object' ? target[key] : {}) };
  const last = attribute[attribute.length - 1];
  if (value === '') delete target[last];
  else target[last] = scimValue(path, value);
}

export function splitName(full: string): { givenName: string; familyName: string } {
  const parts = full.trim().split(/\s+/).filter(Boolean);
  if (parts.length <= 1) return { givenName: parts[0] ?? '', familyName: parts[0] ?? '' };
  return { givenName: parts.slice(0, -1).join(' '), familyName: parts[parts.length - 1] };
}

export function isActiveStatus(status: AccountStatus): boolean {
  return status === 'active';
}

/** The SCIM attributes an account should have under the mapping. */
/**
 * `mapped`: the attribute rows with a SCIM target; `managerId` turns a manager's email into the
 * SCIM id of the manager's user in the app (null when the app does not hold the manager).
 */
export function desiredUser(account: Account, s: ScimSettings, mapped: AttributeMapping[] = [], managerId: (email: string) => string | null = () => null): ScimUserFields {
  const m = s.attributes;
  const manual = account.source === 'manual';
  const email = account.email.toLowerCase();
  const userName = m.userName === 'email' || manual ? email : m.userName === 'emailLocalPart' ? email.split('@')[0] : account.id;
  const u: ScimUserFields = { userName };
  if (m.externalId === 'googleId' && !manual) u.externalId = account.id;
  if (m.externalId === 'email') u.externalId = email;
  if (m.name !== 'none') {
    u.displayName = account.name;
    if (m.name === 'full') u.name = { formatted: account.name, ...splitName(account.name) };
  }
  if (m.emails === 'work') u.emails = [{ value: email, type: 'work', primary: true }];
  if (m.active === 'active') u.active = isActiveStatus(account.status);
  if (s.roleMapping === 'roles') u.roles = [...account.roles];
  if (mapped.length) {
    u.extra = {};
    for (const m of mapped) {
      const value = account.attributes?.[m.name] ?? '';
      // The manager goes as the manager's SCIM id; until the app holds the manager it is left as the app has it.
      if (m.scim === MANAGER_PATH) {
        const id = value ? managerId(value) : '';
        if (id !== null) u.extra[MANAGER_PATH] = id;
      } else u.extra[m.scim!] = value;
    }
  }
  return u;
}

/** The managed attributes of a SCIM user as the server holds them (roles limited to known roles). */
export function currentUser(raw: Record<string, any>, s: ScimSettings, knownRoles: Role[], mapped: AttributeMapping[] = []): ScimUserFields {
  const m = s.attributes;
  const u: ScimUserFields = { userName: String(raw.userName ?? '') };
  if (m.externalId !== 'none' && raw.externalId !== undefined && raw.externalId !== null) u.externalId = String(raw.externalId);
  if (m.name !== 'none') {
    if (raw.displayName !== undefined) u.displayName = String(raw.displayName);
    if (m.name === 'full' && raw.name && typeof raw.name === 'object') {
      u.name = { formatted: String(raw.name.formatted ?? '') };
      if (raw.name.givenName !== undefined) u.name.givenName = String(raw.name.givenName);
      if (raw.name.familyName !== undefined) u.name.familyName = String(raw.name.familyName);
    }
  }
  if (m.emails === 'work' && Array.isArray(raw.emails)) {
    u.emails = raw.emails.map((e: any) => ({ value: String(e?.value ?? ''), type: String(e?.type ?? ''), primary: e?.primary === true }));
  }
  if (m.active === 'active' && typeof raw.active === 'boolean') u.active = raw.active;
  if (s.roleMapping === 'roles') u.roles = roleValues(raw, knownRoles);
  if (mapped.length) u.extra = Object.fromEntries(mapped.map((m) => [m.scim!, valueAt(raw, m.scim!)]));
  return u;
}

/** Known role values of a SCIM user's `roles`, in the settings' role order. */
export function roleValues(raw: Record<string, any>, knownRoles: Role[]): Role[] {
  const held = new Set<string>();
  if (Array.isArray(raw.roles)) for (const r of raw.roles) held.add(String(typeof r === 'string' ? r : r?.value ?? '').toLowerCase());
  return knownRoles.filter((r) => held.has(r.toLowerCase()));
}

/** The email a SCIM user stands for: the primary (or work, or first) email, else an email-like userName. */
export function emailOf(raw: Record<string, any>): string {
  const emails: any[] = Array.isArray(raw.emails) ? raw.emails : [];
  const pick = emails.find((e) => e?.primary === true) ?? emails.find((e) => e?.type === 'work') ?? emails[0];
  const value = String(pick?.value ?? '').trim();
  if (value.includes('@')) return value.toLowerCase();
  const userName = String(raw.userName ?? '').trim();
  return userName.includes('@') ? userName.toLowerCase() : '';
}

export function nameOf(raw: Record<string, any>): string | null {
  if (typeof raw.displayName === 'string' && raw.displayName) return raw.displayName;
  if (raw.name && typeof raw.name.formatted === 'string' && raw.name.formatted) return raw.name.formatted;
  const joined = [raw.name?.givenName, raw.name?.familyName].filter((x) => typeof x === 'string' && x).join(' ');
  return joined || null;
}
