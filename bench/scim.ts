// `npm run bench` (after bench/run.ts and bench/incremental.ts): the SCIM destination. The built bundle
// (dist/Code.js) in the simulated Apps Script runtime, calibrated latency model, syncing a generated
// district into the real SCIM test server (scimmy + scimmy-routers on 127.0.0.1, emulator/scim/server.ts),
// roles as SCIM groups, on the hourly heartbeat (60 minutes apart): a first sync, a sync with no change
// and a year-end rollover, with the app offering Bulk and without it. Then a first sync at a reduced daily
// UrlFetchApp quota with the ratio of a 100,000-user district to Google's 100,000 calls a day, run over
// simulated days until every user is provisioned.
//
// Everything counted comes from the app's side (the server's request log and its store before and after),
// every bound from first principles, never from the add-on's constants:
// - reads ≥ 1 ServiceProviderConfig + ceil(app users / the app's page maximum) + ceil(app groups / page maximum);
// - user writes ≥ the users whose record in the app changed (≥ 1 create per user on a first sync);
//   group writes ≥ one POST per new group + ceil(members added or removed / the app's members-per-PATCH cap);
// - write requests ≤ those operations, one request each, or with Bulk
//   ceil(user operations / maxOperations) + group POSTs + group PATCHes;
// - executions ≤ ceil(the time those calls take one at a time under the model / 270 s).
// Rows go into bench/results.json (replacing earlier scim-* rows).
import fs from 'node:fs';
import path from 'node:path';
import { CALIBRATED_LATENCY, SimRuntime } from '../emulator/runtime';
import { SyncHttp, closeHttpWorker } from '../emulator/fakes/urlFetchHttp';
import { ScimTestServer, ServerState, startScimServer } from '../emulator/scim/harness';
import { HEADROOM_SHARE, TARGET_USERS, WORKSPACE_URLFETCH_PER_DAY } from './scimFigures';
import { District, SyncRow, directoryBound, serverCall, sheetWrites, directoryPages, district, executionsBound, recordWall, round, yearEnd } from './districts';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const RESULTS = path.join(__dirname, 'results.json');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TOKEN = 'bench-token-0123456789abcdef';
const SIZES = (process.env.BENCH_SCIM_USERS ?? '1000,5000').split(',').map(Number);
/** BENCH_SCIM_BULK=yes|no runs one of the two. */
const BULK = { yes: [true], no: [false] }[process.env.BENCH_SCIM_BULK ?? ''] ?? [true, false];
/** The reduced-quota run's district (its quota is scaled to it). */
const QUOTA_USERS = Number(process.env.BENCH_SCIM_QUOTA_USERS ?? 2000);
/** The app's cap on members touched by one group PATCH (the test server's maxMembersPerPatch switch). */
const APP_MEMBERS_PER_PATCH = 100;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One row of bench/results.json: the fields bench/run.ts writes, and the SCIM side's own. */
export interface ScimRow extends SyncRow {
  trigger: 'scheduled';
  destination: 'scim';
  bulk: boolean;
  /** Users in the app after the sync. */
  appUsers: number;
  scimRequests: number;
  scimReads: number;
  scimReadBound: number;
  scimWriteOps: number;
  scimWriteOpsMin: number;
  /** SCIM requests per user in the app. */
  requestsPerUser: number;
  /** Every UrlFetchApp request of the sync (SCIM and Directory REST reads): what Google's daily quota counts. */
  urlFetchRequests: number;
  urlFetchPerUser: number;
}

/** The reduced-quota first sync, and the days a 100,000-user first sync takes within Google's quota. */
export interface QuotaRow {
  id: string;
  users: number;
  groups: number;
  model: string;
  kind: 'first';
  trigger: 'scheduled';
  ok: boolean;
  parts: number;
  destination: 'scim';
  bulk: boolean;
  simulatedSeconds: number;
  quotaPerDay: number;
  appUsers: number;
  urlFetchRequests: number;
  /** ceil(users × UrlFetch requests per user / (quota − headroom)), from the bulk-less first sync measured above. */
  daysComputed: number;
  /** Days from the first heartbeat of the sync to the one that ended it with everyone provisioned. */
  daysSimulated: number;
  /** The figures scaled back to a 100,000-user district at 100,000 calls a day. */
  targetUsers: number;
  targetQuota: number;
  goal: string;
}

