// Destination failures: a protected, deleted or emptied roster refuses the sync with the fix, and nothing is
// marked synced that was not written.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later } from '../harness';
import { rollover } from '../../../emulator/domain';
import { CATALOG } from '../../../src/core/messages';
import { faultSuite, Json, catalog, sheetDump, newest, rosterSheet } from './helpers';

const { rec, world } = faultSuite('destinationFailures');

rec.test('destination', 'a protected roster sheet: a clear error, nothing marked as synced, and the next run retries', () => {
  const w = world();
  w.save({ threshold: { kind: 'percent', value: 100 } });
  w.call('syncNow', {});
  rollover(w.rt.directory, 'alumni');
  later(w);
  const expectedChanges = w.call('previewSync').total;
  expect(expectedChanges).toBeGreaterThan(0);
  w.rt.protectSheet(w.rt.activeSpreadsheetId, 'Roster', []);
  const roster = sheetDump(w, 'Roster');
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result.message).toMatch(catalog('rosterProtected'));
  expect(result.fix).toBe(CATALOG.rosterProtected.fix);
  expect(Object.values(result.applied).every((n) => n === 0)).toBe(true);
  expect(newest(w)).toMatchObject({ Outcome: 'failed', Created: '0', Updated: '0', Deactivated: '0', Reactivated: '0', Deleted: '0' });
  expect(sheetDump(w, 'Roster')).toBe(roster);
  const dest = w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'destination');
  expect(dest).toMatchObject({ status: 'fail', fix: CATALOG.rosterProtected.fix });
  // Protection removed: the very same changes are applied on the next run.
  w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster').protections.length = 0;
  const retried = w.call('syncNow', {});
  expect(retried.state).toBe('done');
  expect(Object.values(retried.applied as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(expectedChanges);
  rec.count('faultScenarios');
});

rec.test('destination', 'a roster sheet deleted by a user: a clear error (no silent re-creation of every account), retried once it is restored', () => {
  const w = world();
  w.call('syncNow', {});
  const [first] = w.roster();
  w.call('updateAccounts', { ids: [first.ID], status: 'disabled' }); // a local decision the roster holds
  const ss = w.rt.spreadsheet();
  const saved = ss.sheets.find((s) => s.name === 'Roster')!;
  ss.sheets.splice(ss.sheets.indexOf(saved), 1);
  later(w);
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result).toMatchObject({ message: CATALOG.rosterDeleted.text.replace('{sheet}', 'Roster'), fix: CATALOG.rosterDeleted.fix.replace('{sheet}', 'Roster') });
  expect(ss.sheets.some((s) => s.name === 'Roster')).toBe(false); // not recreated empty
  expect(w.envelope('getAccounts', {})).toMatchObject({ ok: false, error: { text: result.message } });
  expect(w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'destination')).toMatchObject({ status: 'fail', found: result.message });
  expect(ss.sheets.some((s) => s.name === 'Roster')).toBe(false);
  // Restored (Edit → Undo / version history): the next run carries on, the local decision intact.
  ss.sheets.push(saved);
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(w.roster().find((r) => r.ID === first.ID)!.Status).toBe('disabled');
  // Deleted again, and an empty sheet named Roster added by hand: refused like an emptied roster.
  ss.sheets.splice(ss.sheets.indexOf(saved), 1);
  ss.addSheet('Roster');
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('rosterEmptied')) });
  // Started anew on purpose (Settings → Destination → Start a new roster): a new roster is built.
  ss.sheets.splice(ss.sheets.findIndex((s) => s.name === 'Roster'), 1);
  w.call('startNewRoster', { confirm: true });
  later(w);
  const rebuilt = w.call('syncNow', {});
  expect(rebuilt.state).toBe('done');
  expect(rebuilt.applied.create).toBe(w.roster().length);
  rec.count('faultScenarios', 3);
});

rec.test('destination', 'a roster whose rows were cleared (header kept) or all deleted is refused like a deleted sheet, until a new roster is started on purpose', () => {
  const w = world();
  w.call('syncNow', {});
  const sheet = rosterSheet(w);
  const accounts = w.roster().length;
  const [first] = w.roster();
  w.call('updateAccounts', { ids: [first.ID], status: 'disabled' }); // a local decision the roster holds
  const saved = sheet.rows.map((row) => (row ? [...row] : row));
  const restore = () => {
    sheet.rows.length = 0;
    saved.forEach((row) => sheet.rows.push(row ? [...row] : row));
  };
  const emptied: [string, () => void][] = [
    ['data rows cleared, header kept', () => sheet.rows.splice(1)],
    ['every row deleted, header too', () => sheet.rows.splice(0)],
    ['every data row deleted and one manual account typed in', () => {
      sheet.rows.splice(1);
      sheet.rows.push(['manual-typed1', 'typed@springfield-schools.example', 'Typed By Hand', 'student', 'active', '', 'manual', '', '', '', '']);
    }],
  ];
  for (const [label, empty] of emptied) {
    empty();
    later(w);
    const before = sheetDump(w, 'Roster');
    const result = w.call('syncNow', {});
    expect({ label, state: result.state }).toEqual({ label, state: 'failed' });
    expect(result.message).toBe(CATALOG.rosterEmptied.text.replace('{sheet}', 'Roster').replace('{count}', String(accounts)));
    expect(result.fix).toBe(CATALOG.rosterEmptied.fix.replace('{sheet}', 'Roster'));
    expect(Object.values(result.applied).every((n) => n === 0)).toBe(true);
    expect(newest(w)).toMatchObject({ Outcome: 'failed', Created: '0', Message: result.message });
    expect(w.envelope('previewSync')).toMatchObject({ ok: false, error: { text: result.message } });
    expect(w.envelope('syncUser', { email: first.Email })).toMatchObject({ ok: false, error: { text: result.message } });
    // Nothing was written beyond the header an entirely blank sheet gets.
    if (label !== 'every row deleted, header too') expect(sheetDump(w, 'Roster')).toBe(before);
    // Starting anew is refused while the sheet still holds a row: it would be lost with the old roster's decisions.
    if (label.includes('manual')) expect(w.envelope('startNewRoster', { confirm: true })).toMatchObject({ ok: false, error: { id: 'rosterNotEmpty' } });
    rec.count('faultScenarios');
  }
  // Restored from version history: the local decision is intact, nothing is recreated.
  restore();
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(w.roster().find((r) => r.ID === first.ID)!.Status).toBe('disabled');
  // Cleared again, then a new roster started on purpose: it needs a confirmation, then the next sync builds it.
  sheet.rows.splice(1);
  expect(w.envelope('startNewRoster', {})).toMatchObject({ ok: false, error: { id: 'invalidInput', field: 'confirm' } });
  w.call('startNewRoster', { confirm: true });
  later(w);
  const rebuilt = w.call('syncNow', {});
  expect(rebuilt.state).toBe('done');
  expect(rebuilt.applied.create).toBe(accounts);
});
