// Incremental syncs: the Directory API has no delta query, but the Admin SDK Reports API's admin
// activity log records every user, group and OU change made in the Admin console, through the API
// and by sync tools. An incremental sync reads the log since the last applied sync (minus an
// overlap for events Google logs late), re-reads just the users and groups it names, and plans
// them exactly as a full sync would. Anything it cannot be sure of falls back to a full sync.
import { Account, AppGroup, Change, DirectorySnapshot, GroupMembers, OrgUnit } from './model';
import { directoryFields } from './attributes';
import { AuditApplication, AuditEvent, KeyValueStore, Services } from './ports';
import { Settings } from './settings';
import { PackedUser, pack, unpack } from './snapshot';

/** Events are read again this far before the watermark: Google logs admin events within "a couple of minutes". */
export const OVERLAP_MS = 15 * 60_000;
/** Google keeps the admin log 180 days; a watermark older than this (a day of margin) cannot be trusted. */
export const LOG_RETENTION_MS = 179 * 24 * 60 * 60_000;
/** More log pages (1000 activities each) than this: a full sync is cheaper and surer. */
export const MAX_EVENT_PAGES = 5;
/**
 * Event ids remembered for the next window's overlap, at most (they live in config). Past it an event
 * read twice is counted twice in History; what is re-read and applied does not change.
 */
const MAX_SEEN = 300;
/** Pages of 200 members, at most, re-read when a group that may be nested in a mapped one changed (else a full sync). */
export const MAX_REREAD_PAGES = 50;
/** More affected users than this: a full sync reads them faster (users.list pages of 500 vs one users.get each). */
export const MAX_AFFECTED_USERS = 1000;

const STATE_KEY = 'incremental';
const BASE_KEY = 'inc.base';
/**
 * The saved structure stays in config (properties) while it is small, as it is for most rosters; a
 * larger one (big mapped groups) goes to the incremental store (a hidden sheet of its own, apart from
 * the sync state, which a finished sync leaves empty), and config holds this marker.
 */
const BASE_IN_CONFIG_MAX = 20_000;
const BASE_IN_STORE = 'in the incremental store';

/** Where the admin log was read up to, kept in config (small: read on every heartbeat). */
export interface IncrementalState {
  /** Events before this time are applied (the last applied sync read the log, or the directory, from here on). */
  watermarkMs: number;
  /** A hash of the settings fingerprint of the full sync that saved the base structure (the fingerprint itself holds every rule). */
  fingerprint: string;
  /** When the last full sync began, and when the last incremental one ended. */
  fullAtMs: number;
  incrementalAtMs: number;
  /** Ids of events read in the overlap window, so they count once. */
  seen: string[];
  /** Accounts the destination refused last time: re-read and retried by the next incremental sync. */
  retry: string[];
  /**
   * When a scheduled sync last halted at the deletion threshold. Until a sync is applied (an admin's
   * Apply anyway, or the next daily sync), heartbeats do not run the same halted changes again every hour.
   */
  haltedAtMs?: number;
}

/** The directory's structure as the last full sync read it: OUs and every mapped group's members, indirect ones included. */
interface Base {
  orgUnits: OrgUnit[];
  groups: GroupMembers[];
  missingGroups: string[];
  /** The Google Groups pushed to the app (their members are among `groups`), when any is selected. */
  appGroups?: AppGroup[];
  missingAppGroups?: string[];
}

