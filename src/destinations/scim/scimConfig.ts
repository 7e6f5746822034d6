// The SCIM 2.0 destination, pure part: its settings sub-document (validated like
// src/core/settings.ts), its messages, and the pure helpers the Apps Script
// adapter (src/gas/scim) builds requests with: attribute mapping, PATCH
// operations, chunking, Bulk sizing, Retry-After, ServiceProviderConfig parsing.
import { Account, AccountStatus, Role } from '../../core/model';
import { KeyValueStore } from '../../core/ports';
import { CATALOG, Message, UserError, msg } from '../../core/messages';
import { Checks, checks } from '../../core/validate';
import { AttributeMapping } from '../../core/attributes';

// ---------- settings ----------

export type ScimRoleMapping = 'roles' | 'groups';

export interface ScimAttributeMap {
  /** SCIM userName: the primary email (default), its part before @, or the Google user id. */
  userName: 'email' | 'emailLocalPart' | 'googleId';
  /** SCIM externalId: the Google user id (default), the email, or not sent. */
  externalId: 'googleId' | 'email' | 'none';
  /** 'full': displayName + name.formatted/givenName/familyName; 'displayName' only; or not sent. */
  name: 'full' | 'displayName' | 'none';
  /** 'work': emails = [{value, type: work, primary: true}]; or not sent. */
  emails: 'work' | 'none';
  /** 'active': status → active true/false; 'none': the app has no active flag (status kept by Roster Sync only). */
  active: 'active' | 'none';
}

export interface ScimSettings {
  /** The app's SCIM 2.0 base URL, e.g. https://app.example.com/scim/v2 (no trailing slash). */
  baseUrl: string;
  /** Roles as the multi-valued `roles` attribute, or as membership of SCIM Groups. */
  roleMapping: ScimRoleMapping;
  /** role → SCIM Group displayName (groups mapping); a role not listed uses its own name. */
  roleGroups: Record<Role, string>;
  attributes: ScimAttributeMap;
  /** Members added or removed per Group PATCH (servers cap operations per request). */
  maxMembersPerPatch: number;
}

export const SCIM_TOKEN_KEY = 'scimToken';
export const MAX_TOKEN_LENGTH = 4096;

export function defaultScimSettings(): ScimSettings {
  return {
    baseUrl: '',
    roleMapping: 'roles',
    roleGroups: {},
    attributes: { userName: 'email', externalId: 'googleId', name: 'full', emails: 'work', active: 'active' },
    maxMembersPerPatch: 100,
  };
}

const check: Checks = checks('invalidSetting');
// Annotated so a call that cannot return narrows types (TypeScript needs the explicit type).
const fail: Checks['fail'] = check.fail;
const { object: obj, oneOf } = check;

