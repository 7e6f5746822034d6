// Trust guarantees of the SCIM destination, on the built bundle in the simulated
// runtime against real SCIM servers on loopback: the token goes only to the address
// it was saved for, text from the app is redacted of it, nobody is merged into
// someone else's app account, odd listings never deprovision, and a lost ledger
// never silently undoes local decisions.
import { World, later } from '../e2e/harness';
import { appWorld, resetApp, scimServerForFile } from './world';
import { CATALOG } from '../../src/core/messages';
import { Recorder } from '../../scripts/reliability';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = 'trust-token-0123456789abcdef';
const CO_ADMIN = 'margaret.hollis@springfield-schools.example';
const HOURLY = { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] };
const app = scimServerForFile(TOKEN);
/** Another app, where a co-admin may point the base URL. */
const other = scimServerForFile();
// Figures go to .cache/reliability/scim.json (rendered into docs/reliability.md by scripts/reliability.ts).
const rec = new Recorder('scim');
/** The bundle the recorder measures, the token the app accepts. */
const inBundle = { world: { scriptPath: rec.bundle }, token: TOKEN };
afterAll(() => rec.finish());


/** A roster synced once to the app, with a co-admin listed under Admins. */
async function syncedWorld(scim: Json = {}, extra: Json = {}): Promise<World> {
  await resetApp(app, TOKEN);
  await other.clear();
  const w = appWorld(app, { ...inBundle, scim, settings: { admins: [CO_ADMIN], cooldownMinutes: 0, ...extra }, tokenFor: app.baseUrl });
  expect(w.call('syncNow', {}).state).toBe('done');
  later(w);
  return w;
}

/** Hours pass until an hourly heartbeat has run a sync; its result. */
function scheduledRun(w: World): Json {
  for (let i = 0; i < 4; i++) {
    const ran = w.rt.advanceHours(1).map((r) => r.result as Json).find((r) => r && r.state !== 'idle');
    if (ran) return JSON.parse(JSON.stringify(ran));
  }
  throw new Error('no heartbeat ran a sync in 4 hours');
}

const catalog = (id: keyof typeof CATALOG) => new RegExp(`^${CATALOG[id].text.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '.*')}$`);

describe('the token is bound to the base URL it was saved for', () => {
  rec.test('token', 'a co-admin points the base URL at another server: the scheduled run sends it nothing, History, mail, getState and Finalize say so; the sync account pastes again and it works', async () => {
    const w = await syncedWorld({}, { schedule: HOURLY });
    const scim = w.settings().scim;
    w.call('saveSettings', { ...w.settings(), scim: { ...scim, baseUrl: other.baseUrl } }, CO_ADMIN);
    await other.clearLog();

    const run = scheduledRun(w);
    expect(run.state).toBe('failed');
    expect(run.message).toMatch(catalog('scimTokenOtherUrl'));
    const reached = (await other.state()).log;
    rec.count('scimScenarios');
    rec.count('changedUrls');
    rec.count('tokenSentElsewhere', reached.length);
    expect(reached).toEqual([]); // not one request, so neither the token nor a user record
    const failed = w.history()[w.history().length - 1];
    expect(failed).toMatchObject({ Trigger: 'scheduled', Outcome: 'failed' });
    expect(failed.Message).toContain(other.baseUrl);
    expect(w.rt.outbox.map((m) => m.body).join('\n')).toContain(`saved for ${app.baseUrl}`);

    for (const user of [undefined, CO_ADMIN]) {
      const state = w.call('getState', undefined, user);
      expect(state.destinationProblems).toEqual([{ id: 'scimTokenOtherUrl', text: expect.stringMatching(catalog('scimTokenOtherUrl')), fix: expect.stringContaining('paste the app\'s token again') }]);
    }
    const check = w.call('runFinalizeChecks').checks.find((c: Json) => c.id === 'destination');
    expect(check).toMatchObject({ status: 'fail', found: expect.stringMatching(catalog('scimTokenOtherUrl')) });
    expect(JSON.stringify([w.call('getState'), check, w.rt.logText(), w.rt.outbox])).not.toContain(TOKEN);

    // The co-admin cannot re-bind it: the token can only be pasted by the sync account.
    expect(w.envelope('saveScimToken', { token: TOKEN, baseUrl: other.baseUrl }, CO_ADMIN).ok).toBe(false);
    // Set back, the token works again for the address it was saved for.
    w.call('saveSettings', { ...w.settings(), scim });
    expect(w.call('getState').destinationProblems).toEqual([]);
    later(w);
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done' });
  });

  rec.test('token', 'any part of the address counts: another path, another port, another host', async () => {
    const w = await syncedWorld();
    const scim = w.settings().scim;
    const port = new URL(app.baseUrl).port;
    const variants = [app.baseUrl.replace('/scim/v2', '/scim/v2/evil'), app.baseUrl.replace(`:${port}`, `:${other.port}`), app.baseUrl.replace('127.0.0.1', 'localhost')];
    for (const baseUrl of variants) {
      w.save({ scim: { ...scim, baseUrl } });
      await app.clearLog();
      await other.clearLog();
      later(w);
      const r = w.call('syncNow', {});
      expect(r).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('scimTokenOtherUrl')) });
      const reached = [(await app.state()).log, (await other.state()).log];
      rec.count('scimScenarios');
      rec.count('changedUrls');
      rec.count('tokenSentElsewhere', reached.flat().length);
      expect(reached).toEqual([[], []]);
    }
    // A trailing slash is the same address.
    w.save({ scim: { ...scim, baseUrl: `${app.baseUrl}/` } });
    later(w);
    expect(w.call('syncNow', {}).state).toBe('done');
    // The sync account pastes the token again for a new address: it is used there.
    w.save({ scim: { ...scim, baseUrl: other.baseUrl } });
    w.call('saveScimToken', { token: TOKEN });
    expect(w.call('getState').destinationProblems).toEqual([]);
    await other.clearLog();
    later(w);
    expect(w.call('syncNow', {}).state).toBe('done');
    expect((await other.state()).users.length).toBeGreaterThan(300);
  });
});

