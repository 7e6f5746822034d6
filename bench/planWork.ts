// One planner measurement in a fresh Node process (bench/run.ts bundles this file with esbuild and runs):
//   node --expose-gc planWork.cjs plan|bare time data.json
//     → {"bestMs", "medianMs", "changes"}: of 7 runs after a warm-up
//   node --expose-gc --max-semi-space-size=1 planWork.cjs plan|bare memory data.json
//     → {"baseMb", "endMb", "changes"} on one line of JSON, then V8's --trace-gc
//       lines of the run (the caller takes the largest heap-before-collection as the peak).
import fs from 'node:fs';
import v8 from 'node:v8';
import type { Account, DirectorySnapshot } from '../src/core/model';
import { makePlan } from '../src/core/plan';
import { Rule, validateSettings, defaultSettings } from '../src/core/settings';
import { DESTINATIONS } from '../src/destinations';

export interface PlanData {
  rules: unknown[];
  snapshot: DirectorySnapshot;
  accounts: Account[];
  now: string;
}

/**
 * The least work a diff of this data can do: desired roles from OU prefixes and flattened group
 * membership, compared field by field with a Map of the accounts. No reasons, no lifecycle rules.
 */
export function bareDiff(data: PlanData, rules: Rule[], order: string[], implied: Record<string, string[]>): { kind: string; id: string }[] {
  const groups = new Map(data.snapshot.groups.map((g) => [g.email, g]));
  const flat = (email: string): Set<string> => {
    const out = new Set<string>();
    const stack = [email];
    const seen = new Set<string>();
    while (stack.length) {
      const g = groups.get(stack.pop()!);
      if (!g || seen.has(g.email)) continue;
      seen.add(g.email);
      for (const id of g.userIds) out.add(id);
      stack.push(...g.groupEmails);
    }
    return out;
  };
  const members = new Map(rules.flatMap((r) => (r.type === 'group' ? [[r.id, flat(r.groupEmail.toLowerCase())] as const] : [])));
  const byId = new Map(data.accounts.map((a) => [a.id, a]));
  const changes: { kind: string; id: string }[] = [];
  const wanted = new Set<string>();
  for (const u of data.snapshot.users) {
    const has = new Set<string>();
    for (const r of rules) {
      const hit = r.type === 'ou' ? u.orgUnitPath === r.orgUnitPath || u.orgUnitPath.startsWith(`${r.orgUnitPath}/`) : members.get(r.id)!.has(u.id);
      if (hit) {
        has.add(r.role);
        for (const x of implied[r.role] ?? []) has.add(x);
      }
    }
    if (!has.size) continue;
    const roles = order.filter((r) => has.has(r));
    wanted.add(u.id);
    const status = u.suspended || u.archived ? 'suspended' : 'active';
    const a = byId.get(u.id);
    if (!a) {
      if (status === 'active') changes.push({ kind: 'create', id: u.id });
    }
    else if (a.email !== u.email || a.name !== u.name || a.orgUnitPath !== u.orgUnitPath || a.status !== status || a.roles.join(',') !== roles.join(',')) changes.push({ kind: 'update', id: u.id });
  }
  for (const a of data.accounts) if (!wanted.has(a.id) && a.status !== 'disabled') changes.push({ kind: 'deactivate', id: a.id });
  return changes;
}

function main(): void {
  const [which, mode, file] = process.argv.slice(2);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as PlanData;
  const settings = validateSettings({ ...defaultSettings(), rules: data.rules, threshold: { kind: 'percent', value: 100 } }, DESTINATIONS);
  const run = which === 'plan'
    ? () => makePlan({ settings, snapshot: data.snapshot, accounts: data.accounts, now: data.now }).changes
    : () => bareDiff(data, settings.rules, settings.roles, settings.impliedRoles);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  run(); // warm-up (JIT)
  if (mode === 'time') {
    const times: number[] = [];
    let changes = 0;
    for (let i = 0; i < 7; i++) {
      gc();
      const t = process.hrtime.bigint();
      changes = run().length;
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    // The fastest run: on a shared machine the others measure the neighbours as well.
    console.log(JSON.stringify({ bestMs: times[0], medianMs: times[3], changes }));
    return;
  }
  // Peak heap: with a 1 MB semi-space V8 collects every few hundred KB, and --trace-gc reports the
  // heap in use before each collection; the largest of those (or the heap at the end) is the peak.
  gc();
  gc();
  const base = process.memoryUsage().heapUsed;
  v8.setFlagsFromString('--trace-gc');
  const result = run();
  v8.setFlagsFromString('--no-trace-gc');
  const end = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ baseMb: base / MB, endMb: end / MB, changes: result.length }));
}

const MB = 1 << 20;

if (require.main === module) main();
