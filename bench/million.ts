// `npm run bench`: the planner side of a district of a million accounts (BENCH_MILLION_USERS), in plain Node:
// the directory generated, read into a snapshot, planned for a first sync (an empty roster) and planned again
// with nothing changed (the roster the first plan makes). Times and the heap in use → bench/million.json, the
// figures docs/scale.md extrapolates from.
import fs from 'node:fs';
import path from 'node:path';
import { makePlan } from '../src/core/plan';
import type { Account } from '../src/core/model';
import { defaultSettings, validateSettings } from '../src/core/settings';
import { DESTINATIONS } from '../src/destinations';
import { district, recordWall, round, snapshotOf } from './districts';

const USERS = Number(process.env.BENCH_MILLION_USERS ?? 1_000_000);
const MB = 1 << 20;

function timed<T>(work: () => T): { value: T; seconds: number } {
  const t = process.hrtime.bigint();
  const value = work();
  return { value, seconds: round(Number(process.hrtime.bigint() - t) / 1e9, 2) };
}

function main(): void {
  const wall = Date.now();
  const generated = timed(() => district(USERS, 0));
  const d = generated.value;
  const snapshot = timed(() => snapshotOf(d));
  const settings = validateSettings({ ...defaultSettings(), rules: d.rules, threshold: { kind: 'percent', value: 100 } }, DESTINATIONS);
  const now = new Date(Date.UTC(2026, 8, 1, 14)).toISOString();
  const first = timed(() => makePlan({ settings, snapshot: snapshot.value, accounts: [], now }));
  const roster: Account[] = first.value.changes.flatMap((c) => (c.after ? [c.after] : []));
  const nochange = timed(() => makePlan({ settings, snapshot: snapshot.value, accounts: roster, now }));
  const result = {
    users: d.dir.allUsers().length,
    accounts: roster.length,
    generateSeconds: generated.seconds,
    snapshotSeconds: snapshot.seconds,
    firstPlanSeconds: first.seconds,
    firstPlanChanges: first.value.changes.length,
    nochangePlanSeconds: nochange.seconds,
    nochangePlanChanges: nochange.value.changes.length,
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / MB),
    snapshotJsonMb: round(Buffer.byteLength(JSON.stringify(snapshot.value.users)) / MB, 1),
    wallSeconds: Math.round((Date.now() - wall) / 1000),
  };
  fs.writeFileSync(path.join(__dirname, 'million.json'), JSON.stringify(result, null, 2) + '\n');
  recordWall('million', (Date.now() - wall) / 1000);
  console.log(`planner side of ${USERS} users: ${JSON.stringify(result)}`);
}

main();
