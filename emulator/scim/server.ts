// A real SCIM 2.0 service provider for the tests: scimmy + scimmy-routers on
// express 5, in-memory store, PATCH / Bulk / filter advertised in
// ServiceProviderConfig, bound to 127.0.0.1 on an ephemeral port.
//
// It runs as a child process (see harness.ts): the synchronous UrlFetchApp the
// code under test uses blocks the test's thread while it waits for answers, so
// the server cannot share that thread. The parent drives it over IPC:
//   set switches, seed or change users "in the app", read the store and the request log.
import express from 'express';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
// scimmy-routers re-exports the scimmy singleton it was built with (one copy of Config and Resources).
import { SCIMMYRouters, SCIMMY } from 'scimmy-routers';

export interface Switches {
  /** Required bearer token; null accepts any request. */
  token: string | null;
  patch: boolean;
  filter: boolean;
  bulk: boolean;
  bulkMaxOperations: number;
  bulkMaxPayloadSize: number;
  /** Answer 503 to the next N requests that match `failOn`, then recover. */
  fail503: number;
  /** Answer 429 with Retry-After to the next N requests that match `failOn`. */
  fail429: number;
  retryAfter: string;
  failOn: 'any' | 'write' | 'read';
  /** POST /Users with one of these userNames: the app creates that user itself first (as SSO just-in-time provisioning would) and answers 409. */
  conflictOnCreate: string[];
  /** POST /Users with one of these userNames is refused with 400 (the app finds the data invalid). */
  rejectUserNames: string[];
  /** Leave members out of group lists and filter answers (as many apps do); GET /Groups/{id} still has them. */
  omitGroupMembers: boolean;
  /** Behave like scimmy-routers on Express 5 unpatched: startIndex/count ignored, always the first 20. */
  ignorePaging: boolean;
  /** Reject PATCH /Groups/{id} requests that touch more members than this (like servers that cap operations). */
  maxMembersPerPatch: number;
  /** Quote the request's Authorization header back in every error detail and an X-Debug-Authorization header (as debug-mode apps and some proxies do). */
  echoAuthorization: boolean;
  /** Leave totalResults out of every ListResponse (it is REQUIRED by RFC 7644 §3.4.2, but some apps omit it). */
  omitTotalResults: boolean;

  // ---- behaviour profiles of real SCIM service providers (see PROFILES) ----
  /** false: PATCH /Users paths with a value filter (`roles[value eq "admin"]`) answer 400 invalidPath; whole-attribute paths still work. */
  valuePathPatch: boolean;
  /** false: PATCH /Groups paths with a value filter (`members[value eq "…"]`) answer 400 invalidPath; `add`, `replace` of members and `remove` of members with a value array still work. */
  groupValuePathPatch: boolean;
  /** false: PATCH /Groups `remove` with a value (`{"op":"remove","path":"members","value":[…]}`) answers 400 invalidSyntax; only `replace` of the whole list removes members. */
  groupRemoveValueArray: boolean;
  /** POST /Users whose email belongs to any existing user (also one SCIM cannot see) answers 409 uniqueness. */
  uniqueEmails: boolean;
  /** Requests per window per path (`/Users`, `/Groups`, `/Bulk`…, ids left out); null: unlimited. */
  rateLimit: { limit: number; windowMs: number; style: RateLimitStyle } | null;
  /** Largest page a list answers, whatever `count` asks (also advertised as filter.maxResults); null: no cap. */
  maxCount: number | null;
  /** Filters other than one `attribute eq "value"` answer 400 invalidFilter. */
  eqOnlyFilters: boolean;
  /** POST /Bulk answers 501 although ServiceProviderConfig says Bulk is supported. */
  bulkRefused: boolean;
  /** 'users': the token may manage users but not groups (every /Groups request answers 403). */
  tokenScope: 'all' | 'users';
}

