// Shared by the fault suite's files (test/e2e/faults/*.test.ts): the built bundle (dist/Code.js) in the
// simulated Apps Script runtime, with failures injected where Google fails in real life. Each file records
// what it tried into .cache/reliability/faults-<file>.json (see scripts/reliability.ts, which renders
// docs/reliability.md from the records of every file).
import { afterKilled, world as harnessWorld, World } from '../harness';
import { DEMO_DOMAIN, generateDomain } from '../../../emulator/domain';
import { GoogleErrors } from '../../../emulator/runtime';
import type { SheetData } from '../../../emulator/fakes/sheetData';
import { CATALOG } from '../../../src/core/messages';
import { FaultPart, Recorder } from '../../../scripts/reliability';

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Row = Record<string, string>;
type WorldOptions = Parameters<typeof harnessWorld>[0];

/** One file of the fault suite: its recorder, and the helpers that run its copy of the built bundle or record into it. */
export function faultSuite(part: FaultPart) {
  const rec = new Recorder('faults', part);
  afterAll(() => rec.finish());
  /** A linked world running this file's copy of the built bundle. */
  const world = (options: WorldOptions = {}) => harnessWorld({ scriptPath: rec.bundle, ...options });
  return {
    rec,
    world,
    compareRoster: (w: World, expected: Row[]) => compareRoster(rec, w, expected),
    runToEnd: (w: World, cut?: { part: number; ms: number }) => runToEnd(rec, w, cut),
    bigWorld: () => bigWorld(world),
  };
}

