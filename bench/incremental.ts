// `npm run bench` (after bench/run.ts): incremental syncs on a generated 100,000-user domain, the
// built bundle (dist/Code.js) in the simulated Apps Script runtime under the calibrated latency model.
// Adds its rows to bench/results.json (replacing earlier incremental-* rows, keeping every other one):
// - an incremental sync with no change: Directory + Reports calls (goal ≤ 5), parts (goal 1), roster
//   cells read (goal 0: no read of the whole sheet when nothing changed);
// - an incremental sync with 100 changed users: calls (goal ≤ 110), parts;
// - the daily total of calls for an hourly schedule: today's 24 full syncs against one nightly full
//   sync and 23 incremental ones (one of them with the 100 changes).
import fs from 'node:fs';
import path from 'node:path';
import { CALIBRATED_LATENCY, SimRuntime } from '../emulator/runtime';
import { generateDomain, scaleRules } from '../emulator/domain';
import type { FakeDirectoryState } from '../emulator/fakes/directoryState';
import { directoryPages, executionsBound, recordWall } from './districts';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const RESULTS = path.join(__dirname, 'results.json');
const USERS = Number(process.env.BENCH_INCREMENTAL_USERS ?? 100_000);
const DOMAIN = 'scale.example';
const RULES = scaleRules(DOMAIN);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The domain bench/run.ts measures: students in grades across schools, staff, groups, nested groups, 2 % suspended. */
function domain(users: number): FakeDirectoryState {
  const dir = generateDomain({ users, nestedDepth: 3, suspendedRate: 0.02, seed: 42, domain: DOMAIN });
  dir.addMember(`group-1@${DOMAIN}`, `nest-3@${DOMAIN}`);
  dir.addMember(`group-2@${DOMAIN}`, `nest-3@${DOMAIN}`);
  dir.addMember(`group-2@${DOMAIN}`, `nest-2@${DOMAIN}`);
  return dir;
}

interface Run {
  state: string;
  kind: string;
  parts: number;
  directoryCalls: number;
  reportsCalls: number;
  rosterCellsRead: number;
  /** Simulated time of its parts (emulator/runtime.ts DEFAULT_LATENCY). */
  simMs: number;
  applied: Record<string, number>;
  message: string;
}

class Bench {
  readonly rt: SimRuntime;
  constructor(readonly dir: FakeDirectoryState) {
    this.rt = new SimRuntime({ scriptPath: path.join(DIST, 'Code.js'), htmlDir: DIST, directory: dir, clockStartMs: Date.UTC(2026, 8, 1, 14), wallTimeoutMs: 600_000, latency: CALIBRATED_LATENCY });
    const state = this.call('useMyAccountForSync', {});
    this.call('saveSettings', { ...state.settings, rules: RULES, threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0, confirmLowerProtection: true });
  }

  call(fn: string, arg?: unknown): Json {
    const r = this.rt.runFromBrowser(fn, arg === undefined ? [] : [arg]) as Json;
    if (!r?.ok) throw new Error(`${fn}: ${r?.error?.text ?? 'no envelope'}`);
    return r.data;
  }

  private cellsRead(): number {
    try {
      return this.rt.sheetData(this.rt.activeSpreadsheetId, 'Roster').cellsRead;
    } catch {
      return 0;
    }
  }

  /** One sync as the sidebar runs it (each part until done): Sync now, or Sync changes. */
  sync(fn: 'syncNow' | 'syncChanges'): Run {
    const first = this.rt.history.length;
    const cells = this.cellsRead();
    this.rt.resetCounters();
    let r = this.call(fn, fn === 'syncNow' ? {} : undefined);
    while (r.state === 'in-progress') r = this.call('continueSync');
    const count = (prefix: string) => Object.entries(this.rt.calls).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
    return {
      state: r.state,
      kind: r.kind,
      parts: this.rt.history.length - first,
      directoryCalls: count('AdminDirectory.'),
      reportsCalls: count('AdminReports.'),
      rosterCellsRead: this.cellsRead() - cells,
      simMs: this.rt.history.slice(first).reduce((n, e) => n + (e.endMs - e.startMs), 0),
      applied: r.applied,
      message: r.message,
    };
  }

  later(minutes: number): void {
    this.rt.setClock(this.rt.nowMs() + minutes * 60_000);
  }
}

/** 100 users changed in the Admin console: 25 suspended, 25 moved to another grade, 25 renamed, 25 new. */
function hundredChanges(dir: FakeDirectoryState): void {
  const students = dir.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended);
  for (let i = 0; i < 25; i++) dir.suspend(students[i * 7].primaryEmail);
  for (let i = 0; i < 25; i++) {
    const u = students[i * 7 + 1];
    dir.moveUser(u.primaryEmail, u.orgUnitPath.endsWith('Grade 9') ? u.orgUnitPath.replace('Grade 9', 'Grade 10') : u.orgUnitPath.replace(/Grade \d+$/, 'Grade 9'));
  }
  for (let i = 0; i < 25; i++) dir.renameUser(students[i * 7 + 2].primaryEmail, 'Renamed', `Student ${i}`);
  for (let i = 0; i < 25; i++) dir.addUser({ email: `new.student.${i}@${DOMAIN}`, givenName: 'New', familyName: `Student ${i}`, orgUnitPath: '/Students/School 1/Grade 9' });
}

