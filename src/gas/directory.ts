// AdminDirectory (Admin SDK Directory API advanced service) behind the DirectoryPort.
import { AppGroup, DirectoryGroup, DirectoryUser, OrgUnit } from '../core/model';
import { DirectoryPort, ListingPage, ListingRequest, MemberRef, Page } from '../core/ports';
import { withRetry } from '../core/retry';
import { DirectoryError, classifyGoogleError, isTransient } from '../core/googleErrors';
import { customSchemasOf, extractFields, fieldSelectors } from '../core/attributes';

const CUSTOMER = 'my_customer';
// A `fields` selector must name nextPageToken, or Google drops it and paging stops at page one.
const USER_PARTS = 'id,primaryEmail,name/fullName,orgUnitPath,suspended,archived';
const USER_FIELDS = `nextPageToken,users(${USER_PARTS})`;
const MEMBER_FIELDS = 'nextPageToken,members(id,email,type,status)';
const GROUP_FIELDS = 'nextPageToken,groups(email,name,directMembersCount)';
const OU_FIELDS = 'organizationUnits(orgUnitPath,name,parentOrgUnitPath)';

/** The advanced service, or the error Apps Script gives when it is not enabled in the project. */
function admin(): GoogleAppsScript.AdminDirectory {
  if (typeof AdminDirectory === 'undefined' || !AdminDirectory) throw new Error('AdminDirectory is not defined: accessNotConfigured');
  return AdminDirectory;
}

type RawUser = GoogleAppsScript.AdminDirectory.Schema.User;

/**
 * What users.list / users.get are asked for: the fields sync always reads, plus only those the attribute
 * mapping names. Custom schema fields come back only with projection=custom and the schemas named in
 * customFieldMask (projection "basic", the default, includes no custom fields).
 */
function userRequest(sources: string[] | undefined, list: boolean): Record<string, string> {
  if (!sources?.length) return { fields: list ? USER_FIELDS : USER_PARTS };
  const parts = [USER_PARTS, ...fieldSelectors(sources)].join(',');
  const request: Record<string, string> = { fields: list ? `nextPageToken,users(${parts})` : parts };
  const schemas = customSchemasOf(sources);
  if (schemas.length) {
    request.projection = 'custom';
    request.customFieldMask = schemas.join(',');
  }
  return request;
}

function toUser(u: RawUser, sources?: string[]): DirectoryUser {
  const user: DirectoryUser = {
    id: String(u.id ?? ''),
    email: String(u.primaryEmail ?? '').toLowerCase(),
    name: String(u.name?.fullName ?? ''),
    orgUnitPath: String(u.orgUnitPath ?? '/'),
    suspended: Boolean(u.suspended),
    archived: Boolean(u.archived),
  };
  if (sources?.length) user.fields = extractFields(u as Record<string, unknown>, sources);
  return user;
}

function toMember(m: { type?: string; id?: string; email?: string }): MemberRef {
  return { type: (['USER', 'GROUP', 'CUSTOMER'].includes(String(m.type)) ? m.type : 'OTHER') as MemberRef['type'], id: String(m.id ?? ''), email: String(m.email ?? '').toLowerCase() };
}

const REST = 'https://admin.googleapis.com/admin/directory/v1';
/** Requests per fetchAll when fetching users one by one (each is a users.get). */
const GET_ROUND = 60;
/**
 * The Directory API allows 2,400 queries a minute per user (Limits and quotas): rounds are paced to
 * 2,300 a minute, so that no minute, however it falls across rounds, goes over.
 */
const MS_PER_QUERY = Math.ceil(60_000 / 2_300);

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

type RestAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; notFound: boolean };

export class GasDirectory implements DirectoryPort {
  /** When the last round of parallel requests was sent, and how many it sent. */
  private lastRound: { at: number; requests: number } | null = null;

  constructor(private readonly sleep: (ms: number) => void) {}

  /** Waits, if need be, so the requests sent stay within the Directory API's per-minute quota. */
  private pace(requests: number): void {
    if (this.lastRound) {
      const wait = this.lastRound.at + this.lastRound.requests * MS_PER_QUERY - Date.now();
      if (wait > 0) this.sleep(wait);
    }
    this.lastRound = { at: Date.now(), requests };
  }

