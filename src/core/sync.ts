// The reconcile loop: read the directory → plan → apply, in parts that each fit
// one Apps Script execution. Progress lives in a job saved between parts; any
// part can be cut off and the next one picks up from the last saved point.
import { Account, Change, ChangeKind, DirectorySnapshot, DirectoryUser, HistoryEntry, Plan, SyncOutcome, SyncTrigger, emptyCounts, summarize } from './model';
import { ApplyResult, BlobStore, Services } from './ports';
import { ReportDraft, SyncReport, newDraft, noteApplied, noteHeld, saveReport } from './reports';
import { Settings, planFingerprint } from './settings';
import { KEYS, readNumber, readSettings } from './config';
import { Message, MessageId, UserError, msg, toMessage } from './messages';
import { PARALLEL_MIN_USERS, ReadProgress, WriteBehindStore, clearSnapshot, loadSnapshot, readStep, startRead } from './snapshot';
import { makePlan } from './plan';
import { directoryFields } from './attributes';
import { NOTICE_KEY, noticeIsNew, notify, sendNotice, sendSyncReport } from './notices';

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
  /** The scheduled-run mark before this sync, restored when it fails for a passing reason. */
  previousScheduledRun?: number | null;
  /** What the sync report will list (absent in a job saved by an earlier version: started when needed). */
  report?: ReportDraft;
}

export type SyncState = 'done' | 'in-progress' | 'halted' | 'failed' | 'busy' | 'refused';

export interface SyncResult {
  state: SyncState;
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
  /** Who asked for it, for the sync report: an admin's email, or the schedule. */
  startedBy?: string;
}

const JOB_KEY = 'job';

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

