// Fake of the AdminDirectory advanced service (Admin SDK directory_v1) as Apps
// Script exposes it: synchronous calls that return parsed JSON and throw
// `GoogleJsonResponseException`s carrying Google's error body in `details`.
// It keeps Google's quirks that client code must handle: empty lists omit the
// array, `fields` without nextPageToken drops the token, int64 counts are
// strings, maxResults is silently capped, unknown page tokens are 400s,
// and a listing paged for over 60 minutes ends in a 503 backendError.
import { Exec } from './exec';
import { DirGroup, DirMembership, DirOrgUnit, DirUser, FakeDirectoryState } from './directoryState';

export interface GoogleErrorDetails {
  code: number;
  message: string;
  errors: { domain: string; reason: string; message: string }[];
}

export type GoogleApiError = Error & { details: GoogleErrorDetails };

const USAGE_REASONS = ['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'dailyLimitExceeded'];

/**
 * The exception an advanced-service call throws, e.g.
 * googleError('users.list', 403, 'forbidden', 'Not Authorized to access this resource/api').
 */
export function googleError(method: string, code: number, reason: string, message: string): GoogleApiError {
  const api = method.startsWith('directory.') ? method : `directory.${method}`;
  const e = new Error(`API call to ${api} failed with error: ${message}`) as GoogleApiError;
  e.name = 'GoogleJsonResponseException';
  const domain = USAGE_REASONS.includes(reason) ? 'usageLimits' : 'global';
  e.details = { code, message, errors: [{ domain, reason, message }] };
  return e;
}

/** Ready-made Google errors for fault injection. */
export const GoogleErrors = {
  notFound: (method: string, key = 'groupKey') => googleError(method, 404, 'notFound', `Resource Not Found: ${key}`),
  forbidden: (method: string) => googleError(method, 403, 'forbidden', 'Not Authorized to access this resource/api'),
  apiDisabled: (method: string) => googleError(method, 403, 'domainCannotUseApis', 'Domain cannot use apis.'),
  rateLimited: (method: string, code = 403, reason = 'userRateLimitExceeded') => googleError(method, code, reason, 'Rate Limit Exceeded'),
  quotaExceeded: (method: string) => googleError(method, 429, 'rateLimitExceeded', 'Quota exceeded for quota metric'),
  backendError: (method: string) => googleError(method, 500, 'backendError', 'Backend Error'),
  unavailable: (method: string) => googleError(method, 503, 'backendError', 'Service unavailable. Please try again'),
  invalidInput: (method: string, what = '') => googleError(method, 400, 'invalid', what ? `Invalid Input: ${what}` : 'Invalid Input'),
};

/**
 * "The default value set in the Google Cloud console is 2,400 queries per minute per user per Google
 * Cloud project" (Directory API, Limits and quotas): a query beyond it is a 403 userRateLimitExceeded.
 */
export const QUERIES_PER_MINUTE = 2400;

function withinQuota(state: FakeDirectoryState, user: string): void {
  const times = state.recentQueries.get(user) ?? [];
  let old = 0;
  while (old < times.length && times[old] <= state.nowMs - 60_000) old++;
  if (old) times.splice(0, old);
  if (times.length >= QUERIES_PER_MINUTE) throw new Fail(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded');
  times.push(state.nowMs);
  state.recentQueries.set(user, times);
}

/** Toggles for whole-service failures, owned by the runtime. */
export interface DirectorySwitches {
  /** The domain turned API access off: 403 domainCannotUseApis. */
  apiDisabled: boolean;
  /** The effective user lost admin rights / the scope: 403 forbidden. */
  accessRevoked: boolean;
  /** Only super admins (isAdmin) may call (Google: non-admins get 403). */
  enforceAdmin: boolean;
}

class Fail {
  constructor(readonly code: number, readonly reason: string, readonly message: string) {}
}

const notFound = (key: string) => new Fail(404, 'notFound', `Resource Not Found: ${key}`);
const invalid = (what = '') => new Fail(400, 'invalid', what ? `Invalid Input: ${what}` : 'Invalid Input');
const forbidden = () => new Fail(403, 'forbidden', 'Not Authorized to access this resource/api');

// ---- partial responses (`fields`) ---------------------------------------------

type Selection = Map<string, Selection | null>;

/** Parses Google's partial-response syntax: `users(id,name/fullName),nextPageToken`. */
export function parseFields(fields: string): Selection {
  let i = 0;
  const src = fields.replace(/\s+/g, '');
  const parseList = (): Selection => {
    const sel: Selection = new Map();
    for (;;) {
      parseItem(sel);
      if (src[i] === ',') {
        i++;
        continue;
      }
      return sel;
    }
  };
  const parseItem = (into: Selection): void => {
    const m = /^[A-Za-z0-9_*$-]+/.exec(src.slice(i));
    if (!m) throw invalid(`Invalid field selection ${fields}`);
    i += m[0].length;
    let sub: Selection | null = null;
    if (src[i] === '/') {
      i++;
      sub = new Map();
      parseItem(sub);
    } else if (src[i] === '(') {
      i++;
      sub = parseList();
      if (src[i] !== ')') throw invalid(`Invalid field selection ${fields}`);
      i++;
    }
    into.set(m[0], merge(into.get(m[0]), sub));
  };
  const sel = parseList();
  if (i !== src.length) throw invalid(`Invalid field selection ${fields}`);
  return sel;
}

function merge(a: Selection | null | undefined, b: Selection | null): Selection | null {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, merge(out.get(k), v));
  return out;
}

export function applyFields(value: unknown, sel: Selection | null): unknown {
  if (sel === null || sel.has('*')) return value;
  if (Array.isArray(value)) return value.map((v) => applyFields(v, sel));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of sel) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = applyFields(v, sub);
  }
  return out;
}