export interface IncrementalProgress {
  phase: 'events' | 'groups' | 'users' | 'roster' | 'complete';
  /** The log being read: the admin log first, then the group managers' one. */
  app?: AuditApplication;
  startMs: number;
  endMs: number;
  eventsToken: string | null;
  eventPages: number;
  /** Distinct events read (the ones an earlier window already counted are skipped). */
  events: number;
  seen: string[];
  /** Users to re-read (emails or ids), and every key asked so far. */
  queue: string[];
  asked: string[];
  /** Keys that resolved to no user (deleted, or renamed without keeping the alias). */
  notFound: string[];
  users: PackedUser[];
  /** The directory fields the mapped attributes read (in the order `users` stores their values), when any. */
  sources?: string[];
  /** Mapped groups whose members changed, re-read one page at a time. */
  groupQueue: string[];
  /** A group that is not mapped changed: it may be nested in a mapped one, so every mapped group is re-read. */
  otherGroupChanged?: boolean;
  membersToken: string | null;
  reading: GroupMembers | null;
  groupUpdates: GroupMembers[];
  rosterChecked: boolean;
  calls: number;
  /** Set when the sync must be a full one, with why. */
  fallback: string | null;
}

export function readIncrementalState(config: KeyValueStore): IncrementalState | null {
  const raw = config.get(STATE_KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<IncrementalState>;
    if (typeof s.watermarkMs !== 'number' || typeof s.fingerprint !== 'string') return null;
    return { watermarkMs: s.watermarkMs, fingerprint: s.fingerprint, fullAtMs: s.fullAtMs ?? 0, incrementalAtMs: s.incrementalAtMs ?? 0, seen: s.seen ?? [], retry: s.retry ?? [], haltedAtMs: s.haltedAtMs };
  } catch {
    return null;
  }
}

