// `npm run bench`: the built bundle (dist/Code.js) in the simulated Apps Script runtime on generated
// domains of 1k, 10k and 100k users, and the core planner in plain Node. Writes bench/results.md.
//
// Per size: directory calls vs the lower bound; executions per sync vs the fewest the time model
// allows; roster writes on the first, the no-change and the rollover sync; plan time and memory vs a
// bare Map-based diff of the same data. Simulated times follow emulator/runtime.ts DEFAULT_LATENCY;
// absolute wall times depend on the machine and are informative only.
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LATENCY, SimRuntime } from '../emulator/runtime';
import { directoryLowerBound, generateDomain, rollover, scaleRules } from '../emulator/domain';
import type { FakeDirectoryState } from '../emulator/fakes/directoryState';
import type { Account, DirectorySnapshot } from '../src/core/model';
import { APPLY_BATCH } from '../src/core/sync';
import type { PlanData } from './planWork';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const DOMAIN = 'scale.example';
const EXECUTION_LIMIT_MS = 360_000;
/** The add-on's own budget, read from its source (src/gas/services.ts imports Apps Script-only code). */
const EXECUTION_BUDGET_MS = Number(/EXECUTION_BUDGET_MS = ([\d_]+)/.exec(fs.readFileSync(path.join(ROOT, 'src/gas/services.ts'), 'utf8'))![1].replace(/_/g, ''));
const HOUR = 3_600_000;

const RULES = scaleRules(DOMAIN);
/** Attributes mapped in the "with attributes" sync: OU-path parts, a Directory field and a custom schema field (projection=custom). */
const ATTRIBUTES = [
  { name: 'School', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'school' },
  { name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade' },
  { name: 'Title', source: 'organizations.title' },
  { name: 'Homeroom', source: 'customSchemas.Rostering.homeroom' },
];

/** Students in grades across schools, staff, groups, a chain of nested groups (nest-3 also inside group-1 and group-2), 2 % suspended. */
function domain(users: number): FakeDirectoryState {
  const dir = generateDomain({ users, nestedDepth: 3, suspendedRate: 0.02, seed: 42, domain: DOMAIN });
  dir.addMember(`group-1@${DOMAIN}`, `nest-3@${DOMAIN}`);
  dir.addMember(`group-2@${DOMAIN}`, `nest-3@${DOMAIN}`);
  dir.addMember(`group-2@${DOMAIN}`, `nest-2@${DOMAIN}`);
  return dir;
}

/** Year end between two syncs: every student up a grade, graduates to /Alumni (deactivated), 1 % newly suspended. */
function yearEnd(dir: FakeDirectoryState): void {
  rollover(dir, 'alumni');
  const students = dir.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended);
  for (let i = 0; i < students.length; i += 100) dir.suspend(students[i].primaryEmail, true);
}

/** ceil(U/500) users.list pages + one orgunits.list + Σ ceil(members/200) over every group reachable from a rule, each once. */
function directoryCallBound(dir: FakeDirectoryState): number {
  return directoryLowerBound(dir, RULES.flatMap((r) => (r.type === 'group' ? [r.groupEmail!] : []))).total;
}

// ---- running syncs in the simulated runtime ----------------------------------------------

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Measured {
  state: string;
  executions: number;
  simMs: number;
  longestPartMs: number;
  directoryCalls: number;
  rosterWrites: number;
  /** Contiguous blocks of changed rows, and those blocks merged across short gaps (see changedBlocks). */
  rosterBlocks: number;
  rosterSpans: number;
  /** Unchanged rows inside spans, written back as they were. */
  rosterGapRows: number;
  /** The fewest writes: one per span, and at least one per batch of APPLY_BATCH changes. */
  rosterWriteBound: number;
  stateWrites: number;
  applied: Record<string, number>;
  wallMs: number;
}

