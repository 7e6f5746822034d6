// Reading the directory into a snapshot, one call (or one round of parallel calls) per step, with the progress
// kept in the job so a sync cut off by the execution limit resumes where it stopped.
import { AppGroup, DirectorySnapshot, DirectoryUser, GroupMembers, OrgUnit } from './model';
import { BlobStore, DirectoryPort, ListingPage, ListingRequest, MemberRef, Page } from './ports';
import { Settings } from './settings';
import { UserError, msg } from './messages';
import { directoryFields } from './attributes';

export interface ReadProgress {
  /** 'parallel': every listing at once, in rounds of parallel requests (see readRound). */
  phase: 'orgunits' | 'appgroups' | 'groups' | 'users' | 'parallel' | 'complete';
  /** The listings of a parallel read; absent for a read one call at a time. */
  listings?: Listing[];
  usersToken: string | null;
  userPages: number;
  usersRead: number;
  /** Groups still to read, the first one possibly part-way at membersToken. */
  groupQueue: string[];
  groupsSeen: string[];
  membersToken: string | null;
  groupPages: number;
  missingGroups: string[];
  directoryCalls: number;
  /** When the users listing part-way began (its first page). */
  usersSince?: number;
  /** When the members listing of the group part-way began, and its first snapshot page. */
  membersSince?: number;
  groupFirstPage?: number;
  /** Listings begun again because their page token had grown too old. */
  restarts?: number;
  /**
   * Once the sync has planned: the users it still needs, in this many pages snap.kept.<n> (see
   * keepNeededUsers); the pages of the listings are then no longer read, and removed at the next checkpoint.
   */
  keptPages?: number;
  /** The raw Directory fields the attribute mapping needs; absent when nothing is mapped. */
  sources?: string[];
  /** Selected app groups still to look up (groups.get), those found, and those missing; absent when none is selected. */
  appGroupQueue?: string[];
  appGroups?: AppGroup[];
  missingAppGroups?: string[];
}

/**
 * One listing of a parallel read: the users whose email starts with the letter `target` (a
 * partition); the users sorted by email before the first letter partition (`kind` 'before': digits,
 * dashes, apostrophes, underscores) or after the last one ('after': accented letters and whatever
 * else sorts after z); or the members of the mapped group `target`. Its pages are saved as snap.users.<i>_<generation>_<n> (or
 * snap.groups.…); a listing begun again gets a new generation, so pages of the old one are ignored.
 */
export interface Listing {
  kind: 'users' | 'before' | 'after' | 'members';
  target: string;
  token: string | null;
  pages: number;
  /** Users (or members) its current generation has read. */
  items?: number;
  generation: number;
  done: boolean;
  missing?: boolean;
  /** When its first page was read. */
  since?: number;
}

const SNAP = 'snap.';
/** The listings' pages of users (removed once the needed users are kept apart). */
export const LISTED_USERS_PREFIX = `${SNAP}users.`;
const KEPT = `${SNAP}kept.`;
/** Users per page of the kept snapshot. */
const KEPT_PAGE = 2000;
/**
 * The partitions of a parallel users listing: one `email:<letter>*` listing per letter, and two
 * listings of the whole domain sorted by email (orderBy=email), one ascending that stops at the first
 * email beginning with a letter, one descending that stops at the last: together every user, in
 * 28 listings (aliases may put a user in two; the snapshot keeps one). Should Google's order not
 * put every other character before a or after z, confirmUnseen still looks up a synced user not
 * listed before the account is deactivated, and group rules fetch the members no listing showed.
 */
export const EMAIL_PARTITIONS = [...'abcdefghijklmnopqrstuvwxyz'];
const FIRST_LETTER = 'a';
const LAST_LETTER = 'z';
/** Requests per parallel round (the Directory adapter paces rounds to the API's 2,400 queries a minute per user). */
export const ROUND_REQUESTS = 60;
/** Domains this large (as the last sync counted them) are read in parallel, when the runtime can. */
export const PARALLEL_MIN_USERS = 40_000;
/**
 * Google fails a listing paged for longer than 60 minutes (503 backendError), so a part that
 * would continue an older one (a scheduled sync resumes an hour later) reads it again from its
 * first page. A margin below the limit covers the clock and the time the part itself takes.
 */
export const LISTING_MAX_AGE_MS = 50 * 60_000;
/** Restarts allowed per sync before it says the directory is too large to read between heartbeats. */
const MAX_RESTARTS = 3;

