// Reading the directory into a snapshot, one call per step, with the progress
// kept in the job so a sync cut off by the execution limit resumes where it stopped.
import { AppGroup, DirectorySnapshot, DirectoryUser, GroupMembers, OrgUnit } from './model';
import { BlobStore, DirectoryPort } from './ports';
import { Settings } from './settings';
import { UserError, msg } from './messages';
import { directoryFields } from './attributes';

export interface ReadProgress {
  phase: 'orgunits' | 'appgroups' | 'groups' | 'users' | 'complete';
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
  /** The raw Directory fields the attribute mapping needs; absent when nothing is mapped. */
  sources?: string[];
  /** Selected app groups still to look up (groups.get), those found, and those missing; absent when none is selected. */
  appGroupQueue?: string[];
  appGroups?: AppGroup[];
  missingAppGroups?: string[];
}

const SNAP = 'snap.';
/**
 * Google fails a listing paged for longer than 60 minutes (503 backendError), so a part that
 * would continue an older one (a scheduled sync resumes an hour later) reads it again from its
 * first page. A margin below the limit covers the clock and the time the part itself takes.
 */
export const LISTING_MAX_AGE_MS = 50 * 60_000;
/** Restarts allowed per sync before it says the directory is too large to read between heartbeats. */
const MAX_RESTARTS = 3;

export function startRead(settings: Settings): ReadProgress {
  const appGroups = settings.appGroups ?? [];
  const groups = [...new Set([...settings.rules.flatMap((r) => (r.type === 'group' ? [r.groupEmail.toLowerCase()] : [])), ...appGroups])];
  const sources = directoryFields(settings.attributes ?? []);
  return {
    ...(sources.length ? { sources } : {}),
    ...(appGroups.length ? { appGroupQueue: [...appGroups], appGroups: [], missingAppGroups: [] } : {}),
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

/** A user as the snapshot stores it; mapped fields as their values alone, in the order of ReadProgress.sources (100,000 users add no key names). */
type PackedUser = [string, string, string, string, number] | [string, string, string, string, number, string[]];

function pack(u: DirectoryUser, sources: string[] | undefined): PackedUser {
  const flags = (u.suspended ? 1 : 0) | (u.archived ? 2 : 0);
  const fields = u.fields;
  return fields && sources ? [u.id, u.email, u.name, u.orgUnitPath, flags, sources.map((s) => fields[s] ?? '')] : [u.id, u.email, u.name, u.orgUnitPath, flags];
}

function unpack(p: PackedUser, sources: string[] | undefined): DirectoryUser {
  const u: DirectoryUser = { id: p[0], email: p[1], name: p[2], orgUnitPath: p[3], suspended: (p[4] & 1) !== 0, archived: (p[4] & 2) !== 0 };
  const values = p[5];
  if (values && sources) u.fields = Object.fromEntries(sources.map((s, i) => [s, values[i] ?? '']));
  return u;
}

/** Makes one directory call and stores what it returned; returns false once the read is complete. */
export function readStep(p: ReadProgress, directory: DirectoryPort, store: BlobStore, nowMs: number): boolean {
  restartStaleListing(p, nowMs);
  switch (p.phase) {
    case 'orgunits': {
      const ous = directory.listOrgUnits();
      p.directoryCalls++;
      store.set(`${SNAP}ous`, JSON.stringify(ous));
      p.phase = p.appGroupQueue?.length ? 'appgroups' : p.groupQueue.length ? 'groups' : 'users';
      return true;
    }
    case 'appgroups': {
      const key = p.appGroupQueue!.shift()!;
      const group = directory.getGroup(key);
      p.directoryCalls++;
      if (group) p.appGroups!.push({ ...group, key });
      else p.missingAppGroups!.push(key);
      if (!p.appGroupQueue!.length) p.phase = p.groupQueue.length ? 'groups' : 'users';
      return true;
    }
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
        for (const m of page.items) {
          if (m.type === 'USER') members.userIds.push(m.id);
          else if (m.type === 'GROUP' && m.email) {
            const nested = m.email.toLowerCase();
            members.groupEmails.push(nested);
            if (!p.groupsSeen.includes(nested)) {
              p.groupsSeen.push(nested);
              p.groupQueue.push(nested);
            }
          }
        }
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
export function readAll(settings: Settings, directory: DirectoryPort): { snapshot: DirectorySnapshot; calls: number } {
  const store = new MemoryBlobStore();
  const progress = startRead(settings);
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

export function loadSnapshot(p: ReadProgress, store: BlobStore): DirectorySnapshot {
  if (p.phase !== 'complete') throw new Error('the directory has not been read completely; no plan is made from a partial snapshot');
  const read = <T>(key: string): T => {
    const raw = store.get(key);
    if (raw === null) throw new Error(`saved sync state "${key}" is missing`);
    return JSON.parse(raw) as T;
  };
  const users: DirectoryUser[] = [];
  for (let i = 0; i < p.userPages; i++) for (const u of read<PackedUser[]>(`${SNAP}users.${i}`)) users.push(unpack(u, p.sources));
  const byEmail = new Map<string, GroupMembers>();
  for (let i = 0; i < p.groupPages; i++) {
    const page = read<GroupMembers>(`${SNAP}groups.${i}`);
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
  flush(): void {
    const entries = [...this.pending];
    // A store that saves several keys at once (the state sheet: one write per few MB) gets them together.
    const bulk = this.inner as Partial<{ setMany(entries: [string, string][]): void }>;
    if (typeof bulk.setMany === 'function') bulk.setMany(entries);
    else for (const [key, value] of entries) this.inner.set(key, value);
    this.pending.clear();
  }
}
