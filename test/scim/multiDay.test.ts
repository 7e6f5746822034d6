// A first SCIM sync larger than a day's UrlFetchApp quota, on the built bundle in the simulated runtime, whose
// UrlFetchApp enforces the quota as Google documents it: per user, "reset 24 hours after the first request", and
// over it "Service invoked too many times for one day: urlfetch." (developers.google.com/apps-script/guides/services/quotas).
// The sync is paced over days: everyone is provisioned once, no request is refused by Google while Roster Sync
// counts the day itself, and when Google refuses earlier than Roster Sync's count (the same user's other scripts
// share the quota) the sync stops cleanly and continues the next day.
import { SyncHttp } from '../../emulator/fakes/urlFetchHttp';
import { DEMO_RULES } from '../../emulator/serve';
import { World, world } from '../e2e/harness';
import { scimServerForFile } from './world';

const TOKEN = 'multiday-token-0123456789abcdef';
const DAY = 24 * 60 * 60 * 1000;
const server = scimServerForFile(TOKEN);

function scimWorld(quota: number, productQuota?: number): World {
  const w = world({ urlFetch: new SyncHttp(), urlFetchDailyQuota: quota, ...(productQuota ? { globals: { ROSTER_SYNC_URLFETCH_PER_DAY: productQuota } } : {}), link: false });
  w.call('useMyAccountForSync', {});
  w.save({ rules: DEMO_RULES, cooldownMinutes: 0, threshold: { kind: 'percent', value: 100, windowHours: 24 }, destination: 'scim', scim: { baseUrl: server.baseUrl, roleMapping: 'roles' } });
  w.call('saveScimToken', { token: TOKEN });
  return w;
}

/** Sync now, then again every `gapHours` until a sync ends with nothing left to send; at most `days` days. */
function syncUntilDone(w: World, gapHours: number, days: number): { results: any[]; startedMs: number } {
  const startedMs = w.rt.nowMs();
  const results: any[] = [];
  while (w.rt.nowMs() - startedMs < days * DAY) {
    const r = w.call('syncNow', {});
    results.push(r);
    if (r.state === 'done' && !/continues? after/i.test(`${r.message}`)) break;
    w.rt.setClock(w.rt.nowMs() + gapHours * 60 * 60 * 1000);
  }
  return { results, startedMs };
}

async function expectEveryoneOnce(expected: number) {
  const users = (await server.state()).users;
  expect(users).toHaveLength(expected);
  expect(new Set(users.map((u) => String(u.userName).toLowerCase())).size).toBe(expected);
}

test('a first sync larger than the day\'s quota continues the next day: everyone provisioned once, Google never refuses a request', async () => {
  await server.clear();
  await server.set({ token: TOKEN, bulk: false });
  // Everyone in the demo district needs one POST: more than a day of 200 calls (190 once the sidebar's 5 % are kept).
  const w = scimWorld(200, 200);
  const first = w.call('syncNow', {});
  const provisionedDay1 = (await server.state()).users.length;
  expect(provisionedDay1).toBeGreaterThan(100);
  expect(provisionedDay1).toBeLessThan(190);
  expect(first.message).toMatch(/^\d+ created\. (\d+) of 353 accounts provisioned; the other \d+ continue after .*\(\d+ of 200 used today, 10 kept for the sidebar\)\.$/);
  expect(first.message).toContain(`${provisionedDay1} of 353 accounts provisioned`);
  expect(first.message).toMatch(/continues? after/);
  expect(w.rt.urlFetchQuota.used(w.rt.defaultUser)).toBeLessThanOrEqual(190);

  // Later the same day: nothing more is sent to the app, and the sidebar's headroom is still there.
  await server.clearLog();
  w.rt.setClock(w.rt.nowMs() + 3 * 60 * 60 * 1000);
  const again = w.call('syncNow', {});
  expect(again.message).toMatch(/continues? after/);
  expect((await server.state()).log.filter((r) => r.method !== 'GET')).toEqual([]);
  expect(w.rt.urlFetchQuota.used(w.rt.defaultUser)).toBeLessThanOrEqual(190);

  const { results } = syncUntilDone(w, 6, 5);
  const last = results[results.length - 1];
  expect(last).toMatchObject({ state: 'done' });
  expect(last.message).not.toMatch(/continues? after/);
  expect(JSON.stringify(w.rt.logText())).not.toMatch(/too many times for one day/);
  const total = first.applied.create + again.applied.create + results.reduce((n, r) => n + (r.applied?.create ?? 0), 0);
  await expectEveryoneOnce(total);
  expect(total).toBeGreaterThan(200);

  // And then a sync with no change sends no write.
  await server.clearLog();
  w.rt.setClock(w.rt.nowMs() + 60 * 60 * 1000);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect((await server.state()).log.filter((r) => r.method !== 'GET')).toEqual([]);
});

test('Google refuses before Roster Sync\'s own count is spent (other scripts of the user share the quota): the sync stops cleanly and continues the next day', async () => {
  await server.clear();
  await server.set({ token: TOKEN, bulk: false });
  // Roster Sync counts on Google's 100,000 a day; Google refuses after 150.
  const w = scimWorld(150);
  const first = w.call('syncNow', {});
  expect(first.state).not.toBe('failed');
  expect(first.message).toMatch(/continues? after/);
  const day1 = (await server.state()).users.length;
  expect(day1).toBeGreaterThan(100);
  expect(day1).toBeLessThanOrEqual(150);

  const { results } = syncUntilDone(w, 6, 5);
  const last = results[results.length - 1];
  expect(last).toMatchObject({ state: 'done' });
  expect(last.message).not.toMatch(/continues? after/);
  const total = first.applied.create + results.reduce((n, r) => n + (r.applied?.create ?? 0), 0);
  await expectEveryoneOnce(total);
  expect(total).toBeGreaterThan(150);
});
