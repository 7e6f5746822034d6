// `npm run bench`, last step: renders bench/results.md from bench/results.json (every bench's rows),
// bench/planner.json and bench/wall.json. Every goal's pass or fail is computed here from the figures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HEADROOM_SHARE, TARGET_USERS, WORKSPACE_URLFETCH_PER_DAY } from './scimFigures';

type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const read = (name: string): any => (fs.existsSync(path.join(__dirname, name)) ? JSON.parse(fs.readFileSync(path.join(__dirname, name), 'utf8')) : null); // eslint-disable-line @typescript-eslint/no-explicit-any
const n = (x: number) => Number(x).toLocaleString('en-US');
const parts = (x: number | undefined) => `${x} part${x === 1 ? '' : 's'}`;
const mark = (ok: boolean) => (ok ? '✓' : '✗');

export interface Goal {
  ok: boolean;
  text: string;
}

const isSheetCase = (r: Row) => !r.destination && !String(r.id).startsWith('incremental-');
const isScimCase = (r: Row) => r.destination === 'scim' && 'requestsPerUser' in r;

function sheetSection(rows: Row[]): string {
  const row = (r: Row) =>
    `| ${r.id} | ${n(r.users)} | ${n(r.groups)} | ${r.model} | ${r.kind} | ${r.ok ? 'ok' : '**not ok**'} | ${r.parts} / ${r.executionsBound ?? '–'} | ${n(r.directoryCalls)} / ${n(r.directoryBound)} (${(r.directoryCalls / r.directoryBound).toFixed(3)}) | ${r.rosterWrites} / ${r.rosterWriteBound} | ${r.stateWrites} | ${r.simulatedSeconds} | ${r.cpuSecondsNode} |`;
  return `## Sheet roster (\`bench/run.ts\`)

Every sync is a **scheduled** sync on the hourly heartbeat, heartbeats exactly 60 minutes apart. Bounds come from
the generated directory and the sheets, not from the add-on's code: directory calls ≥ ceil(users / 500) +
Σ over mapped groups ceil(derived members / 200) + 1; roster writes ≤ parts + ceil(changed rows / 10,000);
executions ≤ ceil(listing and writing time under the model / 270 s), the time of those calls made one at a time
(start-up, each page at its method's latency, the roster read and the changed rows written at the per-cell cost,
one flush; script CPU left out). "simulated s" is the time of the parts that worked (the heartbeats in between are
not counted).

| case | users | groups | model | kind | outcome | parts / executions bound | directory calls / bound | roster writes / bound | state writes | simulated s | CPU s (Node) |
|---|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|
${rows.map(row).join('\n')}

`;
}

function plannerSection(p: Row | null): string {
  if (!p) return '';
  const f = (x: number, d = 1) => x.toFixed(d);
  return `## Planning in plain Node (bench/planner.json)

\`makePlan\` (rules with sub-OUs and nested groups, a reason for every change, lifecycle, threshold) on the
100,000-user rollover, against a bare Map-based diff of the same data (\`bareDiff\` in \`bench/planWork.ts\`), each
in fresh Node processes: time is the best of 7 runs (the median in brackets), peak memory the most heap in use
during one run above the heap holding the input.

| users | changes (plan / bare) | plan | bare diff | time ratio (goal ≤ 3) | peak heap (plan / bare) | peak ratio (goal ≤ 3) |
|---:|---:|---:|---:|---:|---:|---:|
| ${n(p.users)} | ${p.plan.changes} / ${p.bare.changes} | ${f(p.plan.bestMs)} ms (${f(p.plan.medianMs)}) | ${f(p.bare.bestMs)} ms (${f(p.bare.medianMs)}) | ${f(p.plan.bestMs / p.bare.bestMs, 2)} | ${f(p.plan.peakMb)} / ${f(p.bare.peakMb)} MB | ${f(p.plan.peakMb / p.bare.peakMb, 2)} |

`;
}