// ---- users.list query ---------------------------------------------------------

interface Clause {
  field: string;
  op: string;
  value: string;
}

function parseQuery(query: string): Clause[] {
  // field=value / field:value / bare words; values may be quoted ('...' or "...").
  // A quoted prefix keeps its '*' after the closing quote (name:'Lincoln High'*).
  const re = /([A-Za-z]+)\s*(=|:)\s*(?:'([^']*)'(\*?)|"([^"]*)"(\*?)|(\S+))|'([^']*)'|"([^"]*)"|(\S+)/g;
  return [...query.matchAll(re)].map((m) =>
    m[1]
      ? { field: m[1], op: m[2], value: m[3] !== undefined ? m[3] + m[4] : m[5] !== undefined ? m[5] + m[6] : m[7] }
      : { field: '', op: ':', value: m[8] ?? m[9] ?? m[10] },
  );
}

function textMatch(actual: string, op: string, value: string): boolean {
  const a = actual.toLowerCase();
  const v = value.toLowerCase();
  if (op === '=') return a === v;
  if (v.endsWith('*')) return a.startsWith(v.slice(0, -1));
  return a.includes(v);
}

function userFilter(state: FakeDirectoryState, query: string): (u: DirUser) => boolean {
  const tests = parseQuery(query).map((c) => clauseTest(state, c));
  return (u) => tests.every((t) => t(u));
}

function clauseTest(state: FakeDirectoryState, c: Clause): (u: DirUser) => boolean {
  const bool = (get: (u: DirUser) => boolean) => {
    if (c.op !== '=' || !/^(true|false)$/i.test(c.value)) throw invalid();
    const want = c.value.toLowerCase() === 'true';
    return (u: DirUser) => get(u) === want;
  };
  switch (c.field) {
    case '':
      return (u) => [u.name.givenName, u.name.familyName, u.primaryEmail].some((s) => textMatch(s, ':', c.value));
    case 'email':
      return (u) => [u.primaryEmail, ...u.aliases].some((s) => textMatch(s, c.op, c.value));
    case 'givenName':
      return (u) => textMatch(u.name.givenName, c.op, c.value);
    case 'familyName':
      return (u) => textMatch(u.name.familyName, c.op, c.value);
    case 'name':
      return (u) => textMatch(u.name.fullName, c.op, c.value);
    case 'isSuspended':
      return bool((u) => u.suspended);
    case 'isArchived':
      return bool((u) => u.archived);
    case 'isAdmin':
      return bool((u) => u.isAdmin);
    case 'orgUnitPath': {
      // Matches the OU and every OU under it ("all org unit chains under the target").
      const p = '/' + c.value.split('/').filter(Boolean).join('/');
      if (!state.hasOrgUnit(p)) throw invalid('INVALID_OU_ID');
      return (u) => p === '/' || u.orgUnitPath === p || u.orgUnitPath.startsWith(p + '/');
    }
    default:
      throw invalid();
  }
}