/** One row of bench/results.json: the fields bench/run.ts writes, and what this case measures besides. */
interface CaseRow {
  id: string;
  users: number;
  groups: number;
  model: string;
  kind: string;
  trigger: 'syncChanges' | 'day';
  ok: boolean;
  parts: number;
  directoryCalls: number;
  reportsCalls: number;
  simulatedSeconds: number;
  /** ceil(the least calls' time under the model / 270 s): see executionsBound in bench/districts.ts. */
  executionsBound: number;
  goal: string;
  [measure: string]: number | string | boolean;
}

function main(): void {
  const wall = Date.now();
  const b = new Bench(domain(USERS));
  const full = b.sync('syncNow');
  if (full.state !== 'done') throw new Error(`first full sync: ${full.state} ${full.message}`);
  b.later(30);
  const fullNoChange = b.sync('syncNow');
  b.later(30);
  const quiet = b.sync('syncChanges');
  b.later(30);
  hundredChanges(b.dir);
  b.later(5);
  const hundred = b.sync('syncChanges');
  const calls = (r: Run) => r.directoryCalls + r.reportsCalls;
  const changedUsers = Object.values(hundred.applied).reduce((a, n) => a + n, 0);

  // Executions from first principles: a quiet incremental sync reads one Reports page; one with changes also
  // looks up each changed user and reads and writes the roster; a full sync reads the whole directory.
  const columns = (b.rt.sheetValues('Roster')[0] as unknown[]).length;
  const rosterRows = b.rt.sheetValues('Roster').length - 1;
  const bound = (w: Parameters<typeof executionsBound>[1]) => executionsBound(CALIBRATED_LATENCY, w).executions;
  const quietBound = bound({ reportsPages: 1 });
  const hundredBound = bound({ reportsPages: 1, usersGets: 100, cellsRead: rosterRows * columns, cellsWritten: 100 * columns });
  const fullBound = bound({ ...directoryPages({ dir: b.dir, rules: RULES, mappedGroups: RULES.flatMap((r) => (r.type === 'group' ? [String(r.groupEmail).toLowerCase()] : [])) }), cellsRead: rosterRows * columns });

  const today = 24 * calls(fullNoChange);
  const withIncremental = calls(fullNoChange) + 22 * calls(quiet) + calls(hundred);
  const base = { users: USERS, groups: b.dir.allGroups().length, model: 'calibrated' };
  const row = (id: string, kind: string, r: Run, executions: number, goal: string, ok: boolean, extra: Record<string, number | string>): CaseRow => ({
    id, ...base, kind, trigger: 'syncChanges', ok, parts: r.parts, directoryCalls: r.directoryCalls, reportsCalls: r.reportsCalls, simulatedSeconds: r.simMs / 1000, executionsBound: executions, goal, ...extra,
  });
  const rows: CaseRow[] = [
    row('incremental-nochange', 'incremental', quiet, quietBound, '≤ 5 Directory/Reports calls, 1 part, no roster cell read', quiet.kind === 'incremental' && calls(quiet) <= 5 && quiet.parts === 1 && quiet.rosterCellsRead === 0, { rosterCellsRead: quiet.rosterCellsRead }),
    row('incremental-100changed', 'incremental', hundred, hundredBound, '≤ 110 Directory/Reports calls', hundred.kind === 'incremental' && calls(hundred) <= 110 && changedUsers === 100, { accountsChanged: changedUsers }),
    {
      id: 'incremental-dailycalls', ...base, kind: 'day', trigger: 'day', ok: withIncremental < today, parts: 0,
      directoryCalls: fullNoChange.directoryCalls + 22 * quiet.directoryCalls + hundred.directoryCalls,
      reportsCalls: fullNoChange.reportsCalls + 22 * quiet.reportsCalls + hundred.reportsCalls,
      simulatedSeconds: (fullNoChange.simMs + 22 * quiet.simMs + hundred.simMs) / 1000,
      executionsBound: fullBound + 22 * quietBound + hundredBound,
      goal: 'an hourly schedule: one nightly full sync and 23 incremental ones (one with 100 changes) against 24 full syncs',
      fullSyncCalls: calls(fullNoChange), hourlyFullSyncCalls: today, ratio: Number((today / withIncremental).toFixed(1)),
    },
  ];
  const previous: unknown = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, 'utf8')) : [];
  const others = Array.isArray(previous) ? previous.filter((r: { id?: string }) => !String(r.id).startsWith('incremental-')) : [];
  fs.writeFileSync(RESULTS, JSON.stringify([...others, ...rows], null, 2) + '\n');
  recordWall('incremental', (Date.now() - wall) / 1000);
  for (const r of rows) console.log(`${r.ok ? 'met ' : 'MISS'} ${r.id}: ${r.directoryCalls} Directory + ${r.reportsCalls} Reports calls, ${r.parts} part(s), ${r.simulatedSeconds.toFixed(1)} s (goal: ${r.goal})`);
  console.log(`incremental bench on ${USERS} users in ${((Date.now() - wall) / 1000).toFixed(0)} s → ${path.relative(ROOT, RESULTS)}`);
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
}

main();
