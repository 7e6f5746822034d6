// People editing the roster while a sync writes it: every write first checks its rows still hold the accounts
// it was planned for.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { rollover, DEMO_DOMAIN } from '../../../emulator/domain';
import type { SheetData } from '../../../emulator/fakes/sheetData';
import { faultSuite, Row, untimed, newest, rosterSheet, ID_COL, EMAIL_COL, NAME_COL } from './helpers';

const { rec, world, compareRoster } = faultSuite('rosterEdits');

const SHEET_WRITES = new Set(['Range.setValues', 'Range.setValue', 'Sheet.deleteRows', 'Sheet.insertRowsAfter', 'Sheet.appendRow']);

/**
 * A roster whose next sync changes accounts all over the sheet: a year-end rollover (OU moves,
 * graduates deactivated), leavers of the last sync deleted after their grace period, new students
 * created; some accounts carry local decisions (disabled, a permission) and there are manual accounts.
 */
function busyRoster(): World {
  const w = world();
  w.save({ graceDays: 1, threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
  w.call('syncNow', {});
  const students = w.roster().filter((r) => r.Roles === 'student');
  w.call('updateAccounts', { ids: students.filter((_, i) => i % 23 === 5).map((r) => r.ID), status: 'disabled' });
  w.call('updateAccounts', { ids: students.filter((_, i) => i % 31 === 7).map((r) => r.ID), grant: ['hall-pass'] });
  for (let i = 0; i < 3; i++) w.call('addAccount', { name: `Visitor ${i}`, email: `visitor${i}@partner.example`, role: 'teacher' });
  for (const r of students.filter((_, i) => i % 19 === 3)) w.rt.directory.deleteUser(r.Email);
  w.call('syncNow', {});
  w.rt.setClock(w.rt.nowMs() + 2 * 24 * 3600_000);
  rollover(w.rt.directory, 'alumni');
  for (let i = 0; i < 12; i++) w.rt.directory.addUser({ email: `new.student${i}@${DEMO_DOMAIN}`, givenName: 'New', familyName: `Student ${i}`, orgUnitPath: '/Students/Lincoln High/Grade 9' });
  return w;
}

type PersonEdit = [label: string, edit: (sheet: SheetData, unchanged: Set<string>) => string | null];

/** What people do in the Sheets UI; a delete takes the row of an account the sync leaves as it is (returns its id). */
const PERSON_EDITS: PersonEdit[] = [
  ['sorts the roster by name', (sheet) => (sheet.personSorts(2, NAME_COL), null)],
  ['inserts a blank row near the top', (sheet) => (sheet.personInsertsRow(3), null)],
  ['deletes a row in the middle', (sheet, unchanged) => {
    const last = sheet.lastRow();
    for (let d = 0; d < last; d++) {
      for (const row of [Math.floor(last / 2) + d, Math.floor(last / 2) - d]) {
        const id = String(sheet.get(row - 1, ID_COL));
        if (row > 1 && unchanged.has(id)) return (sheet.personDeletesRow(row), id);
      }
    }
    return null;
  }],
  ['sorts the roster by email, Z to A', (sheet) => (sheet.personSorts(2, EMAIL_COL, true), null)],
];

rec.test('concurrent edits', 'people sort, insert and delete roster rows before each write of a sync: no account is written over another, none is duplicated, History counts only what was written', () => {
  // The same roster synced with nobody editing: what every account must end up as.
  const twin = busyRoster();
  const before = new Map(twin.roster().map((r) => [r.ID, r]));
  twin.call('syncNow', { allowDestructive: 100000 });
  const expected = twin.roster();
  const want = new Map(expected.map((r) => [r.ID, r]));
  const unchanged = new Set([...want.keys()].filter((id) => before.has(id) && untimed(before.get(id)!) === untimed(want.get(id)!) && want.get(id)!.Status === 'active' && !want.get(id)!.Permissions));
  const changedIds = [...want.keys()].filter((id) => !unchanged.has(id) && (!before.has(id) || untimed(before.get(id)!) !== untimed(want.get(id)!)));
  expect(changedIds.length).toBeGreaterThan(100);
  expect([...before.keys()].filter((id) => !want.has(id)).length).toBeGreaterThan(5); // deletions too

  const w = busyRoster();
  const sheet = rosterSheet(w);
  // After the sync's first full read and after each of its writes, the next call finds the sheet edited.
  const personDeleted: string[] = [];
  const done: string[] = [];
  let armed = false;
  sheet.beforeCall = (method, rows) => {
    if (armed && done.length < 12) {
      armed = false;
      const [label, edit] = PERSON_EDITS[done.length % PERSON_EDITS.length];
      const id = edit(sheet, unchanged);
      if (id) personDeleted.push(id);
      done.push(label);
    }
    const fullRead = method === 'Range.getValues' && rows?.first === 1 && rows.count >= sheet.lastRow();
    if (SHEET_WRITES.has(method) || (fullRead && done.length === 0)) armed = true;
  };
  const result = w.call('syncNow', { allowDestructive: 100000 });
  sheet.beforeCall = null;
  expect(done.length).toBeGreaterThanOrEqual(PERSON_EDITS.length);
  expect(personDeleted.length).toBeGreaterThan(0);

  const rows = w.roster();
  const ids = rows.map((r) => r.ID);
  expect(ids.length).toBe(new Set(ids).size);
  const live = rows.filter((r) => r.Status !== 'deleted').map((r) => r.Email);
  expect(live.length).toBe(new Set(live).size);
  // Every row holds one account, either as it was or as the plan wanted it; nothing half-written or misplaced.
  const misplaced = rows.filter((r) => !(before.has(r.ID) && untimed(before.get(r.ID)!) === untimed(r)) && !(want.has(r.ID) && untimed(want.get(r.ID)!) === untimed(r)));
  expect(misplaced).toEqual([]);
  // History counts exactly the accounts written (a row differs from before the sync in any cell, its times included).
  const have = new Map(rows.map((r) => [r.ID, r]));
  const cells = (r: Row | undefined) => JSON.stringify(r && Object.entries(r));
  const written =
    [...want.keys()].filter((id) => have.has(id) && untimed(have.get(id)!) === untimed(want.get(id)!) && cells(have.get(id)) !== cells(before.get(id))).length +
    [...before.keys()].filter((id) => !want.has(id) && !have.has(id) && !personDeleted.includes(id)).length;
  const h = newest(w);
  const counted = ['Created', 'Updated', 'Deactivated', 'Reactivated', 'Deleted'].reduce((n, k) => n + Number(h[k]), 0);
  expect(counted).toBe(written);
  expect(written).toBeGreaterThan(changedIds.length / 2);
  if (result.state === 'done' && h.Outcome === 'partial') expect(h.Message).toContain('moved, edited or removed in the sheet');

  // The next sync (nobody editing) finishes the job: the roster is the one nobody edited, rows deleted by hand recreated.
  later(w);
  expect(w.call('syncNow', { allowDestructive: 100000 }).state).toBe('done');
  expect(compareRoster(w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
  rec.count('faultScenarios', done.length);
  rec.note(`${done.length} edits by a person during one sync (${[...new Set(done)].join(', ')}); ${written} accounts written in that sync, the rest by the next`);
});
