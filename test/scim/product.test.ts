// The SCIM destination chosen in settings, through the product's own server API on the built bundle.
import { SyncHttp } from '../../emulator/fakes/urlFetchHttp';
import { later, world } from '../e2e/harness';
import { appWorld, resetApp, scimServerForFile } from './world';

const TOKEN = 'product-token-0123456789abcdef';
const server = scimServerForFile(TOKEN);

test('destination SCIM: users arrive in the app, the token never reaches the browser, a second sync writes nothing', async () => {
  await resetApp(server, TOKEN);
  const w = appWorld(server, { token: null });
  expect(w.call('getState').destination).toBe('SCIM app (not set up)');
  expect(w.call('saveScimToken', { token: TOKEN })).toEqual({ saved: true, masked: `••••••••${TOKEN.slice(-4)}` });

  const first = w.call('syncNow', {});
  expect(first.state).toBe('done');
  const users = (await server.state()).users;
  expect(users.length).toBe(first.applied.create);
  expect(users.length).toBeGreaterThan(300);
  expect(w.roster()).toEqual([]); // the Roster sheet is not the destination now

  const checks = w.call('runFinalizeChecks').checks;
  expect(checks.find((c: { id: string }) => c.id === 'destination')).toMatchObject({ status: 'pass' });
  const everything = JSON.stringify([w.call('getState'), checks, w.call('getAccounts', { limit: 500 }), w.rt.logText(), w.rt.scriptProperties()]);
  expect(everything).not.toContain(TOKEN);

  await server.clearLog();
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  const writes = (await server.state()).log.filter((r) => r.method !== 'GET');
  expect(writes).toEqual([]);
});

test('a refused SCIM token stops the sync at once with the catalog\'s fix', async () => {
  await resetApp(server, TOKEN);
  const w = appWorld(server, { token: 'wrong-token-000000000000' });
  await server.clearLog();
  const r = w.call('syncNow', {});
  expect(r.state).toBe('failed');
  expect(r.fix).toMatch(/^Paste a new one/);
  expect((await server.state()).log.length).toBeLessThanOrEqual(2);
  expect((await server.state()).users).toEqual([]);
  expect(w.history()[0]).toMatchObject({ Outcome: 'failed' });
});

test('only the sync account may save the token', async () => {
  const w = world({ urlFetch: new SyncHttp() });
  w.save({ admins: ['margaret.hollis@springfield-schools.example'] });
  const r = w.envelope('saveScimToken', { token: TOKEN }, 'margaret.hollis@springfield-schools.example');
  expect(r).toMatchObject({ ok: false, error: { text: expect.stringContaining('can only be saved by the sync account') } });
});