/** A problem with a SCIM base URL, or null when it can be used. */
export function baseUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !value.trim()) return 'must be the SCIM base URL of the app, such as https://app.example.com/scim/v2';
  const url = value.trim();
  if (url.length > 500) return 'is longer than 500 characters';
  const m = /^(https?):\/\/([^/?#\s@]+)(\/[^?#\s]*)?$/i.exec(url);
  if (!m) return 'must be an https:// address without spaces, query (?) or fragment (#), such as https://app.example.com/scim/v2';
  const scheme = m[1].toLowerCase();
  const host = m[2].toLowerCase().replace(/:\d+$/, '');
  const local = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  if (scheme !== 'https' && !local) return 'must start with https:// (the token would travel unencrypted over http)';
  if (/\/(Users|Groups|Bulk|ServiceProviderConfig)\/?$/i.test(m[3] ?? '')) return 'must be the base URL, without /Users, /Groups or /Bulk at the end';
  return null;
}

/**
 * Whether a URL is covered by one of the manifest's urlFetchWhitelist prefixes
 * (Apps Script refuses other URLs in a versioned deployment). A prefix may start
 * with "https://*." to match any subdomain.
 */
export function urlAllowed(url: string, prefixes: string[]): boolean {
  const u = url.trim().toLowerCase();
  // The base URL itself, and every request below it ("<base>/Users"), must match.
  const target = `${u.replace(/\/+$/, '')}/`;
  return prefixes.some((raw) => {
    const p = raw.trim().toLowerCase();
    const wild = /^https:\/\/\*\.([^/]+)(\/.*)?$/.exec(p);
    if (!wild) return target.startsWith(p);
    const m = /^https:\/\/([^/]+)(\/.*)?$/.exec(target);
    return !!m && m[1].endsWith(`.${wild[1]}`) && m[2].startsWith(wild[2] ?? '/');
  });
}

export function normalizeBaseUrl(value: string): string {
  return value.trim().replace(/\/+$/, '');
}

const GROUP_NAME = /^[^\u0000-\u001f]{1,200}$/;

/**
 * Validates the SCIM sub-document; `roles` are the settings' roles (role groups must name one).
 * `allowlist`: the manifest's urlFetchWhitelist, when the deployment has one.
 */
export function validateScimSettings(raw: unknown, roles: Role[], field = 'scim', allowlist?: string[]): ScimSettings {
  const s = obj(raw, field);
  const d = defaultScimSettings();
  const problem = baseUrlProblem(s.baseUrl);
  if (problem) fail(`${field}.baseUrl`, problem);
  if (allowlist && !urlAllowed(normalizeBaseUrl(s.baseUrl as string), allowlist)) {
    fail(`${field}.baseUrl`, `is not among the addresses this deployment of Roster Sync may call (${allowlist.join(', ') || 'none'}); ask whoever deploys Roster Sync to add it to urlFetchWhitelist in appsscript.json`);
  }
  const roleMapping = oneOf(s.roleMapping ?? d.roleMapping, `${field}.roleMapping`, ['roles', 'groups'] as const);
  const groupsRaw = obj(s.roleGroups ?? {}, `${field}.roleGroups`);
  const roleGroups: Record<Role, string> = {};
  const names = new Set<string>();
  for (const [role, name] of Object.entries(groupsRaw)) {
    if (!roles.includes(role)) fail(`${field}.roleGroups.${role}`, `must be one of the roles ${roles.join(', ')}`);
    if (typeof name !== 'string' || !GROUP_NAME.test(name.trim())) fail(`${field}.roleGroups.${role}`, 'must be a group name of 1 to 200 characters');
    roleGroups[role] = name.trim();
  }
  for (const role of roles) {
    const name = (roleGroups[role] ?? role).toLowerCase();
    if (names.has(name)) fail(`${field}.roleGroups`, `maps two roles to the group "${roleGroups[role] ?? role}"`);
    names.add(name);
  }
  const a = obj(s.attributes ?? d.attributes, `${field}.attributes`);
  const attributes: ScimAttributeMap = {
    userName: oneOf(a.userName ?? d.attributes.userName, `${field}.attributes.userName`, ['email', 'emailLocalPart', 'googleId'] as const),
    externalId: oneOf(a.externalId ?? d.attributes.externalId, `${field}.attributes.externalId`, ['googleId', 'email', 'none'] as const),
    name: oneOf(a.name ?? d.attributes.name, `${field}.attributes.name`, ['full', 'displayName', 'none'] as const),
    emails: oneOf(a.emails ?? d.attributes.emails, `${field}.attributes.emails`, ['work', 'none'] as const),
    active: oneOf(a.active ?? d.attributes.active, `${field}.attributes.active`, ['active', 'none'] as const),
  };
  const max = s.maxMembersPerPatch ?? d.maxMembersPerPatch;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 1000) fail(`${field}.maxMembersPerPatch`, 'must be a whole number from 1 to 1000');
  return { baseUrl: normalizeBaseUrl(s.baseUrl as string), roleMapping, roleGroups, attributes, maxMembersPerPatch: max };
}

/** The SCIM settings that decide what a plan means; a part-way sync under other ones is stale. */
export function scimFingerprint(s: ScimSettings): string {
  return JSON.stringify([s.baseUrl, s.roleMapping, s.roleGroups, s.attributes]);
}

export function groupNameFor(role: Role, s: Pick<ScimSettings, 'roleGroups'>): string {
  return s.roleGroups[role] ?? role;
}

// ---------- the token (user properties, never sent back to the browser) ----------

/** Beside the token: the base URL it was saved for, as a record {"savedFor": canonical URL, or '' for none}. */
export const SCIM_TOKEN_URL_KEY = 'scimTokenUrl';

/**
 * The address a token is bound to, compared as scheme, host, port and path: scheme and
 * host lower-cased, a default port (443, 80) dropped, the path kept as it is (paths are
 * case-sensitive, RFC 3986 §6.2.2.1) without trailing slashes. null when it is no http(s) URL.
 */
export function canonicalBaseUrl(value: string): string | null {
  const m = /^(https?):\/\/([^/?#\s@]+)(\/[^?#\s]*)?$/i.exec(value.trim());
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d*))?$/.exec(m[2].toLowerCase());
  if (!hp) return null;
  const port = hp[2] ? String(Number(hp[2])) : '';
  const defaultPort = scheme === 'https' ? '443' : '80';
  const path = (m[3] ?? '').replace(/\/+$/, '');
  return `${scheme}://${hp[1]}${port && port !== defaultPort ? `:${port}` : ''}${path}`;
}

