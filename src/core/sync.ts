// The reconcile loop: read the directory → plan → apply, in parts that each fit
// one Apps Script execution. Progress lives in a job saved between parts; any
// part can be cut off and the next one picks up from the last saved point.
import { Account, Change, ChangeKind, DirectorySnapshot, DirectoryUser, HistoryEntry, Plan, SyncKind, SyncOutcome, SyncTrigger, emptyCounts, summarize } from './model';
import { ApplyResult, BlobStore, RosterReadProblem, Services } from './ports';
import { ReportDraft, SyncReport, newDraft, noteApplied, noteHeld, saveReport } from './reports';
import { Settings, planFingerprint } from './settings';
import { KEYS, UNREADABLE_SETTINGS, evenIfStoreFull, readNumber, readSettings } from './config';
import { Message, MessageId, UserError, msg, toMessage } from './messages';
import {
  LISTED_USERS_PREFIX,
  PARALLEL_MIN_USERS,
  ReadProgress,
  WriteBehindStore,
  clearSnapshot,
  keepNeededUsers,
  leaveOutOfPendingPages,
  listedMemberIds,
  loadSnapshot,
  loadStructure,
  membersListed,
  readStep,
  startRead,
} from './snapshot';
import { makePlan } from './plan';
import { reachedByOuRule } from './rules';
import { directoryFields } from './attributes';
import { forgetNotice, noticeIsNew, notify, sendNotice, sendSyncReport } from './notices';
import { ReportsError } from './googleErrors';
import {
  IncrementalProgress,
  OVERLAP_MS,
  affectedAccounts,
  incrementalSnapshot,
  incrementalStep,
  missedByIncremental,
  nothingChanged,
  recordFullSync,
  recordHalt,
  recordIncrementalSync,
  startIncremental,
} from './incremental';

export const LOCK_WAIT_MS = 3000;
/** A part-way sync older than this is discarded rather than resumed. */
export const STALE_JOB_MS = 24 * 60 * 60 * 1000;
/**
 * Changes written per destination call: a batch is also a checkpoint, so a part stops between
 * batches. 10,000 rows is one setValues of 110,000 cells, a few seconds of Sheets time.
 */
export const APPLY_BATCH = 10_000;
const CONFIRMED_KEY = 'snap.confirmed';
export const PROGRESS_KEY = 'progress';
/** Held changes named in the History message (Preview lists them all). */
const HELD_SAMPLE = 5;

export interface Job {
  id: string;
  trigger: SyncTrigger;
  startedAt: number;
  part: number;
  fingerprint: string;
  phase: 'read' | 'plan' | 'apply';
  read: ReadProgress;
  plannedAt: string;
  /** Deactivations + deletions the admin confirmed once beyond the threshold. */
  allowDestructive: number;
  planned: Record<ChangeKind, number>;
  applied: Record<ChangeKind, number>;
  failed: { accountId: string; email: string; message: string }[];
  held: number;
  /** Emails of the first held changes, for the History message. */
  heldSample?: string[];
  /** Mapped attribute values that could not be derived, and the first of them, for the History message. */
  attributeProblems?: number;
  firstAttributeProblem?: string;
  /** Deactivations recorded but not expressible in the destination (a SCIM app without an active flag). */
  notSent?: { count: number; sample: string[]; destination: string; why: { text: string; fix: string } };
  ruleProblems: string[];
  busyMs: number;
  /** Changes left for a later sync, and why (the destination could take no more in this one). */
  postponed?: { count: number; message: string; fix: string; resumeAtMs?: number };
  /** The scheduled-run mark before this sync, restored when it fails for a passing reason. */
  previousScheduledRun?: number | null;
  /** What the sync report will list (absent in a job saved by an earlier version: started when needed). */
  report?: ReportDraft;
  /** An incremental sync's progress through the admin log (a full sync, and jobs saved before incremental syncs existed, have none). */
  inc?: IncrementalProgress;
  /** Why this full sync runs instead of the incremental one that was asked for. */
  fallback?: string;
  /** Differences this full sync found that the incremental syncs since the last full one had not caught. */
  missed?: { count: number; sinceMs: number } | null;
}

export function kindOf(job: Job): SyncKind {
  return job.inc ? 'incremental' : 'full';
}

export type SyncState = 'done' | 'in-progress' | 'halted' | 'failed' | 'busy' | 'refused';

export interface SyncResult {
  state: SyncState;
  kind: SyncKind;
  /** The catalog id of `message`, so the sidebar can act on what happened without reading the text. */
  id: MessageId;
  message: string;
  fix: string;
  part: number;
  phase: string;
  usersRead: number;
  applied: Record<ChangeKind, number>;
  planned: Record<ChangeKind, number>;
  /** For a halted plan: how many deactivations/deletions to confirm. */
  destructive?: number;
}

export interface SyncRequest {
  trigger: SyncTrigger;
  /** 'start' begins a sync (or continues the one part-way); 'continue' only continues. */
  mode: 'start' | 'continue';
  allowDestructive?: number;
  /** 'incremental': only what the admin log says changed (a full sync when that cannot be trusted). */
  kind?: SyncKind;
  /** Who asked for it, for the sync report: an admin's email, or the schedule. */
  startedBy?: string;
}

const JOB_KEY = 'job';
/** Where the state store keeps a sync's progress, named in messages (the Apps Script adapter's hidden sheet). */
export const STATE_SHEET_NAME = 'Roster Sync state';

/** The sync part-way, or null (also when its saved job cannot be read: runSync discards that one). */
export function loadJob(state: BlobStore): Job | null {
  return readJob(state).job;
}

function readJob(state: BlobStore): { job: Job | null; damaged: boolean } {
  const raw = state.get(JOB_KEY);
  if (!raw) return { job: null, damaged: false };
  try {
    return { job: JSON.parse(raw) as Job, damaged: false };
  } catch {
    return { job: null, damaged: true };
  }
}

function saveJob(state: BlobStore, job: Job): void {
  state.set(JOB_KEY, JSON.stringify(job));
}

/**
 * The same services with another state store. Property descriptors are copied rather than values
 * (a spread would call the lazy `roster` getter, opening the destination before anything needs it).
 */
function withState(services: Services, state: BlobStore): Services {
  return Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(services), state: { value: state, enumerable: true } }) as Services;
}

