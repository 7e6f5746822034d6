// The embedded default destination: the roster as a sheet of accounts. Reads
// once per execution; writes one setValues per span of changed rows (blocks of
// changed rows with short runs of unchanged rows between them, checked first).
import { ACCOUNT_STATUSES, Account, AccountStatus, Change } from '../../core/model';
import { ApplyResult, RosterPort, RosterReadProblem } from '../../core/ports';
import { UserError, msg } from '../../core/messages';
import { asText, ensureSheet, fromCell, removeRows, runs, writeBlock } from '../../gas/sheets';
import { HISTORY_SHEET } from '../../gas/sheetHistory';

export const ROSTER_SHEET = 'Roster';
/** The column listing the selected Google Groups (Settings → App groups) each account belongs to. */
export const GROUPS_COLUMN = 'Groups';
export const ROSTER_COLUMNS = ['ID', 'Email', 'Name', 'Roles', 'Status', 'Permissions', 'Source', 'OU', 'Last synced', 'Synced status', 'Out of scope since'] as const;

type Column = (typeof ROSTER_COLUMNS)[number];

export function accountToRow(a: Account): string[] {
  return [a.id, a.email, a.name, a.roles.join(', '), a.status, a.permissions.join(', '), a.source, a.orgUnitPath, a.lastSynced, a.syncedStatus, a.outOfScopeSince].map(asText);
}

/**
 * Where the mapped attributes live: one column each, found by its header right of the fixed columns.
 * A column for a newly mapped attribute is added after the last column in use, so columns a person
 * added keep their place and content; an attribute no longer mapped keeps its column, no longer written.
 */
interface Layout {
  /** Attribute name → 0-based column. */
  attributeColumns: [string, number][];
  /** Columns the sheet reads and writes: 1 + the last managed column. */
  width: number;
  /** Runs of consecutive managed columns [first, last] (0-based): one setValues per run per block of rows. */
  runs: [number, number][];
  /** Header cells of newly mapped attributes, written with the first change (a Preview writes nothing). */
  newHeader?: { column: number; names: string[] };
}

function layoutOf(attributeColumns: [string, number][]): Layout {
  const cols = [...ROSTER_COLUMNS.keys(), ...attributeColumns.map(([, c]) => c)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const c of cols) {
    const last = runs[runs.length - 1];
    if (last && last[1] + 1 === c) last[1] = c;
    else runs.push([c, c]);
  }
  return { attributeColumns, width: cols[cols.length - 1] + 1, runs };
}

/** The cells of an account's row across the layout's width (columns not managed are left undefined). */
function rowCells(a: Account, layout: Layout): string[] {
  const cells = accountToRow(a);
  if (!layout.attributeColumns.length) return cells;
  cells.length = layout.width;
  for (const [name, col] of layout.attributeColumns) cells[col] = asText(name === GROUPS_COLUMN ? (a.groups ?? []).join(', ') : a.attributes?.[name] ?? '');
  return cells;
}

/** The value asText wrote. Names are kept exactly (a directory name is compared as is); other cells are trimmed. */
function fromRosterCell(value: unknown, exact: boolean): string {
  const s = String(value ?? '');
  return exact && !s.startsWith("'") ? s : fromCell(value);
}

/** The roster as last read or written in this execution; `accounts` (row order) is rebuilt from byId when needed. */
interface RosterCache {
  byId: Map<string, Account>;
  rowOf: Map<string, number>;
  accounts: Account[] | null;
  lastRow: number;
  problems: RosterReadProblem[];
  /** Row number → account id, for the unchanged rows inside a span (built on demand). */
  idAt?: Map<number, string> | null;
  layout: Layout;
}

const list = (cell: string) => cell.split(',').map((s) => s.trim()).filter(Boolean);

export class SheetRoster implements RosterPort {
  readonly kind = ROSTER_SHEET;
  private cache: RosterCache | null = null;

  /** `attributeNames`: the mapped attributes (Settings → Attributes), one column each, and GROUPS_COLUMN when app groups are selected. */
  constructor(
    private readonly spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet,
    private readonly attributeNames: readonly string[] = [],
  ) {}

  private sheet(): GoogleAppsScript.Spreadsheet.Sheet {
    const existing = this.spreadsheet.getSheetByName(ROSTER_SHEET);
    if (existing) return existing;
    // Deleted by a person after syncs wrote it: recreating it empty would recreate every account and
    // forget every local decision (disabled, deleted, manual accounts), so say so instead.
    if (this.syncedBefore()) {
      throw new UserError(msg('rosterDeleted', { sheet: ROSTER_SHEET }));
    }
    return ensureSheet(this.spreadsheet, ROSTER_SHEET, [...ROSTER_COLUMNS, ...this.attributeNames]);
  }