export function runSync(services: Services, request: SyncRequest): SyncResult {
  if (!services.lock.tryLock(LOCK_WAIT_MS, 'sync')) return busy(services);
  const state = new WriteBehindStore(services.state);
  const svc: Services = { ...services, state };
  const partStart = svc.clock.nowMs();
  let job: Job | null = null;
  try {
    const settings = readSettings(svc);
    const saved = readJob(svc.state);
    job = saved.job;
    if (saved.damaged) {
      // A sync cut off while saving its progress: record it, and carry on from the beginning.
      const m = msg('staleCheckpoint', { reason: 'its saved progress could not be read' });
      appendHistory(svc, { trigger: request.trigger, startedAt: partStart, outcome: 'discarded', counts: emptyCounts(), parts: 0, busyMs: 0 }, m);
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
      if (request.mode === 'continue' && !saved.damaged) return lastOutcome(svc);
      if (request.trigger === 'manual' && !saved.damaged) {
        const refusal = cooldownRefusal(svc, settings, partStart);
        if (refusal) return refusal;
      }
      if (!settings.rules.length) throw new UserError(msg('noRules'));
      job = newJob(request.trigger, settings, planFingerprint(settings, svc.destinations), partStart, request.startedBy, readInParallel(svc, request.trigger));
      job.previousScheduledRun = readNumber(svc.config, KEYS.lastScheduledRun);
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
    return failJob(svc, job, error, partStart, request.trigger);
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
    if (lastStepMs >= 0 && svc.remainingMs() <= lastStepMs) return pause(svc, job, partStart);
    let stepStart = svc.clock.nowMs();
    if (svc.clock.nowMs() - lastProgress > 5000) {
      lastProgress = svc.clock.nowMs();
      publishProgress(svc, job);
    }
    if (job.phase === 'read') {
      if (!readStep(job.read, svc.directory, svc.state, svc.clock.nowMs())) job.phase = 'plan';
      lastStepMs = svc.clock.nowMs() - stepStart;
      continue;
    }
    if (!plan) {
      plan = planFromState(svc, settings, job);
      // Planning happens once a part: the steps to come are apply batches, so time those alone.
      stepStart = svc.clock.nowMs();
    }
    if (job.phase === 'plan') {
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
      if (block && block.destructive > job.allowDestructive) return halt(svc, job, block.destructive, block.message, partStart);
      job.phase = 'apply';
    }
    const batch = plan.changes.splice(0, APPLY_BATCH);
    if (!batch.length) return finish(svc, job, partStart);
    applyBatch(svc, job, batch);
    lastStepMs = svc.clock.nowMs() - stepStart;
  }
}

/** The plan of what is left to do: the same snapshot against the roster as it is now. */
function planFromState(svc: Services, settings: Settings, job: Job): Plan {
  if (!job.plannedAt) job.plannedAt = new Date(svc.clock.nowMs()).toISOString();
  let snapshot: DirectorySnapshot;
  try {
    snapshot = loadSnapshot(job.read, svc.state);
  } catch (error) {
    throw new DamagedCheckpoint(error instanceof Error ? error.message : String(error));
  }
  useAppGroups(svc, snapshot);
  const accounts = readRoster(svc);
  confirmUnseen(svc, snapshot, accounts, directoryFields(settings.attributes ?? []));
  const plan = makePlan({ settings, snapshot, accounts, now: job.plannedAt });
  const failed = new Set(job.failed.map((f) => f.accountId));
  plan.changes = plan.changes.filter((c) => !failed.has(c.accountId));
  return plan;
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
  if (problems.length) {
    const first = problems[0];
    throw new UserError(msg('rosterRowInvalid', { row: first.row, sheet: svc.roster.kind, problem: `${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more rows)` : ''}` }));
  }
  return accounts;
}

function applyBatch(svc: Services, job: Job, batch: Change[]): void {
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

function pause(svc: Services, job: Job, partStart: number): SyncResult {
  job.busyMs += svc.clock.nowMs() - partStart;
  saveJob(svc.state, job);
  if (svc.state instanceof WriteBehindStore) svc.state.flush();
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
  // Deactivations the app could not be told of leave people able to sign in: not a success.
  const outcome: SyncOutcome = failed || job.notSent ? 'partial' : 'success';
  const notes = [...job.ruleProblems, ...(svc.roster.afterSync?.() ?? [])];
  if (job.held) {
    const sample = job.heldSample ?? [];
    const more = job.held - sample.length;
    notes.push(`${job.held} changes (deactivations or role removals) held while a rule is broken${sample.length ? `: ${sample.join(', ')}${more > 0 ? ` and ${more} more` : ''}` : ''}; Preview lists them.`);
  }
  if (job.attributeProblems) notes.push(msg('attributesNotDerived', { count: job.attributeProblems, first: job.firstAttributeProblem ?? '' }).text);
  if (failed) notes.push(`${failed} accounts could not be written (first: ${job.failed[0].email || job.failed[0].accountId}: ${job.failed[0].message}); they are retried next sync.`);
  const notSent = job.notSent ? msg('deactivationsNotSent', { count: job.notSent.count, destination: job.notSent.destination, sample: sampleText(job.notSent.sample, job.notSent.count), why: job.notSent.why.text }) : null;
  if (notSent) notes.push(notSent.text);
  const text = msg('syncDone', { summary: summarize(job.applied), notes: notes.length ? ' ' + notes.join(' ') : '' }).text;
  const fix = failed ? msg('syncFailed', { detail: '' }).fix : job.ruleProblems.length ? 'Fix the broken rule under Mappings (Finalize sync lists it).' : job.notSent ? job.notSent.why.fix : '';
  end(svc, job, outcome, { text, fix }, partStart);
  if (outcome !== 'success' || job.ruleProblems.length) notify(svc, job.trigger, outcome, { text, fix }, job.applied);
  else {
    if (svc.config.get(NOTICE_KEY) !== null) svc.config.remove(NOTICE_KEY);
    if (job.trigger === 'scheduled' && Object.values(job.applied).some(Boolean)) sendSyncReport(svc, draftOf(job), job.applied, text);
  }
  svc.config.set(KEYS.lastFullSync, String(svc.clock.nowMs()));
  if (svc.config.get(KEYS.directoryUsers) !== String(job.read.usersRead)) svc.config.set(KEYS.directoryUsers, String(job.read.usersRead));
  return result('done', { id: 'syncDone', text, fix }, job);
}

function halt(svc: Services, job: Job, destructive: number, message: string, partStart: number): SyncResult {
  const fix = msg('thresholdBlocked', { count: 0, limit: 0, threshold: '' }).fix;
  end(svc, job, 'halted', { text: message, fix }, partStart);
  notify(svc, job.trigger, 'halted', { text: message, fix }, job.applied);
  return result('halted', { id: 'thresholdBlocked', text: message, fix }, job, { destructive });
}

function failJob(svc: Services, job: Job | null, error: unknown, partStart: number, trigger: SyncTrigger): SyncResult {
  const m = toMessage(error);
  if (job) {
    end(svc, job, 'failed', m, partStart);
    notify(svc, job.trigger, 'failed', m, job.applied);
  } else if (trigger === 'scheduled' && m.id === 'corruptSettings') {
    return scheduledRunUnstartable(svc, error);
  } else if (!(error instanceof UserError && (m.id === 'noRules' || m.id === 'corruptSettings'))) {
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
  appendHistory(svc, { trigger: job.trigger, startedAt: job.startedAt, outcome, counts: job.applied, parts: job.part, busyMs: job.busyMs }, message);
  if (outcome === 'failed' && message.id && PASSING_FAILURES.has(message.id)) unmarkScheduledRun(svc, job);
  else markScheduledRun(svc, job);
  forgetJob(svc);
  keepReport(svc, job.startedAt, { ...draftOf(job), trigger: job.trigger, outcome, counts: job.applied, message: message.text, failed: job.failed.map((f) => ({ email: f.email || f.accountId, message: f.message })) });
}

/** Drops the saved job, its snapshot and its progress note, so the next sync starts clean. */
function forgetJob(svc: Services): void {
  // The job first: an execution cut off here must not leave a job whose snapshot is already gone.
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
  if (job.trigger === 'scheduled') svc.config.set(KEYS.lastScheduledRun, String(job.startedAt));
}

/** The slot this scheduled sync served counts as not run, so the next heartbeat tries it again. */
function unmarkScheduledRun(svc: Services, job: Job): void {
  if (job.trigger !== 'scheduled' || job.previousScheduledRun === undefined) return;
  if (job.previousScheduledRun === null) svc.config.remove(KEYS.lastScheduledRun);
  else svc.config.set(KEYS.lastScheduledRun, String(job.previousScheduledRun));
}

function appendHistory(
  svc: Services,
  run: { trigger: SyncTrigger; startedAt: number; outcome: SyncOutcome; counts: Record<ChangeKind, number>; parts: number; busyMs: number },
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
  };
  try {
    svc.history.append(entry);
  } catch {
    // History is best effort: a protected history sheet must not turn a good sync into a failed one.
  }
}

function discard(svc: Services, job: Job, reason: string): void {
  const m = msg('staleCheckpoint', { reason });
  appendHistory(svc, { trigger: job.trigger, startedAt: job.startedAt, outcome: 'discarded', counts: job.applied, parts: job.part, busyMs: job.busyMs }, m);
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

/** The newest entry of a full sync (manual or scheduled), skipping single-user syncs. */
export function lastFullSyncEntry(svc: Services): HistoryEntry | undefined {
  return svc.history.list(100).find((e) => e.trigger !== 'user');
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
