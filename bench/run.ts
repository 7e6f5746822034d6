// `npm run bench`: the built bundle (dist/Code.js) in the simulated Apps Script runtime, syncing
// generated districts on the hourly heartbeat (heartbeats exactly 60 minutes apart), under the
// calibrated latency model, its sensitivity (×0.5, ×2) and the old model. Writes bench/results.json
// (one object per case; bench/render.ts renders bench/results.md from it).
//
// Every bound is computed here from the generated directory and the sheets, independently of the
// add-on's code: directory calls = ceil(users / 500) + Σ over mapped groups ceil(derived members /
// 200) + 1 (orgunits.list); roster writes = parts + ceil(changed rows / 10,000).
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CALIBRATED_LATENCY, DEFAULT_LATENCY, LatencyModel, SimRuntime, scaledLatency } from '../emulator/runtime';
import { District, SyncRow, directoryBound, serverCall, sheetWrites, directoryPages, district, executionsBound, recordWall, round, snapshotOf, yearEnd } from './districts';
import type { Account } from '../src/core/model';
import type { PlanData } from './planWork';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const HOUR = 3_600_000;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One row of bench/results.json: exactly these fields. */
interface CaseResult extends SyncRow {
  /** The attribute case only: the directory calls of the same no-change sync without mapped attributes, just before. */
  directoryCallsWithoutAttributes?: number;
}

/** Attributes read from the directory user (Settings → Attributes): each adds a field to the reads, never a call. */
const BENCH_ATTRIBUTES = [
  { name: 'Student ID', source: 'externalIds.organization' },
  { name: 'Department', source: 'organizations.department' },
  { name: 'Given name', source: 'name.givenName' },
];

const MODELS: Record<string, LatencyModel> = {
  calibrated: CALIBRATED_LATENCY,
  'calibrated×0.5': scaledLatency(CALIBRATED_LATENCY, 0.5),
  'calibrated×2': scaledLatency(CALIBRATED_LATENCY, 2),
  'calibrated+slowREST': { ...CALIBRATED_LATENCY, restAtServiceLatency: true },
  old: DEFAULT_LATENCY,
};

/** Roster rows that differ before and after (by ID), plus rows added or removed. */
function changedRows(before: string[][], after: string[][]): number {
  const old = new Map(before.map((r) => [r[0], r.join('\u0001')]));
  let n = 0;
  const ids = new Set<string>();
  for (const r of after) {
    ids.add(r[0]);
    if (old.get(r[0]) !== r.join('\u0001')) n++;
  }
  for (const id of old.keys()) if (!ids.has(id)) n++;
  return n;
}

// ---- running scheduled syncs ---------------------------------------------------------------------

class Bench {
  readonly rt: SimRuntime;
  constructor(readonly d: District, readonly latency: LatencyModel) {
    this.rt = new SimRuntime({
      scriptPath: path.join(DIST, 'Code.js'),
      htmlDir: DIST,
      directory: d.dir,
      clockStartMs: Date.UTC(2026, 8, 1, 14),
      latency,
      exactHourlyTriggers: true,
      wallTimeoutMs: 600_000,
    });
    const state = this.call('useMyAccountForSync', {});
    this.call('saveSettings', { ...state.settings, rules: d.rules, threshold: { kind: 'percent', value: 100, windowHours: 24 }, cooldownMinutes: 0, schedule: { ...state.settings.schedule, mode: 'hourly' }, confirmLowerProtection: true });
  }

  call(fn: string, arg?: unknown): Json {
    return serverCall(this.rt, fn, arg);
  }

  private writes(sheet: string): number {
    return sheetWrites(this.rt, sheet);
  }

  private rosterRows(): string[][] {
    try {
      return (this.rt.sheetValues('Roster').slice(1) as string[][]).map((r) => r.map(String));
    } catch {
      return [];
    }
  }

  private historyRows(): string[][] {
    try {
      return (this.rt.sheetValues('Sync history').slice(1) as unknown[][]).map((r) => r.map(String));
    } catch {
      return [];
    }
  }