  /** Whether History records a sync that completed, i.e. the roster sheet existed. Read only when the sheet is missing. */
  private syncedBefore(): boolean {
    const history = this.spreadsheet.getSheetByName(HISTORY_SHEET);
    const last = history ? history.getLastRow() : 0;
    if (!history || last < 2) return false;
    return history
      .getRange(2, 4, last - 1, 1)
      .getValues()
      .some(([outcome]) => outcome === 'success' || outcome === 'partial');
  }

  readAll(): { accounts: Account[]; problems: RosterReadProblem[] } {
    const cache = this.cache ?? (this.cache = this.load());
    if (!cache.accounts) {
      const rowOf = cache.rowOf;
      cache.accounts = [...cache.byId.values()].sort((a, b) => rowOf.get(a.id)! - rowOf.get(b.id)!);
    }
    return { accounts: cache.accounts, problems: cache.problems };
  }

  private load(): RosterCache {
    const sheet = this.sheet();
    const values = sheet.getDataRange().getValues();
    if (values.every((row) => row.every((v) => v === '' || v === null))) {
      // An empty sheet (an execution cut off between creating it and writing its header, or an
      // empty sheet a person added to start a new roster): it gets the header and holds no accounts.
      const header = [...ROSTER_COLUMNS, ...this.attributeNames];
      writeBlock(sheet, 1, [header], header.length);
      const layout = layoutOf(this.attributeNames.map((name, i) => [name, ROSTER_COLUMNS.length + i]));
      return { byId: new Map<string, Account>(), accounts: [], rowOf: new Map<string, number>(), lastRow: 1, problems: [], layout };
    }
    const header = (values[0] ?? []).map((h) => String(h).trim());
    const col = new Map<Column, number>();
    const missing: string[] = [];
    for (const name of ROSTER_COLUMNS) {
      const i = header.indexOf(name);
      if (i < 0) missing.push(name);
      else col.set(name, i);
    }
    if (missing.length) {
      throw new UserError(msg('rosterColumnsChanged', { sheet: ROSTER_SHEET, columns: missing.join(', ') }));
    }
    if (header.some((h, i) => h !== ROSTER_COLUMNS[i] && i < ROSTER_COLUMNS.length)) {
      throw new UserError(msg('rosterColumnsMoved', { sheet: ROSTER_SHEET, columns: ROSTER_COLUMNS.join(', ') }));
    }
    const layout = this.attributeLayout(header);
    const accounts: Account[] = [];
    const byId = new Map<string, Account>();
    const rowOf = new Map<string, number>();
    const problems: RosterReadProblem[] = [];
    for (let r = 1; r < values.length; r++) {
      const cell = (name: Column) => fromRosterCell(values[r][col.get(name)!], name === 'Name');
      if (values[r].every((v) => v === '' || v === null)) continue;
      const rawId = values[r][col.get('ID')!];
      const parsed = typeof rawId === 'number' ? `the ID is stored as a number (${rawId}) and has lost digits; format the ID column as plain text and paste the id again` : parseRow(cell);
      if (typeof parsed === 'string') problems.push({ row: r + 1, message: parsed });
      else if (rowOf.has(parsed.id)) problems.push({ row: r + 1, message: `the ID ${parsed.id} is also on row ${rowOf.get(parsed.id)}` });
      else {
        for (const [name, c] of layout.attributeColumns) {
          if (name === GROUPS_COLUMN) parsed.groups = list(fromCell(values[r][c]).toLowerCase());
          else (parsed.attributes ??= {})[name] = fromCell(values[r][c]);
        }
        accounts.push(parsed);
        byId.set(parsed.id, parsed);
        rowOf.set(parsed.id, r + 1);
      }
    }
    return { byId, rowOf, accounts, lastRow: Math.max(values.length, 1), problems, layout };
  }

  /** Finds each mapped attribute's column; the header of one not there yet is added after the last column in use. */
  private attributeLayout(header: string[]): Layout {
    const found: [string, number][] = [];
    const missing: string[] = [];
    for (const name of this.attributeNames) {
      const c = header.findIndex((h, i) => i >= ROSTER_COLUMNS.length && h.toLowerCase() === name.toLowerCase());
      if (c < 0) missing.push(name);
      else found.push([name, c]);
    }
    if (!missing.length) return layoutOf(found);
    let used = header.length;
    while (used > ROSTER_COLUMNS.length && !header[used - 1]) used--;
    missing.forEach((name, i) => found.push([name, used + i]));
    return { ...layoutOf(found), newHeader: { column: used, names: missing } };
  }

