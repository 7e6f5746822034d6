// A new version is published over every installed roster at once. For the fixture of each released
// version and destination (test/upgrade/fixtures/v*/*, exported by scripts/exportUpgradeFixture.ts),
// today's built bundle must read what that version saved and carry on: no error, no account lost or
// duplicated, nothing to change, nothing written. A rollback (settings a newer version saved) is
// refused, nothing changed.
import { CATALOG } from '../../src/core/messages';
import { SETTINGS_SCHEMA_VERSION } from '../../src/core/migrations';
import { ROSTER_COLUMNS } from '../../src/destinations/sheet/sheetRoster';
import { SimRuntime } from '../../emulator/runtime';
import { SyncHttp, closeHttpWorker } from '../../emulator/fakes/urlFetchHttp';
import { ScimTestServer, startScimServer } from '../../emulator/scim/harness';
import { Fixture, fixtureNames, forwardTo, loadFixture, readFixture, storedValues } from './fixture';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const MINUTE = 60_000;
const TOKEN = 'upgrade-test-token-0123456789abcdef';
const noChanges = { create: 0, update: 0, deactivate: 0, reactivate: 0, delete: 0 };

function envelope(rt: SimRuntime, fn: string, arg?: unknown): Json {
  return rt.runFromBrowser(fn, arg === undefined ? [] : [arg]);
}

function call(rt: SimRuntime, fn: string, arg?: unknown): Json {
  const r = envelope(rt, fn, arg);
  if (!r?.ok) throw new Error(r?.error?.text ?? `no envelope from ${fn}`);
  return r.data;
}

const settingsKey = (rt: SimRuntime) => `rs:${rt.activeSpreadsheetId}:settings`;
const storedSettings = (rt: SimRuntime) => rt.properties.script.map.get(settingsKey(rt));
const sheetWrites = (rt: SimRuntime, name: string) => (rt.spreadsheet().sheet(name) ? rt.sheetData(rt.activeSpreadsheetId, name).writes : 0);

/** Every account the sidebar lists, by id. */
function accountIds(rt: SimRuntime): string[] {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = call(rt, 'getAccounts', { limit: 500, offset });
    ids.push(...page.rows.map((a: Json) => a.id));
    if (offset + 500 >= page.total) return ids;
  }
}

const fixtures = fixtureNames();
let server: ScimTestServer | null = null;

afterAll(async () => {
  await server?.stop();
  await closeHttpWorker();
});

/** A request the script sent: where, and with which Authorization header. */
type Sent = { url: string; authorization: string };

/** The fixture loaded with today's bundle, an hour after the export (past the cooldown, inside every grace period); `sent` records every web request. */
async function installed(fixture: Fixture, sent?: Sent[]): Promise<SimRuntime> {
  let rt: SimRuntime;
  if (fixture.app) {
    server ??= await startScimServer({ token: TOKEN });
    await server.clear();
    await server.set({ token: TOKEN });
    await server.restore(fixture.app);
    await server.clearLog();
    const http = forwardTo(new SyncHttp(), fixture.app.baseUrl, server.baseUrl);
    const recorded: typeof http = {
      fetch: (url, params, exec) => {
        const headers = ((params as { headers?: Record<string, string> } | undefined)?.headers ?? {});
        sent?.push({ url, authorization: headers.Authorization ?? headers.authorization ?? '' });
        return http.fetch(url, params, exec);
      },
      fetchAll: http.fetchAll && ((requests, exec) => {
        for (const q of requests) sent?.push({ url: q.url, authorization: String((q.headers as Record<string, string> | undefined)?.Authorization ?? '') });
        return http.fetchAll!(requests, exec);
      }),
    };
    rt = loadFixture(fixture, { urlFetch: recorded, scimToken: TOKEN });
  } else {
    rt = loadFixture(fixture);
  }
  rt.setClock(fixture.meta.clockMs + 60 * MINUTE);
  return rt;
}

/** What the destination holds: the Roster sheet's cells, or the SCIM app's users and groups. */
async function destination(fixture: Fixture, rt: SimRuntime): Promise<Json> {
  if (!fixture.app) return storedValues(rt, 'Roster');
  const { users, groups } = await server!.state();
  return { users, groups };
}