export function startRead(settings: Settings, parallel = false): ReadProgress {
  const appGroups = settings.appGroups ?? [];
  // An app group's members are read like a rule group's (one derived listing each).
  const groups = [...new Set([...settings.rules.flatMap((r) => (r.type === 'group' ? [r.groupEmail.toLowerCase()] : [])), ...appGroups])];
  const sources = directoryFields(settings.attributes ?? []);
  const listing = (kind: Listing['kind'], target: string): Listing => ({ kind, target, token: null, pages: 0, generation: 0, done: false });
  const users = [listing('before', ''), ...EMAIL_PARTITIONS.map((c) => listing('users', c)), listing('after', '')];
  const listings = parallel ? [...groups.map((g) => listing('members', g)), ...users] : undefined;
  return {
    ...(sources.length ? { sources } : {}),
    ...(appGroups.length ? { appGroupQueue: [...appGroups], appGroups: [], missingAppGroups: [] } : {}),
    listings,
    phase: 'orgunits',
    usersToken: null,
    userPages: 0,
    usersRead: 0,
    groupQueue: groups,
    groupsSeen: [...groups],
    membersToken: null,
    groupPages: 0,
    missingGroups: [],
    directoryCalls: 0,
  };
}

/** A user as saved progress stores it: id, email, name, OU, flags (1 suspended, 2 archived), then the mapped fields' values alone, in the order of `sources` (100,000 users add no key names). */
export type PackedUser = [string, string, string, string, number] | [string, string, string, string, number, string[]];

export function pack(u: DirectoryUser, sources?: string[]): PackedUser {
  const flags = (u.suspended ? 1 : 0) | (u.archived ? 2 : 0);
  const fields = u.fields;
  return fields && sources ? [u.id, u.email, u.name, u.orgUnitPath, flags, sources.map((s) => fields[s] ?? '')] : [u.id, u.email, u.name, u.orgUnitPath, flags];
}

export function unpack(p: PackedUser, sources?: string[]): DirectoryUser {
  const u: DirectoryUser = { id: p[0], email: p[1], name: p[2], orgUnitPath: p[3], suspended: (p[4] & 1) !== 0, archived: (p[4] & 2) !== 0 };
  const values = p[5];
  if (values && sources) u.fields = Object.fromEntries(sources.map((s, i) => [s, values[i] ?? '']));
  return u;
}

/** After the OUs (and the app groups): the listings, in parallel or one at a time. */
function afterOrgUnits(p: ReadProgress): ReadProgress['phase'] {
  return p.listings ? 'parallel' : p.groupQueue.length ? 'groups' : 'users';
}

/** Makes one directory call and stores what it returned; returns false once the read is complete. */
export function readStep(p: ReadProgress, directory: DirectoryPort, store: BlobStore, nowMs: number): boolean {
  restartStaleListing(p, nowMs);
  switch (p.phase) {
    case 'orgunits': {
      const ous = directory.listOrgUnits();
      p.directoryCalls++;
      store.set(`${SNAP}ous`, JSON.stringify(ous));
      p.phase = p.appGroupQueue?.length ? 'appgroups' : afterOrgUnits(p);
      return true;
    }
    case 'appgroups': {
      const key = p.appGroupQueue!.shift()!;
      const group = directory.getGroup(key);
      p.directoryCalls++;
      if (group) p.appGroups!.push({ ...group, key });
      else p.missingAppGroups!.push(key);
      if (!p.appGroupQueue!.length) p.phase = afterOrgUnits(p);
      return true;
    }
    case 'parallel':
      readRound(p, directory, store, nowMs);
      return (p.phase as ReadProgress['phase']) !== 'complete';
    case 'groups': {
      const email = p.groupQueue[0];
      if (!p.membersToken) {
        p.membersSince = nowMs;
        p.groupFirstPage = p.groupPages;
      }
      const page = directory.listMembersPage(email, p.membersToken);
      p.directoryCalls++;
      if (!page) {
        p.missingGroups.push(email);
      } else {
        const members: GroupMembers = { email, userIds: [], groupEmails: [] };
        // The listing includes indirect members: nested groups need no listing of their own.
        for (const m of page.items) if (m.type === 'USER') members.userIds.push(m.id);
        store.set(`${SNAP}groups.${p.groupPages++}`, JSON.stringify(members));
      }
      p.membersToken = page?.nextPageToken ?? null;
      if (!p.membersToken) p.groupQueue.shift();
      if (!p.groupQueue.length) p.phase = 'users';
      return true;
    }
    case 'users': {
      if (!p.usersToken) p.usersSince = nowMs;
      const page = p.sources ? directory.listUsersPage(p.usersToken, p.sources) : directory.listUsersPage(p.usersToken);
      p.directoryCalls++;
      store.set(`${SNAP}users.${p.userPages++}`, JSON.stringify(page.items.map((u) => pack(u, p.sources))));
      p.usersRead += page.items.length;
      p.usersToken = page.nextPageToken;
      if (!p.usersToken) p.phase = 'complete';
      return p.phase !== 'complete';
    }
    case 'complete':
      return false;
  }
}