class Bench {
  readonly rt: SimRuntime;
  constructor(readonly dir: FakeDirectoryState, budgetMs: number | null, extraSettings: Json = {}) {
    this.rt = new SimRuntime({
      scriptPath: path.join(DIST, 'Code.js'),
      htmlDir: DIST,
      directory: dir,
      clockStartMs: Date.UTC(2026, 8, 1, 14),
      // null: the whole sync in one execution, to measure the total simulated work.
      globals: budgetMs === null ? { ROSTER_SYNC_BUDGET_MS: 1e12 } : {},
      executionLimitMs: budgetMs === null ? 1e12 : EXECUTION_LIMIT_MS,
      wallTimeoutMs: 600_000,
    });
    const state = this.call('useMyAccountForSync', {});
    this.call('saveSettings', { ...state.settings, rules: RULES, threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0, schedule: { ...state.settings.schedule, mode: 'off' }, ...extraSettings });
  }

  call(fn: string, arg?: unknown): Json {
    const r = this.rt.runFromBrowser(fn, arg === undefined ? [] : [arg]) as Json;
    if (!r?.ok) throw new Error(`${fn}: ${r?.error?.text ?? 'no envelope'}`);
    return r.data;
  }

  private writes(sheet: string): number {
    try {
      return this.rt.sheetData(this.rt.activeSpreadsheetId, sheet).writes;
    } catch {
      return 0;
    }
  }

  private rosterRows(): string[][] {
    try {
      return this.rt.sheetValues('Roster').slice(1) as string[][];
    } catch {
      return [];
    }
  }

  /** Sync now, then Continue for each part, as the sidebar does. */
  sync(): Measured {
    const wall = Date.now();
    const before = this.rosterRows();
    const rosterWrites = this.writes('Roster');
    const stateWrites = this.writes('Roster Sync state');
    const firstExec = this.rt.history.length;
    this.rt.resetCounters();
    let r = this.call('syncNow', {});
    while (r.state === 'in-progress') r = this.call('continueSync');
    const parts = this.rt.history.slice(firstExec);
    const after = this.rosterRows();
    return {
      state: r.state,
      executions: parts.length,
      simMs: parts.reduce((n, e) => n + (e.endMs - e.startMs), 0),
      longestPartMs: Math.max(...parts.map((e) => e.endMs - e.startMs)),
      directoryCalls: Object.entries(this.rt.calls).filter(([k]) => k.startsWith('AdminDirectory.')).reduce((n, [, v]) => n + v, 0),
      rosterWrites: this.writes('Roster') - rosterWrites,
      ...changedBlocks(before, after, r.applied),
      stateWrites: this.writes('Roster Sync state') - stateWrites,
      applied: r.applied,
      wallMs: Date.now() - wall,
    };
  }
}

/** The add-on's own span gap, read from its source (src/destinations/sheet/sheetRoster.ts is Apps Script code). */
const MAX_GAP_ROWS = Number(/MAX_GAP_ROWS = (\d+)/.exec(fs.readFileSync(path.join(ROOT, 'src/destinations/sheet/sheetRoster.ts'), 'utf8'))![1]);

/**
 * Rows that changed, counted on the sheet before and after (rows keep their place unless deleted;
 * appended rows make one block): contiguous blocks of changed rows, the spans those blocks make when
 * gaps of up to MAX_GAP_ROWS unchanged rows are bridged, and the unchanged rows inside the spans.
 */
function changedBlocks(before: string[][], after: string[][], applied: Record<string, number>): { rosterBlocks: number; rosterSpans: number; rosterGapRows: number; rosterWriteBound: number } {
  const afterById = new Map(after.map((r) => [r[0], r.join('\u0001')]));
  const changed = before.map((row) => afterById.get(row[0]) !== row.join('\u0001'));
  let blocks = 0;
  let spans = 0;
  let gapRows = 0;
  let lastChanged = -Infinity;
  changed.forEach((c, i) => {
    if (!c) return;
    if (i !== lastChanged + 1) blocks++;
    const gap = i - lastChanged - 1;
    if (gap > MAX_GAP_ROWS) spans++;
    else gapRows += gap;
    lastChanged = i;
  });
  const old = new Set(before.map((r) => r[0]));
  const appended = after.some((r) => !old.has(r[0])) ? 1 : 0;
  const batches = Math.ceil(Object.values(applied).reduce((a, b) => a + b, 0) / APPLY_BATCH);
  return { rosterBlocks: blocks + appended, rosterSpans: spans + appended, rosterGapRows: gapRows, rosterWriteBound: Math.max(spans + appended, batches) };
}

