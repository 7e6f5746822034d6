// Scale: the built bundle (dist/Code.js) syncing generated domains of thousands of users in the
// simulated Apps Script runtime, in many executions. A sync is cut at every point where it can
// checkpoint (phase boundaries, apply batches) and at random points, softly (the execution's
// budget runs out) or hard (Apps Script kills the execution at its 6-minute limit), and must end
// with exactly the roster an uninterrupted sync makes, having read each directory page once and
// written each account once.
import fc from 'fast-check';
import { afterKilled, holdSyncLease, later, world, World } from './harness';
import { directoryLowerBound, generateDomain, rollover, scaleRules } from '../../emulator/domain';
import { CALIBRATED_LATENCY } from '../../emulator/runtime';
import { oauthToken } from '../../emulator/fakes/script';
import { SheetData } from '../../emulator/fakes/sheetData';
import type { FakeDirectoryState } from '../../emulator/fakes/directoryState';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const DOMAIN = 'scale.example';
const EXCEEDED = 'Exceeded maximum execution time';
const STATE_SHEET = 'Roster Sync state';
const STEP_METHODS = ['AdminDirectory.Orgunits.list', 'AdminDirectory.Members.list', 'AdminDirectory.Users.list'];

/** The benchmark's rules plus a group of more than one members.list page. */
const RULES = [...scaleRules(DOMAIN), { id: 'everyone-big', type: 'group', groupEmail: `big@${DOMAIN}`, role: 'student' }];

/**
 * A generated domain plus what makes reading it interesting: nest-3 is nested in three places
 * (nest-2, group-1, group-2) and must still be read once; big@ has 450 members (3 pages).
 */
function domain(users: number, seed = 11): FakeDirectoryState {
  const dir = generateDomain({ users, nestedDepth: 3, suspendedRate: 0.03, seed, domain: DOMAIN });
  dir.addMember(`group-1@${DOMAIN}`, `nest-3@${DOMAIN}`);
  dir.addMember(`group-2@${DOMAIN}`, `nest-3@${DOMAIN}`);
  dir.addMember(`group-2@${DOMAIN}`, `nest-2@${DOMAIN}`);
  dir.addGroup({ email: `big@${DOMAIN}`, name: 'Big group' });
  const staff = dir.allUsers().filter((u) => !u.orgUnitPath.startsWith('/Students/'));
  const all = dir.allUsers();
  for (let i = 0; i < 450; i++) dir.addMember(`big@${DOMAIN}`, (i < staff.length ? staff[i] : all[i * 7]).id);
  return dir;
}

/** The year-end changes between the two syncs: a rollover (updates, graduates deactivated) and a few suspensions. */
function yearEnd(dir: FakeDirectoryState): void {
  rollover(dir, 'alumni');
  const students = dir.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended);
  for (let i = 0; i < students.length; i += 97) dir.suspend(students[i].primaryEmail, true);
}

/** Fewest directory calls a sync can make: users.list pages of 500, one orgunits.list, each reachable group once in pages of 200. */
function lowerBound(dir: FakeDirectoryState): { users: number; members: number; orgunits: number; total: number } {
  return directoryLowerBound(dir, RULES.flatMap((r) => (r.type === 'group' ? [r.groupEmail!] : [])));
}

// ---- observing and cutting a sync ---------------------------------------------------------

/** What one sync did, seen from outside the script. */
interface Tracker {
  /**
   * Roster rows changed per account id: every row a setValues wrote whose cells it changed (a span
   * write also writes back unchanged rows between changed ones; those leave the row as it was).
   */
  idWrites: Map<string, number>;
  /** The roster row being written now: its id and whether any cell of it changed. */
  row: { sheet: SheetData; r: number; writes: number; id: string; changed: boolean } | null;
  /** Steps so far: directory calls and roster rows written. */
  step: number;
  /** Cut before the sync goes past these steps: 'pause' ends the budget, 'kill' the execution. */
  cuts: Map<number, 'pause' | 'kill'>;
  partStart: number;
  budget: number;
  w: World;
}

let tracking: Tracker | null = null;

// Every cell write of every fake sheet goes through SheetData.set, row by row within a setValues:
// count the roster rows each write changed, by account id, and step once per row written.
const originalSet = SheetData.prototype.set;
SheetData.prototype.set = function (this: SheetData, r: number, c: number, v: Parameters<typeof originalSet>[2]) {
  const t = tracking;
  if (!t || this.name !== 'Roster' || r === 0) return originalSet.call(this, r, c, v);
  const changed = this.get(r, c) !== v;
  originalSet.call(this, r, c, v);
  if (!t.row || t.row.sheet !== this || t.row.r !== r || t.row.writes !== this.writes) {
    endRow(t);
    t.row = { sheet: this, r, writes: this.writes, id: '', changed: false };
  }
  t.row.changed ||= changed;
  if (c === 0) {
    t.row.id = String(v);
    stepped(t);
  }
};

function endRow(t: Tracker): void {
  if (t.row?.changed) t.idWrites.set(t.row.id, (t.idWrites.get(t.row.id) ?? 0) + 1);
  t.row = null;
}

