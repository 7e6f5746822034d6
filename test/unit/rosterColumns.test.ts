// The roster's versioned columns: where ours are in a sheet, which an earlier version's roster lacks
// (appended at the right of everything the sheet holds), and what is damage rather than an old version.
import fc from 'fast-check';
import { ROSTER_COLUMNS, ROSTER_COLUMN_VERSIONS, RosterLayout, columnRuns, rosterLayout } from '../../src/destinations/sheet/rosterColumns';

const V1 = [...ROSTER_COLUMN_VERSIONS[0]];
/** Versions as a future release might have them: the test's own, so the upgrade path is exercised today. */
const VERSIONS = [V1, ['Grade', 'Homeroom'], ['Badge']];
const n = V1.length;

function layout(header: string[], usedWidth = header.length): RosterLayout {
  const l = rosterLayout(header, usedWidth, VERSIONS);
  if ('problem' in l) throw new Error(`unexpected ${l.problem}: ${l.columns.join(', ')}`);
  return l;
}

test('this version writes exactly the columns of its versions, the first version first', () => {
  expect([...ROSTER_COLUMNS]).toEqual(ROSTER_COLUMN_VERSIONS.flat());
  expect(ROSTER_COLUMNS.slice(0, 3)).toEqual(['ID', 'Email', 'Name']);
});

test("today's header needs nothing added and is written in one run", () => {
  const l = rosterLayout([...ROSTER_COLUMNS], ROSTER_COLUMNS.length);
  expect(l).toEqual({ at: ROSTER_COLUMNS.map((_, i) => i), added: [], runs: [{ start: 0, columns: ROSTER_COLUMNS.map((_, i) => i) }], width: ROSTER_COLUMNS.length });
});

test('a first-version roster gets the later columns appended at its right, in version order', () => {
  const l = layout(V1);
  expect(l.added).toEqual(['Grade', 'Homeroom', 'Badge']);
  expect(l.at.slice(n)).toEqual([n, n + 1, n + 2]);
  expect(l.runs).toEqual([{ start: 0, columns: [...Array(n + 3).keys()] }]);
});

test("a person's columns at the right are kept: ours are appended after them, and written around them", () => {
  const l = layout([...V1, 'Notes', 'Checked']);
  expect(l.added).toEqual(['Grade', 'Homeroom', 'Badge']);
  expect(l.at.slice(n)).toEqual([n + 2, n + 3, n + 4]);
  expect(l.runs).toEqual([{ start: 0, columns: [...Array(n).keys()] }, { start: n + 2, columns: [n, n + 1, n + 2] }]);
  expect(l.width).toBe(n + 5);
});

test('values under an empty header cell count as a column of the person: ours go after them', () => {
  const l = layout([...V1, ''], n + 3);
  expect(l.at.slice(n)).toEqual([n + 3, n + 4, n + 5]);
});

test('a second-version roster (upgraded before, with a note column between) gets only the third version', () => {
  const l = layout([...V1, 'Notes', 'Grade', 'Homeroom']);
  expect(l.added).toEqual(['Badge']);
  expect(l.at.slice(n)).toEqual([n + 1, n + 2, n + 3]);
  expect(l.runs).toEqual([{ start: 0, columns: [...Array(n).keys()] }, { start: n + 1, columns: [n, n + 1, n + 2] }]);
});

test('a current roster needs nothing, wherever the person put columns between the versions', () => {
  const l = layout([...V1, 'Notes', 'Grade', 'Homeroom', 'Office', 'Badge', 'More']);
  expect(l.added).toEqual([]);
  expect(l.runs.map((r) => r.start)).toEqual([0, n + 1, n + 4]);
});

test('a missing column of a version the header shows is damage, named, not an old version', () => {
  expect(rosterLayout(V1.filter((c) => c !== 'Permissions'), n, VERSIONS)).toEqual({ problem: 'missing', columns: ['Permissions'] });
  expect(rosterLayout([...V1, 'Grade', 'Badge'], n + 2, VERSIONS)).toEqual({ problem: 'missing', columns: ['Homeroom'] });
  expect(rosterLayout(['Name', 'Notes'], 2, VERSIONS)).toEqual({ problem: 'missing', columns: V1.filter((c) => c !== 'Name') });
});

test('a moved column of ours is damage: the first version in place, later ones in order', () => {
  const swapped = [...V1];
  [swapped[1], swapped[2]] = [swapped[2], swapped[1]];
  expect(rosterLayout(swapped, n, VERSIONS)).toMatchObject({ problem: 'moved' });
  expect(rosterLayout(['Notes', ...V1], n + 1, VERSIONS)).toMatchObject({ problem: 'moved' });
  expect(rosterLayout([...V1, 'Homeroom', 'Grade'], n + 2, VERSIONS)).toMatchObject({ problem: 'moved' });
});

test('runs of columns follow the sheet, not the list', () => {
  expect(columnRuns([0, 1, 5, 2, 6])).toEqual([{ start: 0, columns: [0, 1, 3] }, { start: 5, columns: [2, 4] }]);
});

describe('whatever a person added where, and whichever earlier version the roster has', () => {
  // A roster of an earlier or the current version (our columns in version order) with a person's
  // columns slipped in anywhere after the first version's block.
  const roster = fc
    .record({
      version: fc.integer({ min: 1, max: VERSIONS.length }),
      personal: fc.array(fc.record({ after: fc.nat({ max: 6 }), name: fc.constantFrom('Notes', 'Checked', '', 'Room', 'Grade 2') }), { maxLength: 5 }),
      trailingValues: fc.nat({ max: 3 }),
    })
    .map(({ version, personal, trailingValues }) => {
      const ours = VERSIONS.slice(0, version).flat();
      const header = [...ours];
      for (const p of personal) header.splice(Math.min(n + p.after, header.length), 0, p.name);
      return { version, header, usedWidth: header.length + trailingValues };
    });

  test('our columns get distinct places, never a cell of the header that is not ours, and the runs cover exactly them', () => {
    fc.assert(
      fc.property(roster, ({ version, header, usedWidth }) => {
        const l = layout(header, usedWidth);
        const names = VERSIONS.flat();
        expect(new Set(l.at).size).toBe(names.length);
        l.at.forEach((col, k) => {
          if (col < header.length) expect(header[col]).toBe(names[k]);
          else expect(col).toBeGreaterThanOrEqual(usedWidth);
        });
        expect(l.added).toEqual(VERSIONS.slice(version).flat());
        expect(l.runs.flatMap((r) => r.columns).sort((a, b) => a - b)).toEqual(names.map((_, k) => k));
        for (const run of l.runs) run.columns.forEach((k, i) => expect(l.at[k]).toBe(run.start + i));
      }),
    );
  });
});