export function runSync(services: Services, request: SyncRequest): SyncResult {
  let locked: boolean;
  try {
    locked = services.lock.tryLock(LOCK_WAIT_MS, 'sync');
  } catch (error) {
    // The lease could not even be taken (a first sync of a roster while the property store is full).
    return failJob(services, null, error, services.clock.nowMs(), request.trigger);
  }
  if (!locked) return busy(services);
  const svc = withState(services, new WriteBehindStore(services.state));
  const partStart = svc.clock.nowMs();
  let job: Job | null = null;
  try {
    const settings = readSettings(svc);
    const saved = readJob(svc.state);
    job = saved.job;
    // A sync saved part-way whose progress is gone: a person deleted or cleared the hidden state sheet.
    const lost = !job && !saved.damaged && svc.config.get(KEYS.runningJob) !== null;
    const interrupted = saved.damaged || lost;
    if (interrupted) {
      // Record that it was interrupted, and carry on from the beginning.
      const reason = lost ? `its saved progress (the hidden sheet "${STATE_SHEET_NAME}") was deleted or cleared` : 'its saved progress could not be read';
      appendHistory(svc, { trigger: request.trigger, startedAt: partStart, outcome: 'discarded', counts: emptyCounts(), parts: 0, busyMs: 0 }, msg('staleCheckpoint', { reason }));
      forgetJob(svc);
    }
    if (job) {
      const stale = staleReason(job, planFingerprint(settings, svc.destinations), partStart);
      if (stale) {
        discard(svc, job, stale);
        job = null;
      }
    }
    if (!job) {
      if (request.mode === 'continue' && !interrupted) return lastOutcome(svc);
      if (request.trigger === 'manual' && request.kind !== 'incremental' && !interrupted) {
        const refusal = cooldownRefusal(svc, settings, partStart);
        if (refusal) return refusal;
      }
      if (!settings.rules.length) throw new UserError(msg('noRules'));
      job = newJob(request.trigger, settings, planFingerprint(settings, svc.destinations), partStart, request.startedBy, readInParallel(svc, request.trigger));
      job.previousScheduledRun = readNumber(svc.config, KEYS.lastScheduledRun);
      if (request.kind === 'incremental') {
        const start = startIncremental(svc, settings, job.fingerprint, partStart);
        if ('progress' in start) job.inc = start.progress;
        else job.fallback = start.fallback;
      }
    }
    if (request.allowDestructive) job.allowDestructive = Math.max(job.allowDestructive, request.allowDestructive);
    job.part++;
    try {
      return advance(svc, settings, job, partStart);
    } catch (error) {
      if (!(error instanceof DamagedCheckpoint) || job.part === 1) throw error;
      // An execution cut off while saving left this sync's progress incomplete: start it again from the beginning.
      discard(svc, job, `its saved progress is incomplete: ${error.message}`);
      job = { ...newJob(job.trigger, settings, planFingerprint(settings, svc.destinations), svc.clock.nowMs(), job.report?.startedBy, readInParallel(svc, job.trigger)), previousScheduledRun: job.previousScheduledRun };
      job.part++;
      return advance(svc, settings, job, partStart);
    }
  } catch (error) {
    const failed = failJob(svc, job, error, partStart, request.trigger);
    // What the failure path noted (a notice sent, decisions) is kept, unless the state sheet is what failed.
    if (svc.state instanceof WriteBehindStore) {
      try {
        svc.state.flush();
      } catch {
        // the failure already says what is wrong with the state sheet
      }
    }
    return failed;
  } finally {
    svc.lock.release();
  }
}

/**
 * Whether to read the directory in parallel rounds: for a domain the last sync found large, and for
 * a scheduled sync of a domain never read before (its parts are an hour apart, so its listings must
 * each end inside one part; Sync now runs its parts back to back and can read one call at a time).
 */
export function readInParallel(svc: Services, trigger: SyncTrigger | 'preview'): boolean {
  if (!svc.directory.fetchPages) return false;
  const known = readNumber(svc.config, KEYS.directoryUsers);
  return known === null ? trigger === 'scheduled' : known >= PARALLEL_MIN_USERS;
}

function newJob(trigger: SyncTrigger, settings: Settings, fingerprint: string, now: number, startedBy = startedByDefault(trigger), parallel = false): Job {
  return {
    id: `${now.toString(36)}`,
    trigger,
    startedAt: now,
    part: 0,
    fingerprint,
    phase: 'read',
    read: startRead(settings, parallel),
    plannedAt: '',
    allowDestructive: 0,
    planned: emptyCounts(),
    applied: emptyCounts(),
    failed: [],
    held: 0,
    ruleProblems: [],
    busyMs: 0,
    report: newDraft(startedBy),
  };
}

function startedByDefault(trigger: SyncTrigger): string {
  return trigger === 'scheduled' ? 'the schedule' : 'an admin';
}

function draftOf(job: Job): ReportDraft {
  return (job.report ??= newDraft(startedByDefault(job.trigger)));
}

function staleReason(job: Job, fingerprint: string, now: number): string | null {
  if (now - job.startedAt > STALE_JOB_MS) return 'it was started more than a day ago';
  if (job.fingerprint !== fingerprint) return 'the mappings or policy changed since it started';
  return null;
}

