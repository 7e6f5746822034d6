// The SCIM destination driven through the core (runSync) against a real SCIM 2.0
// server (scimmy + express, child process) over real HTTP, with the synchronous
// UrlFetchApp as the global the adapter uses.
import { checkScimDestination } from '../../src/destinations/scim/scimConfig';
import { ScimRoster } from '../../src/destinations/scim/scimRoster';
import { addAccount, updateAccounts } from '../../src/core/api';
import { ScimWorld, emailFor, idFor, person, scimServerForFile, scimWorld, writesOf } from './world';

const server = scimServerForFile();

beforeEach(async () => {
  await server.clear();
});

const userByName = (users: any[], userName: string) => users.find((u) => u.userName === userName);
const paths = (log: { method: string; url: string }[]) => log.map((r) => `${r.method} ${r.url.replace(/^https?:\/\/[^/]+\/scim\/v2/, '')}`);

function population(world: ScimWorld, students: number, teachers: number) {
  for (let i = 1; i <= students; i++) person(world, i, '/Students');
  for (let i = 1; i <= teachers; i++) person(world, 100 + i, '/Teachers');
}

describe('roles as the SCIM roles attribute', () => {
  test('the first sync creates the users through one Bulk request; a second sync sends no writes', async () => {
    const world = scimWorld(server);
    population(world, 4, 2);
    const first = world.sync();
    expect(first.state).toBe('done');
    expect(first.applied.create).toBe(6);
    const sent = world.takeRequests();
    // ServiceProviderConfig, one page of users, one Bulk request with the six POSTs.
    expect(paths(sent.log)).toEqual(['GET /ServiceProviderConfig', 'GET /Users?startIndex=1&count=100', 'POST /Bulk']);
    const state = await server.state();
    expect(state.log.find((r) => r.path.endsWith('/Bulk'))!.bulk).toEqual(Array(6).fill('POST /Users'));
    expect(state.users).toHaveLength(6);
    const u1 = userByName(state.users, emailFor(1));
    expect(u1).toMatchObject({
      userName: emailFor(1),
      externalId: idFor(1),
      displayName: 'First1 Last1',
      name: { formatted: 'First1 Last1', givenName: 'First1', familyName: 'Last1' },
      emails: [{ value: emailFor(1), type: 'work', primary: true }],
      active: true,
      roles: [{ value: 'student' }],
    });
    expect(userByName(state.users, emailFor(101)).roles).toEqual([{ value: 'teacher' }]);

    const accounts = world.newRoster().readAll().accounts;
    expect(accounts).toHaveLength(6);
    expect(accounts.find((a) => a.id === idFor(1))).toMatchObject({ email: emailFor(1), roles: ['student'], status: 'active', syncedStatus: 'active', source: 'synced', orgUnitPath: '/Students' });
    world.takeRequests();

    const second = world.sync();
    expect(second.state).toBe('done');
    expect(second.message).toMatch(/^No changes/);
    const again = world.takeRequests();
    expect(again.total).toBe(2);
    expect(writesOf(again.log)).toEqual([]);
  });

  test('rollover: students who become teachers get a PATCH with only the role change', async () => {
    const world = scimWorld(server);
    population(world, 3, 1);
    world.sync();
    world.takeRequests();
    world.directory.user(emailFor(1)).orgUnitPath = '/Teachers';
    world.directory.user(emailFor(2)).orgUnitPath = '/Teachers';
    world.directory.user(emailFor(3)).name = 'Third Renamed';
    await server.clearLog();
    const result = world.sync();
    expect(result.applied.update).toBe(3);
    const log = (await server.state()).log;
    const bulk = log.find((r) => r.path.endsWith('/Bulk'))!;
    expect(bulk.bulk).toHaveLength(3);
    expect(bulk.bulk!.every((op) => op.startsWith('PATCH /Users/'))).toBe(true);
    // Only what changed: the role swap for the movers, the name for the renamed user.
    expect(bulk.patchOps).toEqual([
      ['add roles', 'remove roles[value eq "student"]'],
      ['add roles', 'remove roles[value eq "student"]'],
      ['replace displayName', 'replace name'],
    ]);
    const state = await server.state();
    expect(userByName(state.users, emailFor(1)).roles).toEqual([{ value: 'teacher' }]);
    expect(userByName(state.users, emailFor(3))).toMatchObject({ displayName: 'Third Renamed', name: { formatted: 'Third Renamed', givenName: 'Third', familyName: 'Renamed' } });
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
  });
});

