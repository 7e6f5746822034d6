// Columns a person adds to the roster sheet, at the right of ours, belong to that person: every sync
// keeps them as they are and reads nothing from them. (Roster column versions: rosterColumns.ts.)
import { later, world, World } from './harness';
import { ROSTER_COLUMNS } from '../../src/destinations/sheet/sheetRoster';
import type { SheetData } from '../../emulator/fakes/sheetData';

const n = ROSTER_COLUMNS.length;

function sheet(w: World): SheetData {
  return w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
}

/** Columns a person adds at the right of the roster (Insert → Column right): a new roster sheet has only ours. */
function addColumns(s: SheetData, count: number): void {
  s.maxCols = Math.max(s.maxCols, n + count);
}

/** Row (0-based) → [id, notes, checked] for every row of the sheet. */
function personCells(s: SheetData): [string, unknown, unknown][] {
  return Array.from({ length: s.lastRow() }, (_, r) => [String(s.get(r, 0)), s.get(r, n), s.get(r, n + 1)]);
}

test("a person's columns keep their cells, row by row, through creates, updates, deactivations and deletions", () => {
  const w = world();
  expect(w.call('syncNow', {}).state).toBe('done');
  later(w);
  const s = sheet(w);
  // A labelled column and, beside it, values under an empty header cell; a total under the roster.
  addColumns(s, 2);
  s.set(0, n, 'Notes');
  for (let r = 1; r < s.lastRow(); r++) {
    s.set(r, n, `note for ${s.get(r, 0)}`);
    if (r % 3 === 0) s.set(r, n + 1, true);
  }
  const totalRow = s.lastRow() + 1;
  s.set(totalRow, n, 'Total: checked by the office');
  const before = personCells(s);

  const d = w.rt.directory;
  const students = d.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended);
  for (const u of students.slice(0, 40)) d.renameUser(u.primaryEmail, 'Renamed', u.name.familyName); // updates, in spans
  d.moveUser(students[50].primaryEmail, '/Alumni'); // a deactivation
  const newcomer = d.addUser({ email: 'new.student@springfield-schools.example', givenName: 'New', familyName: 'Student', orgUnitPath: '/Students/Lincoln High/Grade 9' });
  const result = w.call('syncNow', {});
  expect(result).toMatchObject({ state: 'done', applied: { create: 1, update: 40, deactivate: 1 } });
  const after = personCells(s);
  expect(after.slice(0, before.length)).toEqual(before);
  expect(after.slice(before.length)).toEqual([[newcomer.id, '', '']]);
  expect(s.get(0, n)).toBe('Notes');

  // Deletion after the grace period removes the account's row, notes and all; every other note stays on its account's row.
  w.save({ graceDays: 0 });
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { delete: 1 } });
  const gone = before.findIndex(([id]) => id === students[50].id);
  expect(personCells(s)).toEqual([...before.slice(0, gone), ...before.slice(gone + 1), [newcomer.id, '', '']]);
});

test('a row holding only what a person wrote beside the roster is no account: not reported, not synced, left as it is', () => {
  const w = world();
  w.call('syncNow', {});
  later(w);
  const s = sheet(w);
  addColumns(s, 1);
  const row = s.lastRow() + 2;
  s.set(0, n, 'Notes');
  s.set(row, n, '=COUNTA(A2:A400)');
  expect(w.call('previewSync').counts).toEqual({ create: 0, update: 0, deactivate: 0, reactivate: 0, delete: 0 });
  expect(w.call('syncNow', {}).state).toBe('done');
  expect(s.get(row, n)).toBe('=COUNTA(A2:A400)');
  expect(Array.from({ length: n }, (_, c) => s.get(row, c)).every((v) => v === '')).toBe(true);
  expect(w.roster().filter((r) => !r.ID)).toHaveLength(1);
});