// ---- resources ------------------------------------------------------------------

/** Which custom schemas a users.list / users.get answer carries: none (basic, the default), the masked ones (custom), or all (full). */
function projectionOf(opts: Record<string, unknown> | undefined): Projection {
  const projection = String(opts?.projection ?? 'basic').toLowerCase();
  const mask = typeof opts?.customFieldMask === 'string' ? opts.customFieldMask : '';
  if (!['basic', 'custom', 'full'].includes(projection)) throw invalid(`Invalid value for projection: ${projection}`);
  // customFieldMask "should only be set when projection=custom"; Google answers 400 for a custom projection without one.
  if (projection === 'custom' && !mask) throw invalid('Custom field mask is required when projection is custom');
  if (mask && projection !== 'custom') throw invalid('Custom field mask is only allowed when projection is custom');
  if (projection === 'basic') return { schemas: new Set() };
  if (projection === 'full') return { schemas: 'all' };
  return { schemas: new Set(mask.split(',').map((s) => s.trim()).filter(Boolean)) };
}

type Projection = { schemas: Set<string> | 'all' };

function userResource(state: FakeDirectoryState, u: DirUser, projection: Projection = { schemas: new Set() }): Record<string, unknown> {
  const r: Record<string, unknown> = {
    kind: 'admin#directory#user',
    id: u.id,
    primaryEmail: u.primaryEmail,
    name: { ...u.name },
    isAdmin: u.isAdmin,
    isDelegatedAdmin: false,
    lastLoginTime: '1970-01-01T00:00:00.000Z',
    creationTime: u.creationTime,
    agreedToTerms: true,
    suspended: u.suspended,
    archived: u.archived,
    changePasswordAtNextLogin: false,
    ipWhitelisted: false,
    customerId: state.customerId,
    orgUnitPath: u.orgUnitPath,
    isMailboxSetup: true,
    includeInGlobalAddressList: true,
  };
  if (u.suspended) r.suspensionReason = 'ADMIN';
  if (u.aliases.length) r.aliases = [...u.aliases];
  const profile = u.profile ?? {};
  for (const key of ['externalIds', 'organizations', 'phones', 'relations', 'locations'] as const) {
    if (profile[key]?.length) r[key] = JSON.parse(JSON.stringify(profile[key]));
  }
  if (profile.customSchemas) {
    const shown: Record<string, unknown> = {};
    for (const [schema, values] of Object.entries(profile.customSchemas)) {
      if (projection.schemas === 'all' || projection.schemas.has(schema)) shown[schema] = JSON.parse(JSON.stringify(values));
    }
    if (Object.keys(shown).length) r.customSchemas = shown;
  }
  return r;
}

function orgUnitResource(ou: DirOrgUnit): Record<string, unknown> {
  return {
    kind: 'admin#directory#orgUnit',
    name: ou.name,
    description: ou.description,
    orgUnitPath: ou.orgUnitPath,
    orgUnitId: ou.orgUnitId,
    parentOrgUnitPath: ou.parentOrgUnitPath,
    parentOrgUnitId: 'id:03ph8a2z0parent',
  };
}

function groupResource(g: DirGroup): Record<string, unknown> {
  const r: Record<string, unknown> = {
    kind: 'admin#directory#group',
    id: g.id,
    email: g.email,
    name: g.name,
    // int64 fields arrive as JSON strings.
    directMembersCount: String(g.members.length),
    description: g.description,
    adminCreated: true,
  };
  if (g.aliases.length) r.aliases = [...g.aliases];
  return r;
}