/**
 * How an app tells a client it sends too fast (the answer is 429 in all three):
 * - 'retry-after': `Retry-After: <seconds>` (RFC 9110 §10.2.3);
 * - 'x-retry-after': only the non-standard `X-Retry-After: <seconds>`;
 * - 'ietf': no Retry-After, but `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the
 *   quota resets) and `RateLimit-Policy: <limit>;w=<window seconds>` on every answer
 *   (draft-ietf-httpapi-ratelimit-headers-06).
 */
export type RateLimitStyle = 'retry-after' | 'x-retry-after' | 'ietf';

export const DEFAULT_SWITCHES: Switches = {
  token: null,
  patch: true,
  filter: true,
  bulk: true,
  bulkMaxOperations: 1000,
  bulkMaxPayloadSize: 1_048_576,
  fail503: 0,
  fail429: 0,
  retryAfter: '1',
  failOn: 'any',
  conflictOnCreate: [],
  rejectUserNames: [],
  ignorePaging: false,
  omitGroupMembers: false,
  maxMembersPerPatch: 100,
  echoAuthorization: false,
  omitTotalResults: false,
  valuePathPatch: true,
  groupValuePathPatch: true,
  groupRemoveValueArray: true,
  uniqueEmails: false,
  rateLimit: null,
  maxCount: null,
  eqOnlyFilters: false,
  bulkRefused: false,
  tokenScope: 'all',
};

export { PROFILES } from './profiles';

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  /** For POST /Bulk: the operations' methods and paths. */
  bulk?: string[];
  /** For PATCH: the number of operations. */
  operations?: number;
  /** PATCH operations as "op path" (for Bulk: of every PATCH inside, in order). */
  patchOps?: string[][];
  /** The simulated time the request was sent at (X-Simulated-Time), else the server's clock. */
  atMs?: number;
  /** Sent while a wait this server asked for (429 Retry-After / X-Retry-After / RateLimit-Reset) had not passed. */
  insideWait?: boolean;
}

type Stored = Record<string, any> & { id: string };

const switches: Switches = { ...DEFAULT_SWITCHES };
const users = new Map<string, Stored>();
const groups = new Map<string, Stored>();
const log: LoggedRequest[] = [];
let port = 0;

const now = () => new Date().toISOString();
const scimError = (status: number, scimType: string | null, detail: string) => new SCIMMY.Types.Error(status, scimType as any, detail);
const plain = (v: unknown) => JSON.parse(JSON.stringify(v ?? {}));

function strip(instance: unknown): Record<string, any> {
  const data = plain(instance);
  delete data.id;
  delete data.meta;
  delete data.schemas;
  delete data.groups;
  return data;
}

/** An account created in the app itself before provisioning, which the SCIM API does not show (many apps scope SCIM to the users it provisioned). */
const hidden = (u: Stored) => u.__hidden === true;

function emailsOf(u: Record<string, any>): string[] {
  return (Array.isArray(u.emails) ? u.emails : []).map((e: any) => String(e?.value ?? '').toLowerCase()).filter(Boolean);
}

function userOut(u: Stored) {
  const memberOf = [...groups.values()].filter((g) => (g.members ?? []).some((m: any) => m.value === u.id)).map((g) => ({ value: g.id, display: g.displayName, type: 'direct' }));
  return { ...u, ...(memberOf.length ? { groups: memberOf } : {}) };
}

/**
 * What egress returns for a list read without a filter: only the page asked for is filled in. scimmy coerces
 * every resource egress returns through the schema and slices the page afterwards, which makes each page cost the
 * whole collection (a 5,000-user app read in pages of 100 took minutes); a sparse array of the collection's length
 * keeps totalResults right (scimmy maps and filters out the holes). scimmy slices from startIndex only when the
 * page it got is at least startIndex long, so a startIndex inside the first page (2 ≤ startIndex ≤ count), a sort,
 * or a read without paging parameters gets the whole list as before.
 */
function pageOnly<T>(all: T[], c: { sortBy?: string; startIndex?: number; count?: number } | undefined, out: (x: T) => any): any[] {
  const start = c?.startIndex ?? 1;
  const count = c?.count;
  if (!c || count === undefined || c.sortBy !== undefined || (start > 1 && start <= count)) return all.map(out);
  const page: any[] = new Array(all.length);
  for (let i = start - 1; i < Math.min(all.length, start - 1 + count); i++) page[i] = out(all[i]);
  return page;
}