function stepped(t: Tracker): void {
  t.step++;
  const cut = t.cuts.get(t.step);
  if (cut === 'pause') t.w.rt.setClock(t.partStart + t.budget);
  // The next service call finds the execution past Apps Script's limit and dies.
  if (cut === 'kill') t.w.rt.setClock(t.partStart + t.w.rt.executionLimitMs);
}

interface Scale {
  w: World;
  dir: FakeDirectoryState;
  globals: { ROSTER_SYNC_BUDGET_MS: number };
}

function scaleWorld(users: number, budgetMs: number, seed = 11): Scale {
  const dir = domain(users, seed);
  const globals = { ROSTER_SYNC_BUDGET_MS: budgetMs };
  // The runtime reads `globals` at every execution, so a test can change the budget between parts.
  const w = world({ directory: dir, rules: RULES, globals, wallTimeoutMs: 120_000 });
  w.save({ threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
  const t: Tracker = { idWrites: new Map(), row: null, step: 0, cuts: new Map(), partStart: 0, budget: budgetMs, w };
  for (const m of STEP_METHODS) w.rt.inject(m, () => (tracking === t ? stepped(t) : undefined, undefined));
  trackers.set(w, t);
  return { w, dir, globals };
}

const trackers = new Map<World, Tracker>();

interface SyncRun {
  result: Json;
  executions: number;
  kills: number;
  calls: Record<string, number>;
  idWrites: Map<string, number>;
  rosterWrites: number;
  /** Simulated duration of each execution of the sync. */
  partMs: number[];
  /** The start times of the jobs the parts worked on: one when every part continued the same sync. */
  startedAt: Set<number>;
}

/**
 * Runs one sync to the end as the sidebar does (Sync now, then Continue for each part); after an
 * execution killed by the time limit it presses Sync now again, which resumes or starts clean.
 */
function syncToEnd(s: Scale, cuts: Map<number, 'pause' | 'kill'> = new Map(), maxExecutions = 400): SyncRun {
  const { w } = s;
  const t = trackers.get(w)!;
  Object.assign(t, { idWrites: new Map(), row: null, step: 0, cuts, budget: s.globals.ROSTER_SYNC_BUDGET_MS });
  w.rt.resetCounters();
  const rosterBefore = w.writes('Roster');
  const startedAt = new Set<number>();
  const firstExecution = w.rt.history.length;
  let kills = 0;
  let executions = 0;
  let fn = 'syncNow';
  let result: Json = null;
  tracking = t;
  try {
    for (let i = 0; i < maxExecutions; i++) {
      t.partStart = w.rt.nowMs();
      executions++;
      try {
        const r = w.rt.runFromBrowser(fn, fn === 'syncNow' ? [{}] : []) as Json;
        if (!r.ok) throw new Error(`${fn}: ${r.error.text}`);
        result = r.data;
      } catch (error) {
        expect(String((error as Error).message)).toContain(EXCEEDED);
        kills++;
        // Apps Script releases an execution's locks however it ends; its sync lease expires after the time limit.
        expect(w.rt.locks.held.size).toBe(0);
        afterKilled(w.rt, t.partStart);
        fn = 'syncNow';
        continue;
      }
      const job = savedJob(w);
      if (job) startedAt.add(job.startedAt);
      if (result.state !== 'in-progress') break;
      fn = 'continueSync';
    }
  } finally {
    tracking = null;
  }
  const partMs = w.rt.history.slice(firstExecution).filter((e) => e.fn === 'syncNow' || e.fn === 'continueSync').map((e) => e.endMs - e.startMs);
  endRow(t);
  return { result, executions, kills, calls: { ...w.rt.calls }, idWrites: t.idWrites, rosterWrites: w.writes('Roster') - rosterBefore, partMs, startedAt };
}

function directoryCalls(calls: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(calls).filter(([k]) => k.startsWith('AdminDirectory.')));
}

/** The roster with its timestamps replaced by their rank: syncs at different clock times compare equal. */
function normalRoster(w: World, withTimes = true): Record<string, string>[] {
  const rows = w.roster();
  const stamps = [...new Set(rows.flatMap((r) => [r['Last synced'], r['Out of scope since']]).filter(Boolean))].sort();
  const rank = (v: string) => (v ? `T${stamps.indexOf(v)}` : '');
  return rows.map((r) => ({ ...r, 'Last synced': withTimes ? rank(r['Last synced']) : '', 'Out of scope since': withTimes ? rank(r['Out of scope since']) : r['Out of scope since'] ? 'set' : '' }));
}

/** A normalRoster(w) result as normalRoster(w, false) gives it. */
function untimed(rows: Record<string, string>[]): Record<string, string>[] {
  return rows.map((row) => ({ ...row, 'Last synced': '', 'Out of scope since': row['Out of scope since'] ? 'set' : '' }));
}

function stateRows(w: World): unknown[][] {
  try {
    return w.rt.sheetValues(STATE_SHEET).slice(1).filter((r) => r.some((v) => v !== ''));
  } catch {
    return [];
  }
}

/** The job checkpoint as saved in the hidden state sheet (read from outside, without an execution). */
function savedJob(w: World): { startedAt: number; part: number; phase: string } | null {
  const rows = stateRows(w) as string[][];
  const at = rows.findIndex((r) => r[0] === 'job');
  if (at < 0) return null;
  return JSON.parse(rows.slice(at, at + Number(rows[at][1])).map((r) => r[2]).join(''));
}

/** After a sync has ended: no lock, no job, no snapshot, nothing "running". */
function expectIdle(w: World): void {
  expect(w.rt.locks.held.size).toBe(0);
  expect(w.call('getState').running).toBeNull();
  expect(stateRows(w)).toEqual([]);
}

/** Accounts whose roster row was changed more than once in one sync (a change applied twice). */
function changedTwice(run: SyncRun): string[] {
  return [...run.idWrites].filter(([, n]) => n !== 1).map(([id]) => id);
}

function expectEachAccountOnce(w: World): void {
  const roster = w.roster();
  expect(new Set(roster.map((r) => r.ID)).size).toBe(roster.length);
  expect(new Set(roster.map((r) => r.Email)).size).toBe(roster.length);
}

/** The uninterrupted reference: the same domain and the same year, each sync in one execution. */
interface Reference {
  first: { run: SyncRun; roster: Record<string, string>[]; bound: ReturnType<typeof lowerBound> };
  second: { run: SyncRun; roster: Record<string, string>[]; bound: ReturnType<typeof lowerBound> };
}

function reference(users: number, seed = 11): Reference {
  const s = scaleWorld(users, 10 * 60_000, seed);
  const bound1 = lowerBound(s.dir);
  const run1 = syncToEnd(s);
  expect(run1).toMatchObject({ executions: 1, result: { state: 'done' } });
  const roster1 = normalRoster(s.w);
  yearEnd(s.dir);
  later(s.w);
  const bound2 = lowerBound(s.dir);
  const run2 = syncToEnd(s);
  expect(run2).toMatchObject({ executions: 1, result: { state: 'done' } });
  return { first: { run: run1, roster: roster1, bound: bound1 }, second: { run: run2, roster: normalRoster(s.w), bound: bound2 } };
}

/** Checks a sync cut only softly: same roster, the directory read exactly once, each account's row changed once. */
function expectLikeReference(s: Scale, run: SyncRun, ref: Reference['first']): void {
  expect(run.result.state).toBe('done');
  expect(run.kills).toBe(0);
  expect(normalRoster(s.w)).toEqual(ref.roster);
  expect(directoryCalls(run.calls)).toEqual({
    'AdminDirectory.Orgunits.list': ref.bound.orgunits,
    'AdminDirectory.Members.list': ref.bound.members,
    'AdminDirectory.Users.list': ref.bound.users,
  });
  expect(run.idWrites).toEqual(ref.run.idWrites);
  expect(changedTwice(run)).toEqual([]);
  expect(run.result.applied).toEqual(ref.run.result.applied);
  expect(run.startedAt.size).toBeLessThanOrEqual(1); // one job from the first part to the last
  const last = s.w.history().at(-1);
  expect(last).toMatchObject({ Outcome: 'success', Parts: String(run.executions) });
  expectIdle(s.w);
}

/** Steps at which a sync can checkpoint: after each read phase, after the first and the last apply batch. */
function boundaryCuts(ref: Reference['first']): Map<number, 'pause' | 'kill'> {
  const b = ref.bound;
  const rows = [...ref.run.idWrites.values()].reduce((a, n) => a + n, 0);
  const steps = [
    1, // orgunits read → groups
    2, // first members page
    1 + b.members, // groups read → users
    2 + b.members, // first users page
    b.total, // users read → plan
    b.total + 1, // first roster row: the plan is applied from here
    b.total + Math.min(500, rows), // the end of the first apply batch
    b.total + rows, // the last roster row: only "finish" is left
  ];
  return new Map(steps.map((s) => [s, 'pause' as const]));
}

// ---- tests ---------------------------------------------------------------------------------------

describe('20,000 users with a small execution budget', () => {
  const USERS = 20_000;
  let ref: Reference;
  beforeAll(() => {
    ref = reference(USERS);
  });

  test('the lower bound itself: pages of 500 users, one OU call, each group once in pages of 200, nothing per user', () => {
    // 4 rule groups, each listed once with its indirect members (nest-2 and nest-3 need no listing of their
    // own, however often they are nested); big@ alone has 3 pages.
    expect(ref.first.bound).toMatchObject({ users: 40, orgunits: 1 });
    expect(ref.first.bound.members).toBeGreaterThanOrEqual(6);
    expect(directoryCalls(ref.first.run.calls)).toEqual({ 'AdminDirectory.Orgunits.list': 1, 'AdminDirectory.Members.list': ref.first.bound.members, 'AdminDirectory.Users.list': 40 });
    expect(ref.first.run.result.applied.create).toBe(ref.first.roster.length);
    expect(ref.first.roster.length).toBeGreaterThan(15_000);
  });

  test('first sync and year-end sync cut at every phase boundary end with the uninterrupted roster, each page read once, each account row changed once', () => {
    const s = scaleWorld(USERS, 5_000);
    const args: Json[] = [];
    for (const m of STEP_METHODS) s.w.rt.inject(m, (_n, a) => (args.push({ m, a }), undefined));
    const first = syncToEnd(s, boundaryCuts(ref.first));
    expect(first.executions).toBeGreaterThanOrEqual(8);
    expectLikeReference(s, first, ref.first);

    const users = args.filter((x) => x.m === 'AdminDirectory.Users.list').map((x) => x.a[0]);
    expect(users.every((o) => o.maxResults === 500 && o.customer === 'my_customer' && /nextPageToken/.test(o.fields) && /users\(/.test(o.fields))).toBe(true);
    const members = args.filter((x) => x.m === 'AdminDirectory.Members.list');
    expect(members.every((x) => x.a[1].maxResults === 200 && x.a[1].includeDerivedMembership === true && /nextPageToken/.test(x.a[1].fields))).toBe(true);
    const starts = members.filter((x) => !x.a[1].pageToken).map((x) => x.a[0]);
    expect(starts).toHaveLength(4); // the 4 rule groups, each started once; nested groups are never listed
    expect(new Set(starts).size).toBe(4);
    expect(args.filter((x) => x.m === 'AdminDirectory.Orgunits.list')[0].a[1]).toMatchObject({ type: 'all' });

    yearEnd(s.dir);
    later(s.w);
    s.globals.ROSTER_SYNC_BUDGET_MS = 60_000;
    const second = syncToEnd(s, boundaryCuts(ref.second));
    expect(second.executions).toBeGreaterThanOrEqual(5);
    expectLikeReference(s, second, ref.second);
    expect(second.result.applied.create).toBe(0);
    expect(second.result.applied.update + second.result.applied.deactivate).toBeGreaterThan(10_000);
  });

  test('a sync with no directory change writes nothing to the roster, even over several executions', () => {
    const s = scaleWorld(USERS, 5_000);
    syncToEnd(s);
    later(s.w);
    const again = syncToEnd(s);
    expect(again.result).toMatchObject({ state: 'done', message: 'No changes.' });
    expect(again.executions).toBeGreaterThan(1);
    expect(again.rosterWrites).toBe(0);
    expect(again.idWrites.size).toBe(0);
    expect(directoryCalls(again.calls)['AdminDirectory.Users.list']).toBe(40);
    expectIdle(s.w);
  });
});

describe('random cuts (3,000 users)', () => {
  const USERS = 3_000;
  let ref: Reference;
  beforeAll(() => {
    ref = reference(USERS, 5);
  });

  const cutsArb = fc.array(fc.record({ at: fc.integer({ min: 1, max: 2_500 }), kill: fc.boolean() }), { minLength: 1, maxLength: 6 });

  test('soft cuts at random points: the same roster, the directory read once, every account row changed once', () => {
    fc.assert(
      fc.property(fc.constantFrom(2_000, 7_000, 60_000), cutsArb, cutsArb, (budget, cuts1, cuts2) => {
        const s = scaleWorld(USERS, budget, 5);
        const soft = (cuts: { at: number }[]) => new Map(cuts.map((c) => [c.at, 'pause' as const]));
        expectLikeReference(s, syncToEnd(s, soft(cuts1)), ref.first);
        yearEnd(s.dir);
        later(s.w);
        expectLikeReference(s, syncToEnd(s, soft(cuts2)), ref.second);
      }),
      { numRuns: Number(process.env.SCALE_RUNS ?? 6) },
    );
  });

  test('hard cuts (killed at the 6-minute limit) at random points: no stuck lock, no account duplicated, lost or changed twice', () => {
    fc.assert(
      fc.property(fc.constantFrom(2_000, 7_000, 60_000), cutsArb, cutsArb, (budget, cuts1, cuts2) => {
        const s = scaleWorld(USERS, budget, 5);
        const mixed = (cuts: { at: number; kill: boolean }[]) => new Map(cuts.map((c) => [c.at, c.kill ? ('kill' as const) : ('pause' as const)]));
        const check = (run: SyncRun, r: Reference['first']) => {
          expect(run.result.state).toBe('done');
          // Timestamps tell which part wrote a row, and a sync restarted from scratch plans at a later time.
          expect(normalRoster(s.w, false)).toEqual(untimed(r.roster));
          expect([...run.idWrites.keys()].sort()).toEqual([...r.run.idWrites.keys()].sort());
          expect(changedTwice(run)).toEqual([]);
          expect(run.calls['AdminDirectory.Users.list']).toBeGreaterThanOrEqual(r.bound.users);
          if (!run.kills) expect(directoryCalls(run.calls)['AdminDirectory.Users.list']).toBe(r.bound.users);
          expectEachAccountOnce(s.w);
          expectIdle(s.w);
        };
        check(syncToEnd(s, mixed(cuts1)), ref.first);
        yearEnd(s.dir);
        later(s.w);
        check(syncToEnd(s, mixed(cuts2)), ref.second);
      }),
      { numRuns: Number(process.env.SCALE_RUNS ?? 6) },
    );
  });
});

test('each part checkpoints before its budget runs out: no part outlasts the budget by more than saving the checkpoint', () => {
  const budget = 3_000;
  const s = scaleWorld(3_000, budget, 5);
  syncToEnd(s);
  yearEnd(s.dir);
  later(s.w);
  const run = syncToEnd(s);
  expect(run.result.state).toBe('done');
  // Each step (a directory page, planning, an apply batch) takes a good share of this budget: a part
  // that only noticed the budget was spent after starting another step would run that much over.
  const over = run.partMs.slice(0, -1).map((ms) => ms - budget);
  expect(run.partMs.length).toBeGreaterThanOrEqual(3);
  expect(Math.max(...over)).toBeLessThanOrEqual(1_500);
  expect(Math.max(...run.partMs.slice(0, -1))).toBeGreaterThan(budget * 0.6); // and parts are not cut needlessly short
});

describe('hard cuts at chosen points (3,000 users)', () => {
  const USERS = 3_000;
  let ref: Reference;
  beforeAll(() => {
    ref = reference(USERS, 5);
  });

  test('killed in its first part, before any checkpoint: nothing left behind, Sync now starts clean', () => {
    const s = scaleWorld(USERS, 60_000, 5);
    const run = syncToEnd(s, new Map([[3, 'kill']]));
    expect(run.kills).toBe(1);
    // The killed part had saved nothing, so the sync that finished is a new one that read everything.
    expect(directoryCalls(run.calls)['AdminDirectory.Orgunits.list']).toBe(2);
    expect(normalRoster(s.w)).toEqual(ref.first.roster);
    expectEachAccountOnce(s.w);
    expectIdle(s.w);
  });

  test('killed while applying, after a checkpoint: the next part resumes the same sync and changes each account row once', () => {
    const s = scaleWorld(USERS, 3_000, 5);
    const rows = ref.first.run.idWrites.size;
    const run = syncToEnd(s, new Map([[ref.first.bound.total + Math.floor(rows / 2), 'kill']]));
    expect(run.kills).toBe(1);
    expect(run.startedAt.size).toBe(1); // resumed, not restarted
    expect(directoryCalls(run.calls)['AdminDirectory.Orgunits.list']).toBe(1);
    // Rows written by the killed part may carry an earlier "Last synced": its plan time was not saved yet.
    expect(normalRoster(s.w, false)).toEqual(untimed(ref.first.roster));
    expect(changedTwice(run)).toEqual([]);
    expect(run.idWrites.size).toBe(rows);
    expectEachAccountOnce(s.w);
    expectIdle(s.w);
  });

  test('killed while saving a checkpoint: the next part resumes from the previous one or starts clean, never from a torn one', () => {
    for (const nth of [1, 2, 5]) {
      const s = scaleWorld(USERS, 2_500, 5);
      const t = trackers.get(s.w)!;
      let stateWrites = 0;
      // Kill the execution just after the nth chunk of the state sheet is written in a checkpoint.
      const original = SheetData.prototype.set;
      SheetData.prototype.set = function (this: SheetData, r: number, c: number, v: Parameters<typeof original>[2]) {
        original.call(this, r, c, v);
        if (tracking && this.name === STATE_SHEET && c === 2 && r > 0 && ++stateWrites === nth) s.w.rt.setClock(t.partStart + s.w.rt.executionLimitMs);
      };
      let run: SyncRun;
      try {
        run = syncToEnd(s);
      } finally {
        SheetData.prototype.set = original;
      }
      expect(run.kills).toBe(1);
      expect(run.result.state).toBe('done');
      expect(normalRoster(s.w, false)).toEqual(untimed(ref.first.roster));
      expect(changedTwice(run)).toEqual([]);
      expectEachAccountOnce(s.w);
      expectIdle(s.w);
    }
  });

  test('a scheduled sync killed before its first checkpoint runs again at the next heartbeat, not a day later', () => {
    const s = scaleWorld(USERS, 60_000, 5);
    const hour = new Date(s.w.rt.nowMs() + 2 * 3_600_000).getUTCHours();
    s.w.save({ schedule: { mode: 'daily', hour, timeZone: 'UTC', blackouts: [] } });
    const done = <T extends { ok: boolean; result?: unknown }>(runs: T[]) => runs.filter((r) => r.ok && (r.result as Json)?.state === 'done');
    expect(done(s.w.rt.advanceHours(4))).toHaveLength(1); // yesterday's sync
    const t = trackers.get(s.w)!;
    Object.assign(t, { idWrites: new Map(), row: null, step: 0, cuts: new Map([[2, 'kill']]) });
    // The heartbeat runs at a random minute: the part's start is just before its first directory call.
    s.w.rt.inject('AdminDirectory.Orgunits.list', () => ((t.partStart = s.w.rt.nowMs() - 300), undefined));
    tracking = t;
    let runs;
    try {
      runs = s.w.rt.advanceHours(24);
    } finally {
      tracking = null;
    }
    const killed = runs.filter((r) => !r.ok);
    expect(killed.map((r) => r.error)).toEqual([expect.stringContaining(EXCEEDED)]);
    const ran = done(runs);
    expect(ran).toHaveLength(1);
    expect(ran[0].atMs - killed[0].atMs).toBeLessThanOrEqual(2 * 3_600_000);
    expect(ran[0].atMs).toBeGreaterThan(killed[0].atMs);
    expect(s.w.history().map((h) => h.Trigger)).toEqual(['scheduled', 'scheduled']);
    expectEachAccountOnce(s.w);
    expectIdle(s.w);
  });
});

describe('a sync part-way (3,000 users)', () => {
  const USERS = 3_000;

  /** A world whose first sync stopped after reading `steps` directory pages. */
  function partWay(steps = 4): Scale {
    const s = scaleWorld(USERS, 60_000, 5);
    const t = trackers.get(s.w)!;
    Object.assign(t, { step: 0, cuts: new Map([[steps, 'pause']]), partStart: s.w.rt.nowMs(), budget: 60_000 });
    tracking = t;
    try {
      expect(s.w.call('syncNow', {})).toMatchObject({ state: 'in-progress', part: 1, phase: 'read' });
    } finally {
      tracking = null;
    }
    return s;
  }

  test('blocks new syncs: Sync now continues it, a second execution meanwhile is told it is busy', () => {
    const s = partWay();
    const running = s.w.call('getState').running;
    expect(running).toMatchObject({ part: 1, phase: 'read' });
    const release = holdSyncLease(s.w.rt); // another execution is running its next part
    expect(s.w.call('syncNow', {})).toMatchObject({ state: 'busy', message: expect.stringContaining('A sync is already running') });
    release();
    s.w.rt.resetCounters();
    const next = s.w.call('syncNow', {});
    expect(next).toMatchObject({ state: 'done', part: 2 });
    // Continued where it stopped: the three pages already read were not read again.
    expect(directoryCalls(s.w.rt.calls)['AdminDirectory.Orgunits.list']).toBeUndefined();
    expect(s.w.history()).toHaveLength(1);
    expect(s.w.history().at(-1)).toMatchObject({ Outcome: 'success', Parts: '2', Started: running.startedAt });
    expectIdle(s.w);
  });

  test('the hourly heartbeat continues a part-way sync', () => {
    const s = partWay();
    const [run] = s.w.rt.advanceHours(2);
    expect(run).toMatchObject({ ok: true, handler: 'runScheduledSync', result: { state: 'done', part: 2 } });
    expect(s.w.roster().length).toBeGreaterThan(2_000);
    expectIdle(s.w);
  });

  test('a checkpoint older than a day is discarded with a history entry, and the next sync starts from the beginning', () => {
    const s = partWay();
    s.w.rt.setClock(s.w.rt.nowMs() + 25 * 3_600_000);
    s.w.call('continueSync');
    expect(s.w.history().at(-1)).toMatchObject({ Outcome: 'discarded', Message: expect.stringContaining('more than a day ago') });
    expect(s.w.call('getState').running).toBeNull();
    expect(stateRows(s.w)).toEqual([]);
    const run = syncToEnd(s);
    expect(directoryCalls(run.calls)).toMatchObject({ 'AdminDirectory.Orgunits.list': 1, 'AdminDirectory.Users.list': lowerBound(s.dir).users });
    expectIdle(s.w);
  });

  test('a checkpoint made under other settings is discarded with a history entry', () => {
    const s = partWay();
    s.w.save({ rules: RULES.filter((r) => r.id !== 'mentors') });
    s.w.call('continueSync');
    expect(s.w.history().at(-1)).toMatchObject({ Outcome: 'discarded', Message: expect.stringContaining('mappings or policy changed') });
    expect(stateRows(s.w)).toEqual([]);
    expect(syncToEnd(s).result.state).toBe('done');
    expectIdle(s.w);
  });
});

test('a 100,000-user snapshot round-trips through the hidden state sheet in 45,000-character chunks', () => {
  const s = scaleWorld(100_000, 300_000, 3);
  const bound = lowerBound(s.dir);
  const t = trackers.get(s.w)!;
  // Pause right after the last users page: the whole snapshot must be checkpointed to the sheet.
  Object.assign(t, { step: 0, cuts: new Map([[bound.total, 'pause']]), partStart: s.w.rt.nowMs(), budget: 300_000 });
  tracking = t;
  try {
    expect(s.w.call('syncNow', {})).toMatchObject({ state: 'in-progress', phase: 'plan', usersRead: 100_000 });
  } finally {
    tracking = null;
  }
  const rows = stateRows(s.w) as string[][];
  // Reassemble the chunks as the add-on's format says: key row with a chunk count, then key#i rows.
  const blobs = new Map<string, string>();
  for (let i = 0; i < rows.length; i++) {
    const [key, count] = rows[i];
    if (String(key).includes('#')) continue;
    const parts = rows.slice(i, i + Number(count)).map((r) => String(r[2]));
    parts.forEach((p) => expect(p.length).toBeLessThanOrEqual(45_000));
    blobs.set(String(key), parts.join(''));
  }
  const users = [...blobs.entries()].filter(([k]) => k.startsWith('snap.users.')).flatMap(([, v]) => JSON.parse(v) as [string, string, string, string, number][]);
  expect(users).toHaveLength(100_000);
  const byId = new Map(users.map((u) => [u[0], JSON.stringify(u)]));
  const wrong = s.dir.allUsers().filter((u) => byId.get(u.id) !== JSON.stringify([u.id, u.primaryEmail, u.name.fullName, u.orgUnitPath, (u.suspended ? 1 : 0) | (u.archived ? 2 : 0)]));
  expect(wrong).toEqual([]);
  expect(s.w.rt.spreadsheet().cellCount()).toBeLessThan(10_000_000);

  // The plan is made from the snapshot read back from the sheet.
  s.w.rt.resetCounters();
  const done = s.w.call('continueSync');
  expect(done).toMatchObject({ state: 'done', part: 2 });
  expect(directoryCalls(s.w.rt.calls)).toEqual({});
  const inScope = s.dir.allUsers().filter((u) => !u.suspended && /^\/(Students|Staff\/Teachers)\//.test(u.orgUnitPath)).length;
  expect(done.applied.create).toBeGreaterThanOrEqual(inScope);
  expect(s.w.roster().length).toBe(done.applied.create);
  expectEachAccountOnce(s.w);
  expectIdle(s.w);
});

// ---- the calibrated model: parallel reads, parts an hour apart, confirmation before deactivating ----

describe('calibrated latency model (emulator/runtime.ts CALIBRATED_LATENCY), heartbeats exactly 60 minutes apart', () => {
  const USERS = 20_000;

  function calibratedWorld(budgetMs: number): { w: World; dir: FakeDirectoryState } {
    const dir = domain(USERS, 11);
    const w = world({ directory: dir, rules: RULES, globals: { ROSTER_SYNC_BUDGET_MS: budgetMs }, latency: CALIBRATED_LATENCY, exactHourlyTriggers: true, wallTimeoutMs: 120_000 });
    w.save({ threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0, schedule: { mode: 'hourly', hour: 0, timeZone: 'UTC', blackouts: [] } });
    return { w, dir };
  }

  /** Heartbeats until the scheduled sync ends in History. */
  function scheduledToEnd(w: World): { parts: number; calls: Record<string, number>; stateWrites: number; beats: TriggerRunLike[] } {
    w.rt.resetCounters();
    const stateBefore = w.writes(STATE_SHEET);
    const beats: TriggerRunLike[] = [];
    for (let i = 0; i < 24 && !w.history().length; i++) beats.push(...w.rt.advanceHours(1));
    const last = w.history().at(-1)!;
    return { parts: Number(last.Parts), calls: { ...w.rt.calls }, stateWrites: w.writes(STATE_SHEET) - stateBefore, beats };
  }

  test('a scheduled first sync spread over parts an hour apart reads the directory in parallel rounds, checkpoints through the state sheet, and ends with the roster of a sync in one part', () => {
    const one = calibratedWorld(10 * 60_000);
    const ref = scheduledToEnd(one.w);
    expect(ref).toMatchObject({ parts: 1, stateWrites: 0 });
    const parts = calibratedWorld(4_000);
    const urls: string[] = [];
    parts.w.rt.inject('UrlFetchApp.fetchAll', (_n, args) => (urls.push(...(args[0] as string[])), undefined));
    const run = scheduledToEnd(parts.w);
    expect(parts.w.history()).toEqual([expect.objectContaining({ Trigger: 'scheduled', Outcome: 'success' })]);
    expect(run.parts).toBeGreaterThanOrEqual(3);
    expect(run.stateWrites).toBeGreaterThan(0); // the snapshot went through the hidden sheet
    // Consecutive parts ran an hour apart.
    const ran = run.beats.filter((b) => b.ok && (b.result as Json)?.part);
    for (let i = 1; i < ran.length; i++) expect(ran[i].atMs - ran[i - 1].atMs).toBe(3_600_000);
    // Read in parallel rounds (UrlFetchApp.fetchAll against the Directory REST API). A listing still
    // open when a part stopped is an hour old at the next part, past Google's limit: it is read again
    // from its first page (never with an expired token, which the fake directory answers with a 503).
    expect(run.calls['UrlFetchApp.fetchAll']).toBeGreaterThan(0);
    expect(ref.calls['UrlFetchApp.fetchAll']).toBeGreaterThan(0);
    const bound = lowerBound(parts.dir);
    expect(ref.calls['AdminDirectory.Members.list']).toBe(bound.members);
    expect(run.calls['AdminDirectory.Members.list']).toBeGreaterThanOrEqual(bound.members);
    expect(run.calls['AdminDirectory.Users.list']).toBeGreaterThanOrEqual(ref.calls['AdminDirectory.Users.list']);
    expect(run.calls['AdminDirectory.Users.list']).toBeLessThanOrEqual(ref.calls['AdminDirectory.Users.list'] + 39);
    expect(normalRoster(parts.w)).toEqual(normalRoster(one.w));
    expectEachAccountOnce(parts.w);
    expectIdle(parts.w);
    // The script's OAuth token went only into requests to the Directory API: every fetchAll URL is
    // admin.googleapis.com, and the token is in no sheet, property or log.
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.every((u) => u.startsWith('https://admin.googleapis.com/admin/directory/v1/'))).toBe(true);
    const token = oauthToken(parts.w.rt.defaultUser);
    const everything = JSON.stringify([
      parts.w.rt.spreadsheet().sheets.map((sh) => parts.w.rt.sheetValues(sh.name)),
      parts.w.rt.scriptProperties(),
      parts.w.rt.userProperties(parts.w.rt.defaultUser),
      parts.w.rt.documentProperties(),
      parts.w.rt.logText(),
    ]);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain('ya29.');
  });
});

describe('confirmation before deactivating: users renamed, shifted by paging and deleted while a multi-part parallel read runs', () => {
  test('only the user who is really gone is deactivated; the others are looked up (users.get) and kept', () => {
    const dir = generateDomain({ users: 10_000, nestedDepth: 3, suspendedRate: 0, seed: 21, domain: DOMAIN, emailStyle: 'family.given' });
    const globals = { ROSTER_SYNC_BUDGET_MS: 600_000 };
    const w = world({ directory: dir, rules: scaleRules(DOMAIN), globals, wallTimeoutMs: 120_000 });
    w.save({ threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done' });
    const rosterBefore = new Map(w.roster().map((r) => [r.ID, r]));
    // As if an earlier sync had counted a large domain: this one reads it in parallel rounds.
    w.rt.properties.script.map.set(`rs:${w.rt.activeSpreadsheetId}:directoryUsers`, '100000');
    // One step per part: the orgunits, then one round of pages per part.
    globals.ROSTER_SYNC_BUDGET_MS = 1;
    w.rt.resetCounters();
    expect(w.call('syncNow', {})).toMatchObject({ state: 'in-progress', phase: 'read' });
    expect(w.call('continueSync')).toMatchObject({ state: 'in-progress', phase: 'read' });
    expect(w.rt.calls['UrlFetchApp.fetchAll']).toBe(1); // the first page of every listing has been read

    // Partition m (emails beginning with m) has three pages; its first has been read.
    const inM = dir.allUsers().filter((u) => u.primaryEmail.startsWith('m'));
    expect(inM.length).toBeGreaterThan(1_000);
    const inScope = (u: { orgUnitPath: string }) => /^\/(Students|Staff\/Teachers)\//.test(u.orgUnitPath);
    const shifted = inM[500]; // first of page 2: deleting a user of page 1 moves it onto page 1, already read
    const renamed = inM.slice(600, 900).find(inScope)!; // on page 2, renamed into partition b (read, one page)
    const gone = inM.slice(600, 900).filter(inScope).at(-1)!; // on page 2, deleted before it is read
    for (const u of [shifted, renamed, gone]) expect(rosterBefore.get(u.id)).toMatchObject({ Status: 'active' });
    dir.deleteUser(inM[10].primaryEmail);
    dir.renameEmail(renamed.primaryEmail, `b${renamed.primaryEmail}`, false);
    dir.deleteUser(gone.primaryEmail);

    let r: Json;
    do r = w.call('continueSync');
    while (r.state === 'in-progress');
    expect(r.state).toBe('done');
    const after = new Map(w.roster().map((row) => [row.ID, row]));
    expect(after.get(shifted.id)).toMatchObject({ Status: 'active', Email: shifted.primaryEmail });
    expect(after.get(renamed.id)).toMatchObject({ Status: 'active', Email: renamed.primaryEmail });
    expect(after.get(gone.id)).toMatchObject({ Status: 'disabled' });
    // The three not seen were looked up by id: two found (kept), one gone.
    expect(w.rt.calls['AdminDirectory.Users.get']).toBe(3);
    const deactivated = [...after.values()].filter((row) => row.Status !== 'active' && rosterBefore.get(row.ID)?.Status === 'active');
    // The user deleted after their page was read was seen this sync: only the one never seen, and gone, is deactivated.
    expect(deactivated.map((row) => row.ID)).toEqual([gone.id]);
    expectEachAccountOnce(w);
  });
});

test('a parallel read lists every user: letters by partition, digits, symbols and accented first letters by the sorted listings before a and after z', () => {
  const dir = generateDomain({ users: 3_000, nestedDepth: 3, suspendedRate: 0, seed: 5, domain: DOMAIN, emailStyle: 'family.given' });
  const odd = ['7.smith', '_bot', "'quote", '-dash', 'élodie.martin', 'zoë.brontë', 'ünal.kaya'].map((local) => dir.addUser({ email: `${local}@${DOMAIN}`, givenName: 'Odd', familyName: local, orgUnitPath: '/Students/School 1/Grade 9' }));
  const w = world({ directory: dir, rules: scaleRules(DOMAIN), wallTimeoutMs: 120_000 });
  w.save({ threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
  // As if an earlier sync had counted a large domain: this one reads it in parallel rounds.
  w.rt.properties.script.map.set(`rs:${w.rt.activeSpreadsheetId}:directoryUsers`, '100000');
  w.rt.resetCounters();
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done' });
  expect(w.rt.calls['UrlFetchApp.fetchAll']).toBeGreaterThan(0);
  expect(w.rt.calls['AdminDirectory.Users.get']).toBeUndefined(); // listed, not looked up
  const ids = new Set(w.roster().map((r) => r.ID));
  expect(odd.filter((u) => !ids.has(u.id)).map((u) => u.primaryEmail)).toEqual([]);
  const inScope = dir.allUsers().filter((u) => /^\/(Students|Staff\/Teachers)\//.test(u.orgUnitPath));
  expect(inScope.filter((u) => !ids.has(u.id))).toEqual([]);
  expectEachAccountOnce(w);
});

type TriggerRunLike = { ok: boolean; atMs: number; result?: unknown };
