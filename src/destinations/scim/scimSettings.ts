// The SCIM destination's settings sub-document (validated like src/core/settings.ts):
// its defaults, the base URL's checks, the fingerprint of what changes a plan, role group names.
import { Role } from '../../core/model';
import { Checks, checks } from '../../core/validate';

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