/**
 * One round of a parallel read: the next page of up to ROUND_REQUESTS open listings (those begun
 * longest ago first, so each listing ends as early as it can), in one fetchAll.
 */
function readRound(p: ReadProgress, directory: DirectoryPort, store: BlobStore, nowMs: number): void {
  const listings = p.listings!;
  // Listings a part left open are too old by the next heartbeat: they begin again (counted as one restart of the read).
  const stale = listings.filter((l) => !l.done && l.token && l.since !== undefined && nowMs - l.since > LISTING_MAX_AGE_MS);
  if (stale.length) countRestart(p);
  for (const l of stale) restartListing(p, l);
  const open = listings.filter((l) => !l.done).sort((a, b) => Number(a.token === null) - Number(b.token === null)).slice(0, ROUND_REQUESTS);
  const fields = p.sources ? { sources: p.sources } : {};
  const requests: ListingRequest[] = open.map((l): ListingRequest => {
    if (l.kind === 'members') return { kind: 'members', groupEmail: l.target, pageToken: l.token };
    if (l.kind === 'users') return { kind: 'users', query: `email:${l.target}*`, pageToken: l.token, ...fields };
    return { kind: 'users', query: null, sort: l.kind === 'before' ? 'ascending' : 'descending', pageToken: l.token, ...fields };
  });
  const pages = directory.fetchPages!(requests);
  p.directoryCalls += requests.length;
  open.forEach((l, i) => savePage(p, l, listings.indexOf(l), pages[i], store, nowMs));
  if (listings.every((l) => l.done)) p.phase = 'complete';
}

function savePage(p: ReadProgress, l: Listing, index: number, page: ListingPage, store: BlobStore, nowMs: number): void {
  if (!l.token) l.since = nowMs;
  const key = `${SNAP}${l.kind === 'members' ? 'groups' : 'users'}.${index}_${l.generation}_${l.pages}`;
  if (!page) {
    l.missing = true;
    l.done = true;
    p.missingGroups.push(l.target);
    return;
  }
  let next = page.nextPageToken;
  if (l.kind === 'members') {
    const members: GroupMembers = { email: l.target, userIds: (page as Page<MemberRef>).items.filter((m) => m.type === 'USER').map((m) => m.id), groupEmails: [] };
    store.set(key, JSON.stringify(members));
  } else {
    const listed = (page as Page<DirectoryUser>).items;
    // A sorted listing keeps the users outside the letters, and ends where the letters begin.
    const outside = (u: DirectoryUser) => (l.kind === 'before' ? u.email[0] < FIRST_LETTER : u.email[0] > LAST_LETTER);
    const users = l.kind === 'users' ? listed : listed.filter(outside);
    if (l.kind !== 'users' && users.length < listed.length) next = null;
    store.set(key, JSON.stringify(users.map((u) => pack(u, p.sources))));
    p.usersRead += users.length;
    l.items = (l.items ?? 0) + users.length;
  }
  l.pages++;
  l.token = next;
  if (!l.token) l.done = true;
}

function restartListing(p: ReadProgress, l: Listing): void {
  if (l.kind !== 'members') p.usersRead -= l.items ?? 0;
  l.items = 0;
  l.token = null;
  l.pages = 0;
  l.generation++;
  delete l.since;
}

/** Begins the listing part-way again from its first page when its page token is too old to use. */
function restartStaleListing(p: ReadProgress, nowMs: number): void {
  const stale = (since: number | undefined) => since !== undefined && nowMs - since > LISTING_MAX_AGE_MS;
  if (p.phase === 'users' && p.usersToken && stale(p.usersSince)) {
    countRestart(p);
    p.usersToken = null;
    p.userPages = 0;
    p.usersRead = 0;
  } else if (p.phase === 'groups' && p.membersToken && stale(p.membersSince) && p.groupFirstPage !== undefined) {
    countRestart(p);
    p.membersToken = null;
    p.groupPages = p.groupFirstPage;
  }
}

function countRestart(p: ReadProgress): void {
  p.restarts = (p.restarts ?? 0) + 1;
  if (p.restarts > MAX_RESTARTS) throw new UserError(msg('listingTooSlow', { users: p.usersRead }));
}