describe('text from the SCIM app is redacted of the token', () => {
  rec.test('redaction', 'an app that quotes the Authorization header back in every error: the token reaches no History row, getState, sync result, log line, mail or Finalize', async () => {
    await resetApp(app, TOKEN);
    const w = appWorld(app, { ...inBundle, settings: { schedule: HOURLY, cooldownMinutes: 0 } });
    const students = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students')).map((u) => u.primaryEmail.toLowerCase());
    // One user the app rejects (a 400 whose detail quotes the header), through Bulk and one by one.
    await app.set({ echoAuthorization: true, rejectUserNames: students.slice(0, 1) });
    const outputs: Json[] = [];
    outputs.push(scheduledRun(w));
    await app.set({ bulk: false, rejectUserNames: students.slice(0, 2) });
    later(w);
    outputs.push(w.call('syncNow', {}));
    // "Sync this user" quotes the app's answer too.
    outputs.push(w.call('syncUser', { email: students[0] }));
    // Most requests refused: the early stop quotes the first failure.
    const newcomers = Array.from({ length: 40 }, (_, i) => `newcomer${i}@springfield-schools.example`);
    const ou = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students'))!.orgUnitPath;
    for (const email of newcomers) w.rt.directory.addUser({ email, givenName: 'New', familyName: 'Comer', orgUnitPath: ou });
    await app.set({ rejectUserNames: newcomers });
    later(w);
    const stopped = w.call('syncNow', {});
    expect(stopped.message).toMatch(/^Stopped early/);
    outputs.push(stopped);
    outputs.push(w.call('getState'), w.call('runFinalizeChecks'), w.call('getAccounts', { limit: 500 }));

    const state = await app.state();
    expect(state.log.some((r) => r.status === 400)).toBe(true); // the app did answer with quoting errors
    const history = w.history();
    expect(history.map((h) => h.Outcome)).toContain('partial');
    expect(history.map((h) => h.Message).join('\n')).toContain('[redacted]');
    const places = { results: JSON.stringify(outputs), history: JSON.stringify(history), logs: w.rt.logText(), mail: JSON.stringify(w.rt.outbox), sheets: JSON.stringify([...w.rt.spreadsheet().sheets].map((s) => s.rows)), scriptProperties: JSON.stringify(w.rt.scriptProperties()) };
    expect(w.rt.outbox.length).toBeGreaterThan(0);
    const leaks = Object.entries(places).filter(([, text]) => text.includes(TOKEN) || /Bearer (?!\[redacted\])/.test(text)).map(([where]) => where);
    rec.count('scimScenarios', 4); // rejected through Bulk, one by one, Sync this user, the early stop
    rec.count('placesChecked', Object.keys(places).length);
    rec.count('tokenLeaks', leaks.length);
    expect(leaks).toEqual([]);
  });
});