  /** Adds the header cells of newly mapped attributes after the last column in use (growing the sheet if needed). */
  private writeNewHeader(sheet: GoogleAppsScript.Spreadsheet.Sheet, layout: Layout): void {
    const { column, names } = layout.newHeader!;
    const maxCols = sheet.getMaxColumns();
    if (column + names.length > maxCols) sheet.insertColumnsAfter(maxCols, column + names.length - maxCols);
    const range = sheet.getRange(1, column + 1, 1, names.length);
    range.setNumberFormat('@');
    range.setValues([names]);
    range.setFontWeight('bold');
    delete layout.newHeader;
  }

  checkWritable(): void {
    const sheet = this.sheet();
    const me = Session.getEffectiveUser().getEmail();
    for (const p of sheet.getProtections(SpreadsheetApp.ProtectionType.SHEET)) {
      if (!p.canEdit()) throw new UserError(msg('rosterProtected', { sheet: ROSTER_SHEET, detail: `it is protected${me ? ` against ${me}` : ''}` }));
    }
  }

  apply(changes: Change[]): ApplyResult {
    if (!changes.length) return { applied: [], failed: [] };
    const state = this.cache ?? (this.cache = this.load());
    const sheet = this.sheet();
    const rows = new Map<number, string[]>();
    const appended: string[][] = [];
    const deletions: number[] = [];
    for (const change of changes) {
      const row = state.rowOf.get(change.accountId);
      if (!change.after) {
        if (row) deletions.push(row);
      } else if (row) rows.set(row, rowCells(change.after, state.layout));
      else appended.push(rowCells(change.after, state.layout));
    }
    try {
      if (state.layout.newHeader) this.writeNewHeader(sheet, state.layout);
      for (const span of spans(runs([...rows.keys()]))) writeSpan(sheet, state, span, rows);
      if (appended.length) writeRows(sheet, state.lastRow + 1, appended, state.layout, true);
      removeRows(sheet, deletions);
      // Sheets commits buffered writes before the next read; commit them now, so the time they take
      // is this batch's (and the sync stops for its budget in time), not a later read's.
      SpreadsheetApp.flush();
    } catch (error) {
      this.cache = null;
      throw new UserError(msg('rosterProtected', { sheet: ROSTER_SHEET, detail: error instanceof Error ? error.message : String(error) }));
    }
    // The sheet now holds what the cache plus these changes say: keep the cache in step rather
    // than reading the whole sheet again before the next batch (that made a sync quadratic).
    this.cache = afterWrite(state, changes, deletions);
    return { applied: changes.map((c) => c.accountId), failed: [] };
  }
}

/**
 * Changed rows separated by at most this many unchanged rows are written in one setValues: a
 * rollover changes most rows, and one write per block of changed rows would be thousands of calls.
 */
export const MAX_GAP_ROWS = 20;

type Run = { start: number; values: number[] };

/** Runs of changed rows grouped into spans whose gaps are at most MAX_GAP_ROWS rows. */
function spans(all: Run[]): Run[][] {
  const out: Run[][] = [];
  for (const run of all) {
    const span = out[out.length - 1];
    const last = span?.[span.length - 1];
    if (last && run.start - (last.start + last.values.length) <= MAX_GAP_ROWS) span.push(run);
    else out.push([run]);
  }
  return out;
}

/**
 * Writes one span. Its unchanged rows are written back as they are, so they are read first and must
 * still hold what this execution read: a row a person edited meanwhile is never overwritten; the span
 * is then written run by run instead.
 */
function writeSpan(sheet: GoogleAppsScript.Spreadsheet.Sheet, cache: RosterCache, span: Run[], rows: Map<number, string[]>): void {
  const { layout } = cache;
  const width = layout.width;
  if (span.length > 1) {
    const start = span[0].start;
    const last = span[span.length - 1];
    const height = last.start + last.values.length - start;
    const fresh = sheet.getRange(start, 1, height, width).getValues();
    const idAt = rowIndex(cache);
    const values: string[][] = [];
    for (let i = 0; i < height && values.length === i; i++) {
      const changed = rows.get(start + i);
      const account = changed ? undefined : cache.byId.get(idAt.get(start + i) ?? '');
      const unchanged = account && rowCells(account, layout);
      if (changed) values.push(changed);
      else if (unchanged && sameCells(fresh[i], unchanged)) values.push(unchanged);
    }
    if (values.length === height) return writeRows(sheet, start, values, layout, false);
  }
  for (const run of span) writeRows(sheet, run.start, run.values.map((r) => rows.get(r)!), layout, false);
}