function incrementalSection(rows: Row[]): string {
  if (!rows.length) return '';
  const row = (r: Row) =>
    `| ${r.id} | ${n(r.users)} | ${r.kind} | ${r.parts} / ${r.executionsBound ?? '–'} | ${n(r.directoryCalls)} + ${n(r.reportsCalls)} | ${r.rosterCellsRead ?? '–'} | ${Number(r.simulatedSeconds).toFixed(1)} | ${r.goal} |`;
  return `## Incremental syncs (\`bench/incremental.ts\`)

Sync changes from the sidebar on the 100,000-user domain (calibrated model). The day row adds up one nightly full
sync, 22 incremental syncs with no change and one with 100 changes.

| case | users | kind | parts / executions bound | Directory + Reports calls | roster cells read | simulated s | goal |
|---|---:|---|---:|---:|---:|---:|---|
${rows.map(row).join('\n')}

`;
}

/** Days a first sync of TARGET_USERS takes within the daily quota, from UrlFetch requests per user. */
export function quotaDays(perUser: number, users = TARGET_USERS, quota = WORKSPACE_URLFETCH_PER_DAY): number {
  const usable = quota - Math.ceil(quota * HEADROOM_SHARE);
  return Math.ceil((users * perUser) / usable);
}

function scimSection(rows: Row[], quotaRow: Row | undefined): string {
  if (!rows.length) return '';
  const row = (r: Row) =>
    `| ${r.id} | ${n(r.appUsers)} | ${r.bulk ? 'yes' : 'no'} | ${r.kind} | ${r.ok ? 'ok' : '**not ok**'} | ${r.parts} / ${r.executionsBound} | ${n(r.scimRequests)} | ${n(r.scimReads)} / ${n(r.scimReadBound)} | ${n(r.rosterWrites)} / ${n(r.rosterWriteBound)} | ${n(r.scimWriteOps)} / ${n(r.scimWriteOpsMin)} | ${r.requestsPerUser} | ${r.urlFetchPerUser} | ${r.simulatedSeconds} |`;
  const largest = Math.max(...rows.map((r) => r.users));
  const firsts = rows.filter((r) => r.kind === 'first' && r.users === largest);
  const usable = WORKSPACE_URLFETCH_PER_DAY - Math.ceil(WORKSPACE_URLFETCH_PER_DAY * HEADROOM_SHARE);
  const days = firsts
    .map((r) => `- ${r.bulk ? 'with' : 'without'} Bulk (${r.id}): ceil(${n(TARGET_USERS)} × ${r.urlFetchPerUser} / ${n(usable)}) = ceil(${(TARGET_USERS * r.urlFetchPerUser / usable).toFixed(3)}) = **${quotaDays(r.urlFetchPerUser)} day${quotaDays(r.urlFetchPerUser) === 1 ? '' : 's'}**`)
    .join('\n');
  const simulated = quotaRow
    ? `
Confirmed by a simulated run at the same ratio (\`${quotaRow.id}\`): ${n(quotaRow.users)} users at a daily quota of
${n(quotaRow.quotaPerDay)} UrlFetch calls (${n(quotaRow.targetQuota)} × ${n(quotaRow.users)} / ${n(quotaRow.targetUsers)}), enforced by the simulated
UrlFetchApp as Google does (per user, reset 24 hours after the first request, "Service invoked too many times for one
day: urlfetch." beyond it), without Bulk: ${quotaRow.ok ? `every user provisioned (${n(quotaRow.appUsers)} in the app) after **${quotaRow.daysSimulated} days**` : '**not finished within 10 days**'}
(${parts(quotaRow.parts)} in all, ${n(quotaRow.urlFetchRequests)} UrlFetch requests), against ceil(${n(quotaRow.users)} × per-user requests / (${n(quotaRow.quotaPerDay)} − ${HEADROOM_SHARE * 100} %)) = ${quotaRow.daysComputed} day${quotaRow.daysComputed === 1 ? '' : 's'} computed.
`
    : '';
  return `## SCIM destination (\`bench/scim.ts\`)

The built bundle in the simulated runtime (calibrated model) syncing into the real SCIM test server (scimmy +
scimmy-routers on 127.0.0.1), roles as SCIM groups, scheduled syncs on the hourly heartbeat: the first sync, one
with no change, and the year-end rollover. The app offers Bulk (maxOperations 1,000) or not. Counted on the app's
side (its request log, its store before and after). Bounds from first principles: reads ≥ 1 ServiceProviderConfig
\\+ ceil(app users / the app's page maximum, filter.maxResults) + ceil(app groups / page maximum); operations ≥ the
users whose record in the app changed (≥ 1 create per user on a first sync) + one POST per new group +
ceil(members added or removed / the app's 100 members per PATCH); write requests ≤ those operations one request
each, or with Bulk ceil(user operations / maxOperations) + the group POSTs and PATCHes; executions ≤ ceil(the
directory pages and the SCIM requests one at a time under the model / 270 s). "UrlFetch / user" counts every
UrlFetchApp request (SCIM, and the Directory REST reads of a scheduled first sync): what Google's daily quota counts.

| case | app users | Bulk | kind | outcome | parts / executions bound | SCIM requests | reads / bound | write requests / bound | operations / least | requests / user | UrlFetch / user | simulated s |
|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.map(row).join('\n')}

### A 100,000-user first sync within the daily UrlFetch quota

Google allows a Google Workspace account 100,000 UrlFetchApp calls a day ("URL Fetch calls: 100,000 / day",
[Apps Script quotas](https://developers.google.com/apps-script/guides/services/quotas)), per user, reset 24 hours
after the first request; Roster Sync leaves ${HEADROOM_SHARE * 100} % of it for the sidebar, so a sync may use ${n(usable)} a day.
days = ceil(users × UrlFetch requests per user of a first sync / ${n(usable)}), from the ${n(largest)}-user runs:

${days}
${simulated}
`;
}

