// The SCIM destination against behaviour profiles of real SCIM apps (emulator/scim/server.ts PROFILES),
// through the product's own server API on the built bundle in the simulated runtime.
import { PROFILES } from '../../emulator/scim/profiles';
import { DEMO_DOMAIN, demoDistrict, generateDomain, scaleRules } from '../../emulator/domain';
import { World, later, world } from '../e2e/harness';
import { appWorld, resetApp, scimServerForFile } from './world';

const TOKEN = 'profile-token-0123456789abcdef';
const server = scimServerForFile(TOKEN);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A linked world whose destination is the test server, token saved. */
function scimApp(options: Parameters<typeof world>[0] = {}, scim: Json = {}): World {
  return appWorld(server, { token: TOKEN, world: options, scim });
}

/** Sync now as the sidebar runs it: continueSync while the sync is in progress. */
function syncToEnd(w: World): Json {
  let r = w.call('syncNow', {});
  for (let i = 0; r.state === 'in-progress' && i < 200; i++) r = w.call('continueSync');
  return r;
}

const fresh = (switches: Json = {}) => resetApp(server, TOKEN, switches);

const writes = async () => (await server.state()).log.filter((r) => r.method !== 'GET');

/** A first sync to its end: a success, every planned account in the app once. */
async function provisionsEveryoneOnce(w: World): Promise<Json> {
  const first = syncToEnd(w);
  expect(first.state).toBe('done');
  expect(w.history().at(-1)).toMatchObject({ Outcome: 'success' });
  const users = (await server.state()).users;
  expect(users).toHaveLength(first.planned.create);
  expect(new Set(users.map((u) => u.externalId)).size).toBe(users.length);
  return first;
}

/** The next sync, with nothing changed in Google: no change, and no write sent. */
async function quietSyncWritesNothing(w: World): Promise<void> {
  await server.clearLog();
  later(w);
  expect(syncToEnd(w)).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(await writes()).toEqual([]);
}

describe('an app without value-filtered PATCH paths on Users', () => {
  test('a demoted admin loses the admin role (the whole roles list is replaced), and the next sync sends no write', async () => {
    await fresh(PROFILES.noValuePathPatch);
    const dir = demoDistrict();
    const w = scimApp({ directory: dir });
    expect(syncToEnd(w).state).toBe('done');
    // A counselor (teacher) who is also an administrator: demoted, the teacher role stays.
    const admins = dir.findGroup(`admins@${DEMO_DOMAIN}`)!;
    const counselors = dir.findGroup(`counselors@${DEMO_DOMAIN}`)!;
    const admin = dir.allUsers().find((u) => dir.isMemberDeep(admins, u.id) && dir.isMemberDeep(counselors, u.id))!;
    const inApp = async () => (await server.state()).users.find((u) => u.userName === admin.primaryEmail)!;
    expect((await inApp()).roles.map((r: Json) => r.value)).toContain('admin');

    dir.removeMember(`admins@${DEMO_DOMAIN}`, admin.primaryEmail);
    await server.clearLog();
    later(w);
    const demoted = syncToEnd(w);
    expect(demoted.state).toBe('done');
    expect((await inApp()).roles.map((r: Json) => r.value)).not.toContain('admin');
    const patches = (await writes()).filter((r) => r.method === 'PATCH');
    expect(patches.at(-1)).toMatchObject({ status: 200, patchOps: [['replace roles']] });

    // Remembered for this app: the next demotion goes in the whole-list form at once, and no change sends nothing.
    await quietSyncWritesNothing(w);
  });
});