/** Reads the whole directory in one go (Preview, or when the caller needs no checkpoints). */
export function readAll(settings: Settings, directory: DirectoryPort, parallel = false): { snapshot: DirectorySnapshot; calls: number } {
  const store = new MemoryBlobStore();
  const progress = startRead(settings, parallel);
  // One execution: no listing outlives its page tokens.
  while (readStep(progress, directory, store, 0));
  return { snapshot: loadSnapshot(progress, store), calls: progress.directoryCalls };
}

/** The directory as it concerns one user: OUs (one call) and the rule groups they belong to (one call each). */
export function readUserSnapshot(settings: Settings, directory: DirectoryPort, email: string): DirectorySnapshot {
  const sources = directoryFields(settings.attributes ?? []);
  const user = sources.length ? directory.getUser(email, sources) : directory.getUser(email);
  const snapshot: DirectorySnapshot = { users: user ? [user] : [], orgUnits: directory.listOrgUnits(), groups: [], missingGroups: [] };
  for (const rule of settings.rules) {
    if (rule.type !== 'group') continue;
    const member = user ? directory.hasMember(rule.groupEmail, user.email) : false;
    if (member === null) snapshot.missingGroups.push(rule.groupEmail);
    else snapshot.groups.push({ email: rule.groupEmail, userIds: member && user ? [user.id] : [], groupEmails: [] });
  }
  if (settings.appGroups?.length) {
    snapshot.appGroups = [];
    snapshot.missingAppGroups = [];
    for (const key of settings.appGroups) {
      const group = directory.getGroup(key);
      const member = group && user ? directory.hasMember(key, user.email) : false;
      if (!group || member === null) snapshot.missingAppGroups.push(key);
      else {
        snapshot.appGroups.push({ ...group, key });
        if (!snapshot.groups.some((g) => g.email === key)) snapshot.groups.push({ email: key, userIds: member && user ? [user.id] : [], groupEmails: [] });
      }
    }
  }
  return snapshot;
}

export function loadSnapshot(p: ReadProgress, store: BlobStore, withUsers = true): DirectorySnapshot {
  if (p.phase !== 'complete') throw new Error('the directory has not been read completely; no plan is made from a partial snapshot');
  const read = <T>(key: string): T => {
    const raw = store.get(key);
    if (raw === null) throw new Error(`saved sync state "${key}" is missing`);
    return JSON.parse(raw) as T;
  };
  const users: DirectoryUser[] = [];
  const seen = new Set<string>();
  const userKeys = !withUsers ? [] : p.keptPages !== undefined ? Array.from({ length: p.keptPages }, (_, i) => `${KEPT}${i}`) : p.listings ? pageKeys(p.listings, 'users') : Array.from({ length: p.userPages }, (_, i) => `${SNAP}users.${i}`);
  for (const key of userKeys) {
    for (const u of read<PackedUser[]>(key)) {
      // A partitioned read can list a user twice (an alias in another partition): keep one.
      if (seen.has(u[0])) continue;
      seen.add(u[0]);
      users.push(unpack(u, p.sources));
    }
  }
  const byEmail = new Map<string, GroupMembers>();
  const groupKeys = p.listings ? pageKeys(p.listings, 'members') : Array.from({ length: p.groupPages }, (_, i) => `${SNAP}groups.${i}`);
  for (const key of groupKeys) {
    const page = read<GroupMembers>(key);
    const merged = byEmail.get(page.email);
    if (merged) {
      merged.userIds.push(...page.userIds);
      merged.groupEmails.push(...page.groupEmails);
    } else byEmail.set(page.email, page);
  }
  const snapshot: DirectorySnapshot = { users, orgUnits: read<OrgUnit[]>(`${SNAP}ous`), groups: [...byEmail.values()], missingGroups: p.missingGroups };
  if (p.appGroups) {
    snapshot.appGroups = p.appGroups;
    snapshot.missingAppGroups = p.missingAppGroups ?? [];
  }
  return snapshot;
}

/** The OUs and the mapped groups' members of a complete read, without its users (what incremental syncs build on). */
export function loadStructure(p: ReadProgress, store: BlobStore): Omit<DirectorySnapshot, 'users'> {
  const { users: _users, ...structure } = loadSnapshot(p, store, false);
  return structure;
}

/**
 * Keeps, of a complete read's users, only those a later part of this sync can need (`needed`): the
 * later parts plan from these alone. The others (out of scope, no account, no remembered decision)
 * would give no change in any part, so the hidden state sheet need not hold the whole directory.
 * The kept users go to pages of their own; the listings' pages stay until the next checkpoint has
 * saved these (see WriteBehindStore.discardPending), so a part cut off in between resumes from either.
 */