/**
 * Checks and stores a pasted token in the user's private store, bound to the base URL it is
 * pasted for (none: it is sent nowhere until pasted again for an address); returns the masked view.
 */
export function storeScimToken(secrets: KeyValueStore, raw: unknown, baseUrl = ''): ScimTokenView {
  if (typeof raw !== 'string') throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: 'must be text' }));
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (!token) throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: 'is empty' }));
  if (token.length > MAX_TOKEN_LENGTH) throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: `is longer than ${MAX_TOKEN_LENGTH} characters` }));
  if (!/^[\x21-\x7e]+$/.test(token)) throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: 'contains spaces or characters a bearer token cannot hold; paste it exactly as the app shows it' }));
  secrets.set(SCIM_TOKEN_KEY, token);
  bindScimToken(secrets, baseUrl);
  return scimTokenView(secrets);
}

/** The base URL the saved token is bound to ('' when none is, null when the token predates binding). */
export function scimTokenAddress(secrets: KeyValueStore): string | null {
  const raw = secrets.get(SCIM_TOKEN_URL_KEY);
  if (!raw) return null;
  try {
    const savedFor = (JSON.parse(raw) as { savedFor?: unknown }).savedFor;
    return typeof savedFor === 'string' ? savedFor : '';
  } catch {
    return ''; // unreadable: bound to no address, so the token is sent nowhere until pasted again
  }
}

function bindScimToken(secrets: KeyValueStore, baseUrl: string): void {
  secrets.set(SCIM_TOKEN_URL_KEY, JSON.stringify({ savedFor: (baseUrl && canonicalBaseUrl(baseUrl)) || '' }));
}

/** Binds a token saved before tokens were bound to an address (an earlier version) to `baseUrl`. */
export function bindLegacyScimToken(secrets: KeyValueStore, baseUrl: string): void {
  if (readScimToken(secrets) && scimTokenAddress(secrets) === null) bindScimToken(secrets, baseUrl);
}

/**
 * The token to send to `baseUrl`, or the message saying why none may be: no token saved, or a
 * token saved for another address (a base URL changed since, by anyone, never receives it).
 */
export function scimTokenFor(secrets: KeyValueStore, baseUrl: string, syncAccount: string): { token: string } | { problem: Message } {
  const token = readScimToken(secrets);
  const user = syncAccount || 'the sync account';
  if (!token) return { problem: msg('scimTokenMissing', { user }) };
  const bound = scimTokenAddress(secrets);
  const target = canonicalBaseUrl(baseUrl);
  if (bound === null) return { problem: msg('scimTokenUnbound', { baseUrl: normalizeBaseUrl(baseUrl), user }) };
  if (target !== null && bound === target) return { token };
  return { problem: tokenElsewhere(bound || '', baseUrl, user) };
}

/** The message for a token saved for `savedFor` ('' for no address) while the base URL is `baseUrl`. */
export function tokenElsewhere(savedFor: string, baseUrl: string, user: string): Message {
  return msg('scimTokenOtherUrl', { savedFor: savedFor || 'no address', baseUrl: normalizeBaseUrl(baseUrl), user });
}

export function readScimToken(secrets: KeyValueStore): string | null {
  const t = secrets.get(SCIM_TOKEN_KEY);
  return t ? t : null;
}

export function clearScimToken(secrets: KeyValueStore): ScimTokenView {
  secrets.remove(SCIM_TOKEN_KEY);
  secrets.remove(SCIM_TOKEN_URL_KEY);
  return scimTokenView(secrets);
}

export interface ScimTokenView {
  saved: boolean;
  /** e.g. "••••••••3f9a": enough to recognise the token, never enough to use it. */
  masked: string;
}

export function maskToken(token: string): string {
  if (!token) return '';
  const tail = token.length >= 16 ? token.slice(-4) : '';
  return `${'•'.repeat(8)}${tail}`;
}

export function scimTokenView(secrets: KeyValueStore): ScimTokenView {
  const token = readScimToken(secrets);
  return { saved: !!token, masked: token ? maskToken(token) : '' };
}

// ---------- finalize check ----------

export interface ScimProbeResult {
  host: string;
  patch: boolean;
  bulk: boolean;
  filter: boolean;
  /** totalResults of GET /Users (null when the app does not say). */
  users: number | null;
}

/** What checkScimDestination needs: a client that reads ServiceProviderConfig and one page of users, throwing a UserError on failure. */
export interface ScimProbe {
  probe(): ScimProbeResult;
}