/** Writes the destination received since the fixture was loaded. */
async function destinationWrites(fixture: Fixture, rt: SimRuntime): Promise<unknown[]> {
  if (!fixture.app) return Array.from({ length: sheetWrites(rt, 'Roster') }, () => 'a write to the Roster sheet');
  return (await server!.state()).log.filter((r) => r.method !== 'GET');
}

const idle = fixtures.filter((name) => readFixture(name).meta.scenario !== 'mid-sync');
const midSync = fixtures.filter((name) => readFixture(name).meta.scenario === 'mid-sync');

test('there are fixtures of the first release: both destinations, idle and with a sync part-way', () => {
  expect(idle).toEqual(expect.arrayContaining(['v0.1.0/sheet', 'v0.1.0/scim']));
  expect(midSync).toEqual(expect.arrayContaining(['v0.1.0/sheet-mid-sync', 'v0.1.0/scim-mid-sync']));
});

describe.each(idle)('upgrading from %s', (name) => {
  const fixture = readFixture(name);

  test('the saved settings are read without error, upgraded to the current version, and not written back', async () => {
    const rt = await installed(fixture);
    const stored = storedSettings(rt);
    const state = call(rt, 'getState');
    expect(state.settingsError).toBeUndefined();
    expect(state.canConfigure).toBe(true);
    expect(state.settings.schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
    expect(state.settings.rules).toEqual(JSON.parse(stored!).rules);
    expect(state.settings.destination).toBe(fixture.meta.destination);
    expect(state.trigger).toMatchObject({ installed: true, count: 1 });
    expect(storedSettings(rt)).toBe(stored);
  });

  test('Preview plans no change, and Finalize finds the settings and the destination in order', async () => {
    const rt = await installed(fixture);
    const plan = call(rt, 'previewSync');
    expect(plan.counts).toEqual(noChanges);
    expect(plan.changes).toEqual([]);
    expect(plan.held).toEqual([]);
    expect(plan.ruleProblems).toEqual([]);
    const checks = call(rt, 'runFinalizeChecks').checks;
    expect(checks.find((c: Json) => c.id === 'settings')).toMatchObject({ status: 'pass' });
    expect(checks.find((c: Json) => c.id === 'destination')).toMatchObject({ status: 'pass' });
  });

  test('a sync ends done with nothing applied and writes nothing; every account is still there, once', async () => {
    const rt = await installed(fixture);
    const before = await destination(fixture, rt);
    const accounts = accountIds(rt);
    expect(call(rt, 'syncNow', {})).toMatchObject({ state: 'done', applied: noChanges });
    expect(await destinationWrites(fixture, rt)).toEqual([]);
    expect(await destination(fixture, rt)).toEqual(before);
    const after = accountIds(rt);
    expect(new Set(after).size).toBe(after.length);
    expect(after).toEqual(accounts);
    expect(rt.history.filter((e) => !e.ok)).toEqual([]);
  });

  test('the next save writes the upgraded document, and the plan is still empty', async () => {
    const rt = await installed(fixture);
    const state = call(rt, 'getState');
    call(rt, 'saveSettings', state.settings);
    const saved = JSON.parse(storedSettings(rt)!);
    expect(saved.schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
    // The same document, as the next revision (each save counts one, so a stale save is refused).
    expect(saved).toEqual({ ...state.settings, revision: state.settings.revision + 1 });
    expect(call(rt, 'previewSync').counts).toEqual(noChanges);
  });

  test('a sidebar page opened before the update saves the earlier version\'s document: accepted, upgraded, nothing to change', async () => {
    const rt = await installed(fixture);
    const earlier = JSON.parse(storedSettings(rt)!);
    call(rt, 'saveSettings', earlier);
    const saved = JSON.parse(storedSettings(rt)!);
    expect(saved).toEqual(call(rt, 'getState').settings);
    expect(saved.schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
    expect(call(rt, 'previewSync').counts).toEqual(noChanges);
  });

  test('the installed heartbeat runs the next scheduled sync with the new version: success, nothing written', async () => {
    const rt = await installed(fixture);
    const historyBefore = storedValues(rt, 'Sync history').length;
    const runs = rt.advance(30 * 60 * MINUTE);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.filter((r) => !r.ok)).toEqual([]);
    const scheduled = storedValues(rt, 'Sync history').slice(historyBefore).filter((row) => row[2] === 'scheduled');
    expect(scheduled.length).toBeGreaterThan(0);
    for (const row of scheduled) expect(row.slice(3, 9).map(String)).toEqual(['success', '0', '0', '0', '0', '0']);
    expect(await destinationWrites(fixture, rt)).toEqual([]);
  });

  if (fixture.meta.destination === 'sheet') {
    test('the roster keeps its header (ours first, then the columns a person added) and what the person wrote', async () => {
      const rt = await installed(fixture);
      const before = storedValues(rt, 'Roster');
      call(rt, 'syncNow', {});
      const after = storedValues(rt, 'Roster');
      expect(after[0].slice(0, ROSTER_COLUMNS.length)).toEqual([...ROSTER_COLUMNS]);
      expect(after.map((row) => row.slice(ROSTER_COLUMNS.length))).toEqual(before.map((row) => row.slice(ROSTER_COLUMNS.length)));
    });
  }
});

describe('a token saved by the first release, which did not record the address it was for', () => {
  const fixture = readFixture('v0.1.0/scim');

  test('a base URL changed (by a co-admin, say) before the new version first syncs: the token is sent nowhere, and the sidebar says why', async () => {
    const sent: Sent[] = [];
    const rt = await installed(fixture, sent);
    // The earlier version's document, as its sidebar saved it, with another host.
    const key = settingsKey(rt);
    const doc = JSON.parse(storedSettings(rt)!);
    doc.scim.baseUrl = 'https://collector.example.net/scim/v2';
    rt.properties.script.map.set(key, JSON.stringify(doc));
    const result = call(rt, 'syncNow', {});
    expect(result.state).toBe('failed');
    expect(result.message).toContain('was saved by an earlier version of Roster Sync');
    expect(sent.filter((r) => r.authorization.includes(TOKEN))).toEqual([]);
    expect(call(rt, 'getState').destinationProblems).toContainEqual(expect.objectContaining({ text: expect.stringContaining('no sync has gone to https://collector.example.net/scim/v2 yet') }));
  });

  test('the address syncs went to before: the token is bound to it at the first sync and used', async () => {
    const sent: Sent[] = [];
    const rt = await installed(fixture, sent);
    expect(call(rt, 'syncNow', {})).toMatchObject({ state: 'done', applied: noChanges });
    expect(sent.filter((r) => r.authorization.includes(TOKEN)).length).toBeGreaterThan(0);
    expect(JSON.parse(rt.properties.user(fixture.meta.syncAccount).map.get(`rs:${rt.activeSpreadsheetId}:scimTokenUrl`) ?? 'null')).toEqual({ savedFor: expect.stringContaining(new URL(fixture.app!.baseUrl).host) });
  });
});

describe.each(midSync)('upgrading from %s: a sync part-way when the update lands', (name) => {
  const fixture = readFixture(name);

  test('the new version carries the saved job on to the end: nothing discarded, each change applied once, no account lost or duplicated', async () => {
    const rt = await installed(fixture);
    const accounts = accountIds(rt);
    const historyBefore = storedValues(rt, 'Sync history').length;
    expect(call(rt, 'getState').running).toMatchObject({ part: 1, phase: fixture.part.phase });
    let result = call(rt, 'continueSync');
    while (result.state === 'in-progress') result = call(rt, 'continueSync');
    expect(result.state).toBe('done');
    // Changes the earlier version already applied are not sent again.
    const planned = Object.values(fixture.part.planned as Record<string, number>).reduce((a, b) => a + b, 0);
    const everythingApplied = fixture.part.phase === 'apply' && planned > 0 && JSON.stringify(fixture.part.applied) === JSON.stringify(fixture.part.planned);
    if (everythingApplied) expect(await destinationWrites(fixture, rt)).toEqual([]);
    const history = storedValues(rt, 'Sync history').slice(historyBefore);
    expect(history.map((row) => row[3])).toEqual(['success']);
    // Counts of the whole sync, begun by the earlier version (part 1) and finished by this one.
    expect(Number(history[0][10])).toBeGreaterThan(1);
    expect(result.applied).toEqual({ ...noChanges, update: result.planned.update });
    expect(result.applied.update).toBeGreaterThan(0);
    const after = accountIds(rt);
    expect(new Set(after).size).toBe(after.length);
    expect([...after].sort()).toEqual([...accounts].sort()); // renamed, so listed in another order
    expect(call(rt, 'previewSync').counts).toEqual(noChanges);
  });

  test('the part-way sync is the one that began: its part 1 stands, and the sync after it writes nothing', async () => {
    const rt = await installed(fixture);
    let result = call(rt, 'continueSync');
    while (result.state === 'in-progress') result = call(rt, 'continueSync');
    expect(result.part).toBeGreaterThan(1);
    rt.setClock(rt.nowMs() + 20 * MINUTE);
    const writesBefore = (await destinationWrites(fixture, rt)).length;
    expect(call(rt, 'syncNow', {})).toMatchObject({ state: 'done', applied: noChanges });
    expect((await destinationWrites(fixture, rt)).length).toBe(writesBefore);
  });
});

describe('a rollback: settings saved by a newer version than this one', () => {
  const fixture = readFixture(idle.filter((f) => f.endsWith('/sheet')).pop()!);
  const tooNew = `The saved settings were written by a newer version of Roster Sync (settings version ${SETTINGS_SCHEMA_VERSION + 1}; this version reads versions up to ${SETTINGS_SCHEMA_VERSION}).`;
  let rt: SimRuntime;
  let stored: string;
  let script: Record<string, string>;
  let roster: Json[][];

  beforeEach(async () => {
    rt = await installed(fixture);
    const current = call(rt, 'getState').settings;
    stored = JSON.stringify({ ...current, schemaVersion: SETTINGS_SCHEMA_VERSION + 1, aFieldOfTheNewerVersion: { kept: true } });
    rt.properties.script.map.set(settingsKey(rt), stored);
    script = rt.scriptProperties();
    roster = storedValues(rt, 'Roster');
  });

  afterEach(() => {
    expect(storedSettings(rt)).toBe(stored);
    expect(storedValues(rt, 'Roster')).toEqual(roster);
    expect(sheetWrites(rt, 'Roster')).toBe(0);
  });

  test('the sidebar says so, with the fix', () => {
    const state = call(rt, 'getState');
    expect(state.settings).toBeUndefined();
    expect(state.settingsError).toEqual({ text: tooNew, fix: CATALOG.settingsTooNew.fix });
  });

  test('Finalize says it once, in the Settings check, with the fix; the checks that need the settings are not run, nothing is called corrupt', () => {
    const checks = call(rt, 'runFinalizeChecks').checks;
    expect(checks.find((c: Json) => c.id === 'settings')).toMatchObject({ status: 'fail', found: tooNew, fix: CATALOG.settingsTooNew.fix });
    for (const id of ['mappings', 'destination']) expect(checks.find((c: Json) => c.id === id)).toMatchObject({ status: 'notRun', found: expect.stringContaining('the settings cannot be read') });
    expect(JSON.stringify(checks)).not.toMatch(/corrupt|damaged/i);
  });

  test('Preview and Sync now are refused and change nothing', () => {
    expect(envelope(rt, 'previewSync')).toMatchObject({ ok: false, error: { id: 'settingsTooNew', text: tooNew, fix: CATALOG.settingsTooNew.fix } });
    expect(call(rt, 'syncNow', {})).toMatchObject({ state: 'failed', message: tooNew, fix: CATALOG.settingsTooNew.fix, applied: noChanges });
    // The sync lease is a lock, freed (not removed) after the attempt; the data is untouched.
    const data = (props: Record<string, string>) => Object.fromEntries(Object.entries(props).filter(([k]) => !k.startsWith('rs:lease:')));
    expect(data(rt.scriptProperties())).toEqual(data(script));
  });

  test('saving from this version is refused, so the newer settings are not lost', () => {
    const older = { ...JSON.parse(stored), schemaVersion: SETTINGS_SCHEMA_VERSION, graceDays: 3 };
    delete older.aFieldOfTheNewerVersion;
    expect(envelope(rt, 'saveSettings', older)).toMatchObject({ ok: false, error: { id: 'settingsTooNew', text: tooNew } });
    expect(rt.scriptProperties()).toEqual(script);
  });

  test('the scheduled heartbeats of a day sync nothing, record the problem once and tell the installer once', () => {
    const runs = rt.advance(20 * 60 * MINUTE);
    expect(runs.length).toBeGreaterThan(1);
    const failures = storedValues(rt, 'Sync history').filter((row) => row[3] === 'failed');
    expect(failures).toHaveLength(1);
    expect(failures[0][11]).toBe(tooNew);
    expect(rt.outbox.map((m) => m.body).filter((b) => b.includes(tooNew))).toHaveLength(1);
  });
});