  /** Heartbeats (60 minutes apart) until a scheduled sync ends in History; at most 12. */
  scheduledSync(kind: CaseResult['kind'], model: string, label: string): CaseResult {
    const before = this.rosterRows();
    const rosterWrites0 = this.writes('Roster');
    const stateWrites0 = this.writes('Roster Sync state');
    const history0 = this.historyRows().length;
    const exec0 = this.rt.history.length;
    const bound = directoryBound(this.d);
    this.rt.resetCounters();
    let entry: string[] | undefined;
    for (let beat = 0; beat < 12 && !entry; beat++) {
      this.rt.advanceHours(1);
      entry = this.historyRows().slice(history0).find((r) => r.includes('scheduled'));
    }
    if (!entry) throw new Error(`${label}: no scheduled sync ended within 12 heartbeats`);
    const header = (this.rt.sheetValues('Sync history')[0] as string[]).map(String);
    const col = (name: string) => entry![header.indexOf(name)];
    const execs = this.rt.history.slice(exec0).filter((e) => e.fn === 'runScheduledSync');
    const parts = Number(col('Parts'));
    const after = this.rosterRows();
    const columns = (this.rt.sheetValues('Roster')[0] as unknown[]).length;
    const changed = changedRows(before, after);
    if (process.env.BENCH_DEBUG) console.log(label, JSON.stringify(this.rt.calls), execs.map((e) => `${((e.endMs - e.startMs) / 1000).toFixed(1)}s cpu ${(e.cpuMs / 1000).toFixed(2)}s`).join(' | '));
    const directoryCalls = Object.entries(this.rt.calls).filter(([k]) => k.startsWith('AdminDirectory.')).reduce((n, [, v]) => n + v, 0);
    return {
      id: label,
      users: this.d.dir.allUsers().length,
      groups: this.d.dir.allGroups().length,
      model,
      kind,
      trigger: 'scheduled',
      ok: col('Outcome') === 'success',
      parts,
      directoryCalls,
      directoryBound: bound,
      rosterWrites: this.writes('Roster') - rosterWrites0,
      rosterWriteBound: parts + Math.ceil(changed / 10_000),
      stateWrites: this.writes('Roster Sync state') - stateWrites0,
      simulatedSeconds: round(execs.reduce((n, e) => n + (e.endMs - e.startMs), 0) / 1000, 1),
      cpuSecondsNode: round(execs.reduce((n, e) => n + e.cpuMs, 0) / 1000, 2),
      executionsBound: executionsBound(this.latency, {
        ...directoryPages(this.d),
        cellsRead: before.length * columns,
        cellsWritten: changed * columns,
        setValuesCalls: Math.ceil(changed / 10_000),
      }).executions,
    };
  }
}

// ---- the planner in plain Node (bench/planner.json) ------------------------------------------------

/** The rollover's data as the planner gets it: the directory after the year end, the roster before it. */
function planData(d: District, rosterRows: string[][], now: number): PlanData {
  const snapshot = snapshotOf(d);
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const accounts: Account[] = rosterRows.map((r) => ({
    id: r[0], email: r[1], name: r[2], roles: list(r[3]), status: r[4] as Account['status'], permissions: list(r[5]), source: r[6] as Account['source'],
    orgUnitPath: r[7], lastSynced: r[8], syncedStatus: r[9] as Account['syncedStatus'], outOfScopeSince: r[10],
  }));
  return { rules: d.rules, snapshot, accounts, now: new Date(now).toISOString() };
}

interface PlanStats {
  bestMs: number;
  medianMs: number;
  /** Peak heap above the heap holding the input, during one run. */
  peakMb: number;
  changes: number;
}