function memberResource(state: FakeDirectoryState, m: DirMembership): Record<string, unknown> | null {
  if (m.type === 'CUSTOMER') return { kind: 'admin#directory#member', id: m.id, role: m.role, type: 'CUSTOMER' };
  if (m.type === 'USER') {
    const u = state.userById(m.id);
    if (!u) return null;
    const status = u.suspended ? 'SUSPENDED' : 'ACTIVE';
    return { kind: 'admin#directory#member', id: u.id, email: u.primaryEmail, role: m.role, type: 'USER', status };
  }
  const g = state.groupById(m.id);
  if (!g) return null;
  return { kind: 'admin#directory#member', id: g.id, email: g.email, role: m.role, type: 'GROUP', status: 'ACTIVE' };
}

// ---- paging -------------------------------------------------------------------------

function maxResults(raw: unknown, def: number, cap: number): number {
  if (raw === undefined || raw === null || raw === '') return def;
  const n = Math.floor(Number(raw));
  if (!Number.isFinite(n) || n < 1) throw new Fail(400, 'invalid', `Invalid value '${String(raw)}'. Values must be within the range: [1, ${cap}]`);
  return Math.min(n, cap);
}

/** Google ends a listing paged for longer than this with a 503 backendError (Directory API troubleshooting guide). */
export const LISTING_LIMIT_MS = 60 * 60_000;

function page<T>(state: FakeDirectoryState, key: string, items: T[], size: number, token: unknown): { items: T[]; next?: string } {
  let offset = 0;
  let sinceMs = state.nowMs;
  if (token !== undefined && token !== null && token !== '') {
    const t = state.resolvePageToken(String(token), key);
    if (t === null) throw invalid();
    if (state.nowMs - t.sinceMs > LISTING_LIMIT_MS) throw new Fail(503, 'backendError', 'Service unavailable. Please try again');
    offset = t.offset;
    sinceMs = t.sinceMs;
  }
  const slice = items.slice(offset, offset + size);
  const end = offset + slice.length;
  return end < items.length ? { items: slice, next: state.issuePageToken(key, end, sinceMs) } : { items: slice };
}

/** Builds a list response the Google way: empty arrays and absent tokens are omitted. */
function listResponse(kind: string, field: string, items: unknown[], next: string | undefined, opts: Record<string, unknown>): unknown {
  const body: Record<string, unknown> = { kind, etag: '"sim-etag"' };
  if (items.length) body[field] = items;
  if (next) body.nextPageToken = next;
  return typeof opts.fields === 'string' && opts.fields ? applyFields(body, parseFields(opts.fields)) : body;
}

function one(resource: unknown, opts: Record<string, unknown> | undefined): unknown {
  return typeof opts?.fields === 'string' && opts.fields ? applyFields(resource, parseFields(opts.fields)) : resource;
}

// ---- the service --------------------------------------------------------------------

const SCOPES: Record<string, string> = {
  users: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  groups: 'https://www.googleapis.com/auth/admin.directory.group.readonly',
  members: 'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
  orgunits: 'https://www.googleapis.com/auth/admin.directory.orgunit.readonly',
};

/**
 * The advanced service. `charge` makes the call count (and cost) what it does: by default a call of
 * its own (exec.call); the REST fake (directoryRest.ts) passes one that only counts it, as a
 * request inside a fetchAll round the round itself charges.
 */