function sameName(a: unknown, b: unknown) {
  return String(a ?? '').toLowerCase() === String(b ?? '').toLowerCase();
}

/**
 * A custom extension, as an app that wants what the core and Enterprise User schemas lack would
 * declare one (RFC 7643 §3.3: extensions are named by URN and listed in the resource's `schemas`).
 * scimmy only accepts schema URNs in the urn:ietf:params:scim:schemas: namespace.
 */
export const HALLPASS_SCHEMA = 'urn:ietf:params:scim:schemas:extension:hallpass:2.0:User';
// Users carry the Enterprise User extension (RFC 7643 §4.3) and the custom one, both optional.
SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
// scimmy's types name only Schema classes here; at run time it also takes a SchemaDefinition (tried with scimmy 1.3).
SCIMMY.Resources.User.extend(
  new SCIMMY.Types.SchemaDefinition('HallPassUser', HALLPASS_SCHEMA, 'What the hall-pass app knows of a student', [
    new SCIMMY.Types.Attribute('string', 'homeroom'),
    new SCIMMY.Types.Attribute('string', 'grade'),
    new SCIMMY.Types.Attribute('string', 'school'),
  ]) as any,
  false,
);

SCIMMY.Resources.declare(SCIMMY.Resources.User, {
  ingress: (resource: any, instance: any) => {
    const data = strip(instance);
    const clash = [...users.values()].find((u) => sameName(u.userName, data.userName) && u.id !== resource.id);
    if (resource.id) {
      const existing = users.get(resource.id);
      if (!existing) throw scimError(404, null, `Resource ${resource.id} not found`);
      if (clash) throw scimError(409, 'uniqueness', `userName ${data.userName} is already taken`);
      const next = { ...data, id: existing.id, meta: { ...existing.meta, lastModified: now() } };
      users.set(existing.id, next);
      return userOut(next);
    }
    if (!clash && switches.conflictOnCreate.some((n) => sameName(n, data.userName))) {
      const id = randomUUID();
      users.set(id, { userName: data.userName, displayName: `${data.displayName ?? data.userName} (signed in via SSO)`, active: true, id, meta: { resourceType: 'User', created: now(), lastModified: now() } });
      throw scimError(409, 'uniqueness', `userName ${data.userName} is already taken`);
    }
    if (clash) throw scimError(409, 'uniqueness', `userName ${data.userName} is already taken`);
    if (switches.uniqueEmails) {
      const mine = emailsOf(data);
      if ([...users.values()].some((u) => emailsOf(u).some((e) => mine.includes(e)))) throw scimError(409, 'uniqueness', 'a user already uses this email');
    }
    if (switches.rejectUserNames.some((n) => sameName(n, data.userName))) throw scimError(400, 'invalidValue', `userName ${data.userName} is not allowed by this app`);
    const id = randomUUID();
    const stored = { ...data, id, meta: { resourceType: 'User', created: now(), lastModified: now() } };
    users.set(id, stored);
    return userOut(stored);
  },
  egress: (resource: any) => {
    if (resource.id) {
      const u = users.get(resource.id);
      if (!u || hidden(u)) throw scimError(404, null, `Resource ${resource.id} not found`);
      return userOut(u);
    }
    const all = [...users.values()].filter((u) => !hidden(u));
    return resource.filter ? resource.filter.match(all.map(userOut)) : pageOnly(all, resource.constraints, userOut);
  },
  degress: (resource: any) => {
    if (!users.delete(resource.id)) throw scimError(404, null, `Resource ${resource.id} not found`);
    for (const g of groups.values()) g.members = (g.members ?? []).filter((m: any) => m.value !== resource.id);
  },
});

SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
  ingress: (resource: any, instance: any) => {
    const data = strip(instance);
    const clash = [...groups.values()].find((g) => sameName(g.displayName, data.displayName) && g.id !== resource.id);
    if (clash) throw scimError(409, 'uniqueness', `displayName ${data.displayName} is already taken`);
    for (const m of data.members ?? []) if (!users.has(m.value)) throw scimError(400, 'invalidValue', `no user with id ${m.value}`);
    data.members = (data.members ?? []).map((m: any) => ({ value: m.value, display: users.get(m.value)?.userName, type: 'User' }));
    if (resource.id) {
      const existing = groups.get(resource.id);
      if (!existing) throw scimError(404, null, `Resource ${resource.id} not found`);
      const next = { ...data, id: existing.id, meta: { ...existing.meta, lastModified: now() } };
      groups.set(existing.id, next);
      return next;
    }
    const id = randomUUID();
    const stored = { ...data, id, meta: { resourceType: 'Group', created: now(), lastModified: now() } };
    groups.set(id, stored);
    return stored;
  },
  egress: (resource: any) => {
    if (resource.id) {
      const g = groups.get(resource.id);
      if (!g) throw scimError(404, null, `Resource ${resource.id} not found`);
      return g;
    }
    const all = [...groups.values()].map((g) => (switches.omitGroupMembers ? { ...g, members: undefined } : g));
    return resource.filter ? resource.filter.match(all) : all;
  },
  degress: (resource: any) => {
    if (!groups.delete(resource.id)) throw scimError(404, null, `Resource ${resource.id} not found`);
  },
});

function applyConfig() {
  SCIMMY.Config.set({
    patch: switches.patch,
    filter: { supported: switches.filter, maxResults: switches.maxCount ?? 200 },
    bulk: { supported: switches.bulk, maxOperations: switches.bulkMaxOperations, maxPayloadSize: switches.bulkMaxPayloadSize },
  });
}

function isWrite(method: string) {
  return method !== 'GET';
}

function errorBody(status: number, detail: string) {
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail };
}

const app = express();
app.disable('x-powered-by');
// Parse SCIM JSON up front (the router's own parser then leaves the body alone) so the switches can look at it.
app.use(express.json({ type: ['application/scim+json', 'application/json'], limit: '20mb' }));

app.use((req, res, next) => {
  const entry: LoggedRequest = { method: req.method, path: req.originalUrl, status: 0 };
  if (req.method === 'POST' && req.path.endsWith('/Bulk') && Array.isArray(req.body?.Operations)) entry.bulk = req.body.Operations.map((o: any) => `${o.method} ${o.path}`);
  const opsOf = (body: any) => (Array.isArray(body?.Operations) ? body.Operations.map((o: any) => `${o.op} ${o.path ?? ''}`.trim()) : []);
  if (req.method === 'PATCH' && Array.isArray(req.body?.Operations)) {
    entry.operations = req.body.Operations.length;
    entry.patchOps = [opsOf(req.body)];
  }
  if (entry.bulk) entry.patchOps = req.body.Operations.filter((o: any) => o.method === 'PATCH').map((o: any) => opsOf(o.data));
  res.locals.logEntry = entry;
  res.on('finish', () => {
    entry.status = res.statusCode;
    log.push(entry);
  });
  next();
});

function logEntryOf(res: express.Response): LoggedRequest | undefined {
  return res.locals.logEntry as LoggedRequest | undefined;
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Plain HTTP routes for the UrlFetchApp tests.
app.all('/echo', express.text({ type: () => true }), (req, res) => {
  res.json({ method: req.method, url: req.originalUrl, headers: req.headers, body: typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? null) });
});
app.get('/status/:code', (req, res) => {
  res.status(Number(req.params.code)).type('text/plain').send(`status ${req.params.code}: ${'x'.repeat(300)}`);
});
app.get('/cookies', (req, res) => {
  res.append('Set-Cookie', 'a=1');
  res.append('Set-Cookie', 'b=2');
  res.set('Retry-After', '5').type('application/json').send('{"ok":true}');
});
app.get('/redirect', (req, res) => res.redirect(302, '/echo'));