describe('an app that limits requests to 100 per 10 seconds per path', () => {
  const big = () => generateDomain({ users: 1500, domain: 'rate.example', groups: 3 });
  const rules = scaleRules('rate.example');

  async function firstSyncIsPacedAndComplete(style: keyof typeof PROFILES, people: number) {
    await fresh(PROFILES[style]);
    const w = scimApp({ directory: generateDomain({ users: people, domain: 'rate.example', groups: 3 }), rules });
    const r = syncToEnd(w);
    const state = await server.state();
    expect(r).toMatchObject({ state: 'done' });
    expect(r.applied.create).toBe(r.planned.create);
    expect(state.users).toHaveLength(r.planned.create);
    expect(r.planned.create).toBeGreaterThan(people * 0.8);
    // No duplicate: one app user per Google user.
    expect(new Set(state.users.map((u) => u.externalId)).size).toBe(state.users.length);
    // Never a request inside a wait the app asked for, and 429s are the exception, not the rule.
    expect(state.log.filter((e) => e.insideWait)).toEqual([]);
    const refused = state.log.filter((e) => e.status === 429).length;
    expect(refused).toBeLessThanOrEqual(40);
    const posts = state.log.filter((e) => e.method === 'POST');
    expect(posts.length).toBeLessThanOrEqual(r.planned.create + refused);

    await quietSyncWritesNothing(w);
    return { w, r, state };
  }

  test('Retry-After: a first Sync now of 1,500 users provisions everyone, part after part, with no duplicate', async () => {
    await fresh(PROFILES.rateLimitRetryAfter);
    const w = scimApp({ directory: big(), rules });
    const r = syncToEnd(w);
    const state = await server.state();
    expect(r.state).toBe('done');
    expect(r.part).toBeGreaterThan(1); // the pace the app allows does not fit one execution
    expect(r.applied.create).toBe(r.planned.create);
    expect(r.planned.create).toBeGreaterThan(1400);
    expect(state.users).toHaveLength(r.planned.create);
    expect(new Set(state.users.map((u) => u.externalId)).size).toBe(state.users.length);
    expect(new Set(state.users.map((u) => u.userName)).size).toBe(state.users.length);
    expect(state.log.filter((e) => e.insideWait)).toEqual([]);
    expect(state.log.filter((e) => e.status === 429).length).toBeLessThanOrEqual(40);
    expect(state.log.filter((e) => e.method === 'POST' && e.status === 201)).toHaveLength(r.planned.create);
    expect(w.history()[0]).toMatchObject({ Outcome: 'success' });
    await quietSyncWritesNothing(w);
  });

  test('X-Retry-After only: the same pacing', async () => {
    await firstSyncIsPacedAndComplete('rateLimitXRetryAfter', 400);
  });

  test('IETF RateLimit headers: a first Sync now of 1,500 users is paced from the first answers, so the app never has to refuse', async () => {
    const { state } = await firstSyncIsPacedAndComplete('rateLimitIetf', 1500);
    expect(state.log.filter((e) => e.status === 429)).toEqual([]);
  });
});

describe('an app whose emails are unique across accounts provisioning did not create', () => {
  test('the refusal keeps the app\'s words and says how to fix it; the same POST is not re-sent until the user changes', async () => {
    await fresh(PROFILES.uniqueEmails);
    const dir = demoDistrict();
    const [taken, alsoTaken] = dir.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students') && !u.suspended);
    // Accounts made in the app itself before provisioning: SCIM neither lists them nor finds them by userName or externalId.
    await server.seed([
      { userName: 'jdoe-local', emails: [{ value: taken.primaryEmail, primary: true }], hidden: true },
      { userName: 'second-local', emails: [{ value: alsoTaken.primaryEmail, primary: true }], hidden: true },
    ]);
    const w = scimApp({ directory: dir });
    const first = syncToEnd(w);
    expect(first.state).toBe('done');
    expect(w.history()[0]).toMatchObject({ Outcome: 'partial' });
    expect(first.message).toContain('2 accounts could not be written');
    expect(first.message).toContain('a user already uses this email (uniqueness)');
    expect(first.message).toContain('was not created by provisioning: link it in the app, or exclude the user');
    expect(first.message).toContain('2 accounts wait for this');
    // Creates sent, alone or inside Bulk requests.
    const creates = async () => (await server.state()).log.reduce((n, e) => n + (e.bulk ? e.bulk.filter((op) => op === 'POST /Users').length : e.method === 'POST' && e.path.endsWith('/Users') ? 1 : 0), 0);

    // Nothing changed: the refused POSTs are not sent again, and the message still says who waits.
    await server.clearLog();
    later(w);
    const second = syncToEnd(w);
    expect(await writes()).toEqual([]);
    expect(second.message).toContain('2 accounts wait for this');

    // The user changed in Google: the create is tried again at once.
    dir.renameUser(taken.primaryEmail, 'Renamed', 'Student');
    await server.clearLog();
    later(w);
    syncToEnd(w);
    expect(await creates()).toBe(1);

    // A day later both are tried once more; refused again, they wait twice as long (two days) the next time.
    await server.clearLog();
    later(w, 25 * 60);
    const dayLater = syncToEnd(w);
    expect(await creates()).toBe(2);
    expect(dayLater.message).toContain('a user already uses this email');
    await server.clearLog();
    later(w, 25 * 60);
    syncToEnd(w);
    expect(await creates()).toBe(0);
  });
});