// ---- what the app holds, and the bounds it implies ----------------------------------------------

interface AppView {
  users: Map<string, string>;
  groups: Map<string, Set<string>>;
}

function appView(s: ServerState): AppView {
  const users = new Map<string, string>();
  for (const u of s.users) {
    const { meta, groups, ...rest } = u; // eslint-disable-line @typescript-eslint/no-unused-vars
    users.set(String(u.id), JSON.stringify(rest, Object.keys(rest).sort()));
  }
  const groups = new Map<string, Set<string>>();
  for (const g of s.groups) groups.set(String(g.id), new Set((g.members ?? []).map((m: Json) => String(m.value))));
  return { users, groups };
}

interface AppChanges {
  userOps: number;
  groupCreates: number;
  groupPatches: number;
}

/** What changed in the app: users created, deleted or changed; groups created; members added or removed (in PATCHes of at most the app's cap). */
function appChanges(before: AppView, after: AppView): AppChanges {
  let userOps = 0;
  for (const [id, v] of after.users) if (before.users.get(id) !== v) userOps++;
  for (const id of before.users.keys()) if (!after.users.has(id)) userOps++;
  let groupCreates = 0;
  let groupPatches = 0;
  for (const [id, members] of after.groups) {
    const old = before.groups.get(id);
    if (!old) groupCreates++;
    const was = old ?? new Set<string>();
    let delta = 0;
    for (const m of members) if (!was.has(m)) delta++;
    for (const m of was) if (!members.has(m)) delta++;
    groupPatches += Math.ceil(delta / APP_MEMBERS_PER_PATCH);
  }
  return { userOps, groupCreates, groupPatches };
}

/** BENCH_DEBUG: the write requests that left the app's store as it was. */
function debugWrites(before: ServerState, after: ServerState): void {
  const b = appView(before);
  const a = appView(after);
  for (const r of after.log.filter((x) => x.method !== 'GET' && !x.bulk)) {
    const m = /\/(Users|Groups)\/([^/?]+)/.exec(r.path);
    if (!m) continue;
    const same = m[1] === 'Users' ? b.users.get(m[2]) === a.users.get(m[2]) : JSON.stringify([...(b.groups.get(m[2]) ?? [])].sort()) === JSON.stringify([...(a.groups.get(m[2]) ?? [])].sort());
    if (same || r.status >= 300) console.log('   ', r.method, r.path, r.status, JSON.stringify(r.patchOps ?? []), m[1] === 'Users' ? b.users.get(m[2]) : '');
  }
  const per = new Map<string, number>();
  for (const r of after.log.filter((x) => x.method !== 'GET')) per.set(r.path.split('?')[0], (per.get(r.path.split('?')[0]) ?? 0) + 1);
  for (const [p, k] of per) if (k > 1 || p.includes('/Groups')) console.log('    writes', k, p, p.includes('/Groups/') ? `members ${b.groups.get(p.split('/').pop()!)?.size} → ${a.groups.get(p.split('/').pop()!)?.size}` : '', JSON.stringify(after.log.filter((x) => x.path.split('?')[0] === p && x.method !== 'GET').map((x) => [x.method, x.status, x.operations, (x.patchOps ?? []).flat().slice(0, 2)])));
}

interface Traffic {
  requests: number;
  reads: number;
  writeRequests: number;
  writeOps: number;
}

function traffic(s: ServerState): Traffic {
  const scim = s.log.filter((r) => r.path.startsWith('/scim/v2'));
  const writes = scim.filter((r) => r.method !== 'GET');
  return {
    requests: scim.length,
    reads: scim.length - writes.length,
    writeRequests: writes.length,
    writeOps: writes.reduce((n, r) => n + (r.bulk ? r.bulk.length : 1), 0),
  };
}