// A debug-mode app: every error detail (also inside Bulk answers) quotes the Authorization header it got.
app.use((req, res, next) => {
  if (!switches.echoAuthorization) return next();
  const auth = String(req.headers.authorization ?? '');
  res.set('X-Debug-Authorization', auth);
  const quote = (v: any): any => {
    if (Array.isArray(v)) return v.map(quote);
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, any> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === 'detail' && typeof x === 'string' ? `${x} (request headers: {"Authorization": "${auth}"}, token ${auth.replace(/^Bearer /, '')})` : quote(x);
    return out;
  };
  const send = res.send.bind(res);
  let quoted = false; // express's send(object) comes back here as send(string): quote once
  res.send = ((body: any) => {
    if (quoted) return send(body);
    quoted = true;
    if (typeof body === 'string' && body.startsWith('{')) {
      try {
        return send(JSON.stringify(quote(JSON.parse(body))));
      } catch {
        // not JSON: sent as it is
      }
    }
    if (body && typeof body === 'object' && !Buffer.isBuffer(body)) return send(quote(body));
    return send(body);
  }) as typeof res.send;
  next();
});

// An app that leaves totalResults out of its ListResponses.
app.use((req, res, next) => {
  if (!switches.omitTotalResults || req.method !== 'GET') return next();
  const json = res.json.bind(res);
  const send = res.send.bind(res);
  const strip = (body: any) => {
    if (body && typeof body === 'object' && Array.isArray(body.Resources)) delete body.totalResults;
    return body;
  };
  res.json = ((body: any) => json(strip(body))) as typeof res.json;
  res.send = ((body: any) => {
    if (typeof body === 'string' && body.includes('"Resources"')) {
      try {
        return send(JSON.stringify(strip(JSON.parse(body))));
      } catch {
        // not JSON: sent as it is
      }
    }
    return send(body);
  }) as typeof res.send;
  next();
});

// Faults come first, as from a proxy or load balancer in front of the app.
app.use((req, res, next) => {
  const matches = switches.failOn === 'any' || (switches.failOn === 'write') === isWrite(req.method);
  if (matches && switches.fail503 > 0) {
    switches.fail503--;
    res.status(503).type('application/scim+json').send(errorBody(503, 'Service temporarily unavailable'));
    return;
  }
  if (matches && switches.fail429 > 0) {
    switches.fail429--;
    res.status(429).set('Retry-After', switches.retryAfter).type('application/scim+json').send(errorBody(429, 'Too many requests'));
    return;
  }
  next();
});

// ---- rate limits: a sliding window per path, on the simulated clock when the client sends one ----

const sentAt = new Map<string, number[]>();
/** Per path: until when the client was told to wait (by a 429). */
const waitUntil = new Map<string, number>();

/** "/scim/v2/Users/abc?x" → "/Users": the limit is per resource path, not per resource. */
function limitKey(path: string): string {
  const m = /^\/scim\/v2(\/[^/?]*)/.exec(path);
  return m ? m[1] : path.split('?')[0];
}

function clockOf(req: express.Request): number {
  const t = Number(req.header('x-simulated-time'));
  return Number.isFinite(t) && t > 0 ? t : Date.now();
}

app.use('/scim/v2', (req, res, next) => {
  const entry = logEntryOf(res);
  const at = clockOf(req);
  if (entry) entry.atMs = at;
  const limit = switches.rateLimit;
  if (!limit) return next();
  const key = limitKey(req.originalUrl);
  if (entry && at < (waitUntil.get(key) ?? 0)) entry.insideWait = true;
  const recent = (sentAt.get(key) ?? []).filter((t) => t > at - limit.windowMs);
  sentAt.set(key, recent);
  const resetMs = recent.length ? recent[0] + limit.windowMs - at : 0;
  const seconds = Math.max(1, Math.ceil(resetMs / 1000));
  if (limit.style === 'ietf') {
    res.set('RateLimit-Policy', `${limit.limit};w=${Math.round(limit.windowMs / 1000)}`);
    res.set('RateLimit-Limit', String(limit.limit));
    res.set('RateLimit-Remaining', String(Math.max(0, limit.limit - recent.length - 1)));
    res.set('RateLimit-Reset', String(recent.length ? seconds : Math.round(limit.windowMs / 1000)));
  }
  if (recent.length < limit.limit) {
    recent.push(at);
    return next();
  }
  // Over the limit: the request is refused (and not counted), and the client told when a slot frees up.
  waitUntil.set(key, Math.max(waitUntil.get(key) ?? 0, at + seconds * 1000));
  if (limit.style === 'retry-after') res.set('Retry-After', String(seconds));
  if (limit.style === 'x-retry-after') res.set('X-Retry-After', String(seconds));
  if (limit.style === 'ietf') res.set('RateLimit-Remaining', '0');
  res.status(429).type('application/scim+json').send(errorBody(429, `Too many requests: at most ${limit.limit} per ${limit.windowMs / 1000} seconds`));
});