export function keepNeededUsers(p: ReadProgress, store: BlobStore, users: DirectoryUser[], needed: (u: DirectoryUser) => boolean): void {
  const kept = users.filter(needed);
  const pages = Math.ceil(kept.length / KEPT_PAGE);
  for (let i = 0; i < pages; i++) store.set(`${KEPT}${i}`, JSON.stringify(kept.slice(i * KEPT_PAGE, (i + 1) * KEPT_PAGE).map((u) => pack(u, p.sources))));
  p.keptPages = pages;
}

/** Whether every mapped group's members have been listed (a read one call at a time lists them before any user). */
export function membersListed(p: ReadProgress): boolean {
  return p.listings ? p.listings.every((l) => l.kind !== 'members' || l.done) : p.phase === 'users' || p.phase === 'complete';
}

/** The ids of the members listed so far, of every group read. */
export function listedMemberIds(p: ReadProgress, store: BlobStore): Set<string> {
  const keys = p.listings ? pageKeys(p.listings, 'members') : Array.from({ length: p.groupPages }, (_, i) => `${SNAP}groups.${i}`);
  const ids = new Set<string>();
  for (const key of keys) {
    const raw = store.get(key);
    if (raw !== null) for (const id of (JSON.parse(raw) as GroupMembers).userIds) ids.add(id);
  }
  return ids;
}

/**
 * Leaves out of the users pages this part read (not yet saved) the users `needed` does not keep, so
 * a checkpoint in the middle of reading saves only those too.
 */
export function leaveOutOfPendingPages(store: WriteBehindStore, needed: (id: string, email: string, orgUnitPath: string) => boolean): void {
  store.rewritePending(LISTED_USERS_PREFIX, (raw) => JSON.stringify((JSON.parse(raw) as PackedUser[]).filter((u) => needed(u[0], u[1], u[3]))));
}

function pageKeys(listings: Listing[], kind: 'users' | 'members'): string[] {
  const family = kind === 'users' ? 'users' : 'groups';
  const mine = (l: Listing) => (kind === 'members' ? l.kind === 'members' : l.kind !== 'members');
  return listings.flatMap((l, i) => (!mine(l) || l.missing ? [] : Array.from({ length: l.pages }, (_, n) => `${SNAP}${family}.${i}_${l.generation}_${n}`)));
}

export function clearSnapshot(store: BlobStore): void {
  store.removePrefix(SNAP);
}

/** A BlobStore in memory: for reads that finish within one execution. */
export class MemoryBlobStore implements BlobStore {
  private readonly data = new Map<string, string>();
  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.data.set(key, value);
  }
  removePrefix(prefix: string): void {
    for (const key of [...this.data.keys()]) if (key.startsWith(prefix)) this.data.delete(key);
  }
}

/**
 * Keeps writes in memory until flush(): a sync that finishes within one
 * execution never writes its snapshot out; one that pauses writes each new
 * piece once, at the checkpoint.
 */
export class WriteBehindStore implements BlobStore {
  private readonly pending = new Map<string, string>();

  constructor(private readonly inner: BlobStore) {}

  get(key: string): string | null {
    return this.pending.get(key) ?? this.inner.get(key);
  }
  set(key: string, value: string): void {
    this.pending.set(key, value);
  }
  removePrefix(prefix: string): void {
    for (const key of [...this.pending.keys()]) if (key.startsWith(prefix)) this.pending.delete(key);
    this.inner.removePrefix(prefix);
  }
  /** Rewrites the values not yet flushed of keys starting with the prefix. */
  rewritePending(prefix: string, rewrite: (value: string) => string): void {
    for (const [key, value] of this.pending) if (key.startsWith(prefix)) this.pending.set(key, rewrite(value));
  }
  /** Drops the writes not yet flushed of keys starting with the prefix, keeping what the inner store holds. */
  discardPending(prefix: string): void {
    for (const key of [...this.pending.keys()]) if (key.startsWith(prefix)) this.pending.delete(key);
  }
  flush(): void {
    const entries = [...this.pending];
    // A store that saves several keys at once (the state sheet: one write per few MB) gets them together.
    const bulk = this.inner as Partial<{ setMany(entries: [string, string][]): void }>;
    if (typeof bulk.setMany === 'function') bulk.setMany(entries);
    else for (const [key, value] of entries) this.inner.set(key, value);
    this.pending.clear();
  }
}