export function makeAdminDirectory(exec: Exec, state: FakeDirectoryState, switches: DirectorySwitches, charge: (method: string, args: unknown[]) => void = (m, a) => exec.call(m, a)): AdminDirectoryFake {
  const api = <T>(resource: string, method: string, args: unknown[], body: () => T, publicView = false): T => {
    const Resource = resource[0].toUpperCase() + resource.slice(1);
    charge(`AdminDirectory.${Resource}.${method}`, args);
    exec.requireAuth(`AdminDirectory.${Resource}.${method}`, SCOPES[resource], 'FULL');
    state.nowMs = exec.nowMs();
    const apiName = `${resource}.${method}`;
    try {
      gate(publicView);
      withinQuota(state, exec.effectiveUser);
      return exec.untimed(body);
    } catch (e) {
      if (e instanceof Fail) throw exec.adopt(googleError(apiName, e.code, e.reason, e.message));
      throw e;
    }
  };

  // viewType 'domain_public' lets any user of the domain read the public directory, as in Google.
  const gate = (publicView: boolean): void => {
    if (switches.apiDisabled) throw new Fail(403, 'domainCannotUseApis', 'Domain cannot use apis.');
    if (switches.accessRevoked) throw forbidden();
    if (switches.enforceAdmin && !publicView) {
      const me = state.findUser(exec.effectiveUser);
      if (!me || !me.isAdmin || me.suspended) throw forbidden();
    }
  };

  const checkCustomer = (opts: Record<string, unknown>, allowUserKey = false): void => {
    const customer = opts.customer as string | undefined;
    const domain = opts.domain as string | undefined;
    if (!customer && !domain && !(allowUserKey && opts.userKey)) throw new Fail(400, 'badRequest', 'Bad Request');
    if (customer && customer !== 'my_customer' && customer !== state.customerId) throw new Fail(400, 'badRequest', 'Bad Request');
    if (domain && String(domain).toLowerCase() !== state.domain) throw forbidden();
  };

  return {
    Users: {
      list(optionalArgs?: Record<string, unknown>) {
        const opts = optionalArgs ?? {};
        return api('users', 'list', [opts], () => listUsers(state, opts, checkCustomer), opts.viewType === 'domain_public');
      },
      get(userKey: string, optionalArgs?: Record<string, unknown>) {
        return api('users', 'get', [userKey, optionalArgs], () => {
          const u = userKey ? state.findUser(String(userKey)) : null;
          if (!u) throw notFound('userKey');
          return one(userResource(state, u, projectionOf(optionalArgs)), optionalArgs);
        }, optionalArgs?.viewType === 'domain_public');
      },
    },
    Orgunits: {
      list(customerId: string, optionalArgs?: Record<string, unknown>) {
        const opts = optionalArgs ?? {};
        return api('orgunits', 'list', [customerId, opts], () => {
          checkCustomer({ customer: customerId || undefined });
          return listOrgUnits(state, opts);
        });
      },
      get(customerId: string, orgUnitPath: string) {
        return api('orgunits', 'get', [customerId, orgUnitPath], () => {
          checkCustomer({ customer: customerId || undefined });
          const ou = state.getOrgUnit(String(orgUnitPath));
          if (!ou) throw new Fail(404, 'notFound', 'Org unit not found');
          return orgUnitResource(ou);
        });
      },
    },
    Groups: {
      list(optionalArgs?: Record<string, unknown>) {
        const opts = optionalArgs ?? {};
        return api('groups', 'list', [opts], () => listGroups(state, opts, checkCustomer));
      },
      get(groupKey: string, optionalArgs?: Record<string, unknown>) {
        return api('groups', 'get', [groupKey, optionalArgs], () => {
          const g = groupKey ? state.findGroup(String(groupKey)) : null;
          if (!g) throw notFound('groupKey');
          return one(groupResource(g), optionalArgs);
        });
      },
    },
    Members: {
      list(groupKey: string, optionalArgs?: Record<string, unknown>) {
        const opts = optionalArgs ?? {};
        return api('members', 'list', [groupKey, opts], () => listMembers(state, String(groupKey ?? ''), opts));
      },
      get(groupKey: string, memberKey: string) {
        return api('members', 'get', [groupKey, memberKey], () => {
          const g = state.findGroup(String(groupKey ?? ''));
          if (!g) throw notFound('groupKey');
          const target = state.findUser(memberKey) ?? state.findGroup(memberKey);
          const m = target && g.members.find((x) => x.id === target.id);
          const r = m && memberResource(state, m);
          if (!r) throw notFound('memberKey');
          return r;
        });
      },
      hasMember(groupKey: string, memberKey: string) {
        return api('members', 'hasMember', [groupKey, memberKey], () => {
          const g = state.findGroup(String(groupKey ?? ''));
          if (!g) throw notFound('groupKey');
          const u = state.findUser(String(memberKey ?? ''));
          if (!u) throw invalid('memberKey');
          return { isMember: state.isMemberDeep(g, u.id) };
        });
      },
    },
  };
}