/** Rows written across the layout: one setValues per run of managed columns (one in all without attributes). */
function writeRows(sheet: GoogleAppsScript.Spreadsheet.Sheet, start: number, values: string[][], layout: Layout, mayGrow: boolean): void {
  const [first, ...rest] = layout.runs;
  writeBlock(sheet, start, values.map((row) => row.slice(0, first[1] + 1)), first[1] + 1, mayGrow);
  for (const [c0, c1] of rest) {
    const range = sheet.getRange(start, c0 + 1, values.length, c1 - c0 + 1);
    range.setNumberFormat('@');
    range.setValues(values.map((row) => row.slice(c0, c1 + 1)));
  }
}

/** Whether a row read from the sheet holds the cells a write of `expected` would leave there (managed columns only). */
function sameCells(actual: unknown[], expected: string[]): boolean {
  for (let c = 0; c < expected.length; c++) {
    if (expected[c] === undefined) continue;
    if (fromRosterCell(actual[c], c === NAME_COLUMN) !== fromRosterCell(expected[c], c === NAME_COLUMN)) return false;
  }
  return true;
}

const NAME_COLUMN = ROSTER_COLUMNS.indexOf('Name');

/** Row number → account id, built once and kept until rows move. */
function rowIndex(cache: RosterCache): Map<number, string> {
  if (!cache.idAt) cache.idAt = new Map([...cache.rowOf].map(([id, row]) => [row, id]));
  return cache.idAt;
}

/**
 * Brings the cache in line with `changes` as apply() wrote them: updates in place,
 * appends after the last row, then the deleted rows gone and the rows below moved up.
 */
function afterWrite(cache: RosterCache, changes: Change[], deletions: number[]): RosterCache {
  const { byId, rowOf } = cache;
  for (const change of changes) {
    const row = rowOf.get(change.accountId);
    // Rows keep their place when updated in place; anything else invalidates the row → id index.
    if (row === undefined || change.after?.id !== change.accountId) cache.idAt = null;
    byId.delete(change.accountId);
    rowOf.delete(change.accountId);
    // An adopted manual account changes id: the same row under the Google id.
    if (change.after) {
      byId.set(change.after.id, change.after);
      rowOf.set(change.after.id, row ?? ++cache.lastRow);
    }
  }
  if (deletions.length) {
    const gone = [...new Set(deletions)].sort((a, b) => a - b);
    const shift = (row: number) => {
      let lo = 0;
      let hi = gone.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (gone[mid] < row) lo = mid + 1;
        else hi = mid;
      }
      return row - lo;
    };
    for (const [id, row] of rowOf) rowOf.set(id, shift(row));
    cache.problems = cache.problems.map((p) => ({ ...p, row: shift(p.row) }));
    cache.lastRow -= gone.length;
  }
  cache.accounts = null;
  if (deletions.length) cache.idAt = null;
  return cache;
}

/** An account from a row, or what is wrong with the row. */
function parseRow(cell: (name: Column) => string): Account | string {
  const id = cell('ID');
  if (!/^(?:\d{1,30}|manual-[A-Za-z0-9]{1,40})$/.test(id)) return `the ID "${id.slice(0, 40)}" is not a Google user id (digits) or manual-…`;
  const status = cell('Status').toLowerCase();
  if (!ACCOUNT_STATUSES.includes(status as AccountStatus)) return `the status "${cell('Status').slice(0, 40)}" is not one of ${ACCOUNT_STATUSES.join(', ')}`;
  const source = cell('Source').toLowerCase();
  if (source !== 'synced' && source !== 'manual') return `the source "${cell('Source').slice(0, 40)}" is not synced or manual`;
  const syncedStatus = cell('Synced status').toLowerCase();
  if (syncedStatus && !ACCOUNT_STATUSES.includes(syncedStatus as AccountStatus)) return `the synced status "${syncedStatus.slice(0, 40)}" is not a status`;
  const email = cell('Email');
  if (!email.includes('@')) return `the email "${email.slice(0, 60)}" is not an email address`;
  return {
    id,
    email,
    name: cell('Name'),
    roles: list(cell('Roles')),
    status: status as AccountStatus,
    permissions: list(cell('Permissions')),
    source,
    orgUnitPath: cell('OU'),
    lastSynced: cell('Last synced'),
    syncedStatus: syncedStatus as AccountStatus | '',
    outOfScopeSince: cell('Out of scope since'),
  };
}