/** The largest page the app answers: ServiceProviderConfig's filter.maxResults (RFC 7643 §5), read from the app itself. */
async function pageMaximum(server: ScimTestServer): Promise<number> {
  const r = await fetch(`${server.baseUrl}/ServiceProviderConfig`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const body = (await r.json()) as Json;
  return Number(body?.filter?.maxResults) || 1;
}

async function bulkMaxOperations(server: ScimTestServer): Promise<number | null> {
  const r = await fetch(`${server.baseUrl}/ServiceProviderConfig`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const body = (await r.json()) as Json;
  return body?.bulk?.supported ? Number(body.bulk.maxOperations) : null;
}

// ---- one district synced into the app --------------------------------------------------------------

class ScimBench {
  readonly rt: SimRuntime;
  /**
   * The test server answers a Bulk request of 1,000 operations in seconds, and in minutes on a loaded machine
   * (scimmy coerces and checks each operation); its wall time is no part of the simulated time, so the wait for it
   * is not cut short as a slow app's would be.
   */
  readonly http = new SyncHttp({ timeoutMs: 900_000 });

  constructor(readonly d: District, readonly server: ScimTestServer, options: { urlFetchPerDay?: number } = {}) {
    this.rt = new SimRuntime({
      scriptPath: path.join(DIST, 'Code.js'),
      htmlDir: DIST,
      directory: d.dir,
      clockStartMs: Date.UTC(2026, 8, 1, 14),
      latency: CALIBRATED_LATENCY,
      exactHourlyTriggers: true,
      // The guard against a runaway script counts the real waits for the test server too (see http).
      wallTimeoutMs: 3_600_000,
      urlFetch: this.http,
      ...(options.urlFetchPerDay ? { urlFetchDailyQuota: options.urlFetchPerDay, globals: { ROSTER_SYNC_URLFETCH_PER_DAY: options.urlFetchPerDay } } : {}),
    });
    const state = this.call('useMyAccountForSync', {});
    this.call('saveSettings', {
      ...state.settings,
      rules: d.rules,
      threshold: { kind: 'percent', value: 100, windowHours: 24 },
      // A first sync paced over days grants the admin role again in each day's sync (its group membership goes
      // last): the bench measures the pace, so the per-sync limit on privileged grants is lifted as the threshold is.
      privilegedGrantLimit: 1_000_000,
      cooldownMinutes: 0,
      schedule: { ...state.settings.schedule, mode: 'hourly' },
      destination: 'scim',
      scim: { ...(state.settings.scim ?? {}), baseUrl: server.baseUrl, roleMapping: 'groups' },
      confirmLowerProtection: true,
    });
    this.call('saveScimToken', { token: TOKEN });
  }

  call(fn: string, arg?: unknown): Json {
    return serverCall(this.rt, fn, arg);
  }

  private writes(sheet: string): number {
    return sheetWrites(this.rt, sheet);
  }

  historyRows(): Record<string, string>[] {
    let values: unknown[][] = [];
    try {
      values = this.rt.sheetValues('Sync history');
    } catch {
      return [];
    }
    const [header, ...rows] = values.map((r) => r.map(String));
    return rows.filter((r) => r.some((v) => v !== '')).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
  }

  /** Heartbeats (60 minutes apart) until a scheduled sync ends in History; at most `beats`. */
  heartbeatsUntilSyncEnds(beats: number): Record<string, string> {
    const history0 = this.historyRows().length;
    for (let beat = 0; beat < beats; beat++) {
      this.rt.advanceHours(1);
      const entry = this.historyRows().slice(history0).find((r) => r.Trigger === 'scheduled');
      if (entry) return entry;
    }
    throw new Error(`no scheduled sync ended within ${beats} heartbeats`);
  }

  async scheduledSync(kind: ScimRow['kind'], bulk: boolean, maxOps: number | null, pageMax: number): Promise<ScimRow> {
    const label = `scim-${this.d.dir.allUsers().length / 1000}k-${kind}-${bulk ? 'bulk' : 'nobulk'}`;
    const before = await this.server.state();
    await this.server.clearLog();
    const stateWrites0 = this.writes('Roster Sync state');
    const exec0 = this.rt.history.length;
    this.rt.resetCounters();
    const fetch0 = this.rt.urlFetchQuota.requests;
    const wall = Date.now();
    const entry = this.heartbeatsUntilSyncEnds(24);
    const after = await this.server.state();
    const execs = this.rt.history.slice(exec0).filter((e) => e.fn === 'runScheduledSync');
    const t = traffic(after);
    const changes = appChanges(appView(before), appView(after));
    const groupWrites = changes.groupCreates + changes.groupPatches;
    const writeBound = maxOps ? Math.ceil(changes.userOps / maxOps) + groupWrites : changes.userOps + groupWrites;
    const readBound = 1 + Math.max(1, Math.ceil(before.users.length / pageMax)) + Math.max(1, Math.ceil(before.groups.length / pageMax));
    const appUsers = after.users.length;
    const urlFetch = this.rt.urlFetchQuota.requests - fetch0;
    if (process.env.BENCH_DEBUG) debugWrites(before, after);
    const row: ScimRow = {
      id: label,
      users: this.d.dir.allUsers().length,
      groups: this.d.dir.allGroups().length,
      model: 'calibrated',
      kind,
      trigger: 'scheduled',
      ok: entry.Outcome === 'success',
      parts: Number(entry.Parts),
      directoryCalls: Object.entries(this.rt.calls).filter(([k]) => k.startsWith('AdminDirectory.')).reduce((n, [, v]) => n + v, 0),
      directoryBound: directoryBound(this.d),
      rosterWrites: t.writeRequests,
      rosterWriteBound: writeBound,
      stateWrites: this.writes('Roster Sync state') - stateWrites0,
      simulatedSeconds: round(execs.reduce((n, e) => n + (e.endMs - e.startMs), 0) / 1000, 1),
      cpuSecondsNode: round(execs.reduce((n, e) => n + e.cpuMs, 0) / 1000, 2),
      executionsBound: executionsBound(CALIBRATED_LATENCY, { ...directoryPages(this.d), httpRequests: readBound + writeBound }).executions,
      destination: 'scim',
      bulk,
      appUsers,
      scimRequests: t.requests,
      scimReads: t.reads,
      scimReadBound: readBound,
      scimWriteOps: t.writeOps,
      scimWriteOpsMin: changes.userOps + groupWrites,
      requestsPerUser: round(t.requests / Math.max(1, appUsers), 4),
      urlFetchRequests: urlFetch,
      urlFetchPerUser: round(urlFetch / Math.max(1, appUsers), 4),
    };
    console.log(
      `  ${row.id}: ${row.ok ? 'ok' : 'NOT ok'} (${entry.Outcome}), ${row.parts} part(s), ${row.scimRequests} SCIM requests (${row.scimReads} reads ≥ ${row.scimReadBound}, ${row.rosterWrites} writes ≤ ${row.rosterWriteBound}, ${row.scimWriteOps} operations ≥ ${row.scimWriteOpsMin}), ${row.requestsPerUser}/user, UrlFetch ${urlFetch}, ${row.simulatedSeconds} s simulated, ${((Date.now() - wall) / 1000).toFixed(1)} s wall`,
    );
    return row;
  }
}

async function sizeCases(server: ScimTestServer, users: number, bulk: boolean): Promise<ScimRow[]> {
  await server.clear();
  await server.set({ token: TOKEN, bulk });
  const pageMax = await pageMaximum(server);
  const maxOps = await bulkMaxOperations(server);
  const d = district(users, 0);
  const b = new ScimBench(d, server);
  const out = [await b.scheduledSync('first', bulk, maxOps, pageMax), await b.scheduledSync('nochange', bulk, maxOps, pageMax)];
  yearEnd(d.dir);
  out.push(await b.scheduledSync('rollover', bulk, maxOps, pageMax));
  return out;
}

/**
 * A first sync without Bulk at a daily quota scaled to the district as Google's 100,000 calls a day are
 * to a 100,000-user district, over simulated days until everyone is provisioned.
 */
async function quotaCase(server: ScimTestServer, perUser: number): Promise<QuotaRow> {
  const quota = Math.round((WORKSPACE_URLFETCH_PER_DAY * QUOTA_USERS) / TARGET_USERS);
  await server.clear();
  await server.set({ token: TOKEN, bulk: false });
  const d = district(QUOTA_USERS, 0);
  const b = new ScimBench(d, server, { urlFetchPerDay: quota });
  const wall = Date.now();
  const started = b.rt.nowMs();
  const exec0 = b.rt.history.length;
  const fetch0 = b.rt.urlFetchQuota.requests;
  let ended: Record<string, string> | null = null;
  const history0 = b.historyRows().length;
  for (let beat = 0; beat < 24 * 10 && !ended; beat++) {
    b.rt.advanceHours(1);
    ended = b.historyRows().slice(history0).find((r) => r.Trigger === 'scheduled' && r.Outcome === 'success') ?? null;
  }
  const state = await server.state();
  const execs = b.rt.history.slice(exec0).filter((e) => e.fn === 'runScheduledSync');
  const syncs = b.historyRows().slice(history0).filter((r) => r.Trigger === 'scheduled');
  const usable = quota - Math.ceil(quota * HEADROOM_SHARE);
  const row: QuotaRow = {
    id: `scim-${QUOTA_USERS / 1000}k-first-nobulk-quota${quota}`,
    users: d.dir.allUsers().length,
    groups: d.dir.allGroups().length,
    model: 'calibrated',
    kind: 'first',
    trigger: 'scheduled',
    ok: !!ended && state.users.length > 0,
    parts: syncs.reduce((n, r) => n + Number(r.Parts || 0), 0),
    destination: 'scim',
    bulk: false,
    simulatedSeconds: round(execs.reduce((n, e) => n + (e.endMs - e.startMs), 0) / 1000, 1),
    quotaPerDay: quota,
    appUsers: state.users.length,
    urlFetchRequests: b.rt.urlFetchQuota.requests - fetch0,
    daysComputed: Math.ceil((QUOTA_USERS * perUser) / usable),
    daysSimulated: ended ? round((Date.parse(ended.Finished) - started) / DAY, 2) : -1,
    targetUsers: TARGET_USERS,
    targetQuota: WORKSPACE_URLFETCH_PER_DAY,
    goal: 'the days the first sync took at a quota with the 100,000-user ratio match the days computed from the requests per user',
  };
  const outcomes = [...new Set(syncs.map((r) => `${r.Outcome}: ${r.Message}`))];
  console.log(`  ${row.id}: ${ended ? `done after ${row.daysSimulated} days` : 'NOT done in 10 days'}, ${syncs.length} scheduled syncs (${outcomes.join(' | ')}), ${row.appUsers} app users, ${row.urlFetchRequests} UrlFetch requests; computed ${row.daysComputed} days; ${((Date.now() - wall) / 1000).toFixed(1)} s wall`);
  return row;
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(DIST, 'Code.js'))) throw new Error('dist/Code.js is missing: run `npm run build` first (npm run bench does)');
  const wall = Date.now();
  const server = await startScimServer({ token: TOKEN });
  const rows: (ScimRow | QuotaRow)[] = [];
  try {
    for (const users of SIZES) {
      for (const bulk of BULK) {
        console.log(`SCIM, ${users} users, ${bulk ? 'with' : 'without'} Bulk`);
        rows.push(...(await sizeCases(server, users, bulk)));
      }
    }
    const nobulk = rows.filter((r): r is ScimRow => 'requestsPerUser' in r && r.kind === 'first' && !r.bulk).sort((a, b) => b.users - a.users)[0];
    if (nobulk && !process.env.BENCH_SCIM_NO_QUOTA) {
      console.log(`SCIM, ${QUOTA_USERS} users, first sync at a reduced daily quota`);
      rows.push(await quotaCase(server, nobulk.urlFetchPerUser));
    }
  } finally {
    await server.stop();
    await closeHttpWorker();
  }
  const previous: unknown = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, 'utf8')) : [];
  const others = Array.isArray(previous) ? previous.filter((r: { id?: string }) => !String(r.id).startsWith('scim-')) : [];
  fs.writeFileSync(RESULTS, JSON.stringify([...others, ...rows], null, 2) + '\n');
  recordWall('scim', (Date.now() - wall) / 1000);
  console.log(`SCIM bench in ${((Date.now() - wall) / 1000).toFixed(0)} s → ${path.relative(ROOT, RESULTS)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
