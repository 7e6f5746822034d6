// The roster sheet's columns, versioned, and where each one is in a given sheet. Pure: no Apps Script.
//
// The rules (an installed roster must survive every update of Roster Sync):
// - Each version's new columns are appended to ROSTER_COLUMN_VERSIONS as a new entry; a published
//   column is never removed, renamed or reordered, and the first version's columns stay first, in order.
// - A roster with the columns of an earlier version is upgraded in place: the missing columns are
//   appended at the right of everything the sheet holds, so a column a person added is never moved
//   or written over. Only the header gains cells; rows are written only where the sync changes them.
// - Columns a person added (anywhere right of the first version's columns) are kept and never written.
// - A missing or moved column of ours is damage, not an old version: the sync refuses it
//   (rosterColumnsChanged, rosterColumnsMoved) rather than guess where the values went.

/** Version 1 (Roster Sync 0.1.0). */
const V1 = ['ID', 'Email', 'Name', 'Roles', 'Status', 'Permissions', 'Source', 'OU', 'Last synced', 'Synced status', 'Out of scope since'] as const;

/** The columns each version added, oldest first. Append a new version; never edit a published one. */
export const ROSTER_COLUMN_VERSIONS: readonly (readonly string[])[] = [V1];

/** Every column this version writes, in version order. */
export const ROSTER_COLUMNS = [...V1] as const;

export type RosterColumn = (typeof ROSTER_COLUMNS)[number];

/** A run of our columns side by side in the sheet: written with one range per row block. */
export interface ColumnRun {
  /** 0-based sheet column of the run's first cell. */
  start: number;
  /** Positions in the column list (ROSTER_COLUMNS order) of the run's columns, left to right. */
  columns: number[];
}

export interface RosterLayout {
  /** 0-based sheet column of each of our columns, by position in the column list. */
  at: number[];
  /** Our columns the header lacks (an earlier version's roster), by name: appended at `at` on the first write. */
  added: string[];
  /** Our columns grouped into runs of adjacent sheet columns. */
  runs: ColumnRun[];
  /** 1 + the right-most sheet column of ours: how wide a read must be to see them all. */
  width: number;
}

export type LayoutProblem = { problem: 'missing' | 'moved'; columns: string[] };

/**
 * Where our columns are in a sheet whose first row is `header` and whose content reaches `usedWidth`
 * columns (Sheet.getLastColumn: a person's column may have values under an empty header cell).
 */
export function rosterLayout(header: string[], usedWidth: number, versions: readonly (readonly string[])[] = ROSTER_COLUMN_VERSIONS): RosterLayout | LayoutProblem {
  const names = versions.flat();
  const required = columnsUpToNewestShown(header, versions);
  const missing = required.filter((name) => !header.includes(name));
  if (missing.length) return { problem: 'missing', columns: missing };
  const found = required.map((name) => header.indexOf(name));
  const firstInPlace = versions[0].every((name, i) => header[i] === name);
  const inOrder = found.every((col, k) => k === 0 || col > found[k - 1]);
  if (!firstInPlace || !inOrder) return { problem: 'moved', columns: names };
  // The columns of later versions go after everything the sheet holds.
  const start = Math.max(usedWidth, header.length);
  const added = names.slice(required.length);
  const at = [...found, ...added.map((_, i) => start + i)];
  return { at, added, runs: columnRuns(at), width: Math.max(...at) + 1 };
}

/**
 * Our columns up to the newest version the header shows a column of (the first version at least):
 * all of them must be there; the columns of later versions are simply not added yet.
 */
function columnsUpToNewestShown(header: string[], versions: readonly (readonly string[])[]): string[] {
  const newest = versions.reduce((last, columns, v) => (columns.some((name) => header.includes(name)) ? v : last), 0);
  return versions.slice(0, newest + 1).flat();
}

/** Our columns in sheet order, cut where a column that is not ours lies between two of them. */
export function columnRuns(at: number[]): ColumnRun[] {
  const order = at.map((col, k) => ({ col, k })).sort((a, b) => a.col - b.col);
  const runs: ColumnRun[] = [];
  for (const { col, k } of order) {
    const run = runs[runs.length - 1];
    if (run && run.start + run.columns.length === col) run.columns.push(k);
    else runs.push({ start: col, columns: [k] });
  }
  return runs;
}

/**
 * The layout with the mapped attributes' columns (Settings → Attributes) after ours, in `names`
 * order: each found by its header (any case) right of the first version's columns, one not there yet
 * added at the right of everything, after the columns added for a version. A column no longer mapped
 * keeps its place and content; it is simply no longer written.
 */
export function withAttributes(layout: RosterLayout, header: string[], usedWidth: number, names: readonly string[]): RosterLayout {
  if (!names.length) return layout;
  const taken = new Set(layout.at);
  let next = Math.max(usedWidth, header.length, layout.width);
  const added = [...layout.added];
  const at = [...layout.at];
  for (const name of names) {
    const col = header.findIndex((h, i) => i >= ROSTER_COLUMN_VERSIONS[0].length && !taken.has(i) && h.toLowerCase() === name.toLowerCase());
    if (col >= 0) taken.add(col);
    else added.push(name);
    at.push(col >= 0 ? col : next++);
  }
  return { at, added, runs: columnRuns(at), width: Math.max(...at) + 1 };
}