/** bench/planWork.ts bundled by esbuild as the add-on is, so Node runs the planner's code as shipped. */
function planWork(): string {
  const out = path.join(os.tmpdir(), `roster-sync-planwork-${process.pid}.cjs`);
  if (fs.existsSync(out)) return out;
  buildSync({ entryPoints: [path.join(__dirname, 'planWork.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'warning' });
  process.on('exit', () => fs.rmSync(out, { force: true }));
  return out;
}

function child(which: 'plan' | 'bare', mode: 'time' | 'memory', file: string): { json: Json; out: string } {
  const flags = mode === 'memory' ? ['--max-semi-space-size=1'] : [];
  const r = spawnSync(process.execPath, ['--expose-gc', ...flags, planWork(), which, mode, file], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`planWork ${which} ${mode} failed: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`planWork ${which} ${mode} printed no result: ${r.stdout.slice(0, 500)}`);
  return { json: JSON.parse(line), out: r.stdout };
}

/** Times (best of 7) and weighs (peak heap of one run) one implementation, each in a fresh Node process. */
function measurePlan(file: string, which: 'plan' | 'bare'): PlanStats {
  const time = child(which, 'time', file).json;
  const memory = child(which, 'memory', file);
  const before = [...memory.out.matchAll(/: (?:Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\S*(?: \([^)]*\))? ([\d.]+) \(/g)].map((m) => Number(m[1]));
  const peak = Math.max(memory.json.endMb, ...before) - memory.json.baseMb;
  return { bestMs: time.bestMs, medianMs: time.medianMs, peakMb: peak, changes: time.changes };
}

interface PlannerResult {
  users: number;
  plan: PlanStats;
  bare: PlanStats;
}

function measurePlanner(data: PlanData): PlannerResult {
  const file = path.join(os.tmpdir(), `roster-sync-bench-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(data));
  try {
    const result = { users: data.snapshot.users.length, plan: measurePlan(file, 'plan'), bare: measurePlan(file, 'bare') };
    console.log(`  planner: ${result.plan.bestMs.toFixed(0)} ms (bare diff ${result.bare.bestMs.toFixed(0)} ms), peak ${result.plan.peakMb.toFixed(1)} MB (bare ${result.bare.peakMb.toFixed(1)} MB)`);
    return result;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

// ---- the cases ----------------------------------------------------------------------------------

const parts = (n: number | undefined) => `${n} part${n === 1 ? '' : 's'}`;

function log(r: CaseResult, wallMs: number): void {
  console.log(`  ${r.id}: ${r.ok ? 'ok' : 'NOT ok'}, ${parts(r.parts)} (executions bound ${r.executionsBound}), ${r.simulatedSeconds} s simulated, directory ${r.directoryCalls}/${r.directoryBound}, roster writes ${r.rosterWrites}/${r.rosterWriteBound}, state writes ${r.stateWrites}, ${r.cpuSecondsNode} s CPU, ${(wallMs / 1000).toFixed(1)} s wall`);
}

let planner: PlannerResult | null = null;

/** First, no-change and rollover syncs of the 100,000-user district with 3,000 nested class groups. */
function nestedCases(model: string): CaseResult[] {
  const d = district(100_000, 60);
  const b = new Bench(d, MODELS[model]);
  const out: CaseResult[] = [];
  const run = (kind: CaseResult['kind']) => {
    const t = Date.now();
    const r = b.scheduledSync(kind, model, `100k-classes-${kind}-${model}`);
    log(r, Date.now() - t);
    out.push(r);
  };
  run('first');
  run('nochange');
  const rosterBefore = (b.rt.sheetValues('Roster').slice(1) as unknown[][]).map((r) => r.map(String));
  yearEnd(d.dir);
  if (model === 'calibrated' && !planner) planner = measurePlanner(planData(d, rosterBefore, b.rt.nowMs()));
  run('rollover');
  if (model === 'calibrated') out.push(attributeCase(b, model));
  return out;
}

/** A no-change sync with mapped attributes against the same sync without them, on the same district: the same directory calls. */
function attributeCase(b: Bench, model: string): CaseResult {
  const t = Date.now();
  const without = b.scheduledSync('nochange', model, 'before mapping attributes');
  const state = b.call('getState');
  b.call('saveSettings', { ...state.settings, attributes: BENCH_ATTRIBUTES, confirmLowerProtection: true });
  b.scheduledSync('rollover', model, 'the attribute columns filled in');
  const r = { ...b.scheduledSync('nochange', model, `100k-classes-nochange-attributes-${model}`), directoryCallsWithoutAttributes: without.directoryCalls };
  log(r, Date.now() - t);
  return r;
}

function flatCase(users: number, model: string): CaseResult {
  const d = district(users, 0);
  const b = new Bench(d, MODELS[model]);
  const t = Date.now();
  const r = b.scheduledSync('first', model, `${users / 1000}k-first-${model}`);
  log(r, Date.now() - t);
  return r;
}

function main(): void {
  if (!fs.existsSync(path.join(DIST, 'Code.js'))) throw new Error('dist/Code.js is missing: run `npm run build` first (npm run bench does)');
  const started = Date.now();
  const models = (process.env.BENCH_MODELS ?? 'calibrated,calibrated×0.5,calibrated×2,calibrated+slowREST,old').split(',');
  const results: CaseResult[] = [];
  for (const model of models) {
    console.log(`model ${model}`);
    results.push(...nestedCases(model));
    if ((model === 'calibrated' || model === 'old') && !process.env.BENCH_NO_300K) results.push(flatCase(300_000, model));
  }
  // The other benches' rows (incremental-*, scim-*) stay; bench/render.ts renders bench/results.md from them all.
  const file = path.join(__dirname, 'results.json');
  const previous: unknown = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
  const others = Array.isArray(previous) ? previous.filter((r: { id?: string }) => /^(incremental|scim)-/.test(String(r.id))) : [];
  fs.writeFileSync(file, JSON.stringify([...results, ...others], null, 2) + '\n');
  if (planner) fs.writeFileSync(path.join(__dirname, 'planner.json'), JSON.stringify(planner, null, 2) + '\n');
  recordWall('run', (Date.now() - started) / 1000);
  console.log(`wrote bench/results.json in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main();
