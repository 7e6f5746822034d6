// Test connection (Settings → Destination, and the same probe in Finalize) on the built bundle against
// the loopback SCIM server under behaviour profiles: read-only (the app receives no write), and it says
// what the app advertises and honours and which role mappings will work, with the fix of each row that does not.
import { SyncHttp } from '../../emulator/fakes/urlFetchHttp';
import { PROFILES } from '../../emulator/scim/profiles';
import { World, world } from '../e2e/harness';
import { scimServerForFile } from './world';

const TOKEN = 'connection-token-0123456789abcdef';
const server = scimServerForFile(TOKEN);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function app(scim: Json = {}): World {
  const w = world({ urlFetch: new SyncHttp() });
  w.save({ destination: 'scim', scim: { baseUrl: server.baseUrl, roleMapping: 'roles', ...scim } });
  w.call('saveScimToken', { token: TOKEN });
  return w;
}

async function fresh(switches: Json) {
  await server.clear();
  await server.set({ token: TOKEN, ...switches });
}

const row = (report: Json, item: string) => report.rows.find((r: Json) => r.item === item);

/** Only GETs reached the app, and it holds what it held before. */
async function nothingChanged(usersBefore: number) {
  const state = await server.state();
  expect(state.log.length).toBeGreaterThan(0);
  expect(state.log.filter((e: Json) => e.method !== 'GET')).toEqual([]);
  expect(state.users).toHaveLength(usersBefore);
  expect(state.groups ?? []).toEqual([]);
}

describe('Test connection', () => {
  test('an app with no Bulk, pages of at most 100, eq filters and no totalResults: every row read-only, the gaps named with what Roster Sync does about them', async () => {
    await fresh(PROFILES.narrow);
    await server.seed(Array.from({ length: 130 }, (_, i) => ({ userName: `local${i}@app.example` })));
    await server.clearLog();
    const report = app().call('testScimConnection');
    expect(report.ok).toBe(true);
    expect(report.rows.map((r: Json) => r.item)).toEqual([
      'Reachable, token accepted', 'Advertised', 'Filter (userName eq)', 'Paging', 'Bulk', 'Groups', 'Rate limit',
      'Apps Script web requests today', 'Roles (roles attribute)', 'Groups (roles as groups)',
    ]);
    expect(row(report, 'Filter (userName eq)')).toMatchObject({ status: 'pass', found: 'honoured.' });
    expect(row(report, 'Paging')).toMatchObject({ status: 'warning', found: expect.stringContaining('pages of') });
    expect(row(report, 'Paging').found).toContain('no totalResults');
    expect(row(report, 'Paging').fix).toContain('page after page');
    expect(row(report, 'Bulk')).toMatchObject({ status: 'pass', found: expect.stringContaining('not offered') });
    expect(row(report, 'Groups')).toMatchObject({ status: 'pass', found: expect.stringContaining('honoured') });
    expect(row(report, 'Apps Script web requests today').found).toMatch(/^\d+ of 100000 used today, 5000 kept for the sidebar\.$/);
    expect(row(report, 'Roles (roles attribute)')).toMatchObject({ status: 'pass', found: 'will work (chosen).' });
    expect(row(report, 'Groups (roles as groups)')).toMatchObject({ status: 'pass', found: expect.stringContaining('will work:') });
    await nothingChanged(130);
  });

  test('a token that may manage users but not groups: with roles as the roles attribute it passes and says roles as groups will not work, with the fix', async () => {
    await fresh(PROFILES.usersOnlyToken);
    const report = app().call('testScimConnection');
    expect(report).toMatchObject({ ok: true, fix: '' });
    expect(row(report, 'Groups')).toMatchObject({ status: 'warning', found: expect.stringContaining('not available') });
    expect(row(report, 'Groups (roles as groups)')).toMatchObject({ status: 'warning', found: expect.stringContaining('will not work') });
    expect(row(report, 'Groups (roles as groups)').fix).toContain('permission to manage users (and groups');
    expect(row(report, 'Roles (roles attribute)')).toMatchObject({ status: 'pass', found: 'will work (chosen).' });
    await nothingChanged(0);
  });

  test('the same token with roles as SCIM groups: the chosen mapping fails first, with the fix, and nothing is created', async () => {
    await fresh(PROFILES.usersOnlyToken);
    const report = app({ roleMapping: 'groups' }).call('testScimConnection');
    expect(report.ok).toBe(false);
    expect(report.rows.at(-2)).toMatchObject({ item: 'Groups (roles as groups)', status: 'fail', found: expect.stringContaining('will not work (chosen)') });
    expect(report.fix).toContain('permission to manage users (and groups');
    await nothingChanged(0);
  });

  test('an app that publishes its rate limit in the IETF RateLimit headers: the row says the pace Roster Sync will keep, learnt from the test\'s own reads', async () => {
    await fresh(PROFILES.rateLimitIetf);
    const report = app().call('testScimConnection');
    expect(report.ok).toBe(true);
    const rate = /^about (\d+) requests a minute are used\.$/.exec(row(report, 'Rate limit').found);
    expect(rate).not.toBeNull();
    // 100 per 10 seconds is 600 a minute; Roster Sync keeps below it.
    expect(Number(rate![1])).toBeGreaterThan(0);
    expect(Number(rate![1])).toBeLessThan(600);
    await nothingChanged(0);
  });

  test('an app that advertises Bulk and refused it at a sync: the row says so (Bulk itself is never tried by the test, it writes)', async () => {
    await fresh(PROFILES.bulkAdvertisedNotHonoured);
    const w = app();
    expect(row(w.call('testScimConnection'), 'Bulk')).toMatchObject({ status: 'pass', found: expect.stringContaining('advertised (up to') });
    let r = w.call('syncNow', {});
    for (let i = 0; r.state === 'in-progress' && i < 50; i++) r = w.call('continueSync');
    expect(r.state).toBe('done');
    const users = (await server.state()).users.length;
    await server.clearLog();
    expect(row(w.call('testScimConnection'), 'Bulk')).toMatchObject({ status: 'warning', found: expect.stringContaining('refused when a sync tried it') });
    const log = (await server.state()).log;
    expect(log.filter((e: Json) => e.method !== 'GET')).toEqual([]);
    expect((await server.state()).users).toHaveLength(users);
  });
});
