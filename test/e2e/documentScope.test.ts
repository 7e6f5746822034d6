// The build for a public multi-domain listing keeps settings in the roster spreadsheet's document properties.
import path from 'node:path';
import { DOC_DIST, world } from './harness';
import { DEMO_DOMAIN } from '../../emulator/domain';

test('settings live in document properties, not script properties, and a time-driven sync still finds them', () => {
  const w = world({ scriptPath: path.join(DOC_DIST, 'Code.js') });
  expect(Object.keys(w.rt.scriptProperties())).toEqual([]);
  const docKeys = Object.keys(w.rt.documentProperties());
  expect(docKeys).toContain('rs:settings');
  w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  const runs = w.rt.advanceHours(2);
  expect(runs.length).toBeGreaterThan(0);
  expect(runs.every((r) => r.ok)).toBe(true);
  expect(runs.map((r) => (r.result as { state: string }).state)).toContain('done');
  expect(w.roster().length).toBeGreaterThan(300);
  expect(w.history()[0]).toMatchObject({ Trigger: 'scheduled', Outcome: 'success' });
});

test('a second spreadsheet using the document build has settings of its own', () => {
  const w = world({ scriptPath: path.join(DOC_DIST, 'Code.js') });
  const first = w.rt.activeSpreadsheetId;
  const other = w.rt.spreadsheets.create('Another roster', w.rt.defaultUser).id;
  const state = w.rt.runFromBrowser('getState', [], { docId: other }) as { ok: boolean; data: { canConfigure: boolean; message: { text: string } } };
  expect(state).toMatchObject({ ok: true, data: { canConfigure: false, message: { text: 'Roster Sync is not linked to the directory yet.' } } });
  expect(Object.keys(w.rt.documentProperties(other))).toEqual([]);
  expect(Object.keys(w.rt.documentProperties(first)).length).toBeGreaterThan(0);
});