describe('the SCIM app lists or refuses oddly', () => {
  rec.test('listings', 'a ListResponse without totalResults: every page is read, a leaver on the last page is deactivated, a sync with no change writes nothing', async () => {
    await resetApp(app, TOKEN, { omitTotalResults: true });
    const w = appWorld(app, { ...inBundle, settings: { cooldownMinutes: 0 } });
    const first = w.call('syncNow', {});
    expect(first.state).toBe('done');
    const created = (await app.state()).users;
    expect(created.length).toBeGreaterThan(300); // over three pages of 100
    await app.clearLog();
    later(w);
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
    const log = (await app.state()).log;
    expect(log.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(log.filter((r) => r.path.includes('/Users?startIndex=')).length).toBeGreaterThan(3);

    const last = created[created.length - 1];
    w.rt.directory.deleteUser(last.userName);
    later(w);
    const r = w.call('syncNow', {});
    expect(r).toMatchObject({ state: 'done', applied: expect.objectContaining({ deactivate: 1 }) });
    const after = (await app.state()).users;
    expect(after.find((u) => u.id === last.id)).toMatchObject({ active: false });
    rec.count('scimScenarios');
    rec.count('appAccountsChecked', after.length);
    rec.count('identityMerges', after.length - new Set(after.map((u) => u.externalId)).size);
    expect(after.length).toBe(created.length);
  });

  rec.test('listings', 'without totalResults and with paging ignored, the list may be incomplete: nothing is changed and the sync says why', async () => {
    await resetApp(app, TOKEN);
    const w = appWorld(app, { ...inBundle, settings: { cooldownMinutes: 0 } });
    expect(w.call('syncNow', {}).state).toBe('done');
    await app.set({ omitTotalResults: true, ignorePaging: true });
    w.rt.directory.deleteUser(w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students'))!.primaryEmail);
    await app.clearLog();
    later(w);
    const r = w.call('syncNow', {});
    expect(r).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('scimListUncounted')) });
    const writes = (await app.state()).log.filter((x) => x.method !== 'GET');
    rec.count('scimScenarios');
    rec.count('incompleteListWrites', writes.length);
    expect(writes).toEqual([]);
  });
  rec.test('listings', 'active not sent: a leaver and a suspended user are not counted as deactivated, History says who can still sign in, Finalize warns', async () => {
    await resetApp(app, TOKEN);
    const w = appWorld(app, { ...inBundle, scim: { attributes: { userName: 'email', externalId: 'googleId', name: 'full', emails: 'work', active: 'none' } }, settings: { cooldownMinutes: 0 } });
    expect(w.call('syncNow', {}).state).toBe('done');
    const [leaver, suspended] = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students'));
    w.rt.directory.deleteUser(leaver.primaryEmail);
    w.rt.directory.suspend(suspended.primaryEmail);
    await app.clearLog();
    later(w);
    const r = w.call('syncNow', {});
    rec.count('scimScenarios', 2);
    rec.count('deactivationsMiscounted', r.applied.deactivate);
    expect(r.applied.deactivate).toBe(0);
    const entry = w.history()[w.history().length - 1];
    expect(entry.Outcome).toBe('partial');
    expect(entry.Message).toMatch(/2 deactivations were not sent to SCIM app \(127\.0\.0\.1:\d+\), so .* can still sign in to it: The SCIM mapping sends no active flag/);
    expect(entry.Message).toContain(leaver.primaryEmail.toLowerCase());
    expect(entry.Message).not.toMatch(/\d+ deactivated/);
    expect(entry.Fix).toBe(CATALOG.scimNoActiveFlag.fix);
    // The app still has both, active: nothing could say otherwise.
    const users = (await app.state()).users;
    expect(users.filter((u) => [leaver.primaryEmail, suspended.primaryEmail].map((e) => e.toLowerCase()).includes(u.userName)).map((u) => u.active === false)).toEqual([false, false]);
    const check = w.call('runFinalizeChecks').checks.find((c: Json) => c.id === 'destination');
    expect(check).toMatchObject({ status: 'warning', found: expect.stringContaining(CATALOG.scimNoActiveFlag.text), fix: CATALOG.scimNoActiveFlag.fix });
    // Recorded all the same: the next sync does not report them again.
    later(w);
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  });
});