/** Finalize check "SCIM destination reachable and token accepted". Pure: all I/O is in the probe. */
export function checkScimDestination(client: ScimProbe | null, missing?: Message): { status: 'pass' | 'fail'; found: string; fix: string } {
  if (!client) {
    const m = missing ?? msg('scimNotConfigured', { missing: 'the base URL or the token is missing' });
    return { status: 'fail', found: m.text, fix: m.fix };
  }
  try {
    const r = client.probe();
    const yes = (b: boolean) => (b ? 'yes' : 'no');
    const users = r.users === null ? '' : ` It holds ${r.users} users.`;
    return { status: 'pass', found: `The SCIM app at ${r.host} answered and accepted the token (PATCH: ${yes(r.patch)}, Bulk: ${yes(r.bulk)}, filter: ${yes(r.filter)}).${users}`, fix: '' };
  } catch (error) {
    const m = error instanceof UserError ? error.detail : { text: error instanceof Error ? error.message : String(error), fix: CATALOG.scimNotScim.fix };
    return { status: 'fail', found: m.text, fix: m.fix };
  }
}

// ---------- service provider capabilities ----------

export interface ScimCapabilities {
  patch: boolean;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  filter: { supported: boolean; maxResults: number };
}

/** Reads a ServiceProviderConfig body; null when it is not one. */
export function parseServiceProviderConfig(body: unknown): ScimCapabilities | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const b = body as Record<string, any>;
  const looksLikeSpc = 'patch' in b || 'bulk' in b || 'filter' in b || (Array.isArray(b.schemas) && b.schemas.some((s: unknown) => String(s).includes('ServiceProviderConfig')));
  if (!looksLikeSpc) return null;
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : typeof v === 'string' && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : fallback);
  return {
    patch: b.patch?.supported === true,
    bulk: {
      supported: b.bulk?.supported === true,
      maxOperations: num(b.bulk?.maxOperations, 100),
      maxPayloadSize: num(b.bulk?.maxPayloadSize, 1_048_576),
    },
    filter: { supported: b.filter?.supported === true, maxResults: num(b.filter?.maxResults, 200) },
  };
}

// ---------- attribute mapping ----------

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

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
function scimValue(path: string, value: string): unknown {
  return path === MANAGER_PATH ? { value } : value;
}

/** Sets a path in a resource body (creating the extension object), and names the extension in `schemas`. */
function setAt(body: Record<string, any>, path: string, value: string): void {
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

// ---------- chunking and Bulk sizing ----------

export function chunk<T>(items: T[], size: number): T[][] {
  const n = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export interface BulkOperation {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  bulkId?: string;
  data?: unknown;
}

const BULK_ENVELOPE = utf8Bytes(JSON.stringify({ schemas: [BULK_SCHEMA], Operations: [] }));

/**
 * Splits operations into Bulk requests within the server's maxOperations and
 * maxPayloadSize (bytes of the JSON body). Operations too large for any Bulk
 * request come back in `single`, to be sent as plain requests.
 */
export function bulkChunks<T extends BulkOperation>(ops: T[], maxOperations: number, maxPayloadSize: number): { bulks: T[][]; single: T[] } {
  const bulks: T[][] = [];
  const single: T[] = [];
  const limitOps = Math.max(1, maxOperations);
  const budget = maxPayloadSize - BULK_ENVELOPE - 64; // headroom for the separators and failOnErrors
  let current: T[] = [];
  let size = 0;
  for (const op of ops) {
    const bytes = utf8Bytes(JSON.stringify(op)) + 1;
    if (bytes > budget) {
      single.push(op);
      continue;
    }
    if (current.length >= limitOps || size + bytes > budget) {
      bulks.push(current);
      current = [];
      size = 0;
    }
    current.push(op);
    size += bytes;
  }
  if (current.length) bulks.push(current);
  return { bulks, single };
}

export function bulkBody(ops: BulkOperation[]): Record<string, unknown> {
  return { schemas: [BULK_SCHEMA], Operations: ops };
}

// ---------- Retry-After ----------

/** Milliseconds a Retry-After header asks to wait (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined) return null;
  const v = String(header).trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

// ---------- account ids for app users Roster Sync did not create ----------

/** A manual-… account id for a SCIM user without a Google account (accepted by input.accountId). */
export function manualIdFor(scimId: string): string {
  const alnum = scimId.replace(/[^A-Za-z0-9]/g, '');
  if (alnum.length >= 1 && alnum.length <= 38) return `manual-s${alnum}`;
  return `manual-h${fnv(scimId)}`;
}

function fnv(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    h1 = Math.imul(h1 ^ s.charCodeAt(i), 16777619) >>> 0;
    h2 = Math.imul(h2 ^ s.charCodeAt(i), 2246822519) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** A short, stable hash of a string (ledger namespaces). */
export function shortHash(s: string): string {
  return fnv(s).slice(0, 10);
}