/** A 53-bit hash (cyrb53) of a settings fingerprint, in base 36: a changed rule or policy changes it. */
function digest(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

function writeIncrementalState(config: KeyValueStore, state: IncrementalState): void {
  config.set(STATE_KEY, JSON.stringify(state));
}

/** Why an incremental sync cannot start now (a full one runs instead), or its first progress. */
export function startIncremental(svc: Services, settings: Settings, fingerprint: string, nowMs: number): { progress: IncrementalProgress } | { fallback: string } {
  if (!settings.incremental) return { fallback: 'incremental syncs are turned off in Settings' };
  const state = readIncrementalState(svc.config);
  if (!state) return { fallback: 'no full sync has recorded yet from where to read the admin log' };
  if (state.fingerprint !== digest(fingerprint)) return { fallback: 'the mappings or policy changed since the last full sync' };
  if (nowMs - state.watermarkMs > LOG_RETENTION_MS) return { fallback: 'the last applied sync is older than the 180 days Google keeps the admin log' };
  const progress: IncrementalProgress = {
    phase: 'events',
    app: 'admin',
    startMs: state.watermarkMs - OVERLAP_MS,
    endMs: nowMs,
    eventsToken: null,
    eventPages: 0,
    events: 0,
    seen: [],
    queue: [],
    asked: [],
    notFound: [],
    users: [],
    groupQueue: [],
    membersToken: null,
    reading: null,
    groupUpdates: [],
    rosterChecked: false,
    calls: 0,
    fallback: null,
  };
  const sources = directoryFields(settings.attributes ?? []);
  if (sources.length) progress.sources = sources;
  for (const id of state.retry) enqueue(progress, id);
  return { progress };
}

function enqueue(p: IncrementalProgress, key: string): void {
  const k = key.toLowerCase();
  if (!k || p.asked.includes(k) || p.queue.includes(k)) return;
  p.queue.push(k);
  if (p.queue.length + p.asked.length > MAX_AFFECTED_USERS) p.fallback = `more than ${MAX_AFFECTED_USERS} users changed; a full sync reads them faster`;
}

/** User events of the admin log (Admin Audit Activity Events – User Settings) that can change an account. */
const USER_EVENTS = new Set([
  'CREATE_USER',
  'DELETE_USER',
  'UNDELETE_USER',
  'SUSPEND_USER',
  'UNSUSPEND_USER',
  'ARCHIVE_USER',
  'UNARCHIVE_USER',
  'MOVE_USER_TO_ORG_UNIT',
  'CHANGE_FIRST_NAME',
  'CHANGE_LAST_NAME',
  'RENAME_USER',
]);
/** Group Settings events that change who is in a group: by an admin (admin log), or by a group manager (groups_enterprise log). */
const MEMBER_EVENTS = new Set(['ADD_GROUP_MEMBER', 'REMOVE_GROUP_MEMBER']);
const MANAGER_MEMBER_EVENTS = new Set(['add_member', 'remove_member']);
/** Group and OU events that change the structure the rules stand on. */
const STRUCTURE_EVENTS = new Set(['DELETE_GROUP', 'CHANGE_GROUP_EMAIL', 'CREATE_GROUP', 'REMOVE_ORG_UNIT', 'EDIT_ORG_UNIT_NAME', 'MOVE_ORG_UNIT', 'CREATE_ORG_UNIT']);

/** What one event means for this sync: users to re-read, a group to re-read, or a reason to read everything. */
function classify(p: IncrementalProgress, e: AuditEvent, settings: Settings, ruleGroups: () => Set<string>): void {
  const user = e.params.USER_EMAIL ?? '';
  if (USER_EVENTS.has(e.name)) {
    enqueue(p, user);
    // RENAME_USER: USER_EMAIL is the old address, NEW_VALUE the new one.
    if (e.name === 'RENAME_USER') enqueue(p, e.params.NEW_VALUE ?? '');
    return;
  }
  if (MANAGER_MEMBER_EVENTS.has(e.name)) {
    const id = (e.params.group_id ?? '').toLowerCase();
    // group_id names the group by its address; one that does not cannot be matched to the rules.
    if (!id.includes('@')) p.fallback = `a group manager changed the members of a group the admin log names only as "${e.params.group_id ?? ''}"`;
    else rereadGroup(p, id, ruleGroups);
    return;
  }
  const group = (e.params.GROUP_EMAIL ?? '').toLowerCase();
  if (MEMBER_EVENTS.has(e.name)) {
    rereadGroup(p, group, ruleGroups);
    return;
  }
  if (!STRUCTURE_EVENTS.has(e.name)) return;
  if (e.name === 'CREATE_ORG_UNIT') {
    // A new OU changes nobody until users move into it (their own events), unless a rule names it.
    const path = (e.params.ORG_UNIT_NAME ?? '').toLowerCase();
    if (settings.rules.some((r) => r.type === 'ou' && r.orgUnitPath.toLowerCase() === path)) p.fallback = `the organizational unit ${e.params.ORG_UNIT_NAME} a rule names was created`;
    return;
  }
  if (e.name.endsWith('_ORG_UNIT') || e.name === 'EDIT_ORG_UNIT_NAME') {
    p.fallback = `the organizational unit ${e.params.ORG_UNIT_NAME ?? ''} was ${e.name === 'REMOVE_ORG_UNIT' ? 'deleted' : e.name === 'MOVE_ORG_UNIT' ? 'moved' : 'renamed'} (its users move with no event of their own)`;
    return;
  }
  const named = settings.rules.some((r) => r.type === 'group' && r.groupEmail.toLowerCase() === group);
  if (named || ruleGroups().has(group)) p.fallback = `the mapped group ${group} was ${e.name === 'DELETE_GROUP' ? 'deleted' : e.name === 'CREATE_GROUP' ? 'created' : 'renamed'}`;
  // Another group deleted: its members leave every mapped group it was nested in.
  else if (e.name === 'DELETE_GROUP') p.otherGroupChanged = true;
}

/**
 * A mapped group whose members changed is read again (once per sync). Any other group may be nested
 * in a mapped one (whose listing includes indirect members), so its change re-reads every mapped group.
 */
function rereadGroup(p: IncrementalProgress, group: string, ruleGroups: () => Set<string>): void {
  if (!ruleGroups().has(group)) p.otherGroupChanged = true;
  else if (!p.groupQueue.includes(group)) p.groupQueue.push(group);
}

/** After the logs: every mapped group when a group that may be nested in one changed, unless that costs more than a full sync should. */
function queueNestedChanges(p: IncrementalProgress, svc: Services): void {
  if (!p.otherGroupChanged) return;
  const groups = loadBase(svc).groups;
  const pages = groups.reduce((n, g) => n + Math.max(1, Math.ceil(g.userIds.length / 200)), 0);
  if (pages > MAX_REREAD_PAGES) {
    p.fallback = `a group that may be nested in a mapped group changed, and the mapped groups are too large to re-read (${pages} pages)`;
    return;
  }
  for (const g of groups) if (!p.groupQueue.includes(g.email)) p.groupQueue.push(g.email);
}

/** Makes one call (the log, a group's members or one user); returns false once the read is complete. */
export function incrementalStep(p: IncrementalProgress, svc: Services, settings: Settings): boolean {
  switch (p.phase) {
    case 'events': {
      const app = p.app ?? 'admin';
      const page = svc.audit.listEventsPage(app, p.startMs, p.endMs, p.eventsToken);
      p.calls++;
      p.eventPages++;
      let groups: Set<string> | null = null;
      const ruleGroups = () => (groups ??= new Set(loadBase(svc).groups.map((g) => g.email)));
      const seenBefore = new Set(readIncrementalState(svc.config)?.seen ?? []);
      for (const e of page.items) {
        // Events near the end of this window are read again by the next one (its overlap): remember them.
        const id = `${app}:${e.id}`;
        if (e.timeMs >= p.endMs - OVERLAP_MS && p.seen.length < MAX_SEEN && !p.seen.includes(id)) p.seen.push(id);
        if (seenBefore.has(id)) continue;
        p.events++;
        classify(p, e, settings, ruleGroups);
      }
      p.eventsToken = page.nextPageToken;
      if (p.eventsToken && p.eventPages >= MAX_EVENT_PAGES) p.fallback = `more than ${MAX_EVENT_PAGES * 1000} changes in the admin log; a full sync is cheaper`;
      if (p.eventsToken) return true;
      if (app === 'admin') p.app = 'groups_enterprise';
      else {
        p.phase = 'groups';
        queueNestedChanges(p, svc);
      }
      return true;
    }
    case 'groups': {
      if (!p.groupQueue.length) {
        p.phase = 'users';
        return true;
      }
      const email = p.groupQueue[0];
      const page = svc.directory.listMembersPage(email, p.membersToken);
      p.calls++;
      if (!page) {
        p.fallback = `the mapped group ${email} no longer exists`;
        return true;
      }
      // The listing includes indirect members (nested groups), as a full sync reads it.
      const reading = (p.reading ??= { email, userIds: [], groupEmails: [] });
      for (const m of page.items) if (m.type === 'USER') reading.userIds.push(m.id);
      p.membersToken = page.nextPageToken;
      if (!p.membersToken) groupRead(p, svc);
      return true;
    }
    case 'users': {
      const key = p.queue.shift();
      if (key === undefined) {
        p.phase = p.asked.length && !p.rosterChecked ? 'roster' : 'complete';
        // Planning builds on the structure the last full sync saved: make sure it is there (else a full sync).
        if (p.phase === 'complete' && !nothingChanged(p)) loadBase(svc);
        return p.phase !== 'complete';
      }
      p.asked.push(key);
      const user = p.sources ? svc.directory.getUser(key, p.sources) : svc.directory.getUser(key);
      p.calls++;
      if (!user) p.notFound.push(key);
      else if (!p.users.some((u) => u[0] === user.id)) p.users.push(pack(user, p.sources));
      return true;
    }
    case 'roster': {
      // An account at an address the log named, whose user was not found there, may belong to a user
      // who left (deleted) or lives on under another address (renamed, the alias not kept; the address
      // given to someone else). Ask for that user by id before deciding anything about the account.
      p.rosterChecked = true;
      const emails = new Set([...p.asked, ...p.users.map((u) => u[1].toLowerCase())]);
      const found = new Set(p.users.map((u) => u[0]));
      for (const a of svc.roster.readAll().accounts) if (a.source === 'synced' && emails.has(a.email.toLowerCase()) && !found.has(a.id)) enqueue(p, a.id);
      p.phase = 'users';
      return true;
    }
    case 'complete':
      return false;
  }
}

/** A mapped group read in full: the users who joined or left it (directly or through a nested group) are re-read. */
function groupRead(p: IncrementalProgress, svc: Services): void {
  const now = p.reading!;
  p.reading = null;
  p.groupQueue.shift();
  const before = loadBase(svc).groups.find((g) => g.email === now.email);
  if (!before) {
    p.fallback = `the mapped group ${now.email} is not in the structure the last full sync saved`;
    return;
  }
  p.groupUpdates.push(now);
  const was = new Set(before.userIds);
  const is = new Set(now.userIds);
  for (const id of now.userIds) if (!was.has(id)) enqueue(p, id);
  for (const id of before.userIds) if (!is.has(id)) enqueue(p, id);
}

/** True when the log named nothing to re-read: the sync is done without reading the roster. */
export function nothingChanged(p: IncrementalProgress): boolean {
  return p.asked.length === 0 && p.groupUpdates.length === 0;
}

/** The directory as it concerns the users this sync re-read. */
export function incrementalSnapshot(p: IncrementalProgress, svc: Services): DirectorySnapshot {
  const base = loadBase(svc);
  const updated = new Map(p.groupUpdates.map((g) => [g.email, g]));
  return { ...base, users: p.users.map((u) => unpack(u, p.sources)), groups: base.groups.map((g) => updated.get(g.email) ?? g) };
}

/**
 * The accounts this sync may change: those of the users it re-read, manual accounts with their
 * addresses (adoption), and synced accounts whose user is gone by address and by id.
 */
export function affectedAccounts(p: IncrementalProgress, accounts: Account[]): Account[] {
  const ids = new Set(p.users.map((u) => u[0]));
  const emails = new Set([...p.users.map((u) => u[1].toLowerCase()), ...p.asked]);
  const gone = new Set(p.notFound);
  return accounts.filter((a) => ids.has(a.id) || (a.source === 'manual' && emails.has(a.email.toLowerCase())) || (a.source === 'synced' && gone.has(a.id.toLowerCase())));
}

// ---- the base structure and the watermark --------------------------------------------------

function loadBase(svc: Pick<Services, 'config' | 'incremental'>): Base {
  const small = svc.config.get(BASE_KEY);
  const raw = small === BASE_IN_STORE ? svc.incremental.get(BASE_KEY) : small;
  if (!raw) throw new Error('the directory structure saved by the last full sync is missing');
  return JSON.parse(raw) as Base;
}

/** Saves the structure where it fits (see BASE_IN_CONFIG_MAX), writing nothing when it did not change. */
function saveBase(svc: Pick<Services, 'config' | 'incremental'>, base: Base): void {
  const json = JSON.stringify(base);
  const small = svc.config.get(BASE_KEY);
  if (json.length <= BASE_IN_CONFIG_MAX) {
    if (small !== json) svc.config.set(BASE_KEY, json);
    return;
  }
  if (small !== BASE_IN_STORE || svc.incremental.get(BASE_KEY) !== json) svc.incremental.set(BASE_KEY, json);
  if (small !== BASE_IN_STORE) svc.config.set(BASE_KEY, BASE_IN_STORE);
}

/** After a full sync: the structure it read and the watermark (when it began reading). */
export function recordFullSync(svc: Services, snapshot: Omit<DirectorySnapshot, 'users'>, fingerprint: string, startedAtMs: number, failedIds: string[]): void {
  const { orgUnits, groups, missingGroups, appGroups, missingAppGroups } = snapshot;
  saveBase(svc, { orgUnits, groups, missingGroups, ...(appGroups ? { appGroups, missingAppGroups: missingAppGroups ?? [] } : {}) });
  const before = readIncrementalState(svc.config);
  writeIncrementalState(svc.config, { watermarkMs: startedAtMs, fingerprint: digest(fingerprint), fullAtMs: startedAtMs, incrementalAtMs: before?.incrementalAtMs ?? 0, seen: [], retry: failedIds });
}

/** After an incremental sync applied its changes: the watermark moves to the end of the window it read. */
export function recordIncrementalSync(svc: Services, p: IncrementalProgress, failedIds: string[]): void {
  const state = readIncrementalState(svc.config);
  if (!state) return;
  if (p.groupUpdates.length) {
    const base = loadBase(svc);
    const updated = new Map(p.groupUpdates.map((g) => [g.email, g]));
    saveBase(svc, { ...base, groups: base.groups.map((g) => updated.get(g.email) ?? g) });
  }
  writeIncrementalState(svc.config, { ...state, watermarkMs: p.endMs, incrementalAtMs: p.endMs, seen: p.seen, retry: failedIds, haltedAtMs: undefined });
}

/** A scheduled sync halted at the threshold: heartbeats wait for an admin (or the next daily sync) instead of halting again hourly. */
export function recordHalt(config: KeyValueStore, atMs: number): void {
  const state = readIncrementalState(config);
  if (state) writeIncrementalState(config, { ...state, haltedAtMs: atMs });
}

/** Why the heartbeat runs no incremental sync now, or null: the last scheduled sync halted and nothing was applied since. */
export function haltedSinceApplied(state: IncrementalState): string | null {
  return state.haltedAtMs !== undefined && state.haltedAtMs > state.watermarkMs
    ? 'a sync halted at the deletion threshold waits for an admin (Preview, then Apply anyway); incremental syncs resume once a sync is applied'
    : null;
}


/**
 * The differences a full sync found that incremental syncs should have caught, or null when no
 * incremental sync ran since the last full one (or the log cannot be read now). Not counted: changes
 * the log announces since the last incremental sync read it (the next one would have applied them),
 * grace-period deletions (time passing, not a directory change) and accounts restored after an edit
 * of the roster (no directory event announces them).
 */
export function missedByIncremental(svc: Services, fingerprint: string, changes: Change[]): { count: number; sinceMs: number } | null {
  const state = readIncrementalState(svc.config);
  if (!state || state.fingerprint !== digest(fingerprint) || state.incrementalAtMs <= state.fullAtMs) return null;
  const pending = announcedSince(svc, state.watermarkMs - OVERLAP_MS, new Set(state.seen));
  if (!pending) return null;
  const retried = new Set(state.retry);
  const announced = (c: Change) => [c.before?.email, c.after?.email, c.email].some((e) => !!e && pending.has(e.toLowerCase()));
  const count = changes.filter((c) => c.kind !== 'delete' && !c.reasons.some((r) => r.startsWith('deleted in the roster')) && !retried.has(c.accountId) && !announced(c)).length;
  return { count, sinceMs: state.fullAtMs };
}

/**
 * Every address the logs name from startMs on (users, and members of groups) in events the last
 * incremental sync has not read (`seen`: those of its overlap it did read), or null when they cannot be read.
 */
function announcedSince(svc: Services, startMs: number, seen: Set<string>): Set<string> | null {
  const names = new Set<string>();
  const now = svc.clock.nowMs();
  let token: string | null = null;
  try {
    for (const app of ['admin', 'groups_enterprise'] as const) {
      let pages = 0;
      do {
        if (++pages > MAX_EVENT_PAGES) return null;
        const page = svc.audit.listEventsPage(app, startMs, now, token);
        for (const e of page.items) {
          if (seen.has(`${app}:${e.id}`)) continue;
          for (const key of ['USER_EMAIL', 'NEW_VALUE', 'member_id']) if (e.params[key]) names.add(e.params[key].toLowerCase());
        }
        token = page.nextPageToken;
      } while (token);
    }
    return names;
  } catch {
    // The count is a measure, not a guarantee: without the log it is not given.
  }
  return null;
}