/** A catalog message with its {placeholders} as wildcards. */
export function catalog(id: keyof typeof CATALOG): RegExp {
  const text = CATALOG[id].text;
  return new RegExp('^' + text.split(/\{\w+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*') + '$');
}

const TIME_COLUMNS = ['Last synced', 'Out of scope since'];
export const untimed = (r: Row) => JSON.stringify(Object.entries(r).filter(([k]) => !TIME_COLUMNS.includes(k)));

/** Raw values of a sheet (null when it does not exist), for "nothing changed" comparisons. */
export function sheetDump(w: World, name: string): string | null {
  try {
    return JSON.stringify(w.rt.sheetValues(name));
  } catch {
    return null;
  }
}

export function setLimit(w: World, ms: number): void {
  // The runtime reads its limit at every service call; tests lower it to cut an execution off mid-part.
  (w.rt as unknown as { executionLimitMs: number }).executionLimitMs = ms;
}

/**
 * Compares the roster with the one a clean run produced: every expected account present once,
 * nothing extra. Records accounts checked, lost and duplicated (asserted 0 by the caller).
 */
function compareRoster(rec: Recorder, w: World, expected: Row[]): { lost: number; duplicated: number; extra: number; differing: number } {
  const rows = w.roster();
  const ids = rows.map((r) => r.ID);
  const duplicated = ids.length - new Set(ids).size;
  const emails = rows.filter((r) => r.Status !== 'deleted').map((r) => r.Email);
  const duplicatedEmails = emails.length - new Set(emails).size;
  const have = new Map(rows.map((r) => [r.ID, r]));
  const want = new Map(expected.map((r) => [r.ID, r]));
  const lost = [...want.keys()].filter((id) => !have.has(id)).length;
  const extra = [...have.keys()].filter((id) => !want.has(id)).length;
  const differing = [...want.entries()].filter(([id, r]) => have.has(id) && untimed(have.get(id)!) !== untimed(r)).length;
  rec.count('accountsChecked', rows.length);
  rec.count('accountsLost', lost);
  rec.count('accountsDuplicated', duplicated + duplicatedEmails);
  return { lost, duplicated: duplicated + duplicatedEmails, extra, differing };
}

/** Lets hours pass until the hourly heartbeat has fired at least once (it fires at a random minute). */
export function beat(w: World): ReturnType<World['rt']['advanceHours']> {
  for (let i = 0; i < 3; i++) {
    const runs = w.rt.advanceHours(1);
    if (runs.length) return runs;
  }
  throw new Error('the heartbeat did not fire in 3 hours');
}

/** Lets hours pass until a heartbeat runs a sync (the schedule's slot may not be due at the first one). */
export function scheduledRun(w: World): Json {
  for (let i = 0; i < 3; i++) {
    const ran = beat(w).map((r) => r.result as Json).find((r) => r.state !== 'idle');
    if (ran) return ran;
  }
  throw new Error('no heartbeat ran a sync in 9 hours');
}

export const newest = (w: World) => {
  const h = w.history();
  return h[h.length - 1];
};

export const STAFF_RULES = [
  { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
  { id: 'teachers', type: 'ou', orgUnitPath: '/Staff/Teachers', includeSubOrgUnits: true, role: 'teacher' },
];

/** A domain of 1,600 people: users.list needs 4 pages of 500. */
function bigWorld(world: (options: WorldOptions) => World): World {
  const directory = generateDomain({ users: 1600, domain: DEMO_DOMAIN, seed: 11 });
  directory.addOrgUnit('/Alumni');
  return world({ directory, rules: STAFF_RULES });
}

/** In-scope users of the generated domain, computed from the directory without the add-on. */
export function expectedIds(w: World): Set<string> {
  return new Set(
    w.rt.directory
      .allUsers()
      .filter((u) => !u.suspended && !u.archived && (u.orgUnitPath.startsWith('/Students/') || u.orgUnitPath.startsWith('/Staff/Teachers/')))
      .map((u) => u.id),
  );
}

export const TRANSIENT = {
  '500 backendError': (m: string) => GoogleErrors.backendError(m),
  '503 unavailable': (m: string) => GoogleErrors.unavailable(m),
  '429 rateLimitExceeded': (m: string) => GoogleErrors.quotaExceeded(m),
  '403 userRateLimitExceeded': (m: string) => GoogleErrors.rateLimited(m),
};

// ---------- executions run to the end, cut off or not ----------

export interface CutRun {
  /** Each execution: its duration in simulated ms and the state it returned ('cut' when it was killed). */
  parts: { ms: number; state: string }[];
  result: Json;
}

/**
 * Runs a sync to the end as the sidebar does (Sync now, then continueSync while in progress; after a
 * cut-off the person presses Sync now again). `cut` kills execution number `cut.part` after `cut.ms`.
 */
function runToEnd(rec: Recorder, w: World, cut?: { part: number; ms: number }): CutRun {
  const parts: CutRun['parts'] = [];
  let last: Json = null;
  for (let i = 1; i <= 80; i++) {
    setLimit(w, cut && cut.part === i ? cut.ms : 360_000);
    const fn = last && last.state === 'in-progress' ? 'continueSync' : 'syncNow';
    const start = w.rt.nowMs();
    try {
      const env = w.envelope(fn, fn === 'syncNow' ? {} : undefined);
      if (!env.ok) throw new Error(`${fn}: ${env.error.text}`);
      last = env.data;
      parts.push({ ms: w.rt.nowMs() - start, state: last.state });
    } catch (error) {
      expect(String(error)).toContain('Exceeded maximum execution time');
      parts.push({ ms: w.rt.nowMs() - start, state: 'cut' });
      // Google releases a killed execution's locks; its sync lease expires after the time limit.
      rec.count('stuckLocks', w.rt.locks.held.size);
      expect(w.rt.locks.held.size).toBe(0);
      afterKilled(w.rt, start);
      last = null;
      continue;
    }
    if (last.state !== 'in-progress') break;
  }
  // Killed just after it had finished (releasing the lock, say): the next Sync now is inside the cooldown.
  if (last && last.state === 'refused' && parts.some((p) => p.state === 'cut')) last = { ...last, state: 'done' };
  setLimit(w, 360_000);
  return { parts, result: last };
}

// ---------- the Roster sheet ----------

export function rosterSheet(w: World): SheetData {
  return w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
}

export const ID_COL = 0;
export const EMAIL_COL = 1;
export const NAME_COL = 2;