  private call<T>(request: () => T): T {
    try {
      return withRetry(request, { attempts: 5, baseDelayMs: 1000, maxDelayMs: 16000, sleep: this.sleep, isRetryable: isTransient });
    } catch (error) {
      throw new DirectoryError(classifyGoogleError(error));
    }
  }

  /**
   * The Directory REST API through UrlFetchApp.fetchAll: one round of parallel requests, authorized
   * with the script's own token (ScriptApp.getOAuthToken carries the scopes already granted). A
   * request Google answers 429 or 5xx is sent again, with backoff, in a round of its own.
   */
  private rest(urls: string[]): RestAnswer[] {
    const token = ScriptApp.getOAuthToken();
    const answers: (RestAnswer | null)[] = urls.map(() => null);
    let pending = urls.map((_, i) => i);
    for (let attempt = 1; pending.length; attempt++) {
      this.pace(pending.length);
      const responses = UrlFetchApp.fetchAll(pending.map((i) => ({ url: urls[i], headers: { Authorization: `Bearer ${token}` }, muteHttpExceptions: true })));
      const again: number[] = [];
      let lastError: unknown = null;
      responses.forEach((response, k) => {
        const i = pending[k];
        const code = response.getResponseCode();
        const body = parseBody(response.getContentText());
        if (code === 200) answers[i] = { ok: true, body };
        else {
          const error = restError(code, body);
          if (code === 404) answers[i] = { ok: false, notFound: true };
          else if (isTransient(error) && attempt < 5) again.push(i);
          else lastError = error;
        }
      });
      if (lastError) throw new DirectoryError(classifyGoogleError(lastError));
      if (again.length) this.sleep(Math.min(16000, 1000 * 2 ** (attempt - 1)));
      pending = again;
    }
    return answers as RestAnswer[];
  }

  fetchPages(requests: ListingRequest[]): ListingPage[] {
    const urls = requests.map((r) =>
      r.kind === 'users'
        ? `${REST}/users?${query({ customer: CUSTOMER, maxResults: 500, query: r.query, orderBy: r.sort && 'email', sortOrder: r.sort && r.sort.toUpperCase(), pageToken: r.pageToken, ...userRequest(r.sources, true) })}`
        : `${REST}/groups/${encodeURIComponent(r.groupEmail)}/members?${query({ maxResults: 200, includeDerivedMembership: true, pageToken: r.pageToken, fields: MEMBER_FIELDS })}`,
    );
    return this.rest(urls).map((a, i) => {
      if (!a.ok) {
        if (requests[i].kind === 'members') return null;
        throw new DirectoryError(classifyGoogleError(restError(404, {})));
      }
      const next = (a.body.nextPageToken as string) || null;
      const r = requests[i];
      if (r.kind === 'users') return { items: ((a.body.users as RawUser[]) ?? []).map((u) => toUser(u, r.sources)), nextPageToken: next };
      return { items: ((a.body.members as { type?: string; id?: string; email?: string }[]) ?? []).map(toMember), nextPageToken: next };
    });
  }

  getUsersById(ids: string[], sources?: string[]): (DirectoryUser | null)[] {
    const out: (DirectoryUser | null)[] = [];
    for (let i = 0; i < ids.length; i += GET_ROUND) {
      const urls = ids.slice(i, i + GET_ROUND).map((id) => `${REST}/users/${encodeURIComponent(id)}?${query(userRequest(sources, false))}`);
      for (const a of this.rest(urls)) out.push(a.ok ? toUser(a.body as RawUser, sources) : null);
    }
    return out;
  }

  listUsersPage(pageToken: string | null, sources?: string[]): Page<DirectoryUser> {
    const r = this.call(() => admin().Users!.list({ customer: CUSTOMER, maxResults: 500, pageToken: pageToken ?? undefined, ...userRequest(sources, true) }));
    return { items: (r.users ?? []).map((u) => toUser(u, sources)), nextPageToken: r.nextPageToken || null };
  }

  listOrgUnits(): OrgUnit[] {
    const r = this.call(() => admin().Orgunits!.list(CUSTOMER, { type: 'all', fields: OU_FIELDS }));
    return (r.organizationUnits ?? []).map((o) => ({ orgUnitPath: String(o.orgUnitPath), name: String(o.name ?? ''), parentOrgUnitPath: String(o.parentOrgUnitPath ?? '/') }));
  }