/** Runs steps until the job is finished or this execution's budget is spent. */
function advance(svc: Services, settings: Settings, job: Job, partStart: number): SyncResult {
  let plan: Plan | null = null;
  let lastProgress = 0;
  // The next step is expected to take about as long as the last one: stop while it would still
  // fit in the budget, not once the budget is already spent. Every part makes at least one step.
  let lastStepMs = -1;
  while (true) {
    if (lastStepMs >= 0 && svc.remainingMs() <= lastStepMs) return pause(svc, job, partStart, settings);
    let stepStart = svc.clock.nowMs();
    if (svc.clock.nowMs() - lastProgress > 5000) {
      lastProgress = svc.clock.nowMs();
      publishProgress(svc, job);
    }
    if (job.phase === 'read') {
      const more = job.inc ? incrementalReadStep(svc, settings, job.inc) : readStep(job.read, svc.directory, svc.state, svc.clock.nowMs());
      if (job.inc?.fallback) fallBackToFull(svc, job, settings);
      else if (!more && job.inc && nothingChanged(job.inc)) return finish(svc, job, partStart);
      else if (!more) job.phase = 'plan';
      lastStepMs = svc.clock.nowMs() - stepStart;
      continue;
    }
    if (!plan) {
      plan = planFromState(svc, settings, job);
      // Planning happens once a part: the steps to come are apply batches, so time those alone.
      stepStart = svc.clock.nowMs();
    }
    if (job.phase === 'plan') {
      // A full sync that replaces an incremental one runs because of changes the log did announce.
      if (!job.inc && !job.fallback) job.missed = missedByIncremental(svc, job.fingerprint, plan.changes);
      job.planned = plan.counts;
      job.held = plan.held.length;
      job.heldSample = plan.held.slice(0, HELD_SAMPLE).map((h) => h.change.email);
      if (plan.attributeProblems.length) {
        const first = plan.attributeProblems[0];
        job.attributeProblems = plan.attributeProblems.length;
        job.firstAttributeProblem = `${first.email}, ${first.attribute}: ${first.problem}`;
      }
      noteHeld(draftOf(job), plan.held);
      job.ruleProblems = plan.ruleProblems.map((p) => p.message);
      const block = plan.blockedByThreshold;
      if (block && block.destructive > job.allowDestructive) return halt(svc, job, block, partStart);
      job.phase = 'apply';
    }
    const batch = plan.changes.splice(0, APPLY_BATCH);
    if (!batch.length) return finish(svc, job, partStart);
    const unsent = applyBatch(svc, job, batch);
    // Not sent because this execution's time is spent: the next part plans them again and sends them.
    if (unsent?.until === 'part') return pause(svc, job, partStart, settings);
    if (unsent?.until === 'sync') {
      // The destination cannot take more in this sync (a long wait it asked for, the day's quota): a later sync goes on.
      job.postponed = { count: unsent.accountIds.length + plan.changes.length, message: unsent.message, fix: unsent.fix ?? '', resumeAtMs: unsent.resumeAtMs };
      return finish(svc, job, partStart);
    }
    lastStepMs = svc.clock.nowMs() - stepStart;
  }
}

/** One step of an incremental read; a structure it cannot build on (the saved base is gone) means a full sync. */
function incrementalReadStep(svc: Services, settings: Settings, inc: IncrementalProgress): boolean {
  try {
    return incrementalStep(inc, svc, settings);
  } catch (error) {
    if (error instanceof UserError) throw error;
    inc.fallback = `the directory structure saved by the last full sync cannot be read (${error instanceof Error ? error.message : String(error)})`;
    return true;
  }
}

/** The incremental sync cannot be trusted to be complete: this job reads the whole directory instead (as a new full sync would), saying why. */
function fallBackToFull(svc: Services, job: Job, settings: Settings): void {
  job.fallback = job.inc!.fallback!;
  job.inc = undefined;
  job.read = startRead(settings, readInParallel(svc, job.trigger));
}

/** The plan of what is left to do: the same snapshot against the roster as it is now. */
function planFromState(svc: Services, settings: Settings, job: Job): Plan {
  if (!job.plannedAt) job.plannedAt = new Date(svc.clock.nowMs()).toISOString();
  let snapshot: DirectorySnapshot;
  try {
    snapshot = job.inc ? incrementalSnapshot(job.inc, svc) : loadSnapshot(job.read, svc.state);
  } catch (error) {
    throw new DamagedCheckpoint(error instanceof Error ? error.message : String(error));
  }
  useAppGroups(svc, snapshot);
  // The roster is read and written from here on in this part: a destination with a daily request budget leaves the sidebar its share.
  svc.roster.startSync?.();
  const accounts = readRoster(svc);
  const listed = [...snapshot.users];
  // An incremental sync reviews only the accounts of the users it re-read (each looked up by address
  // and id already); the threshold still counts every synced account.
  if (!job.inc) confirmUnseen(svc, snapshot, accounts, directoryFields(settings.attributes ?? []));
  // Only a sheet has rows people delete by hand; an app's own deletions are its users' business.
  const remembered = svc.roster.startNew ? rememberDecisions(svc.state, accounts, snapshot) : new Map<string, Account>();
  // The first plan of a full sync: the parts after it need only the users that can give a change.
  if (!job.inc && job.read.keptPages === undefined) keepNeededUsers(job.read, svc.state, listed, neededUsers(settings, snapshot, accounts, remembered));
  const safety = { recentDestructive: recentDestructive(svc, settings), remembered, holdIdConflicts: !svc.roster.relink };
  const plan = job.inc
    ? makePlan({ settings, snapshot, accounts: affectedAccounts(job.inc, accounts), now: job.plannedAt, thresholdAccounts: accounts, ...safety })
    : makePlan({ settings, snapshot, accounts, now: job.plannedAt, ...safety });
  const failed = new Set(job.failed.map((f) => f.accountId));
  plan.changes = plan.changes.filter((c) => !failed.has(c.accountId));
  return plan;
}

/**
 * The users a plan can make a change from: those an OU rule reaches, the members of the groups read,
 * and those the roster or a remembered decision has (by id or email: an account to update or take
 * out of scope, a retyped id, a manual account's address). Anyone else gives no change in any part.
 */
function neededUsers(settings: Settings, snapshot: DirectorySnapshot, accounts: Account[], remembered: Map<string, Account>): (u: DirectoryUser) => boolean {
  const ids = new Set<string>();
  const emails = new Set<string>();
  for (const a of [...accounts, ...remembered.values()]) {
    ids.add(a.id);
    emails.add(a.email.toLowerCase());
  }
  for (const g of snapshot.groups) for (const id of g.userIds) ids.add(id);
  return (u) => ids.has(u.id) || emails.has(u.email.toLowerCase()) || reachedByOuRule(settings, u.orgUnitPath);
}

/**
 * A checkpoint before the plan: of the users this part read, only those an OU rule reaches, the
 * members of the groups read, and those the roster (its ids and emails, read cheaply) or a remembered
 * decision has are saved. Until every group's members are listed, or when the destination cannot
 * tell its accounts cheaply, every user read is saved (the plan keeps only the needed ones then).
 * An account added to the roster after this checkpoint whose user was left out is looked up by id
 * before anything is done to it (confirmUnseen), as any account whose user the listing did not show.
 */
