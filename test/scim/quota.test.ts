// The daily UrlFetchApp quota (Google: per user, every script of the user together, reset 24 hours
// after the first request), enforced by the simulated runtime: a large first sync to a SCIM app that
// does not fit in one day's requests pauses with a truthful message and is continued by the first
// heartbeat after the reset, whether Roster Sync's own count ran out or Google refused first.
import { SyncHttp } from '../../emulator/fakes/urlFetchHttp';
import { URLFETCH_QUOTA_ERROR } from '../../emulator/fakes/urlFetchQuota';
import { generateDomain, scaleRules } from '../../emulator/domain';
import { World, later, world } from '../e2e/harness';
import { scimServerForFile } from './world';

const TOKEN = 'quota-token-0123456789abcdef';
const DOMAIN = 'quota.example';
const ADMIN = `admin@${DOMAIN}`;
/** A small day, so 1,500 users do not fit in it (a first sync without Bulk sends about one request per user). */
const PER_DAY = 1000;
const server = scimServerForFile(TOKEN);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function app(options: Parameters<typeof world>[0]): World {
  const w = world({ urlFetch: new SyncHttp(), directory: generateDomain({ users: 1500, domain: DOMAIN, groups: 3 }), rules: scaleRules(DOMAIN), urlFetchDailyQuota: PER_DAY, ...options });
  w.save({ destination: 'scim', scim: { baseUrl: server.baseUrl, roleMapping: 'roles' } });
  w.call('saveScimToken', { token: TOKEN });
  return w;
}

function syncToEnd(w: World): Json {
  let r = w.call('syncNow', {});
  for (let i = 0; r.state === 'in-progress' && i < 200; i++) r = w.call('continueSync');
  return r;
}

/** Every Google user of the rules in the app exactly once. */
async function everyoneOnce(planned: number) {
  const users = (await server.state()).users;
  expect(users).toHaveLength(planned);
  expect(new Set(users.map((u: Json) => u.externalId)).size).toBe(users.length);
  expect(new Set(users.map((u: Json) => u.userName)).size).toBe(users.length);
  const creates = (await server.state()).log.filter((e: Json) => e.method === 'POST' && e.status === 201);
  return creates.length;
}

/** Lets a day pass hour by hour, the heartbeat firing as Google fires it. */
function dayPasses(w: World) {
  return w.rt.advanceHours(25).filter((run) => run.handler === 'runScheduledSync');
}

async function pausesThenContinues(w: World, usage: RegExp, afterPause: () => void = () => undefined) {
  await server.clearLog();
  const first = syncToEnd(w);
  const planned = first.planned.create;
  expect(planned).toBeGreaterThan(1400);
  expect(first.state).toBe('done');
  expect(first.applied.create).toBeGreaterThan(0);
  expect(first.applied.create).toBeLessThan(planned);
  const inApp = (await server.state()).users.length;
  expect(inApp).toBe(first.applied.create);
  // "N of M provisioned; continues after <time>", and how the day's requests went.
  const resumeAt = /continue after (\d{4}-\d\d-\d\d \d\d:\d\d) UTC/.exec(first.message)?.[1];
  expect(first.message).toContain(`${inApp} of ${planned} accounts provisioned; the other ${planned - inApp} continue after`);
  expect(resumeAt).toBeDefined();
  expect(first.message).toMatch(usage);
  expect(w.history().at(-1)).toMatchObject({ Outcome: 'partial' });
  expect(w.history().at(-1)!.Message).toContain(`${inApp} of ${planned} accounts provisioned`);
  // The reset is when the message says (24 hours after the day's first request, to the minute).
  expect(Date.parse(`${resumeAt}:00Z`)).toBeGreaterThan(w.rt.nowMs());
  expect(Date.parse(`${resumeAt}:00Z`)).toBeLessThanOrEqual(w.rt.nowMs() + 24 * 3_600_000);
  afterPause();

  // Heartbeats before the reset send nothing; the first one after it continues and finishes.
  await server.clearLog();
  const runs = dayPasses(w);
  expect(runs.every((r) => r.ok)).toBe(true);
  const log = (await server.state()).log;
  expect(log.length).toBeGreaterThan(0);
  // Not one request before the quota was renewed (the simulated time each was sent at).
  expect(log.filter((e: Json) => !(e.atMs >= Date.parse(`${resumeAt}:00Z`)))).toEqual([]);
  const continued = w.history().filter((h) => h.Trigger === 'scheduled');
  expect(continued).toHaveLength(1);
  expect(continued[0]).toMatchObject({ Outcome: 'success' });
  const createdAfterReset = await everyoneOnce(planned);
  expect(createdAfterReset).toBe(planned - inApp);

  // Nothing changed since: a sync sends no write.
  await server.clearLog();
  later(w);
  expect(syncToEnd(w)).toMatchObject({ state: 'done', message: 'No changes.' });
  expect((await server.state()).log.filter((e: Json) => e.method !== 'GET')).toEqual([]);
}

describe('the daily UrlFetchApp quota', () => {
  test('Roster Sync counts its requests: it stops before the day is used, keeping headroom for the sidebar, and the heartbeat after the reset continues', async () => {
    await server.clear();
    await server.set({ token: TOKEN, bulk: false });
    // The product is told the same small day the simulated Google enforces.
    const w = app({ globals: { ROSTER_SYNC_URLFETCH_PER_DAY: PER_DAY } });
    await pausesThenContinues(w, /\(\d+ of 1000 used today, 50 kept for the sidebar\)/, () => {
      // The sidebar's share is left: Test connection, Finalize and Accounts still work on the day the sync used the rest.
      expect(w.rt.urlFetchQuota.used(ADMIN)).toBeLessThanOrEqual(PER_DAY - 50);
      const report = w.call('testScimConnection');
      expect(report).toMatchObject({ ok: true });
      expect(w.call('runFinalizeChecks').checks.find((c: Json) => c.id === 'destination')).toMatchObject({ status: 'pass' });
      expect(w.call('getAccounts', { limit: 10 }).total).toBeGreaterThan(0);
    });
    // Google never had to refuse a request.
    expect(w.rt.logs.filter((l) => l.text.includes(URLFETCH_QUOTA_ERROR))).toEqual([]);
  });

  test('Google refuses first (the sync account\'s other scripts used part of the day): the sync pauses with the same message instead of failing', async () => {
    await server.clear();
    await server.set({ token: TOKEN, bulk: false });
    const w = app({});
    w.rt.urlFetchQuota.useElsewhere(ADMIN, 300);
    await pausesThenContinues(w, /Apps Script refused more after \d+ of them today: the sync account's other scripts use the same quota/);
  });
});