describe('nobody is merged into someone else\'s app account', () => {
  const LOCAL_PART = { userName: 'emailLocalPart', externalId: 'googleId', name: 'full', emails: 'work', active: 'active' };
  const BY_ID = { userName: 'googleId', externalId: 'googleId', name: 'full', emails: 'work', active: 'active' };
  const studentOu = (w: World) => w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students'))!.orgUnitPath;
  const byExternalId = async () => new Map((await app.state()).users.map((u) => [String(u.externalId), u]));

  async function scimWorld(attributes: Json): Promise<World> {
    await resetApp(app, TOKEN);
    return appWorld(app, { ...inBundle, scim: { attributes }, settings: { cooldownMinutes: 0 } });
  }

  rec.test('identities', 'two directory users whose userNames collide (jane.q@ of two domains) are reported with the fix before anything is sent, never created as one', async () => {
    const w = await scimWorld(LOCAL_PART);
    const ou = studentOu(w);
    const jane = w.rt.directory.addUser({ email: 'jane.q@springfield-schools.example', givenName: 'Jane', familyName: 'Quinn', orgUnitPath: ou });
    const other = w.rt.directory.addUser({ email: 'jane.q@staff.springfield-schools.example', givenName: 'Jane', familyName: 'Quigley', orgUnitPath: ou });
    await app.clearLog();
    const r = w.call('syncNow', {});
    expect(r.state).toBe('done');
    const state = await app.state();
    rec.count('scimScenarios');
    rec.count('appAccountsChecked', state.users.length);
    rec.count('identityMerges', state.users.filter((u) => u.userName === 'jane.q').length);
    expect(state.users.filter((u) => u.userName === 'jane.q')).toEqual([]);
    expect(state.users.length).toBeGreaterThan(300); // everyone else was created
    const entry = w.history()[w.history().length - 1];
    expect(entry.Outcome).toBe('partial');
    expect(entry.Message).toContain('jane.q@springfield-schools.example, jane.q@staff.springfield-schools.example would all get the userName jane.q');
    expect(r.applied.create).toBe(state.users.length); // nobody counted who was not created
    // Once the mapping gives everyone a unique userName, each gets an app account of their own.
    w.save({ scim: { ...w.settings().scim, attributes: BY_ID } });
    later(w);
    expect(w.call('syncNow', {}).state).toBe('done');
    const apps = await byExternalId();
    expect([apps.get(jane.id)?.emails?.[0]?.value, apps.get(other.id)?.emails?.[0]?.value]).toEqual([jane.primaryEmail, other.primaryEmail]);
    expect(apps.get(jane.id)!.id).not.toBe(apps.get(other.id)!.id);
  });

  rec.test('identities', 'a userName another person\'s app account holds is never taken: the newcomer is reported, the holder keeps it', async () => {
    const w = await scimWorld(LOCAL_PART);
    const ou = studentOu(w);
    const jane = w.rt.directory.addUser({ email: 'jane.q@springfield-schools.example', givenName: 'Jane', familyName: 'Quinn', orgUnitPath: ou });
    expect(w.call('syncNow', {}).state).toBe('done');
    const other = w.rt.directory.addUser({ email: 'jane.q@staff.springfield-schools.example', givenName: 'Jane', familyName: 'Quigley', orgUnitPath: ou });
    await app.clearLog();
    later(w);
    w.call('syncNow', {});
    expect((await app.state()).log.filter((x) => x.method !== 'GET')).toEqual([]);
    const entry = w.history()[w.history().length - 1];
    expect(entry.Message).toContain(`${other.primaryEmail} would get the userName jane.q, which the app account of ${jane.primaryEmail} holds`);
    const apps = await byExternalId();
    rec.count('scimScenarios');
    rec.count('appAccountsChecked', apps.size);
    rec.count('identityMerges', apps.has(other.id) ? 1 : 0);
    expect(apps.get(jane.id)).toMatchObject({ userName: 'jane.q', emails: [expect.objectContaining({ value: jane.primaryEmail })] });
    expect(apps.has(other.id)).toBe(false);
  });

  rec.test('identities', 'two users who swap primary emails: after one sync each app account carries its own person\'s identity, and the next sync writes nothing', async () => {
    const w = await scimWorld({ userName: 'email', externalId: 'googleId', name: 'full', emails: 'work', active: 'active' });
    expect(w.call('syncNow', {}).state).toBe('done');
    const [a, b] = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students'));
    const [emailA, emailB] = [a.primaryEmail, b.primaryEmail];
    w.rt.directory.renameEmail(emailA, 'swap.in.progress@springfield-schools.example', false);
    w.rt.directory.renameEmail(emailB, emailA, false);
    w.rt.directory.renameEmail('swap.in.progress@springfield-schools.example', emailB, false);
    later(w);
    const r = w.call('syncNow', {});
    expect(r).toMatchObject({ state: 'done', applied: expect.objectContaining({ update: 2 }) });
    const apps = await byExternalId();
    rec.count('scimScenarios');
    rec.count('appAccountsChecked', 2);
    rec.count('identityMerges', [apps.get(a.id)!.userName !== emailB, apps.get(b.id)!.userName !== emailA].filter(Boolean).length);
    expect([apps.get(a.id)!.userName, apps.get(a.id)!.emails[0].value]).toEqual([emailB, emailB]);
    expect([apps.get(b.id)!.userName, apps.get(b.id)!.emails[0].value]).toEqual([emailA, emailA]);
    await app.clearLog();
    later(w);
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
    expect((await app.state()).log.filter((x) => x.method !== 'GET')).toEqual([]);
  });

  rec.test('identities', 'a synced user renamed to a manual app account\'s email never leaves two active app accounts with one email', async () => {
    for (const attributes of [BY_ID, { userName: 'email', externalId: 'googleId', name: 'full', emails: 'work', active: 'active' }]) {
      const w = await scimWorld(attributes);
      await app.seed([{ userName: 'coach.manual', displayName: 'Coach (manual)', emails: [{ value: 'coach@springfield-schools.example', type: 'work', primary: true }] }]);
      expect(w.call('syncNow', {}).state).toBe('done');
      const x = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students'))!;
      w.rt.directory.renameEmail(x.primaryEmail, 'coach@springfield-schools.example', false);
      later(w);
      w.call('syncNow', {});
      const active = (await app.state()).users.filter((u) => u.active !== false && (u.emails ?? []).some((e: Json) => e.value === 'coach@springfield-schools.example'));
      rec.count('scimScenarios');
      rec.count('appAccountsChecked', active.length);
      rec.count('identityMerges', active.length - 1);
      expect(active.map((u) => u.userName)).toEqual(['coach.manual']);
      const entry = w.history()[w.history().length - 1];
      expect(entry.Message).toContain('coach@springfield-schools.example is already the email of another active account in the SCIM app');
    }
  });

  rec.test('identities', 'a Google user deleted and re-created with the same email is a named conflict with the admin\'s choice, never adopted silently; deleting the old account gives the new user one', async () => {
    const w = await scimWorld({ userName: 'email', externalId: 'googleId', name: 'full', emails: 'work', active: 'active' });
    expect(w.call('syncNow', {}).state).toBe('done');
    const old = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students'))!;
    const oldApp = (await byExternalId()).get(old.id)!;
    w.rt.directory.deleteUser(old.primaryEmail);
    const fresh = w.rt.directory.addUser({ email: old.primaryEmail, givenName: 'Recycled', familyName: 'Address', orgUnitPath: old.orgUnitPath });
    expect(fresh.id).not.toBe(old.id);
    later(w);
    w.call('syncNow', {});
    const entry = w.history()[w.history().length - 1];
    expect(entry.Message).toContain(`${old.primaryEmail} is a new Google user (id ${fresh.id}), but the SCIM app account with the userName ${old.primaryEmail} belongs to the earlier Google user with this address (account ${old.id})`);
    let apps = await byExternalId();
    rec.count('scimScenarios');
    rec.count('appAccountsChecked', apps.size);
    rec.count('identityMerges', apps.has(fresh.id) ? 1 : 0);
    expect(apps.get(old.id)).toMatchObject({ id: oldApp.id, active: false, displayName: oldApp.displayName }); // not adopted
    expect(apps.has(fresh.id)).toBe(false);
    expect(CATALOG.scimRecreatedUser.fix).toMatch(/^Choose under Explain /);
    // Explain offers the choice.
    expect(w.call('explainUser', { email: old.primaryEmail }).recreated).toEqual({ accountId: old.id, text: expect.stringMatching(catalog('recreatedUserChoice')), fix: CATALOG.recreatedUserChoice.fix });

    // The admin's choice: delete the old account; the next sync creates the new user's own.
    w.call('updateAccounts', { ids: [old.id], status: 'deleted' });
    later(w);
    expect(w.call('syncNow', {}).state).toBe('done');
    apps = await byExternalId();
    expect(apps.has(old.id)).toBe(false);
    expect(apps.get(fresh.id)).toMatchObject({ userName: old.primaryEmail, active: true, displayName: 'Recycled Address' });
  });

  rec.test('identities', 'the other choice for a re-created Google user: the old app account is given to the new user, kept (same app id) and reactivated for them; never offered for an account whose Google user still exists', async () => {
    const w = await scimWorld({ userName: 'email', externalId: 'googleId', name: 'full', emails: 'work', active: 'active' });
    expect(w.call('syncNow', {}).state).toBe('done');
    const [old, other] = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students'));
    const oldApp = (await byExternalId()).get(old.id)!;
    w.rt.directory.deleteUser(old.primaryEmail);
    const fresh = w.rt.directory.addUser({ email: old.primaryEmail, givenName: 'Recycled', familyName: 'Address', orgUnitPath: old.orgUnitPath });
    later(w);
    w.call('syncNow', {});
    // Only the old account of this address is offered; another person's account cannot be taken this way.
    expect(w.envelope('syncUser', { email: fresh.primaryEmail, adopt: other.id })).toMatchObject({ ok: false, error: { field: 'adopt' } });
    const r = w.call('syncUser', { email: fresh.primaryEmail, adopt: old.id });
    expect(r.failed).toEqual([]);
    const apps = await byExternalId();
    rec.count('scimScenarios');
    rec.count('appAccountsChecked', apps.size);
    rec.count('identityMerges', apps.has(old.id) ? 1 : 0);
    expect(apps.get(fresh.id)).toMatchObject({ id: oldApp.id, userName: old.primaryEmail, active: true, displayName: 'Recycled Address' });
    expect(apps.has(old.id)).toBe(false);
    expect(w.call('explainUser', { email: fresh.primaryEmail }).recreated).toBeNull();
    later(w);
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  });
});