type Method = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
export interface AdminDirectoryFake {
  Users: Record<'list' | 'get', Method>;
  Orgunits: Record<'list' | 'get', Method>;
  Groups: Record<'list' | 'get', Method>;
  Members: Record<'list' | 'get' | 'hasMember', Method>;
}

type CustomerCheck = (opts: Record<string, unknown>, allowUserKey?: boolean) => void;

/** Filtered/sorted listings, reused across pages until the directory changes (keeps 100k-user paging fast). */
const listings = new WeakMap<FakeDirectoryState, Map<string, { version: number; users: DirUser[] }>>();

function listing(state: FakeDirectoryState, key: string, build: () => DirUser[]): DirUser[] {
  let cache = listings.get(state);
  if (!cache) listings.set(state, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.version === state.version) return hit.users;
  const users = build();
  cache.set(key, { version: state.version, users });
  return users;
}

function listUsers(state: FakeDirectoryState, opts: Record<string, unknown>, checkCustomer: CustomerCheck): unknown {
  checkCustomer(opts);
  const size = maxResults(opts.maxResults, 100, 500);
  const showDeleted = String(opts.showDeleted) === 'true';
  const query = typeof opts.query === 'string' ? opts.query.trim() : '';
  const key = JSON.stringify(['users', query, showDeleted, opts.orderBy ?? '', opts.sortOrder ?? '']);
  const users = listing(state, key, () => {
    let list = showDeleted ? [...state.deletedUsers()] : state.allUsers();
    if (query) list = list.filter(userFilter(state, query));
    return sortUsers(list, opts.orderBy, opts.sortOrder);
  });
  const projection = projectionOf(opts);
  const p = page(state, key, users, size, opts.pageToken);
  const items = p.items.map((u) => userResource(state, u, projection));
  return listResponse('admin#directory#users', 'users', items, p.next, opts);
}

/**
 * orderBy (email, givenName, familyName) and sortOrder as users.list documents them; the reference does
 * not say how it compares, so this fake compares by character code (digits and symbols before a, accented
 * letters after z), lowercase.
 */
function sortUsers(users: DirUser[], orderBy: unknown, sortOrder: unknown): DirUser[] {
  if (!orderBy) return users;
  const get: Record<string, (u: DirUser) => string> = {
    email: (u) => u.primaryEmail,
    givenName: (u) => u.name.givenName.toLowerCase(),
    familyName: (u) => u.name.familyName.toLowerCase(),
  };
  const f = get[String(orderBy)];
  if (!f) throw invalid();
  const dir = String(sortOrder ?? 'ASCENDING').toUpperCase() === 'DESCENDING' ? -1 : 1;
  return [...users].sort((a, b) => (f(a) < f(b) ? -dir : f(a) > f(b) ? dir : 0));
}

function listOrgUnits(state: FakeDirectoryState, opts: Record<string, unknown>): unknown {
  const type = String(opts.type ?? 'children');
  if (!['all', 'children', 'allIncludingParent'].includes(type)) throw invalid();
  const base = '/' + String(opts.orgUnitPath ?? '/').split('/').filter(Boolean).join('/');
  if (!state.hasOrgUnit(base)) throw new Fail(404, 'notFound', 'Org unit not found');
  const under = (p: string) => base === '/' || p.startsWith(base + '/');
  const ous = state.allOrgUnits().filter((ou) => {
    if (ou.orgUnitPath === base) return type === 'allIncludingParent';
    if (!under(ou.orgUnitPath)) return false;
    return type !== 'children' || ou.parentOrgUnitPath === base;
  });
  const body: Record<string, unknown> = { kind: 'admin#directory#orgUnits', etag: '"sim-etag"' };
  if (ous.length) body.organizationUnits = ous.map(orgUnitResource);
  return typeof opts.fields === 'string' && opts.fields ? applyFields(body, parseFields(opts.fields)) : body;
}