// ---- the planner in plain Node ---------------------------------------------------------------

function snapshotOf(dir: FakeDirectoryState): DirectorySnapshot {
  const groups = [];
  const queue = RULES.flatMap((r) => (r.type === 'group' ? [r.groupEmail!.toLowerCase()] : []));
  const seen = new Set<string>();
  while (queue.length) {
    const email = queue.shift()!;
    if (seen.has(email)) continue;
    seen.add(email);
    const g = dir.findGroup(email)!;
    const nested = g.members.filter((m) => m.type === 'GROUP').map((m) => dir.groupById(m.id)!.email.toLowerCase());
    groups.push({ email, userIds: g.members.filter((m) => m.type === 'USER').map((m) => m.id), groupEmails: nested });
    queue.push(...nested);
  }
  return {
    users: dir.allUsers().map((u) => ({ id: u.id, email: u.primaryEmail, name: u.name.fullName, orgUnitPath: u.orgUnitPath, suspended: u.suspended, archived: u.archived })),
    orgUnits: dir.allOrgUnits().map((o) => ({ orgUnitPath: o.orgUnitPath, name: o.name, parentOrgUnitPath: o.parentOrgUnitPath })),
    groups,
    missingGroups: [],
  };
}

function accountsOf(rows: string[][]): Account[] {
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  return rows.map((r) => ({
    id: r[0], email: r[1], name: r[2], roles: list(r[3]), status: r[4] as Account['status'], permissions: list(r[5]), source: r[6] as Account['source'],
    orgUnitPath: r[7], lastSynced: r[8], syncedStatus: r[9] as Account['syncedStatus'], outOfScopeSince: r[10],
  }));
}

interface PlanStats {
  bestMs: number;
  medianMs: number;
  /** Peak heap above the heap holding the input, during one run. */
  peakMb: number;
  changes: number;
}

/**
 * bench/planWork.ts bundled by esbuild as the add-on is (plain JavaScript, no test-time loader or
 * name-keeping wrappers), so Node runs the planner's code as shipped.
 */