describe('a token that may manage users but not groups', () => {
  test('with roles as groups, Finalize fails with the fix before the first sync, and Test connection says why', async () => {
    await fresh(PROFILES.usersOnlyToken);
    const w = scimApp({}, { roleMapping: 'groups' });
    const destination = w.call('runFinalizeChecks').checks.find((c: Json) => c.id === 'destination');
    expect(destination).toMatchObject({ status: 'fail', found: expect.stringContaining('/Groups'), fix: expect.stringContaining('permission to manage users (and groups') });
    const report = w.call('testScimConnection');
    expect(report.ok).toBe(false);
    expect(report.rows.find((r: Json) => r.item === 'Groups (roles as groups)')).toMatchObject({ status: 'fail' });
    expect(report.fix).toContain('permission to manage users (and groups');
    // Nothing was written by either check.
    expect(await writes()).toEqual([]);
    expect((await server.state()).users).toEqual([]);
  });

  test('with roles as the roles attribute, the same token passes; a first sync provisions everyone and a no-change sync sends no write', async () => {
    await fresh(PROFILES.usersOnlyToken);
    const w = scimApp();
    expect(w.call('runFinalizeChecks').checks.find((c: Json) => c.id === 'destination')).toMatchObject({ status: 'pass' });
    expect(w.call('testScimConnection').ok).toBe(true);
    await provisionsEveryoneOnce(w);
    await quietSyncWritesNothing(w);
  });

  test('with app groups selected (Google Groups pushed as SCIM Groups), Finalize and Test connection fail before the first sync, with the fix', async () => {
    await fresh(PROFILES.usersOnlyToken);
    const w = scimApp();
    w.save({ appGroups: [`all-staff@${DEMO_DOMAIN}`] });
    const destination = w.call('runFinalizeChecks').checks.find((c: Json) => c.id === 'destination');
    expect(destination).toMatchObject({ status: 'fail', fix: expect.stringContaining('permission to manage users (and groups') });
    const report = w.call('testScimConnection');
    expect(report.ok).toBe(false);
    expect(report.rows.find((r: Json) => r.item === 'App groups')).toMatchObject({ status: 'fail', found: expect.stringContaining('1 selected Google Group need') });
    expect(await writes()).toEqual([]);
  });
});

describe('an app with no Bulk, pages of at most 100 and eq filters only (totalResults given)', () => {
  test('Test connection reports what it advertises and what it honours, and changes nothing', async () => {
    await fresh({ ...PROFILES.narrow, omitTotalResults: false });
    await server.seed(Array.from({ length: 130 }, (_, i) => ({ userName: `local${i}@app.example` })));
    await server.clearLog();
    const w = scimApp();
    const report = w.call('testScimConnection');
    const row = (item: string) => report.rows.find((r: Json) => r.item === item);
    expect(report.ok).toBe(true);
    expect(row('Advertised').found).toContain('Bulk: no');
    expect(row('Filter (userName eq)')).toMatchObject({ status: 'pass' });
    expect(row('Paging').found).toContain('pages of at most 100');
    expect(await writes()).toEqual([]);
  });

  test('a first sync and a no-change sync: everyone once, then no write', async () => {
    await fresh({ ...PROFILES.narrow, omitTotalResults: false });
    const w = scimApp();
    await provisionsEveryoneOnce(w);
    expect((await server.state()).log.filter((e) => e.path.endsWith('/Bulk'))).toEqual([]);
    await quietSyncWritesNothing(w);
  });

  test('Bulk advertised but refused: one refusal, remembered; everyone arrives once', async () => {
    await fresh(PROFILES.bulkAdvertisedNotHonoured);
    const w = scimApp();
    const first = syncToEnd(w);
    expect(first.state).toBe('done');
    const users = (await server.state()).users;
    expect(users).toHaveLength(first.planned.create);
    expect(new Set(users.map((u) => u.externalId)).size).toBe(users.length);
    expect((await server.state()).log.filter((e) => e.path.endsWith('/Bulk'))).toHaveLength(1);
    await quietSyncWritesNothing(w);
  });
});

describe('every profile', () => {
  // Each profile (and any added later) gets the same two guarantees on the demo district.
  test.each(Object.keys(PROFILES) as (keyof typeof PROFILES)[])('%s: a first sync provisions everyone once, and a sync with no change sends no write', async (profile) => {
    await fresh(PROFILES[profile]);
    // App groups need a token that may manage groups; the users-only token syncs roles as the roles attribute alone.
    const w = scimApp();
    if (profile !== 'usersOnlyToken') w.save({ appGroups: [`all-staff@${DEMO_DOMAIN}`] });
    await provisionsEveryoneOnce(w);
    await quietSyncWritesNothing(w);
  });
});