function leaveOutWhileReading(svc: Services, state: WriteBehindStore, settings: Settings, read: ReadProgress): void {
  if (!membersListed(read) || !svc.roster.accountKeys) return;
  let keys: { ids: string[]; emails: string[] } | null;
  try {
    keys = svc.roster.accountKeys();
  } catch {
    keys = null; // the plan reads the roster and says what is wrong with it
  }
  if (!keys) return;
  const ids = new Set([...keys.ids, ...listedMemberIds(read, state)]);
  const emails = new Set(keys.emails.map((e) => e.toLowerCase()));
  for (const a of loadDecisions(state).values()) {
    ids.add(a.id);
    emails.add(a.email.toLowerCase());
  }
  leaveOutOfPendingPages(state, (id, email, orgUnitPath) => ids.has(id) || emails.has(email.toLowerCase()) || reachedByOuRule(settings, orgUnitPath));
}

const DECISIONS_KEY = 'decisions';

/** Whether an account carries something decided in Roster Sync or the sheet, not in Google. */
function carriesDecision(a: Account): boolean {
  return a.source === 'manual' || (a.status !== a.syncedStatus && a.status !== 'deleted') || a.permissions.length > 0;
}

/** The accounts with a local decision as last seen, by id (kept in the state store, apart from any sync's progress). */
export function loadDecisions(state: BlobStore): Map<string, Account> {
  try {
    const list = JSON.parse(state.get(DECISIONS_KEY) ?? '[]') as Account[];
    return new Map(Array.isArray(list) ? list.filter((a) => a && typeof a.id === 'string').map((a) => [a.id, a]) : []);
  } catch {
    return new Map(); // unreadable: forgotten, never a crash; the roster still holds every decision it shows
  }
}

function saveDecisions(state: BlobStore, before: Map<string, Account>, after: Map<string, Account>): void {
  if (JSON.stringify([...before.values()]) !== JSON.stringify([...after.values()])) state.set(DECISIONS_KEY, JSON.stringify([...after.values()]));
}

/**
 * Brings the remembered decisions in line with the roster as read: those of accounts on the sheet as
 * they are now, and those of accounts a person's row deletion took off it while their Google user is
 * still in the directory (they are recreated with it). Returns the decisions the plan uses.
 */
export function rememberDecisions(state: BlobStore, accounts: Account[], snapshot: DirectorySnapshot): Map<string, Account> {
  const before = loadDecisions(state);
  const present = new Set(accounts.map((a) => a.id));
  const inDirectory = new Set(snapshot.users.map((u) => u.id));
  const after = new Map<string, Account>();
  for (const [id, a] of before) if (!present.has(id) && (a.source === 'manual' || inDirectory.has(id))) after.set(id, a);
  for (const a of accounts) if (carriesDecision(a)) after.set(a.id, a);
  saveDecisions(state, before, after);
  return after;
}

/** Records the decisions of accounts an admin just edited (Accounts tab), so a row deleted before the next sync keeps them. */
export function noteDecisions(state: BlobStore, edited: Account[], replacedIds: string[] = []): void {
  const before = loadDecisions(state);
  const after = new Map(before);
  for (const id of replacedIds) after.delete(id);
  for (const a of edited) {
    if (carriesDecision(a)) after.set(a.id, a);
    else after.delete(a.id);
  }
  saveDecisions(state, before, after);
}

/**
 * A listing read over minutes (or parts, or partitions) is not one instant: a user who moved, or
 * whom paging shifted, may be missed by it. Before an account is deactivated because its user was
 * not seen, its user is looked up by id (users.get, in parallel rounds); so are group members no
 * partition listed. Users found are added to the snapshot as they are now; the answers are saved
 * with the snapshot, so every part plans from the same ones.
 */
function confirmUnseen(svc: Services, snapshot: DirectorySnapshot, accounts: Account[], sources: string[]): void {
  if (!svc.directory.getUsersById) return;
  let confirmed = readConfirmed(svc.state);
  if (!confirmed) {
    confirmed = lookUpUnseen(svc.directory, snapshot, accounts, sources);
    svc.state.set(CONFIRMED_KEY, JSON.stringify(confirmed));
  }
  const have = new Set(snapshot.users.map((u) => u.id));
  for (const u of confirmed) if (!have.has(u.id)) snapshot.users.push(u);
}

/** The users, as Google has them now, of synced accounts and group members the listing did not show (none when gone). */
/** `sources`: the mapped attributes' fields, read for these users too (else they would seem to have none). */
export function lookUpUnseen(directory: Services['directory'], snapshot: DirectorySnapshot, accounts: Account[], sources: string[] = []): DirectoryUser[] {
  if (!directory.getUsersById) return [];
  const seen = new Set(snapshot.users.map((u) => u.id));
  const unseen = new Set<string>();
  for (const a of accounts) if (a.source === 'synced' && a.status !== 'deleted' && !seen.has(a.id)) unseen.add(a.id);
  for (const g of snapshot.groups) for (const id of g.userIds) if (!seen.has(id)) unseen.add(id);
  const ids = [...unseen];
  const found = ids.length ? (sources.length ? directory.getUsersById(ids, sources) : directory.getUsersById(ids)) : [];
  return found.filter((u): u is DirectoryUser => u !== null);
}

function readConfirmed(state: BlobStore): DirectoryUser[] | null {
  const raw = state.get(CONFIRMED_KEY);
  return raw === null ? null : (JSON.parse(raw) as DirectoryUser[]);
}

/** The saved snapshot of a sync that ran in several parts is missing a piece or cannot be parsed. */
class DamagedCheckpoint extends Error {}

/** Tells the destination which Google Groups are app groups now (none, once all are deselected), before it reads the roster. */
export function useAppGroups(svc: Services, snapshot: DirectorySnapshot): void {
  if (svc.roster.useAppGroups) svc.roster.useAppGroups(snapshot.appGroups ?? []);
}

export function readRoster(svc: Services): Account[] {
  const { accounts, problems } = svc.roster.readAll();
  if (problems.length) throw new UserError(rosterProblem(svc.roster.kind, problems));
  refuseEmptied(svc, accounts);
  return accounts;
}