/** A filter of one attribute compared with eq to one value, the only kind `eqOnlyFilters` servers read. */
const EQ_FILTER = /^\s*[A-Za-z][\w.:-]*\s+eq\s+("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)\s*$/i;

app.use('/scim/v2', (req, res, next) => {
  // scimmy-routers turns ?startIndex=&count= into numbers by assigning into req.query, which
  // Express 5 re-parses on every read (the assignment is lost and paging silently ignored):
  // give the router a plain, writable copy.
  if (!switches.ignorePaging) Object.defineProperty(req, 'query', { value: { ...req.query }, writable: true, configurable: true, enumerable: true });
  applyConfig();
  const query = req.query as Record<string, any>;
  if (switches.maxCount !== null && query.count !== undefined && Number(query.count) > switches.maxCount) query.count = String(switches.maxCount);
  if (switches.maxCount !== null && req.method === 'GET' && query.count === undefined && /^\/(Users|Groups)\/?$/.test(req.path)) query.count = String(switches.maxCount);
  if (switches.tokenScope === 'users' && req.path.startsWith('/Groups')) {
    res.status(403).type('application/scim+json').send(errorBody(403, 'This token may not read or change groups'));
    return;
  }
  if (req.method === 'POST' && req.path === '/Bulk' && switches.bulkRefused) {
    res.status(501).type('application/scim+json').send(errorBody(501, 'Bulk is not supported'));
    return;
  }
  if (req.method === 'GET' && query.filter !== undefined && switches.eqOnlyFilters && !EQ_FILTER.test(String(query.filter))) {
    res.status(400).type('application/scim+json').send({ ...errorBody(400, 'Only filters of the form attribute eq "value" are supported'), scimType: 'invalidFilter' });
    return;
  }
  if (req.method === 'PATCH' && req.path.startsWith('/Users/') && !switches.valuePathPatch) {
    const filtered = (req.body?.Operations ?? []).find((op: any) => typeof op?.path === 'string' && op.path.includes('['));
    if (filtered) {
      res.status(400).type('application/scim+json').send({ ...errorBody(400, `Unsupported path: ${filtered.path}`), scimType: 'invalidPath' });
      return;
    }
  }
  if (req.method === 'PATCH' && req.path.startsWith('/Groups/')) {
    const ops: any[] = req.body?.Operations ?? [];
    const filtered = switches.groupValuePathPatch ? null : ops.find((op) => typeof op?.path === 'string' && op.path.includes('['));
    if (filtered) {
      res.status(400).type('application/scim+json').send({ ...errorBody(400, `Unsupported path: ${filtered.path}`), scimType: 'invalidPath' });
      return;
    }
    const valued = switches.groupRemoveValueArray ? null : ops.find((op) => String(op?.op).toLowerCase() === 'remove' && op.value !== undefined);
    if (valued) {
      res.status(400).type('application/scim+json').send({ ...errorBody(400, 'A remove operation takes no value'), scimType: 'invalidSyntax' });
      return;
    }
  }
  if (req.method === 'PATCH' && !switches.patch) {
    res.status(501).type('application/scim+json').send(errorBody(501, 'PATCH is not supported'));
    return;
  }
  if (req.method === 'GET' && req.query.filter !== undefined && !switches.filter) {
    res.status(501).type('application/scim+json').send(errorBody(501, 'Filtering is not supported'));
    return;
  }
  if (req.method === 'PATCH' && req.path.startsWith('/Groups/')) {
    const touched = (req.body?.Operations ?? []).reduce((n: number, op: any) => n + (Array.isArray(op?.value) ? op.value.length : 1), 0);
    if (touched > switches.maxMembersPerPatch) {
      res.status(400).type('application/scim+json').send({ ...errorBody(400, `at most ${switches.maxMembersPerPatch} members per PATCH`), scimType: 'invalidValue' });
      return;
    }
  }
  next();
});

app.use(
  '/scim/v2',
  new SCIMMYRouters({
    type: 'bearer',
    docUri: 'https://example.test/scim-docs',
    handler: (req: any) => {
      if (switches.token !== null && req.header('authorization') !== `Bearer ${switches.token}`) throw new Error('The bearer token is not valid');
      return 'provisioning-client';
    },
    context: () => ({}),
    baseUri: () => `http://127.0.0.1:${port}`,
  }) as unknown as express.Router,
);
applyConfig();

interface Command {
  id: number;
  type: 'set' | 'state' | 'seed' | 'restore' | 'mutate' | 'clearLog' | 'clear';
  switches?: Partial<Switches>;
  users?: Record<string, any>[];
  groups?: { displayName: string; memberUserNames?: string[] }[];
  /** For restore: the store as `state` returned it (ids, members and meta kept). */
  store?: { users: Stored[]; groups: Stored[] };
  userName?: string;
  patch?: Record<string, any>;
}

function handle(cmd: Command): unknown {
  switch (cmd.type) {
    case 'set':
      if (cmd.switches && 'rateLimit' in cmd.switches) {
        sentAt.clear();
        waitUntil.clear();
      }
      Object.assign(switches, cmd.switches ?? {});
      applyConfig();
      return { switches };
    case 'state':
      return { users: [...users.values()], groups: [...groups.values()], log, switches };
    case 'seed': {
      for (const { hidden: isHidden, ...u } of cmd.users ?? []) {
        const id = randomUUID();
        users.set(id, { active: true, ...u, ...(isHidden ? { __hidden: true } : {}), id, meta: { resourceType: 'User', created: now(), lastModified: now() } });
      }
      for (const g of cmd.groups ?? []) {
        const members = (g.memberUserNames ?? []).map((n) => [...users.values()].find((u) => sameName(u.userName, n))!).map((u) => ({ value: u.id, display: u.userName, type: 'User' }));
        const id = randomUUID();
        groups.set(id, { displayName: g.displayName, members, id, meta: { resourceType: 'Group', created: now(), lastModified: now() } });
      }
      return { users: users.size, groups: groups.size };
    }
    case 'restore': {
      users.clear();
      groups.clear();
      for (const u of cmd.store?.users ?? []) users.set(u.id, plain(u));
      for (const g of cmd.store?.groups ?? []) groups.set(g.id, plain(g));
      return { users: users.size, groups: groups.size };
    }
    case 'mutate': {
      const u = [...users.values()].find((x) => sameName(x.userName, cmd.userName));
      if (!u) throw new Error(`no user ${cmd.userName}`);
      if (cmd.patch === null) users.delete(u.id);
      else Object.assign(u, cmd.patch);
      return u;
    }
    case 'clearLog':
      log.length = 0;
      return {};
    case 'clear':
      users.clear();
      groups.clear();
      log.length = 0;
      sentAt.clear();
      waitUntil.clear();
      Object.assign(switches, DEFAULT_SWITCHES);
      applyConfig();
      return {};
  }
}

process.on('message', (raw) => {
  const cmd = raw as Command;
  try {
    process.send!({ id: cmd.id, ok: true, result: handle(cmd) });
  } catch (error) {
    process.send!({ id: cmd.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));

const server = app.listen(0, '127.0.0.1', () => {
  port = (server.address() as AddressInfo).port;
  process.send!({ type: 'ready', port });
});