  listMembersPage(groupEmail: string, pageToken: string | null): Page<MemberRef> | null {
    try {
      // Indirect members too: one listing per mapped group, however deeply groups are nested in it.
      const r = this.call(() => admin().Members!.list(groupEmail, { maxResults: 200, includeDerivedMembership: true, pageToken: pageToken ?? undefined, fields: MEMBER_FIELDS }));
      return { items: (r.members ?? []).map(toMember), nextPageToken: r.nextPageToken || null };
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }

  getGroup(email: string): AppGroup | null {
    try {
      const g = this.call(() => admin().Groups!.get(email));
      const primary = String(g.email ?? email).toLowerCase();
      return { id: String(g.id ?? ''), email: primary, name: String(g.name ?? primary), key: email.toLowerCase() };
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }

  /**
   * Groups whose email or name starts with the query. groups.list joins the clauses of one query with
   * AND (Directory API guide "Search for groups"), so the email and the name prefix are two listings,
   * merged page by page; the page token carries both listings' tokens.
   */
  listGroupsPage(query: string, pageToken: string | null): Page<DirectoryGroup> {
    if (!query) return this.groupsListing(undefined, pageToken);
    const q = query.replace(/['"\\*]/g, '').trim();
    // "Surround with single quotes if the query contains whitespace" (same guide).
    const value = /\s/.test(q) ? `'${q}'*` : `${q}*`;
    const tokens = pageToken ? readGroupTokens(pageToken) : { email: '', name: '' };
    const none: Page<DirectoryGroup> = { items: [], nextPageToken: null };
    const byEmail = tokens.email === null ? none : this.groupsListing(`email:${value}`, tokens.email || null);
    const byName = tokens.name === null ? none : this.groupsListing(`name:${value}`, tokens.name || null);
    const seen = new Set<string>();
    const items = [...byEmail.items, ...byName.items].filter((g) => !seen.has(g.email) && seen.add(g.email));
    const more = byEmail.nextPageToken !== null || byName.nextPageToken !== null;
    return { items, nextPageToken: more ? JSON.stringify({ email: byEmail.nextPageToken, name: byName.nextPageToken }) : null };
  }

  private groupsListing(query: string | undefined, pageToken: string | null): Page<DirectoryGroup> {
    const options: Record<string, unknown> = { customer: CUSTOMER, maxResults: 200, pageToken: pageToken ?? undefined, fields: GROUP_FIELDS };
    if (query) options.query = query;
    const r = this.call(() => admin().Groups!.list(options));
    return {
      items: (r.groups ?? []).map((g) => ({ email: String(g.email ?? '').toLowerCase(), name: String(g.name ?? ''), directMembersCount: Number(g.directMembersCount ?? 0) })),
      nextPageToken: r.nextPageToken || null,
    };
  }

  getUser(email: string, sources?: string[]): DirectoryUser | null {
    try {
      return toUser(this.call(() => admin().Users!.get(email, userRequest(sources, false))), sources);
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }

  ouHasUsers(orgUnitPath: string): boolean {
    const query = `orgUnitPath='${orgUnitPath.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const r = this.call(() => admin().Users!.list({ customer: CUSTOMER, maxResults: 1, query, fields: 'users(id)' }));
    return (r.users ?? []).length > 0;
  }

  hasMember(groupEmail: string, userEmail: string): boolean | null {
    try {
      return Boolean(this.call(() => admin().Members!.hasMember(groupEmail, userEmail)).isMember);
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }
}

function parseBody(text: string): Record<string, unknown> {
  try {
    return (JSON.parse(text) as Record<string, unknown>) ?? {};
  } catch {
    return {};
  }
}

/** Google's JSON error body, shaped as the advanced service throws it (message and details), for classifyGoogleError. */
function restError(code: number, body: Record<string, unknown>): { message: string; details: { code: number; message: string; errors: { reason?: string }[] } } {
  const e = (body.error ?? {}) as { message?: string; errors?: { reason?: string }[] };
  const message = e.message ?? `HTTP ${code}`;
  return { message: `API call to directory failed with error: ${message}`, details: { code, message, errors: e.errors ?? [] } };
}

/** The two listings' page tokens of a group search ('' to start a listing, null when it is done). */
function readGroupTokens(pageToken: string): { email: string | null; name: string | null } {
  try {
    const t = JSON.parse(pageToken) as { email?: unknown; name?: unknown };
    const one = (v: unknown) => (typeof v === 'string' ? v : null);
    return { email: one(t.email), name: one(t.name) };
  } catch {
    return { email: null, name: null };
  }
}