let planWorkJs: string | null = null;
function planWork(): string {
  if (planWorkJs) return planWorkJs;
  const out = path.join(os.tmpdir(), `roster-sync-planwork-${process.pid}.cjs`);
  buildSync({ entryPoints: [path.join(__dirname, 'planWork.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'warning' });
  process.on('exit', () => fs.rmSync(out, { force: true }));
  return (planWorkJs = out);
}

function child(which: 'plan' | 'bare', mode: 'time' | 'memory', file: string): { json: Json; out: string } {
  const flags = mode === 'memory' ? ['--max-semi-space-size=1'] : [];
  const r = spawnSync(process.execPath, ['--expose-gc', ...flags, planWork(), which, mode, file], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`planWork ${which} ${mode} failed: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`planWork ${which} ${mode} printed no result: ${r.stdout.slice(0, 500)}`);
  return { json: JSON.parse(line), out: r.stdout };
}

/** Times and weighs one implementation, each in a fresh Node process (bench/planWork.ts). */
function measurePlan(file: string, which: 'plan' | 'bare'): PlanStats {
  const time = child(which, 'time', file).json;
  const memory = child(which, 'memory', file);
  const before = [...memory.out.matchAll(/: (?:Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\S*(?: \([^)]*\))? ([\d.]+) \(/g)].map((m) => Number(m[1]));
  const peak = Math.max(memory.json.endMb, ...before) - memory.json.baseMb;
  return { bestMs: time.bestMs, medianMs: time.medianMs, peakMb: peak, changes: time.changes };
}

// ---- the run ------------------------------------------------------------------------------------

interface SizeResult {
  users: number;
  groupsRead: number;
  bound: { first: number; rollover: number };
  first: Measured;
  /** The first sync of the same domain with ATTRIBUTES mapped. */
  firstWithAttributes: Measured;
  noChange: Measured;
  rolloverSync: Measured;
  work: { first: number; noChange: number; rolloverSync: number };
  plan: PlanStats;
  bare: PlanStats;
  setupMs: number;
}

function runSize(users: number): SizeResult {
  const setup = Date.now();
  const dirA = domain(users);
  const dirB = domain(users);
  const multi = new Bench(dirA, EXECUTION_BUDGET_MS);
  const single = new Bench(dirB, null);
  const setupMs = Date.now() - setup;
  const log = (what: string, m: Measured) => console.log(`  ${users} ${what}: ${m.state}, ${m.executions} executions, ${(m.simMs / 1000).toFixed(1)} s simulated, ${m.directoryCalls} directory calls, ${m.rosterWrites} roster writes, ${m.wallMs} ms wall`);

  const boundFirst = directoryCallBound(dirA);
  const first = multi.sync();
  log('first sync', first);
  const workFirst = single.sync().simMs;
  const firstWithAttributes = new Bench(domain(users), EXECUTION_BUDGET_MS, { attributes: ATTRIBUTES }).sync();
  log('first sync with attributes', firstWithAttributes);
  const next = (b: Bench) => b.rt.setClock(b.rt.nowMs() + HOUR);
  next(multi);
  next(single);
  const noChange = multi.sync();
  log('no-change sync', noChange);
  const workNoChange = single.sync().simMs;

  // The planner on the rollover's data: the roster after the first sync against the directory after the year end.
  const rosterBefore = accountsOf(multi.rt.sheetValues('Roster').slice(1) as string[][]);
  next(multi);
  next(single);
  yearEnd(dirA);
  yearEnd(dirB);
  const boundRollover = directoryCallBound(dirA);
  const data: PlanData = { rules: RULES, snapshot: snapshotOf(dirA), accounts: rosterBefore, now: new Date(multi.rt.nowMs()).toISOString() };
  const rolloverSync = multi.sync();
  log('rollover sync', rolloverSync);
  const workRollover = single.sync().simMs;

  const file = path.join(os.tmpdir(), `roster-sync-bench-${process.pid}-${users}.json`);
  fs.writeFileSync(file, JSON.stringify(data));
  const plan = measurePlan(file, 'plan');
  const bare = measurePlan(file, 'bare');
  if (!process.env.BENCH_KEEP_DATA) fs.rmSync(file, { force: true });
  console.log(`  ${users} plan: ${plan.bestMs.toFixed(1)} ms (bare diff ${bare.bestMs.toFixed(1)} ms), peak ${plan.peakMb.toFixed(1)} MB (bare ${bare.peakMb.toFixed(1)} MB)`);
  return {
    users,
    groupsRead: data.snapshot.groups.length,
    bound: { first: boundFirst, rollover: boundRollover },
    first,
    firstWithAttributes,
    noChange,
    rolloverSync,
    work: { first: workFirst, noChange: workNoChange, rolloverSync: workRollover },
    plan,
    bare,
    setupMs,
  };
}

const fmt = (n: number, d = 2) => n.toFixed(d);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function report(results: SizeResult[], totalMs: number): string {
  const rows = (f: (r: SizeResult) => string[]) => results.map((r) => `| ${r.users.toLocaleString('en-US')} | ${f(r).join(' | ')} |`).join('\n');
  const minExec = (work: number) => Math.max(1, Math.ceil(work / EXECUTION_BUDGET_MS));
  const big = results.find((r) => r.users === Math.max(...SIZES))!;
  const lat = DEFAULT_LATENCY.perMethod;
  const used = ['AdminDirectory.Users.list', 'AdminDirectory.Members.list', 'AdminDirectory.Orgunits.list', 'Range.getValues', 'Range.setValues', 'Range.*', 'Sheet.insertRowsAfter', 'Sheet.deleteRows', 'Sheet.*', 'Spreadsheet.insertSheet', 'Spreadsheet.*', 'Properties.*', 'Lock.*'];
  return `# Benchmark results

Generated by \`npm run bench\` (\`bench/run.ts\`) on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}).
The whole run took **${s(totalMs)}** of wall time (the goal is under 10 minutes).

Each size is a domain from \`generateDomain\` (students across schools and grades, staff, groups of 10–300 members,
a chain of three nested groups with \`nest-3\` also nested in \`group-1\` and \`group-2\`, 2 % suspended) synced with
five rules (OU \`/Students\`, OU \`/Staff/Teachers\`, groups \`nest-1\`, \`group-1\`, \`group-2\`). Three syncs run on the
built bundle in the simulated runtime, as the sidebar runs them (Sync now, then Continue for each part): the
**first** sync, a **no-change** sync, and after a year-end **rollover** (every student one grade up, graduates to
/Alumni and so deactivated, 1 % of students newly suspended) the **rollover** sync.

## Directory API calls (goal: ratio 1.00)

Lower bound = ceil(users / 500) \`users.list\` pages + 1 \`orgunits.list\` + Σ ceil(members / 200) \`members.list\` pages
over every group reachable from a rule, each group once however often it is nested.

| users | groups read | first sync: calls / bound | ratio | rollover sync: calls / bound | ratio | no-change sync: calls | first sync with ${ATTRIBUTES.length} attributes: calls |
|---:|---:|---:|---:|---:|---:|---:|---:|
${rows((r) => [String(r.groupsRead), `${r.first.directoryCalls} / ${r.bound.first}`, fmt(r.first.directoryCalls / r.bound.first), `${r.rolloverSync.directoryCalls} / ${r.bound.rollover}`, fmt(r.rolloverSync.directoryCalls / r.bound.rollover), String(r.noChange.directoryCalls), String(r.firstWithAttributes.directoryCalls)])}

Mapped attributes (${ATTRIBUTES.map((a) => a.name).join(', ')}: OU-path parts, \`organizations.title\`, a custom schema field) add
fields to the same \`users.list\` pages (and \`projection=custom\`), never a call.

No \`users.get\`, \`members.get\` or \`members.hasMember\` call is made by a sync.

## Executions per sync (simulated time)

Execution budget ${s(EXECUTION_BUDGET_MS)} (\`EXECUTION_BUDGET_MS\`), Apps Script limit ${s(EXECUTION_LIMIT_MS)}. "Work" is the simulated
time of the same sync run in a single execution with no budget (same domain, same model); the minimum is
ceil(work / budget). Extra executions come from what a part repeats: reading the roster and the saved snapshot
back and planning again, and saving the checkpoint.

| users | sync | executions | minimum | ratio | simulated time | work | longest part |
|---:|---|---:|---:|---:|---:|---:|---:|
${results
  .flatMap((r) =>
    ([['first', r.first, r.work.first], ['no-change', r.noChange, r.work.noChange], ['rollover', r.rolloverSync, r.work.rolloverSync]] as [string, Measured, number][]).map(
      ([name, m, work]) => `| ${r.users.toLocaleString('en-US')} | ${name} | ${m.executions} | ${minExec(work)} | ${fmt(m.executions / minExec(work))} | ${s(m.simMs)} | ${s(work)} | ${s(m.longestPartMs)} |`,
    ),
  )
  .join('\n')}

Simulated latencies (\`DEFAULT_LATENCY\` in \`emulator/runtime.ts\`; a call costs its method's latency, plus
${DEFAULT_LATENCY.perCellMs} ms per cell read or written by a Range call, rounded up to whole ms; ${DEFAULT_LATENCY.startupMs} ms start-up per execution):

| call | ms |
|---|---:|
${used.map((k) => `| \`${k}\` | ${lat[k]} |`).join('\n')}
| anything else | ${DEFAULT_LATENCY.defaultMs} |

## Destination writes (Roster sheet: setValues + deleteRows)

Rows are compared before and after each sync (appended rows form one block). A **block** is a run of
contiguous changed rows; one write per block is the fewest a sync can make without writing unchanged rows.
Changed rows at most ${MAX_GAP_ROWS} rows apart are written together as one **span** (\`MAX_GAP_ROWS\`): the
unchanged rows between them are read back first and written as they were (a row a person edited meanwhile makes
the span fall back to one write per block). A sync writes at most ${APPLY_BATCH} changes per destination call so
that each batch is a checkpoint (\`APPLY_BATCH\`). The bound is therefore one write per span, and at least one
per batch: max(spans, ceil(changes / ${APPLY_BATCH})); the first sync's appends make one write per batch, and it
also writes the header row of the new sheet.

| users | first sync: writes / bound | rollover sync: writes / bound | ratio | rollover: blocks / spans | rollover: unchanged rows written back | no-change sync: writes (goal 0) | state sheet writes (first / no-change / rollover) |
|---:|---:|---:|---:|---:|---:|---:|---:|
${rows((r) => [`${r.first.rosterWrites} / ${r.first.rosterWriteBound}`, `${r.rolloverSync.rosterWrites} / ${r.rolloverSync.rosterWriteBound}`, fmt(r.rolloverSync.rosterWrites / Math.max(1, r.rolloverSync.rosterWriteBound)), `${r.rolloverSync.rosterBlocks} / ${r.rolloverSync.rosterSpans}`, String(r.rolloverSync.rosterGapRows), String(r.noChange.rosterWrites), `${r.first.stateWrites} / ${r.noChange.stateWrites} / ${r.rolloverSync.stateWrites}`])}

Changes applied: ${results.map((r) => `${r.users.toLocaleString('en-US')}: first ${r.first.applied.create} created; rollover ${r.rolloverSync.applied.update} updated, ${r.rolloverSync.applied.deactivate} deactivated`).join('; ')}.

## Core planning in Node (the rollover plan)

\`makePlan\` (\`src/core/plan.ts\`: rules with sub-OUs and nested groups, a reason for every change, lifecycle,
threshold) against a bare Map-based diff of the same data (desired roles from OU prefixes and flattened groups,
compared field by field with a Map of the accounts, no reasons: \`bareDiff\` in \`bench/planWork.ts\`). Each is
measured in fresh Node processes on the same JSON: time is the fastest of 7 runs after a warm-up (the median in
brackets: this machine is shared, and slower runs measure the neighbours too); peak memory is the most heap in use
during one run above the heap holding the input (V8 with a 1 MB young generation, so it collects every few hundred
KB, and \`--trace-gc\` reporting the heap before each collection). Both produce the same number of changes.

| users | changes (plan / bare) | plan time | bare diff | time ratio (goal ≤ 3) | peak heap (plan / bare) | peak ratio (goal ≤ 3) |
|---:|---:|---:|---:|---:|---:|---:|
${rows((r) => [`${r.plan.changes} / ${r.bare.changes}`, `${fmt(r.plan.bestMs, 1)} ms (${fmt(r.plan.medianMs, 1)})`, `${fmt(r.bare.bestMs, 1)} ms (${fmt(r.bare.medianMs, 1)})`, fmt(r.plan.bestMs / r.bare.bestMs), `${fmt(r.plan.peakMb, 1)} / ${fmt(r.bare.peakMb, 1)} MB`, fmt(r.plan.peakMb / r.bare.peakMb)])}

Scaling: ${results.map((r) => `${fmt((r.plan.bestMs / r.users) * 1000, 2)} µs per user at ${r.users.toLocaleString('en-US')}`).join(', ')} (linear: constant per user).
Planning ${big.users.toLocaleString('en-US')} users takes ${fmt(big.plan.bestMs / 1000, 2)} s (goal < 2 s).

## Wall time per size

| users | setup (2 domains, 2 runtimes) | first | no-change | rollover |
|---:|---:|---:|---:|---:|
${rows((r) => [s(r.setupMs), s(r.first.wallMs), s(r.noChange.wallMs), s(r.rolloverSync.wallMs)])}
`;
}

function main(): void {
  if (!fs.existsSync(path.join(DIST, 'Code.js'))) throw new Error('dist/Code.js is missing: run `npm run build` first (npm run bench does)');
  const started = Date.now();
  const results: SizeResult[] = [];
  for (const users of SIZES) {
    console.log(`${users} users`);
    results.push(runSize(users));
  }
  const out = path.join(__dirname, 'results.md');
  fs.writeFileSync(out, report(results, Date.now() - started));
  console.log(`wrote ${path.relative(ROOT, out)} in ${s(Date.now() - started)}`);
}

main();
