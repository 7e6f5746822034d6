// Settings are parsed and validated once per server call, however many parts of the call read them.
import * as settingsModule from '../../src/core/settings';
import * as api from '../../src/core/api';
import { readSettings, storeSettings } from '../../src/core/config';
import { makeWorld } from '../fakes/memory';
import { defaultSettings } from '../../src/core/settings';

function world() {
  const w = makeWorld();
  // A listed admin, not the installer: who may configure is itself read from the settings.
  w.config.set('installer', 'installer@school.example');
  w.setSettings({ admins: ['admin@school.example'], rules: [{ id: 'r1', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' }] });
  w.directory.orgUnits.push({ orgUnitPath: '/Students', name: 'Students', parentOrgUnitPath: '/' } as never);
  return w;
}

afterEach(() => jest.restoreAllMocks());

test('getState, runFinalizeChecks and previewSync each validate the stored settings once', () => {
  for (const call of [api.getState, api.runFinalizeChecks, api.previewSync]) {
    const w = world();
    // As a new execution finds it: stored text this config store has not parsed yet.
    w.config.set('settings', `${w.config.get('settings')} `);
    const validate = jest.spyOn(settingsModule, 'validateSettings');
    call(w.svc);
    expect({ call: call.name, parses: validate.mock.calls.length }).toEqual({ call: call.name, parses: 1 });
    jest.restoreAllMocks();
  }
});

test('a save by someone else is seen by the next read; what this call stored is not parsed again', () => {
  const w = world();
  const validate = jest.spyOn(settingsModule, 'validateSettings');
  expect(readSettings(w.svc).graceDays).toBe(30);
  w.config.set('settings', JSON.stringify({ ...defaultSettings(), graceDays: 3 }));
  expect(readSettings(w.svc).graceDays).toBe(3);
  storeSettings(w.svc, { ...readSettings(w.svc), graceDays: 9 });
  expect(readSettings(w.svc).graceDays).toBe(9);
  expect(validate).toHaveBeenCalledTimes(1); // only the text someone else saved
});
