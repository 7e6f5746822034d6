// A new version is published over every installed roster at once. For the fixture of each released
// version (test/upgrade/fixtures/v*, exported by scripts/exportUpgradeFixture.ts), today's built bundle
// must read what that version saved and carry on: no error, no account lost or duplicated, nothing
// to change, nothing written. And a rollback (settings a newer version saved) is refused, nothing changed.
import { CATALOG } from '../../src/core/messages';
import { SETTINGS_SCHEMA_VERSION } from '../../src/core/migrations';
import { ROSTER_COLUMNS } from '../../src/gas/sheetRoster';
import { SimRuntime } from '../../emulator/runtime';
import { Fixture, fixtureNames, loadFixture, readFixture, storedValues } from './fixture';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const MINUTE = 60_000;

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
const rosterWrites = (rt: SimRuntime) => rt.sheetData(rt.activeSpreadsheetId, 'Roster').writes;
const noChanges = { create: 0, update: 0, deactivate: 0, reactivate: 0, delete: 0 };

/** Account ids on the roster, in row order (the ID column is ours and first in every version). */
function rosterIds(values: Json[][]): string[] {
  return values.slice(1).map((row) => String(row[0])).filter(Boolean);
}

const fixtures = fixtureNames();

test('there is a fixture for the first release at least', () => {
  expect(fixtures).toContain('v0.1.0');
});

describe.each(fixtures)('upgrading from %s', (name) => {
  let fixture: Fixture;
  let rt: SimRuntime;
  let before: Json[][];

  beforeEach(() => {
    fixture = readFixture(name);
    rt = loadFixture(fixture);
    // An hour after the export: past the cooldown, well inside every grace period.
    rt.setClock(fixture.meta.clockMs + 60 * MINUTE);
    before = storedValues(rt, 'Roster');
  });

  test('the saved settings are read without error, upgraded to the current version, and not written back', () => {
    const stored = storedSettings(rt);
    const state = call(rt, 'getState');
    expect(state.settingsError).toBeUndefined();
    expect(state.canConfigure).toBe(true);
    expect(state.settings.schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
    expect(state.settings.rules).toEqual(JSON.parse(stored!).rules);
    expect(state.trigger).toMatchObject({ installed: true, count: 1 });
    expect(storedSettings(rt)).toBe(stored);
  });

  test('Preview plans no change, and Finalize finds the settings valid', () => {
    const plan = call(rt, 'previewSync');
    expect(plan.counts).toEqual(noChanges);
    expect(plan.changes).toEqual([]);
    expect(plan.held).toEqual([]);
    expect(plan.ruleProblems).toEqual([]);
    const settingsCheck = call(rt, 'runFinalizeChecks').checks.find((c: Json) => c.id === 'settings');
    expect(settingsCheck.status).toBe('pass');
  });

  test('a sync ends done with nothing applied and writes nothing to the roster; every account is still there once', () => {
    const result = call(rt, 'syncNow', {});
    expect(result).toMatchObject({ state: 'done', applied: noChanges });
    expect(rosterWrites(rt)).toBe(0);
    const after = storedValues(rt, 'Roster');
    expect(after).toEqual(before);
    const ids = rosterIds(after);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(rosterIds(before));
    expect(rt.history.filter((e) => !e.ok)).toEqual([]);
  });

  test('the roster keeps its header (our columns first, then any a person added) and the notes under it', () => {
    call(rt, 'syncNow', {});
    const header = storedValues(rt, 'Roster')[0];
    expect(header.slice(0, ROSTER_COLUMNS.length)).toEqual([...ROSTER_COLUMNS]);
    expect(header).toEqual(before[0].length > ROSTER_COLUMNS.length ? [...ROSTER_COLUMNS, ...before[0].slice(ROSTER_COLUMNS.length)] : [...ROSTER_COLUMNS]);
    expect(storedValues(rt, 'Roster').map((row) => row.slice(ROSTER_COLUMNS.length))).toEqual(before.map((row) => row.slice(ROSTER_COLUMNS.length)));
  });

  test('the next save writes the upgraded document, and the plan is still empty', () => {
    const state = call(rt, 'getState');
    call(rt, 'saveSettings', state.settings);
    const saved = JSON.parse(storedSettings(rt)!);
    expect(saved.schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
    expect(saved).toEqual(state.settings);
    expect(call(rt, 'previewSync').counts).toEqual(noChanges);
  });

  test('the installed heartbeat runs the next scheduled sync with the new version: success, nothing to change', () => {
    const historyBefore = storedValues(rt, 'Sync history').length;
    const runs = rt.advance(30 * 60 * MINUTE);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.filter((r) => !r.ok)).toEqual([]);
    const history = storedValues(rt, 'Sync history');
    const scheduled = history.slice(historyBefore).filter((row) => row[2] === 'scheduled');
    expect(scheduled.length).toBeGreaterThan(0);
    for (const row of scheduled) expect(row.slice(3, 9).map(String)).toEqual(['success', '0', '0', '0', '0', '0']);
    expect(rosterWrites(rt)).toBe(0);
  });
});

describe('a rollback: settings saved by a newer version than this one', () => {
  const fixture = readFixture(fixtures[fixtures.length - 1]);
  const newer = SETTINGS_SCHEMA_VERSION + 1;
  let rt: SimRuntime;
  let stored: string;
  let script: Record<string, string>;
  let roster: Json[][];

  beforeEach(() => {
    rt = loadFixture(fixture);
    rt.setClock(fixture.meta.clockMs + 60 * MINUTE);
    const current = call(rt, 'getState').settings;
    stored = JSON.stringify({ ...current, schemaVersion: newer, aFieldOfTheNewerVersion: { kept: true } });
    rt.properties.script.map.set(settingsKey(rt), stored);
    script = rt.scriptProperties();
    roster = storedValues(rt, 'Roster');
  });

  afterEach(() => {
    expect(storedSettings(rt)).toBe(stored);
    expect(storedValues(rt, 'Roster')).toEqual(roster);
    expect(rosterWrites(rt)).toBe(0);
  });

  const tooNew = `The saved settings were written by a newer version of Roster Sync (settings version ${SETTINGS_SCHEMA_VERSION + 1}; this version reads versions up to ${SETTINGS_SCHEMA_VERSION}).`;

  test('the sidebar says so, with the fix', () => {
    const state = call(rt, 'getState');
    expect(state.settings).toBeUndefined();
    expect(state.settingsError).toEqual({ text: tooNew, fix: CATALOG.settingsTooNew.fix });
  });

  test('Preview and Sync now are refused and change nothing', () => {
    expect(envelope(rt, 'previewSync')).toMatchObject({ ok: false, error: { id: 'settingsTooNew', text: tooNew, fix: CATALOG.settingsTooNew.fix } });
    expect(call(rt, 'syncNow', {})).toMatchObject({ state: 'failed', message: tooNew, fix: CATALOG.settingsTooNew.fix, applied: noChanges });
    expect(rt.scriptProperties()).toEqual(script);
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