describe('the hidden state sheet keeps only what a part needs', () => {
  /** The users of the saved snapshot pages (the hidden state sheet's snap.users.* and snap.kept.* blobs). */
  const savedUsers = (w: World): number => {
    let rows: string[][] = [];
    try {
      rows = (w.rt.sheetValues('Roster Sync state') as string[][]).slice(1);
    } catch {
      return 0;
    }
    let n = 0;
    rows.forEach(([key, count], i) => {
      if (/^snap\.(users|kept)\.[^#]*$/.test(String(key))) n += (JSON.parse(rows.slice(i, i + Number(count)).map((r) => String(r[2])).join('')) as unknown[]).length;
    });
    return n;
  };

  rec.test('ledger', 'a SCIM sync read over several parts saves only the users in scope and those of the ledger\'s accounts, and ends like a sync in one part (a locally disabled account stays disabled in the app)', async () => {
    const grade = '/Students/Lincoln High/Grade 9';
    const run = async (budget: number) => {
      await resetApp(app, TOKEN);
      const globals = { ROSTER_SYNC_BUDGET_MS: 600_000 };
      const rules = [{ id: 'g9', type: 'ou', orgUnitPath: grade, includeSubOrgUnits: true, role: 'student' }];
      const w = appWorld(app, { ...inBundle, world: { ...inBundle.world, globals, rules }, settings: { cooldownMinutes: 0, threshold: { kind: 'percent', value: 100 } } });
      expect(w.call('syncNow', {}).state).toBe('done');
      const inGrade = w.rt.directory.allUsers().filter((u) => u.orgUnitPath === grade && !u.suspended);
      w.call('updateAccounts', { ids: [inGrade[0].id], status: 'disabled' });
      for (const u of inGrade.slice(1, 4)) w.rt.directory.moveUser(u.primaryEmail, '/Staff');
      later(w);
      globals.ROSTER_SYNC_BUDGET_MS = budget;
      const ledger = (await app.state()).users.length; // each app user has its ledger entry
      const inScope = w.rt.directory.allUsers().filter((u) => u.orgUnitPath === grade).length;
      const saved: number[] = [];
      let r = w.call('syncNow', {});
      for (let i = 0; i < 60 && r.state === 'in-progress'; i++) {
        saved.push(savedUsers(w));
        r = w.call('continueSync');
      }
      expect(r).toMatchObject({ state: 'done', applied: { deactivate: 3 } });
      const users = (await app.state()).users.map((u: Json) => ({ externalId: u.externalId, userName: u.userName, active: u.active })).sort((a, b) => String(a.externalId).localeCompare(String(b.externalId)));
      return { users, saved, bound: inScope + ledger, directory: w.rt.directory.allUsers().length, disabled: inGrade[0].id };
    };
    const one = await run(600_000);
    expect(one.saved).toEqual([]);
    const parts = await run(300);
    expect(parts.saved.length).toBeGreaterThan(1);
    expect(parts.bound).toBeLessThan(parts.directory / 2);
    for (const n of parts.saved) expect(n).toBeLessThanOrEqual(parts.bound);
    expect(parts.users).toEqual(one.users);
    expect(parts.users.find((u: Json) => u.externalId === parts.disabled)).toMatchObject({ active: false });
    rec.note(`${parts.directory} directory users; ${parts.saved.length} checkpoints saved at most ${Math.max(...parts.saved)} of them (in scope plus the ledger's accounts: ${parts.bound})`);
    rec.count('scimScenarios');
  });
});

describe('the SCIM ledger is not lost with the hidden state sheet', () => {
  const STATE_SHEET = 'Roster Sync state';
  const dropSheet = (w: World, name: string) => {
    const ss = w.rt.spreadsheet();
    ss.sheets.splice(ss.sheets.indexOf(ss.sheet(name)!), 1);
  };

  for (const how of ['deleted', 'cleared']) rec.test('ledger', `the state sheet ${how}: the sync refuses with how to restore it; rebuilt by choice, a locally disabled account stays disabled in the app and nobody is duplicated`, async () => {
    await resetApp(app, TOKEN);
    const w = appWorld(app, { ...inBundle, settings: { cooldownMinutes: 0 } });
    expect(w.call('syncNow', {}).state).toBe('done');
    const students = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students'));
    const disabled = students[0];
    w.call('updateAccounts', { ids: [disabled.id], status: 'disabled' });
    const leaver = students[1];
    w.rt.directory.deleteUser(leaver.primaryEmail);
    later(w);
    expect(w.call('syncNow', {}).applied.deactivate).toBe(1);
    const before = (await app.state()).users;
    expect(before.find((u) => u.externalId === disabled.id)).toMatchObject({ active: false });

    if (how === 'deleted') dropSheet(w, STATE_SHEET);
    else w.rt.sheetData(w.rt.activeSpreadsheetId, STATE_SHEET).rows.splice(1);
    await app.clearLog();
    later(w);
    const refused = w.call('syncNow', {});
    expect(refused).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('scimLedgerLost')), fix: CATALOG.scimLedgerLost.fix });
    expect((await app.state()).log.filter((x) => x.method !== 'GET')).toEqual([]);
    expect(w.call('getState').destinationProblems).toEqual([{ id: 'scimLedgerLost', text: expect.stringMatching(catalog('scimLedgerLost')), fix: CATALOG.scimLedgerLost.fix }]);
    expect(w.envelope('getAccounts', {}).ok).toBe(false); // nothing is shown as if the links were there

    // The deliberate choice: rebuild from the app.
    expect(w.call('rebuildScimLedger')).toMatchObject({ repaired: true, message: { text: expect.stringMatching(catalog('scimLedgerRebuilt')) } });
    expect(w.call('getState').destinationProblems).toEqual([]);
    expect(w.history().map((h) => h.Message)).toContainEqual(expect.stringMatching(catalog('scimLedgerRebuilt')));
    later(w);
    const rebuilt = w.call('syncNow', {});
    expect(rebuilt.state).toBe('done');
    expect(rebuilt.applied).toMatchObject({ create: 0, reactivate: 0 });
    const after = (await app.state()).users;
    rec.count('scimScenarios');
    rec.count('appAccountsChecked', after.length);
    rec.count('reactivatedLocallyDisabled', after.filter((u) => u.externalId === disabled.id && u.active !== false).length);
    expect(after.length).toBe(before.length);
    expect(after.find((u) => u.externalId === disabled.id)).toMatchObject({ active: false });
    expect(after.find((u) => u.externalId === leaver.id)).toMatchObject({ active: false });
    const accounts = w.call('getAccounts', { query: disabled.primaryEmail }).rows;
    expect(accounts.find((a: Json) => a.id === disabled.id)).toMatchObject({ status: 'disabled' });
    expect(w.call('rebuildScimLedger')).toEqual({ repaired: false });
  });
});