function listGroups(state: FakeDirectoryState, opts: Record<string, unknown>, checkCustomer: CustomerCheck): unknown {
  checkCustomer(opts, true);
  const size = maxResults(opts.maxResults, 200, 200);
  let groups = state.allGroups();
  if (opts.userKey) {
    const u = state.findUser(String(opts.userKey));
    groups = u ? groups.filter((g) => g.members.some((m) => m.type === 'USER' && m.id === u.id)) : [];
  }
  const query = typeof opts.query === 'string' ? opts.query.trim() : '';
  if (query) groups = groups.filter(groupFilter(state, query));
  const key = JSON.stringify(['groups', query, opts.userKey ?? '']);
  const p = page(state, key, groups, size, opts.pageToken);
  return listResponse('admin#directory#groups', 'groups', p.items.map(groupResource), p.next, opts);
}

function groupFilter(state: FakeDirectoryState, query: string): (g: DirGroup) => boolean {
  const tests = parseQuery(query).map((c): ((g: DirGroup) => boolean) => {
    switch (c.field) {
      case 'email':
        return (g) => [g.email, ...g.aliases].some((s) => textMatch(s, c.op, c.value));
      case 'name':
        return (g) => textMatch(g.name, c.op, c.value);
      case 'memberKey': {
        const u = state.findUser(c.value) ?? state.findGroup(c.value);
        return (g) => !!u && g.members.some((m) => m.id === u.id);
      }
      default:
        throw invalid();
    }
  });
  return (g) => tests.every((t) => t(g));
}

function listMembers(state: FakeDirectoryState, groupKey: string, opts: Record<string, unknown>): unknown {
  const g = groupKey ? state.findGroup(groupKey) : null;
  if (!g) throw notFound('groupKey');
  const size = maxResults(opts.maxResults, 200, 200);
  const derived = String(opts.includeDerivedMembership) === 'true';
  let members = derived ? cachedDerived(state, g) : g.members;
  if (opts.roles) {
    const roles = String(opts.roles).toUpperCase().split(',');
    members = members.filter((m) => roles.includes(m.role));
  }
  const key = JSON.stringify(['members', g.id, derived, opts.roles ?? '']);
  const p = page(state, key, members, size, opts.pageToken);
  const items = p.items.map((m) => memberResource(state, m)).filter((r) => r !== null);
  return listResponse('admin#directory#members', 'members', items, p.next, opts);
}

const derivedCache = new WeakMap<FakeDirectoryState, Map<string, { version: number; members: DirMembership[] }>>();

/** The derived listing of a group, computed once per directory version (pages of one listing share it). */
function cachedDerived(state: FakeDirectoryState, g: DirGroup): DirMembership[] {
  let cache = derivedCache.get(state);
  if (!cache) derivedCache.set(state, (cache = new Map()));
  const hit = cache.get(g.id);
  if (hit && hit.version === state.version) return hit.members;
  const members = derivedMembers(state, g);
  cache.set(g.id, { version: state.version, members });
  return members;
}

/**
 * includeDerivedMembership=true ("Whether to list indirect memberships", members.list reference):
 * the group's direct members, then the users reached through nested groups, each once, cycle-safe.
 */
function derivedMembers(state: FakeDirectoryState, root: DirGroup): DirMembership[] {
  const out: DirMembership[] = [];
  const seenUsers = new Set<string>();
  const seenGroups = new Set<string>();
  const walk = (g: DirGroup) => {
    if (seenGroups.has(g.id)) return;
    seenGroups.add(g.id);
    for (const m of g.members) {
      if (m.type === 'GROUP') {
        if (g === root) out.push(m);
        const inner = state.groupById(m.id);
        if (inner) walk(inner);
      } else if (m.type === 'USER' ? !seenUsers.has(m.id) : g === root) {
        seenUsers.add(m.id);
        out.push(m);
      }
    }
  };
  walk(root);
  return out;
}