describe('status changes', () => {
  test('a suspended Google user is set active=false (and back when unsuspended)', async () => {
    const world = scimWorld(server);
    population(world, 2, 0);
    world.sync();
    world.directory.user(emailFor(1)).suspended = true;
    await server.clearLog();
    const r = world.sync();
    expect(r.applied.deactivate).toBe(1);
    const state = await server.state();
    expect(state.log.filter((l) => l.method !== 'GET')).toEqual([expect.objectContaining({ method: 'PATCH', patchOps: [['replace active']] })]);
    expect(userByName(state.users, emailFor(1)).active).toBe(false);
    const acc = world.newRoster().readAll().accounts.find((a) => a.id === idFor(1))!;
    expect(acc).toMatchObject({ status: 'suspended', syncedStatus: 'suspended' });
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
    world.directory.user(emailFor(1)).suspended = false;
    expect(world.sync().applied.reactivate).toBe(1);
    expect(userByName((await server.state()).users, emailFor(1)).active).toBe(true);
  });

  test('out of scope: deactivated at once, deleted (DELETE) after the grace period', async () => {
    const world = scimWorld(server);
    population(world, 3, 0);
    world.sync();
    world.directory.user(emailFor(2)).orgUnitPath = '/Staff';
    await server.clearLog();
    expect(world.sync().applied.deactivate).toBe(1);
    let state = await server.state();
    expect(userByName(state.users, emailFor(2)).active).toBe(false);
    const acc = world.newRoster().readAll().accounts.find((a) => a.id === idFor(2))!;
    expect(acc.status).toBe('disabled');
    expect(acc.outOfScopeSince).not.toBe('');
    // Within the grace period nothing is written.
    world.clock.now += 3 * 86_400_000;
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
    // After it, the user is deleted in the app and forgotten by the ledger.
    world.clock.now += 5 * 86_400_000;
    await server.clearLog();
    expect(world.sync().applied.delete).toBe(1);
    state = await server.state();
    expect(state.log.filter((l) => l.method !== 'GET')).toEqual([expect.objectContaining({ method: 'DELETE', path: expect.stringMatching(/^\/scim\/v2\/Users\//), status: 204 })]);
    expect(userByName(state.users, emailFor(2))).toBeUndefined();
    expect(state.users).toHaveLength(2);
    expect(world.newRoster().readAll().accounts.map((a) => a.id)).not.toContain(idFor(2));
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
  });

  test('an app-side deactivation is a local decision: kept, nothing written', async () => {
    const world = scimWorld(server);
    population(world, 2, 0);
    world.sync();
    await server.mutate(emailFor(1), { active: false });
    const acc = world.newRoster().readAll().accounts.find((a) => a.id === idFor(1))!;
    expect(acc).toMatchObject({ status: 'disabled', syncedStatus: 'active' });
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
    expect(userByName((await server.state()).users, emailFor(1)).active).toBe(false);
  });

  test('a user deleted in the app while still in scope is restored (as the Sheet roster restores a deleted row)', async () => {
    const world = scimWorld(server);
    population(world, 2, 0);
    world.sync();
    await server.mutate(emailFor(1), null);
    expect(world.newRoster().readAll().accounts.find((a) => a.id === idFor(1))!.status).toBe('deleted');
    const r = world.sync();
    expect(r.applied.reactivate).toBe(1);
    const state = await server.state();
    expect(state.users.filter((u) => u.userName === emailFor(1))).toHaveLength(1);
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
  });
});

describe('matching existing app users', () => {
  test('a pre-existing user with the same userName is adopted, not duplicated', async () => {
    await server.seed([{ userName: emailFor(1), displayName: 'Old Name', active: true, title: 'Set in the app' }]);
    const world = scimWorld(server);
    population(world, 3, 0);
    const r = world.sync();
    expect(r.state).toBe('done');
    const state = await server.state();
    expect(state.users).toHaveLength(3);
    const adopted = userByName(state.users, emailFor(1));
    expect(adopted).toMatchObject({ externalId: idFor(1), displayName: 'First1 Last1', roles: [{ value: 'student' }], title: 'Set in the app' });
    const bulk = state.log.find((l) => l.path.endsWith('/Bulk'))!;
    expect(bulk.bulk!.filter((b) => b === 'POST /Users')).toHaveLength(2);
    expect(bulk.bulk!.filter((b) => b.startsWith('PATCH /Users/'))).toHaveLength(1);
    const acc = world.newRoster().readAll().accounts.find((a) => a.id === idFor(1))!;
    expect(acc).toMatchObject({ source: 'synced', email: emailFor(1) });
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
  });

  test('a user found by externalId (the Google id) is linked without any write', async () => {
    await server.seed([{ userName: emailFor(1), externalId: idFor(1), displayName: 'First1 Last1', name: { formatted: 'First1 Last1', givenName: 'First1', familyName: 'Last1' }, emails: [{ value: emailFor(1), type: 'work', primary: true }], active: true, roles: [{ value: 'student' }] }]);
    const world = scimWorld(server);
    population(world, 1, 0);
    world.sync();
    const state = await server.state();
    expect(state.users).toHaveLength(1);
    expect(state.log.filter((l) => l.method !== 'GET')).toEqual([]);
  });

  test('a 409 on create is resolved by looking the user up and adopting it', async () => {
    await server.set({ conflictOnCreate: [emailFor(2)] });
    const world = scimWorld(server);
    population(world, 3, 0);
    const r = world.sync();
    expect(r.state).toBe('done');
    expect(r.applied.create).toBe(3);
    const state = await server.state();
    expect(state.users.filter((u) => u.userName === emailFor(2))).toHaveLength(1);
    expect(userByName(state.users, emailFor(2))).toMatchObject({ externalId: idFor(2), displayName: 'First2 Last2' });
    const paths = state.log.map((l) => `${l.method} ${l.path.replace('/scim/v2', '')} ${l.status}`);
    expect(paths).toContain(`GET /Users?filter=${encodeURIComponent(`userName eq "${emailFor(2)}"`)}&startIndex=1&count=10 200`);
    const bulk = state.log.find((l) => l.path.endsWith('/Bulk'))!;
    expect(bulk.bulk).toHaveLength(3);
    expect(state.log.filter((l) => l.method === 'PATCH')).toHaveLength(1);
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
  });
});

describe('failures', () => {
  test('a server that answers 503 and then recovers: retried with backoff, nothing lost', async () => {
    await server.set({ fail503: 2 });
    const world = scimWorld(server);
    population(world, 3, 0);
    const r = world.sync();
    expect(r.state).toBe('done');
    expect(r.applied.create).toBe(3);
    expect(world.sleeps.length).toBe(2);
    expect(world.sleeps[1]).toBeGreaterThan(world.sleeps[0]);
    const sent = world.takeRequests();
    expect(sent.log.filter((l) => l.code === 503)).toHaveLength(2);
    expect((await server.state()).users).toHaveLength(3);
  });

  test('429 with Retry-After: waits as long as the server asks', async () => {
    await server.set({ fail429: 1, retryAfter: '7', failOn: 'write' });
    const world = scimWorld(server);
    population(world, 2, 0);
    const r = world.sync();
    expect(r.state).toBe('done');
    expect(world.sleeps).toEqual([7000]);
    expect((await server.state()).users).toHaveLength(2);
  });

  test('a refused token: one clear message, the run stops at the first request', async () => {
    await server.set({ token: 'the-right-token' });
    const world = scimWorld(server);
    population(world, 5, 0);
    world.token = 'a-token-that-was-revoked';
    const r = world.sync();
    expect(r.state).toBe('failed');
    expect(r.message).toContain('The SCIM token was refused');
    expect(r.fix).toMatch(/^Paste a new one/);
    const sent = world.takeRequests();
    expect(sent.total).toBe(1);
    expect(world.history.entries.at(-1)).toMatchObject({ outcome: 'failed' });
    const check = checkScimDestination(world.newRoster());
    expect(check).toMatchObject({ status: 'fail', fix: expect.stringMatching(/^Paste a new one/) });
    world.token = 'the-right-token';
    expect(checkScimDestination(world.newRoster())).toMatchObject({ status: 'pass', found: expect.stringContaining('accepted the token (PATCH: yes, Bulk: yes, filter: yes)') });
  });

  test('a wrong base URL stops the run with a message naming the URL', async () => {
    const world = scimWorld(server, { baseUrl: server.baseUrl.replace('/scim/v2', '/api') });
    population(world, 2, 0);
    const r = world.sync();
    expect(r.state).toBe('failed');
    expect(r.message).toContain('is not a SCIM 2.0 service');
    expect(world.takeRequests().total).toBe(2);
  });

  test('an unreachable host: one retry, then a clear message', async () => {
    const world = scimWorld(server, { baseUrl: 'http://127.0.0.1:1/scim/v2' });
    population(world, 2, 0);
    const r = world.sync();
    expect(r.state).toBe('failed');
    expect(r.message).toContain('cannot be reached');
    expect(world.takeRequests().total).toBe(2);
  });

  test('one account the app rejects does not stop the others; it is retried next sync', async () => {
    await server.set({ rejectUserNames: [emailFor(2)] });
    const world = scimWorld(server);
    population(world, 3, 0);
    const r = world.sync();
    expect(r.state).toBe('done');
    expect(r.applied.create).toBe(2);
    expect(r.message).toContain('1 accounts could not be written');
    expect(r.message).toContain('The SCIM app rejected user2@school.example (HTTP 400)');
    expect(world.history.entries.at(-1)!.outcome).toBe('partial');
    expect(world.newRoster().readAll().accounts.map((a) => a.id)).not.toContain(idFor(2));
    await server.set({ rejectUserNames: [] });
    world.takeRequests();
    const again = world.sync();
    expect(again.applied.create).toBe(1);
    expect(writesOf(world.takeRequests().log)).toHaveLength(1);
  });

  test('a server whose paging does not work: the run stops after one extra page, nothing is written', async () => {
    const world = scimWorld(server);
    population(world, 30, 0);
    world.sync();
    await server.set({ ignorePaging: true });
    world.takeRequests();
    const r = world.sync();
    expect(r.state).toBe('failed');
    expect(r.message).toBe(`The SCIM app at 127.0.0.1:${server.port} listed 20 of its 30 users: its paging (startIndex and count) does not work; nothing was changed.`);
    const sent = world.takeRequests();
    expect(sent.total).toBe(4); // ServiceProviderConfig, page 1, page 21 (the same 20 again), one more try
    expect(writesOf(sent.log)).toEqual([]);
  });

  test('when most requests fail the run stops early instead of hammering the server', async () => {
    await server.set({ bulk: false, fail503: 100_000, failOn: 'write' });
    const world = scimWorld(server);
    population(world, 45, 0);
    const r = world.sync();
    expect(r.state).toBe('failed');
    expect(r.message).toMatch(/^Stopped early: 20 of 2\d requests to the SCIM app/);
    const sent = world.takeRequests();
    // One batch of 20 writes, each tried 5 times, then nothing more.
    expect(writesOf(sent.log)).toHaveLength(100);
    expect(world.newRoster().readAll().accounts).toHaveLength(0);
  });
});

describe('transport', () => {
  test('Bulk disabled by the server: single requests, batched with fetchAll', async () => {
    await server.set({ bulk: false });
    const world = scimWorld(server);
    population(world, 5, 0);
    world.sync();
    const state = await server.state();
    expect(state.log.some((l) => l.path.endsWith('/Bulk'))).toBe(false);
    expect(state.log.filter((l) => l.method === 'POST' && l.path === '/scim/v2/Users')).toHaveLength(5);
    expect(world.http.stats.fetchAllCalls).toBe(3);
    expect(state.users).toHaveLength(5);
  });

  test('Bulk advertised but refused (501): falls back to single requests', async () => {
    const world = scimWorld(server);
    population(world, 3, 0);
    world.newRoster();
    const roster = world.roster;
    roster.client.capabilities();
    await server.set({ bulk: false }); // the server stops honouring Bulk after advertising it
    world.svc.roster = roster;
    const r = roster.apply(planCreates(world));
    expect(r.failed).toEqual([]);
    expect(r.applied).toHaveLength(3);
    const state = await server.state();
    expect(state.log.filter((l) => l.path.endsWith('/Bulk')).map((l) => l.status)).toEqual([501]);
    expect(state.users).toHaveLength(3);
  });

  test('Bulk requests respect maxOperations and maxPayloadSize', async () => {
    await server.set({ bulkMaxOperations: 4, bulkMaxPayloadSize: 3000 });
    const world = scimWorld(server);
    population(world, 10, 0);
    world.sync();
    const bulks = (await server.state()).log.filter((l) => l.path.endsWith('/Bulk'));
    expect(bulks.every((b) => b.status === 200 && b.bulk!.length <= 4)).toBe(true);
    expect(bulks.reduce((n, b) => n + b.bulk!.length, 0)).toBe(10);
    expect(bulks.length).toBeGreaterThanOrEqual(3);
  });

  test('without PATCH, updates are PUTs of the whole user that keep what the app set', async () => {
    await server.set({ patch: false });
    const world = scimWorld(server);
    population(world, 2, 0);
    world.sync();
    await server.mutate(emailFor(1), { title: 'Set in the app', roles: [{ value: 'student' }, { value: 'librarian' }] });
    world.directory.user(emailFor(1)).orgUnitPath = '/Teachers';
    await server.clearLog();
    expect(world.sync().applied.update).toBe(1);
    const state = await server.state();
    expect(state.log.filter((l) => l.method !== 'GET').map((l) => l.method)).toEqual(['PUT']);
    expect(userByName(state.users, emailFor(1))).toMatchObject({ title: 'Set in the app', roles: [{ value: 'librarian' }, { value: 'teacher' }], externalId: idFor(1) });
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    expect(writesOf(world.takeRequests().log)).toEqual([]);
  });

  test('ledger writes are proportional to changes', async () => {
    const world = scimWorld(server);
    population(world, 30, 0);
    world.sync();
    world.newRoster();
    const quiet = world.sync();
    expect(quiet.message).toMatch(/^No changes/);
    expect(world.roster.ledger.writes).toBe(0);
    world.directory.user(emailFor(7)).name = 'Seven Renamed';
    world.sync();
    expect(world.roster.ledger.writes).toBe(2); // one journal segment + its head
    expect(world.roster.ledger.bytesWritten).toBeLessThan(400);
  });
});

describe('the sidebar API on a SCIM roster', () => {
  test('an account added by hand is created in the app; a permission-only edit writes only the ledger', async () => {
    const world = scimWorld(server);
    population(world, 1, 0);
    world.sync();
    world.newRoster();
    const manual = addAccount(world.svc, { name: 'Visiting Speaker', email: 'speaker@guest.example', role: 'teacher' });
    let state = await server.state();
    expect(userByName(state.users, 'speaker@guest.example')).toMatchObject({ displayName: 'Visiting Speaker', roles: [{ value: 'teacher' }], active: true });
    expect(userByName(state.users, 'speaker@guest.example').externalId).toBeUndefined();
    world.newRoster();
    world.takeRequests();
    updateAccounts(world.svc, { ids: [manual.id, idFor(1)], grant: ['reports'] });
    expect(writesOf(world.takeRequests().log)).toEqual([]);
    expect(world.roster.ledger.writes).toBe(2);
    const accounts = world.newRoster().readAll().accounts;
    expect(accounts.find((a) => a.id === manual.id)).toMatchObject({ source: 'manual', permissions: ['reports'], roles: ['teacher'] });
    expect(accounts.find((a) => a.id === idFor(1))!.permissions).toEqual(['reports']);
    // A status set by an admin is a local decision; 'deleted' removes the user from the app.
    world.newRoster();
    updateAccounts(world.svc, { ids: [idFor(1)], status: 'deleted' });
    state = await server.state();
    expect(userByName(state.users, emailFor(1))).toBeUndefined();
    expect(world.newRoster().readAll().accounts.find((a) => a.id === idFor(1))).toMatchObject({ status: 'deleted', syncedStatus: 'active' });
  });
});

describe('roles as SCIM groups', () => {
  test('first sync creates users and role groups; memberships change by add/remove PATCH; second sync sends no writes', async () => {
    const world = scimWorld(server, { roleMapping: 'groups', roleGroups: { teacher: 'Faculty' } });
    population(world, 3, 2);
    const r = world.sync();
    expect(r.state).toBe('done');
    let state = await server.state();
    const group = (name: string) => state.groups.find((g) => g.displayName === name);
    const members = (name: string) => (group(name)?.members ?? []).map((m: any) => state.users.find((u) => u.id === m.value)?.userName).sort();
    expect(members('student')).toEqual([emailFor(1), emailFor(2), emailFor(3)].sort());
    expect(members('Faculty')).toEqual([emailFor(101), emailFor(102)].sort());
    expect(group('admin')).toBeUndefined(); // no one needs it: not created
    expect(state.users.every((u) => u.roles === undefined)).toBe(true);

    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    const quiet = world.takeRequests();
    expect(writesOf(quiet.log)).toEqual([]);
    // ServiceProviderConfig, users, and one lookup per role group.
    expect(quiet.total).toBe(5);

    world.directory.user(emailFor(1)).orgUnitPath = '/Teachers';
    await server.clearLog();
    expect(world.sync().applied.update).toBe(1);
    state = await server.state();
    expect(members('student')).toEqual([emailFor(2), emailFor(3)].sort());
    expect(members('Faculty')).toEqual([emailFor(1), emailFor(101), emailFor(102)].sort());
    const writes = state.log.filter((l) => l.method !== 'GET');
    expect(writes).toHaveLength(1);
    expect(writes[0].bulk!.every((op) => op.startsWith('PATCH /Groups/'))).toBe(true);
    expect(writes[0].patchOps!.map((ops) => ops.join()).sort()).toEqual(['add members', `remove members[value eq "${userByName(state.users, emailFor(1)).id}"]`]);
  });

  test('an app that leaves members out of group lists, and one without PATCH (group PUT)', async () => {
    await server.set({ omitGroupMembers: true });
    const world = scimWorld(server, { roleMapping: 'groups' });
    population(world, 2, 1);
    world.sync();
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    const quiet = world.takeRequests();
    expect(writesOf(quiet.log)).toEqual([]);
    expect(paths(quiet.log).filter((p) => /^GET \/Groups\/[^?]+$/.test(p))).toHaveLength(2); // student, teacher read by id
    await server.set({ omitGroupMembers: false, patch: false });
    world.directory.user(emailFor(1)).orgUnitPath = '/Teachers';
    await server.clearLog();
    expect(world.sync().applied.update).toBe(1);
    const state = await server.state();
    const writes = state.log.filter((l) => l.method !== 'GET');
    expect(writes).toHaveLength(1);
    expect(writes[0].bulk!.map((op) => op.split('/').slice(0, 2).join('/'))).toEqual(['PUT /Groups', 'PUT /Groups']);
    const members = (name: string) => state.groups.find((g) => g.displayName === name)!.members.map((m: any) => m.display).sort();
    expect(members('student')).toEqual([emailFor(2)]);
    expect(members('teacher')).toEqual([emailFor(1), emailFor(101)].sort());
  });

  test('large groups change in chunks the server accepts (at most 100 members per PATCH), users read in parallel pages', async () => {
    await server.set({ bulk: false, maxMembersPerPatch: 100 });
    const world = scimWorld(server, { roleMapping: 'groups' });
    population(world, 250, 0);
    const r = world.sync();
    expect(r.state).toBe('done');
    expect(r.applied.create).toBe(250);
    let state = await server.state();
    const patches = state.log.filter((l) => l.method === 'PATCH' && l.path.includes('/Groups/'));
    expect(patches.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(state.groups.find((g) => g.displayName === 'student')!.members).toHaveLength(250);
    world.takeRequests();
    expect(world.sync().message).toMatch(/^No changes/);
    const quiet = world.takeRequests();
    expect(quiet.log.map((l) => l.url.replace(server.baseUrl, '')).filter((u) => u.startsWith('/Users'))).toEqual([
      '/Users?startIndex=1&count=100',
      '/Users?startIndex=101&count=100',
      '/Users?startIndex=201&count=100',
    ]);
    expect(writesOf(quiet.log)).toEqual([]);
    state = await server.state();
    expect(state.users).toHaveLength(250);
  });
});

describe('identities', () => {
  test('a swap of emails when the app offers no PATCH: both step aside with a PUT, then take their new userNames', async () => {
    await server.set({ patch: false, bulk: false });
    const world = scimWorld(server);
    population(world, 3, 0);
    expect(world.sync().state).toBe('done');
    const [a, b] = [world.directory.users[0], world.directory.users[1]];
    [a.email, b.email] = [b.email, a.email];
    world.takeRequests();
    const r = world.sync();
    expect(r).toMatchObject({ state: 'done', applied: expect.objectContaining({ update: 2 }) });
    expect(writesOf(world.takeRequests().log).map((l) => l.method)).toEqual(['PUT', 'PUT', 'PUT', 'PUT']);
    const users = (await server.state()).users;
    expect(users.find((u) => u.externalId === a.id)).toMatchObject({ userName: a.email, emails: [expect.objectContaining({ value: a.email })] });
    expect(users.find((u) => u.externalId === b.id)).toMatchObject({ userName: b.email, emails: [expect.objectContaining({ value: b.email })] });
    expect(world.sync().message).toMatch(/^No changes/);
  });

  test('an email two active app users already share blocks only a change that would give it to one more: the holder\'s own updates still go out', async () => {
    const world = scimWorld(server);
    population(world, 2, 0);
    expect(world.sync().state).toBe('done');
    // Someone in the app made a second active user with the same email.
    await server.seed([{ userName: 'copy', displayName: 'Copy', emails: [{ value: emailFor(1), type: 'work', primary: true }] }]);
    world.directory.users.find((u) => u.id === idFor(1))!.orgUnitPath = '/Teachers';
    world.takeRequests();
    const r = world.sync();
    expect(r).toMatchObject({ state: 'done', applied: expect.objectContaining({ update: 1 }) });
    expect(userByName((await server.state()).users, emailFor(1)).roles).toEqual([{ value: 'teacher' }]);
  });
});

describe('the ledger', () => {
  test('a ledger an earlier version wrote (no mark beside it yet) is marked when first read, so losing it later is refused', async () => {
    const world = scimWorld(server);
    population(world, 2, 0);
    expect(world.sync().state).toBe('done'); // the world's roster keeps no marks, as before the mark existed
    const withMarks = () => new ScimRoster({ settings: world.scim, token: world.token, roles: ['student', 'teacher', 'admin'], state: world.svc.state, marks: world.svc.config });
    expect(withMarks().readAll().accounts).toHaveLength(2);
    world.svc.state.removePrefix('scim.');
    expect(() => withMarks().readAll()).toThrow(/was deleted or cleared after syncs had written it/);
  });
});

/** The create changes a plan makes for the world's directory (to call apply directly). */
function planCreates(world: ScimWorld) {
  return world.directory.users.map((u) => ({
    kind: 'create' as const,
    accountId: u.id,
    email: u.email,
    name: u.name,
    reasons: ['test'],
    before: null,
    after: { id: u.id, email: u.email, name: u.name, roles: ['student'], status: 'active' as const, permissions: [], source: 'synced' as const, orgUnitPath: u.orgUnitPath, lastSynced: '2026-09-01T00:00:00Z', syncedStatus: 'active' as const, outOfScopeSince: '' },
  }));
}

void ScimRoster;