export function goals(results: Row[]): { title: string; goals: Goal[] }[] {
  const byId = (id: string) => results.find((r) => r.id === id);
  const first = byId('100k-classes-first-calibrated');
  const roll = byId('100k-classes-rollover-calibrated');
  const none = byId('100k-classes-nochange-calibrated');
  const big = byId('300k-first-calibrated');
  const attr = byId('100k-classes-nochange-attributes-calibrated');
  const sheet = results.filter((r) => isSheetCase(r) && r.model === 'calibrated');
  const worst = sheet.length ? Math.max(...sheet.map((r) => r.directoryCalls / r.directoryBound)) : NaN;
  const scale: Goal[] = [
    { ok: !!first && first.ok && first.parts <= 2, text: `100k users, 3,000 nested class groups, first sync: ok in ≤ 2 parts (${first ? `${first.ok ? 'ok' : 'not ok'}, ${parts(first.parts)}` : 'not run'})` },
    { ok: !!roll && roll.ok && roll.parts === 1, text: `same, rollover: 1 part (${roll ? parts(roll.parts) : 'not run'})` },
    { ok: !!none && none.ok && none.parts === 1 && none.simulatedSeconds <= 60, text: `same, no change: 1 part, ≤ 60 simulated seconds (${none ? `${parts(none.parts)}, ${none.simulatedSeconds} s` : 'not run'})` },
    { ok: !!big && big.ok, text: `300k users, first sync: ok (${big ? `${big.ok ? 'ok' : 'not ok'}, ${parts(big.parts)}` : 'not run'})` },
    {
      ok: !!attr && attr.ok && attr.directoryCalls === attr.directoryCallsWithoutAttributes,
      text: `mapped attributes cost no directory call: a no-change sync with three mapped attributes makes the calls the same sync without them makes (${attr ? `${n(attr.directoryCalls)} and ${n(attr.directoryCallsWithoutAttributes)}` : 'not run'})`,
    },
    { ok: sheet.length > 0 && worst <= 1.05, text: `every case: directory calls / bound ≤ 1.05 (worst ${worst.toFixed(3)})` },
    { ok: sheet.length > 0 && sheet.every((r) => r.rosterWrites <= r.rosterWriteBound), text: `every case: roster writes ≤ bound (${sheet.filter((r) => r.rosterWrites <= r.rosterWriteBound).length} of ${sheet.length})` },
    { ok: sheet.length > 0 && sheet.every((r) => r.parts <= r.executionsBound), text: `every case: parts ≤ executions bound (${sheet.filter((r) => r.parts <= r.executionsBound).length} of ${sheet.length})` },
  ];
  const quiet = byId('incremental-nochange');
  const hundred = byId('incremental-100changed');
  const day = byId('incremental-dailycalls');
  const calls = (r: Row) => r.directoryCalls + r.reportsCalls;
  const incremental: Goal[] = [
    { ok: !!quiet && quiet.kind === 'incremental' && calls(quiet) <= 5 && quiet.parts === 1 && quiet.rosterCellsRead === 0, text: `100k users, incremental sync with no change: ≤ 5 Directory/Reports calls, 1 part, no roster read (${quiet ? `${calls(quiet)} calls, ${parts(quiet.parts)}, ${quiet.rosterCellsRead} roster cells read` : 'not run'})` },
    { ok: !!hundred && hundred.kind === 'incremental' && calls(hundred) <= 110, text: `100 changed users: ≤ 110 calls (${hundred ? `${calls(hundred)} calls, ${hundred.accountsChanged} accounts changed` : 'not run'})` },
    { ok: !!day && calls(day) < day.hourlyFullSyncCalls, text: `daily calls of an hourly schedule below today's 24 full syncs (${day ? `${n(calls(day))} against ${n(day.hourlyFullSyncCalls)}, ${day.ratio}× fewer` : 'not run'})` },
  ];
  const scim = results.filter(isScimCase);
  const quota = results.find((r) => r.destination === 'scim' && 'daysSimulated' in r);
  const scimGoals: Goal[] = [
    { ok: scim.length > 0 && scim.every((r) => r.ok), text: `every SCIM sync ok (${scim.filter((r) => r.ok).length} of ${scim.length})` },
    { ok: scim.some((r) => r.kind === 'nochange') && scim.filter((r) => r.kind === 'nochange').every((r) => r.rosterWrites === 0), text: `a sync with no change sends 0 writes (${scim.filter((r) => r.kind === 'nochange').map((r) => r.rosterWrites).join(', ')})` },
    { ok: scim.length > 0 && scim.every((r) => r.rosterWrites <= r.rosterWriteBound && r.scimWriteOps >= r.scimWriteOpsMin), text: 'every SCIM sync: write requests ≤ bound, operations ≥ the least the changes need' },
    { ok: scim.length > 0 && scim.every((r) => r.parts <= r.executionsBound), text: 'every SCIM sync: parts ≤ executions bound' },
    {
      ok: !!quota && quota.ok && Math.ceil(quota.daysSimulated) === quota.daysComputed,
      text: `first sync at a quota with the 100,000-user ratio: takes the days computed (${quota ? `${quota.daysSimulated} days simulated, ${quota.daysComputed} computed` : 'not run'})`,
    },
  ];
  return [
    { title: 'Scale (calibrated model, scheduled trigger, heartbeats 60 minutes apart)', goals: scale },
    { title: 'Incremental sync', goals: incremental },
    { title: 'SCIM destination', goals: scimGoals },
  ];
}