/** What is wrong with the roster's rows, in words: an ID on two rows first (an account may have been written over), else the first row. */
export function rosterProblem(sheet: string, problems: RosterReadProblem[]): Message {
  const twice = problems.filter((p) => p.sameIdAs);
  if (twice.length) {
    const { row, sameIdAs } = twice[0];
    return msg('rosterIdTwice', { id: sameIdAs!.id, first: sameIdAs!.row, row, sheet, more: twice.length > 1 ? ` (and ${twice.length - 1} more IDs on two rows)` : '' });
  }
  const first = problems[0];
  return msg('rosterRowInvalid', { row: first.row, sheet, problem: `${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more rows)` : ''}` });
}

/**
 * A roster that held synced accounts and now holds none was cleared by a person (rows deleted or
 * cleared, header kept): refilling it would recreate every account and forget every local decision.
 */
function refuseEmptied(svc: Services, accounts: Account[]): void {
  if (!svc.roster.startNew) return;
  const held = readNumber(svc.config, KEYS.rosterSyncedAccounts);
  if (held && !accounts.some((a) => a.source === 'synced')) throw new UserError(msg('rosterEmptied', { sheet: svc.roster.kind, count: held }));
}

/** Remembers how many synced accounts the roster holds after a sync (a property write only when it changed). */
function rememberSyncedAccounts(svc: Services): void {
  if (!svc.roster.startNew) return;
  const synced = svc.roster.readAll().accounts.filter((a) => a.source === 'synced').length;
  if (readNumber(svc.config, KEYS.rosterSyncedAccounts) === (synced || null)) return;
  if (synced) svc.config.set(KEYS.rosterSyncedAccounts, String(synced));
  else svc.config.remove(KEYS.rosterSyncedAccounts);
}

function applyBatch(svc: Services, job: Job, batch: Change[]): ApplyResult['unsent'] {
  const result = svc.roster.apply(batch);
  const notSent = new Set(result.notSent ?? []);
  const sent = result.applied.filter((id) => !notSent.has(id));
  countApplied(batch, sent, job.applied);
  noteApplied(draftOf(job), batch, sent);
  if (notSent.size) {
    const before = job.notSent ?? { count: 0, sample: [], destination: svc.roster.kind, why: result.notSentWhy ?? { text: '', fix: '' } };
    const emails = batch.filter((c) => notSent.has(c.accountId)).map((c) => c.email);
    job.notSent = { ...before, count: before.count + notSent.size, sample: [...before.sample, ...emails].slice(0, 5) };
  }
  for (const f of result.failed) {
    const change = batch.find((c) => c.accountId === f.accountId);
    job.failed.push({ accountId: f.accountId, email: change?.email ?? '', message: f.message });
  }
  return result.unsent?.accountIds.length ? result.unsent : undefined;
}

function sampleText(sample: string[], count: number): string {
  return `${sample.join(', ')}${count > sample.length ? ` and ${count - sample.length} more` : ''}`;
}

/** Adds the changes the destination accepted to `counts`, per change kind. */
export function countApplied(changes: Change[], appliedIds: string[], counts: Record<ChangeKind, number>): Record<ChangeKind, number> {
  const applied = new Set(appliedIds);
  for (const change of changes) if (applied.has(change.accountId)) counts[change.kind]++;
  return counts;
}

/** What the part running now says about itself (the sidebar polls it while Sync now runs). */
export interface ProgressNote {
  part: number;
  phase: Job['phase'];
  usersRead: number;
  applied: Record<ChangeKind, number>;
  planned: Record<ChangeKind, number>;
  at: number;
}

function publishProgress(svc: Services, job: Job): void {
  const note: ProgressNote = { part: job.part, phase: job.phase, usersRead: job.read.usersRead, applied: job.applied, planned: job.planned, at: svc.clock.nowMs() };
  svc.config.set(PROGRESS_KEY, JSON.stringify(note));
}

function result(state: SyncState, message: Message, job: Job | null, extra: Partial<SyncResult> = {}): SyncResult {
  return {
    state,
    kind: job ? kindOf(job) : 'full',
    id: message.id,
    message: message.text,
    fix: message.fix,
    part: job?.part ?? 0,
    phase: job?.phase ?? '',
    usersRead: job?.read.usersRead ?? 0,
    applied: job?.applied ?? emptyCounts(),
    planned: job?.planned ?? emptyCounts(),
    ...extra,
  };
}

function pause(svc: Services, job: Job, partStart: number, settings: Settings): SyncResult {
  job.busyMs += svc.clock.nowMs() - partStart;
  if (!job.inc && job.read.keptPages === undefined && svc.state instanceof WriteBehindStore) leaveOutWhileReading(svc, svc.state, settings, job.read);
  // Once the needed users are kept apart, the listings' pages are not saved, and removed once the job that no longer reads them is.
  const compacted = job.read.keptPages !== undefined && svc.state instanceof WriteBehindStore;
  if (compacted) (svc.state as WriteBehindStore).discardPending(LISTED_USERS_PREFIX);
  saveJob(svc.state, job);
  if (svc.state instanceof WriteBehindStore) svc.state.flush();
  if (compacted) svc.state.removePrefix(LISTED_USERS_PREFIX);
  if (svc.config.get(KEYS.runningJob) !== job.id) svc.config.set(KEYS.runningJob, job.id);
  if (job.part === 1) markScheduledRun(svc, job);
  publishProgress(svc, job);
  return result('in-progress', msg('syncInProgress', { part: job.part, phase: describePhase(job) }), job);
}

export function describePhase(job: Job): string {
  if (job.phase === 'read') return `reading the directory (${job.read.usersRead} users so far)`;
  if (job.phase === 'plan') return 'planning';
  const done = Object.values(job.applied).reduce((a, b) => a + b, 0);
  const total = Object.values(job.planned).reduce((a, b) => a + b, 0);
  return `applying changes (${done} of ${total})`;
}

function finish(svc: Services, job: Job, partStart: number): SyncResult {
  const failed = job.failed.length;
  // Deactivations the app could not be told of leave people able to sign in, and changes held back
  // (a broken rule) are not done: neither is a success.
  const outcome: SyncOutcome = failed || job.notSent || job.postponed ? 'partial' : job.held ? 'warning' : 'success';
  const notes = [...job.ruleProblems, ...(svc.roster.afterSync?.() ?? [])];
  if (job.held) {
    const sample = job.heldSample ?? [];
    const more = job.held - sample.length;
    const why = job.ruleProblems.length ? '(deactivations or role removals) held while a rule is broken' : 'held back (an ID that no Google user has on an account whose email a Google user has, or an email another account keeps)';
    notes.push(`${job.held} changes ${why}${sample.length ? `: ${sample.join(', ')}${more > 0 ? ` and ${more} more` : ''}` : ''}; Preview lists them and why.`);
  }
  if (job.postponed) notes.push(postponedNote(job, job.postponed));
  if (job.attributeProblems) notes.push(msg('attributesNotDerived', { count: job.attributeProblems, first: job.firstAttributeProblem ?? '' }).text);
  if (failed) notes.push(`${failed} accounts could not be written (first: ${job.failed[0].email || job.failed[0].accountId}: ${job.failed[0].message}); they are retried next sync.`);
  const notSent = job.notSent ? msg('deactivationsNotSent', { count: job.notSent.count, destination: job.notSent.destination, sample: sampleText(job.notSent.sample, job.notSent.count), why: job.notSent.why.text }) : null;
  if (notSent) notes.push(notSent.text);
  if (job.missed?.count) notes.unshift(msg('reconcileFound', { count: job.missed.count, since: new Date(job.missed.sinceMs).toISOString() }).text);
  const text = finishText(job, summarize(job.applied), notes.length ? ' ' + notes.join(' ') : '');
  recordProgressForIncremental(svc, job);
  const fix = failed ? msg('syncFailed', { detail: '' }).fix : job.ruleProblems.length ? 'Fix the broken rule under Mappings (Finalize sync lists it).' : job.notSent ? job.notSent.why.fix : job.postponed ? job.postponed.fix : '';
  end(svc, job, outcome, { text, fix }, partStart);
  // An incremental sync that applied nothing leaves the count as it was, and reads no roster for it.
  if (!job.inc || Object.values(job.applied).some(Boolean)) rememberSyncedAccounts(svc);
  // The remembered decisions noted while planning (the sync's own progress is gone by now).
  if (svc.state instanceof WriteBehindStore) svc.state.flush();
  if (outcome !== 'success' || job.ruleProblems.length) notify(svc, job.trigger, outcome, { text, fix }, job.applied);
  else {
    forgetNotice(svc);
    if (job.trigger === 'scheduled' && Object.values(job.applied).some(Boolean)) sendSyncReport(svc, draftOf(job), job.applied, text);
  }
  rememberResume(svc, job);
  if (!job.inc) {
    svc.config.set(KEYS.lastFullSync, String(svc.clock.nowMs()));
    if (svc.config.get(KEYS.directoryUsers) !== String(job.read.usersRead)) svc.config.set(KEYS.directoryUsers, String(job.read.usersRead));
  }
  return result('done', { id: job.inc ? 'incrementalDone' : 'syncDone', text, fix }, job);
}

/** What the sync could not send and until when, with its own counts (the destination knew only its batch). */
function postponedNote(job: Job, postponed: NonNullable<Job['postponed']>): string {
  const done = Object.values(job.applied).reduce((a, b) => a + b, 0);
  const counts: Record<string, number> = { done, total: done + postponed.count, waiting: postponed.count };
  const text = postponed.message.replace(/\{(done|total|waiting)\}/g, (_, k: string) => String(counts[k]));
  return /\{done\}/.test(postponed.message) ? text : `${done} of ${done + postponed.count} changes made: ${text}`;
}

/** A sync the destination postponed is continued by the first heartbeat after it may send again; any other full sync ends that wait. */
function rememberResume(svc: Services, job: Job): void {
  const at = job.postponed?.resumeAtMs;
  if (at) svc.config.set(KEYS.resumeAfter, String(at));
  else if (!job.inc && svc.config.get(KEYS.resumeAfter) !== null) svc.config.remove(KEYS.resumeAfter);
}

function finishText(job: Job, summary: string, notes: string): string {
  const inc = job.inc;
  const text = inc
    ? msg('incrementalDone', { events: inc.events, since: new Date(inc.startMs + OVERLAP_MS).toISOString(), users: inc.users.length, summary, notes }).text
    : msg('syncDone', { summary, notes }).text;
  return job.fallback ? `${msg('incrementalFallback', { reason: job.fallback }).text} ${text}` : text;
}

/**
 * The changes are applied: the next incremental sync reads the admin log from here (accounts the
 * destination refused are re-read and retried by it). A full sync also saves the structure it read.
 */
function recordProgressForIncremental(svc: Services, job: Job): void {
  const failedIds = job.failed.map((f) => f.accountId);
  if (job.inc) recordIncrementalSync(svc, job.inc, failedIds);
  else recordFullSync(svc, loadStructure(job.read, svc.state), job.fingerprint, job.startedAt, failedIds);
}

function halt(svc: Services, job: Job, block: NonNullable<Plan['blockedByThreshold']>, partStart: number): SyncResult {
  const { message, fix, destructive } = block;
  end(svc, job, 'halted', { text: message, fix }, partStart);
  if (job.trigger === 'scheduled') recordHalt(svc.config, svc.clock.nowMs());
  notify(svc, job.trigger, 'halted', { text: message, fix }, job.applied);
  return result('halted', { id: 'thresholdBlocked', text: message, fix }, job, { destructive });
}

function failJob(svc: Services, job: Job | null, error: unknown, partStart: number, trigger: SyncTrigger): SyncResult {
  const m = toMessage(error);
  if (job?.inc && job.trigger === 'scheduled' && error instanceof ReportsError) {
    // The admin log refused (a missing privilege or scope) or is down: every heartbeat would say so.
    // History and the admins hear of it once a day while it lasts; the daily full syncs go on.
    if (noticeIsNew(svc, `failed\n${m.text}`)) {
      end(svc, job, 'failed', m, partStart);
      sendNotice(svc, 'failed', m, job.applied);
    } else forgetJob(svc);
    return result('failed', m, job);
  }
  if (job) {
    end(svc, job, 'failed', m, partStart);
    notify(svc, job.trigger, 'failed', m, job.applied);
    // A postponed sync that fails when it goes on waits for the schedule, not for every heartbeat.
    if (!job.inc && svc.config.get(KEYS.resumeAfter) !== null) svc.config.remove(KEYS.resumeAfter);
  } else if (trigger === 'scheduled' && UNREADABLE_SETTINGS.has(m.id)) {
    return scheduledRunUnstartable(svc, error);
  } else if (!(error instanceof UserError && (m.id === 'noRules' || UNREADABLE_SETTINGS.has(m.id)))) {
    appendHistory(svc, { trigger, startedAt: partStart, outcome: 'failed', counts: emptyCounts(), parts: 1, busyMs: svc.clock.nowMs() - partStart }, m);
    notify(svc, trigger, 'failed', m, emptyCounts());
  }
  return result('failed', m, job);
}

/**
 * A scheduled run that cannot even start (its settings cannot be read): History and the admins
 * hear of it once, and again once a day while it lasts, not at every hourly heartbeat.
 */
export function scheduledRunUnstartable(svc: Services, error: unknown): SyncResult {
  const m = toMessage(error);
  if (noticeIsNew(svc, `unstartable\n${m.text}`)) {
    const now = svc.clock.nowMs();
    appendHistory(svc, { trigger: 'scheduled', startedAt: now, outcome: 'failed', counts: emptyCounts(), parts: 1, busyMs: 0 }, m);
    sendNotice(svc, 'failed', m, emptyCounts());
  }
  return result('failed', m, null);
}

/** Failures that usually pass within the hour: a scheduled sync they end is tried again at the next heartbeat. */
const PASSING_FAILURES: ReadonlySet<string> = new Set(['directoryUnavailable', 'scimUnavailable', 'scimUnreachable']);

/** Records the outcome, then forgets the job and its snapshot so the next sync starts clean. */
function end(svc: Services, job: Job, outcome: SyncOutcome, message: { text: string; fix: string; id?: string }, partStart: number): void {
  job.busyMs += svc.clock.nowMs() - partStart;
  evenIfStoreFull(() => recordDestructive(svc, job));
  appendHistory(svc, { trigger: job.trigger, startedAt: job.startedAt, outcome, counts: job.applied, parts: job.part, busyMs: job.busyMs, kind: kindOf(job) }, message);
  if (job.inc) {
    // An incremental sync serves no daily slot.
  } else if (outcome === 'failed' && message.id && PASSING_FAILURES.has(message.id)) evenIfStoreFull(() => unmarkScheduledRun(svc, job));
  else evenIfStoreFull(() => markScheduledRun(svc, job));
  forgetJob(svc);
  keepReport(svc, job.startedAt, { ...draftOf(job), trigger: job.trigger, kind: kindOf(job), outcome, counts: job.applied, message: message.text, failed: job.failed.map((f) => ({ email: f.email || f.accountId, message: f.message })) });
}

/** The longest rolling window settings allow; older entries of the log are dropped. */
const MAX_WINDOW_MS = 168 * 3_600_000;

function destructiveLog(svc: Services): [number, number][] {
  try {
    const log = JSON.parse(svc.config.get(KEYS.destructiveLog) ?? '[]');
    return Array.isArray(log) ? log.filter((e): e is [number, number] => Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'number') : [];
  } catch {
    return []; // an unreadable log only forgets past syncs: this sync's own changes still face the threshold
  }
}

/** Deactivations and deletions of the rolling window (settings.threshold.windowHours) an admin did not confirm. */
export function recentDestructive(svc: Services, settings: Settings): number {
  const hours = settings.threshold.windowHours;
  if (!hours) return 0;
  const since = svc.clock.nowMs() - hours * 3_600_000;
  return destructiveLog(svc).reduce((n, [at, count]) => (at > since ? n + count : n), 0);
}

/** Adds this sync's deactivations and deletions to the log, unless an admin confirmed them ("Apply anyway"). */
function recordDestructive(svc: Services, job: Job): void {
  const count = job.applied.deactivate + job.applied.delete;
  if (!count || job.allowDestructive > 0) return;
  const now = svc.clock.nowMs();
  const log = destructiveLog(svc).filter(([at]) => at > now - MAX_WINDOW_MS);
  svc.config.set(KEYS.destructiveLog, JSON.stringify([...log, [now, count]]));
}

/** Drops the saved job, its snapshot and its progress note, so the next sync starts clean. */
function forgetJob(svc: Services): void {
  // The pointer first (cut off here, the job is still found and resumed, never taken for lost state),
  // then the job: an execution cut off here must not leave a job whose snapshot is already gone.
  if (svc.config.get(KEYS.runningJob) !== null) svc.config.remove(KEYS.runningJob);
  svc.state.removePrefix(JOB_KEY);
  clearSnapshot(svc.state);
  svc.config.remove(PROGRESS_KEY);
}

/**
 * A scheduled sync counts as run (for isDue) once it is saved or ended, not when it starts: an
 * execution killed by the time limit before its first checkpoint leaves nothing to continue, so
 * the next heartbeat must start it again rather than wait for the next slot.
 */
function markScheduledRun(svc: Services, job: Job): void {
  // Only a full sync serves the daily slot; incremental ones run at the heartbeats in between.
  if (job.trigger === 'scheduled' && !job.inc) svc.config.set(KEYS.lastScheduledRun, String(job.startedAt));
}

/** The slot this scheduled sync served counts as not run, so the next heartbeat tries it again. */
function unmarkScheduledRun(svc: Services, job: Job): void {
  if (job.trigger !== 'scheduled' || job.previousScheduledRun === undefined) return;
  if (job.previousScheduledRun === null) svc.config.remove(KEYS.lastScheduledRun);
  else svc.config.set(KEYS.lastScheduledRun, String(job.previousScheduledRun));
}

function appendHistory(
  svc: Services,
  run: { trigger: HistoryEntry['trigger']; startedAt: number; outcome: SyncOutcome; counts: Record<ChangeKind, number>; parts: number; busyMs: number; kind?: SyncKind | '' },
  message: { text: string; fix: string },
): void {
  const entry: HistoryEntry = {
    startedAt: new Date(run.startedAt).toISOString(),
    finishedAt: new Date(svc.clock.nowMs()).toISOString(),
    trigger: run.trigger,
    outcome: run.outcome,
    counts: run.counts,
    durationMs: run.busyMs,
    parts: run.parts,
    message: message.text,
    fix: message.fix,
    kind: run.kind ?? '',
  };
  try {
    svc.history.append(entry);
  } catch {
    // History is best effort: a protected history sheet must not turn a good sync into a failed one.
  }
}

function discard(svc: Services, job: Job, reason: string): void {
  const m = msg('staleCheckpoint', { reason });
  appendHistory(svc, { trigger: job.trigger, startedAt: job.startedAt, outcome: 'discarded', counts: job.applied, parts: job.part, busyMs: job.busyMs, kind: kindOf(job) }, m);
  forgetJob(svc);
}

function busy(svc: Services): SyncResult {
  const job = loadJob(svc.state);
  return result('busy', busyMessage(svc, job), job);
}

/** A part ends itself within 4.5 minutes; a sync lease held longer belongs to a part Google killed. */
const PART_SURELY_OVER_MS = 5 * 60_000;

/** What holds the roster's lock, in words: an account edit, a killed part, or the sync part running now. */
function busyMessage(svc: Services, job: Job | null): Message {
  const holder = svc.lock.holder?.() ?? null;
  const iso = (ms: number) => new Date(ms).toISOString();
  if (holder?.sinceMs !== undefined && svc.clock.nowMs() - holder.sinceMs > PART_SURELY_OVER_MS) {
    const what = holder.purpose === 'edit' ? 'account edit' : 'sync part';
    return msg('runKilled', { what, since: iso(holder.sinceMs), until: iso(holder.expiresAtMs) });
  }
  if (holder?.purpose === 'edit') return msg('rosterBeingEdited', { since: iso(holder.sinceMs ?? svc.clock.nowMs()) });
  // The saved job is as its last part left it: the part running now is the next one.
  if (job) return msg('alreadyRunning', { startedAt: iso(job.startedAt), part: job.part + 1 });
  if (holder?.sinceMs !== undefined) return msg('alreadyRunning', { startedAt: iso(holder.sinceMs), part: 1 });
  return msg('rosterLocked', { until: holder ? iso(holder.expiresAtMs) : 'a few minutes from now' });
}

/**
 * Runs an edit of the roster under the sync lock, so it never interleaves with a sync part
 * writing the same rows (which would undo the edit). Between parts the lock is free, and the
 * next part plans against the roster as edited.
 */
export function underSyncLock<T>(svc: Services, edit: () => T): T {
  if (!svc.lock.tryLock(LOCK_WAIT_MS, 'edit')) throw new UserError(busyMessage(svc, loadJob(svc.state)));
  try {
    return edit();
  } finally {
    svc.lock.release();
  }
}

/** History of a "Sync this user": its own trigger, so it never counts as the last full sync. */
export function recordUserSync(svc: Services, email: string, startedAt: number, changes: Change[], result: ApplyResult, startedBy: string): void {
  const counts = countApplied(changes, result.applied, emptyCounts());
  const failed = result.failed;
  const outcome: SyncOutcome = failed.length ? 'partial' : 'success';
  const text = `Synced one user (${email}): ${summarize(counts)}.${failed.length ? ` Not written: ${failed[0].message}` : ''}`;
  const fix = failed.length ? msg('syncFailed', { detail: '' }).fix : '';
  appendHistory(svc, { trigger: 'user', startedAt, outcome, counts, parts: 1, busyMs: svc.clock.nowMs() - startedAt }, { text, fix });
  const draft = newDraft(startedBy);
  noteApplied(draft, changes, result.applied);
  keepReport(svc, startedAt, { ...draft, trigger: 'user', outcome, counts, message: text, failed: failed.map((f) => ({ email, message: f.message })) });
}

/**
 * Reports are best effort, like History: a full state sheet must not fail a sync that was applied.
 * A run that changed, held and failed nothing has nothing to report (History says "No changes"),
 * and so writes nothing to the state sheet.
 */
function keepReport(svc: Services, startedAt: number, report: Omit<SyncReport, 'startedAt' | 'finishedAt'>): void {
  if (!report.changes.length && !report.heldTotal && !report.failed.length && !Object.values(report.omitted).some(Boolean)) return;
  const now = svc.clock.nowMs();
  try {
    saveReport(svc.reports, startedAt, { ...report, startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(now).toISOString() }, now);
  } catch {
    // History already holds the outcome and counts.
  }
}

/** History of a settings save: who, when, and what changed (a History row, not a sync). */
export function recordSettingsChange(svc: Services, who: string, changes: string[]): void {
  if (!changes.length) return;
  const now = svc.clock.nowMs();
  const m = msg('settingsChanged', { who: who || 'an admin', changes: changes.join('; ') });
  appendHistory(svc, { trigger: 'settings', startedAt: now, outcome: 'changed', counts: emptyCounts(), parts: 0, busyMs: 0 }, m);
}

/** The newest entry of a full sync (manual or scheduled), skipping single-user and incremental syncs and settings saves. */
export function lastFullSyncEntry(svc: Services): HistoryEntry | undefined {
  return svc.history.list(100).find((e) => e.trigger !== 'user' && e.trigger !== 'settings' && e.kind !== 'incremental');
}

function cooldownRefusal(svc: Services, settings: Settings, now: number): SyncResult | null {
  const last = readNumber(svc.config, KEYS.lastFullSync);
  if (last === null || settings.cooldownMinutes === 0) return null;
  const nextAllowed = last + settings.cooldownMinutes * 60_000;
  if (now >= nextAllowed) return null;
  const m = msg('cooldown', { minutesAgo: Math.floor((now - last) / 60_000), nextAllowed: new Date(nextAllowed).toISOString() });
  return result('refused', m, null);
}

function lastOutcome(svc: Services): SyncResult {
  const last = lastFullSyncEntry(svc);
  const state: SyncState = !last ? 'done' : last.outcome === 'failed' ? 'failed' : last.outcome === 'halted' ? 'halted' : 'done';
  const m = last ? msg('lastSyncOutcome', { message: last.message, fix: last.fix }) : msg('noSyncYet');
  return { ...result(state, m, null), applied: last ? last.counts : emptyCounts() };
}
