// People editing the roster while a sync writes it: every write first checks its rows still hold the accounts
// it was planned for.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { rollover, DEMO_DOMAIN } from '../../../emulator/domain';
import type { SheetData } from '../../../emulator/fakes/sheetData';
import { CATALOG } from '../../../src/core/messages';
import { faultSuite, Json, Row, catalog, sheetDump, untimed, newest, rosterSheet, ID_COL, EMAIL_COL, NAME_COL } from './helpers';

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

rec.test('concurrent edits', 'a sort landing in the instant between a write\'s check and the write (which Apps Script cannot make one step): the next sync finds the account on two rows and writes nothing until the roster is restored; a row deleted in its place comes back with its decision', () => {
  // Every student carries a local decision (a permission), so whatever row a misplaced write or deletion takes has one.
  const roster = () => {
    const w = busyRoster();
    w.call('updateAccounts', { ids: w.roster().filter((r) => r.Roles === 'student').map((r) => r.ID), grant: ['reports'] });
    return w;
  };
  const twin = roster();
  twin.call('syncNow', { allowDestructive: 100000 });
  const expected = twin.roster();
  const outcomes: string[] = [];
  for (const [method, what] of [['Range.setValues', 'a span write'], ['Sheet.deleteRows', 'a row deletion']] as const) {
    const w = roster();
    const sheet = rosterSheet(w);
    const before = sheetDump(w, 'Roster');
    // The first check of a span (a read of a few rows) passes; the person's sort lands before the call it guards.
    let checked = false;
    let sorted = false;
    sheet.beforeCall = (m, rows) => {
      if (!sorted && checked && m === method) {
        sheet.personSorts(2, EMAIL_COL);
        sorted = true;
      }
      if (m === 'Range.getValues' && rows && rows.count < sheet.lastRow() - 1) checked = true;
    };
    w.call('syncNow', { allowDestructive: 100000 });
    sheet.beforeCall = null;
    expect(sorted).toBe(true);
    expect(sheetDump(w, 'Roster')).not.toBe(before);
    const ids = w.roster().map((r) => r.ID);
    const twice = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    later(w);
    if (method === 'Range.setValues') {
      // Written over a moved row: the next sync refuses, naming an ID on two rows, and writes nothing.
      expect(twice.length).toBeGreaterThan(0);
      const dump = sheetDump(w, 'Roster');
      const refused = w.call('syncNow', { allowDestructive: 100000 });
      expect(refused).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('rosterIdTwice')), fix: CATALOG.rosterIdTwice.fix });
      expect(twice).toContain(refused.message.match(/The ID (\d+)/)![1]);
      rec.count('windowWritesOverDuplicates', sheetDump(w, 'Roster') === dump ? 0 : 1);
      expect(sheetDump(w, 'Roster')).toBe(dump);
      expect(w.call('runFinalizeChecks').checks.find((c: Json) => c.status === 'warning' && /on two rows/.test(c.found))).toBeDefined();
      // The person deletes one row of each pair (as the fix says): the next sync rewrites those accounts and recreates those written over.
      for (const id of twice) sheet.personDeletesRow(sheet.rows.findIndex((r) => r && String(r[ID_COL]) === id) + 1);
    } else {
      // A deletion that took another row: nobody is on two rows; that account (with a permission) is recreated by the next sync.
      expect(twice).toEqual([]);
      const present = new Set(ids);
      const takenInPlace = expected.filter((r) => !present.has(r.ID) && r.Status !== 'deleted' && r.Permissions.includes('reports'));
      expect(takenInPlace.length).toBeGreaterThan(0);
    }
    expect(w.call('syncNow', { allowDestructive: 100000 }).state).toBe('done');
    expect({ what, ...compareRoster(w, expected) }).toEqual({ what, lost: 0, duplicated: 0, extra: 0, differing: 0 });
    outcomes.push(`${what}: ${twice.length ? `${twice.length} IDs on two rows, refused until one row of each pair was deleted` : 'another row deleted, recreated with its decision by the next sync'}`);
    rec.count('faultScenarios');
  }
  rec.note(outcomes.join('; '));
});

rec.test('identities', 'a synced user renamed to a manual account\'s email never leaves two accounts with one email in the roster: the rename is held and named with the fix; two people swapping emails still swap', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  w.call('syncNow', {});
  const nurse = `nurse@${DEMO_DOMAIN}`;
  const manual = w.call('addAccount', { name: 'Visiting Nurse', email: nurse, role: 'teacher' });
  const [renamed, a, b] = w.roster().filter((r) => r.Roles === 'student' && r.Status === 'active');
  w.rt.directory.renameEmail(renamed.Email, nurse, false);
  // Two people exchange addresses in the same sync: each address is freed by the other's rename.
  w.rt.directory.renameEmail(a.Email, `swap.${a.Email}`, false);
  w.rt.directory.renameEmail(b.Email, a.Email, false);
  w.rt.directory.renameEmail(`swap.${a.Email}`, b.Email, false);
  later(w);
  const r = w.call('syncNow', {});
  expect(r).toMatchObject({ state: 'done', applied: { update: 2 } });
  const rows = w.roster();
  const live = rows.filter((x) => x.Status !== 'deleted').map((x) => x.Email.toLowerCase());
  rec.count('accountsSharingEmail', live.length - new Set(live).size);
  expect(live.length).toBe(new Set(live).size);
  expect(rows.find((x) => x.ID === renamed.ID)).toMatchObject({ Email: renamed.Email, Status: 'active' });
  expect(rows.find((x) => x.ID === manual.id)).toMatchObject({ Email: nurse, Source: 'manual', Name: 'Visiting Nurse' });
  expect(rows.find((x) => x.ID === a.ID)!.Email).toBe(b.Email);
  expect(rows.find((x) => x.ID === b.ID)!.Email).toBe(a.Email);
  // Named with the fix in Preview; History counts it as held (a warning, not a success).
  const held = w.call('previewSync').held;
  expect(held).toHaveLength(1);
  expect(held[0].why).toBe(`${CATALOG.emailTaken.text.replace('{previous}', renamed.Email).replace('{email}', nurse).replace('{holder}', `Visiting Nurse, manual account ${manual.id}`)} ${CATALOG.emailTaken.fix}`);
  expect(newest(w)).toMatchObject({ Outcome: 'warning', Message: expect.stringContaining('1 changes held back') });
  // The admin's fix: the manual account deleted; the next sync writes the new address.
  w.call('updateAccounts', { ids: [manual.id], status: 'deleted' });
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { update: 1 } });
  expect(w.roster().find((x) => x.ID === renamed.ID)).toMatchObject({ Email: nurse, Status: 'active' });
  rec.count('faultScenarios', 2);
  rec.count('accountsChecked', rows.length);
});