function render(): string {
  const results: Row[] = read('results.json') ?? [];
  const wall: Record<string, number> = read('wall.json') ?? {};
  const total = Object.values(wall).reduce((a, b) => a + b, 0);
  const sections = goals(results)
    .map((s) => `### ${s.title}\n\n${s.goals.map((g) => `- ${mark(g.ok)} ${g.text}`).join('\n')}`)
    .join('\n\n');
  return `# Benchmark results

Rendered from \`bench/results.json\` by \`npm run bench\` (\`bench/render.ts\`) on ${new Date().toISOString().slice(0, 10)}: Node ${process.version},
${os.cpus().length} cores. Wall time: ${Object.entries(wall).map(([k, v]) => `${k} ${v} s`).join(', ')} (${total} s in all). Models and their sources: \`bench/README.md\`.

## Goals

Each mark is computed from the figures below.

${sections}

${sheetSection(results.filter(isSheetCase))}${plannerSection(read('planner.json'))}${incrementalSection(results.filter((r) => String(r.id).startsWith('incremental-')))}${scimSection(results.filter(isScimCase), results.find((r) => r.destination === 'scim' && 'daysSimulated' in r))}`;
}

if (require.main === module) {
  fs.writeFileSync(path.join(__dirname, 'results.md'), render());
  const missed = goals(read('results.json') ?? []).flatMap((s) => s.goals.filter((g) => !g.ok));
  for (const g of missed) console.log(`MISS ${g.text}`);
  console.log(`wrote bench/results.md (${missed.length ? `${missed.length} goals missed` : 'every goal met'})`);
  if (missed.length) process.exitCode = 1;
}
