// The embedded default destination: the roster as a sheet of accounts. Reads
// once per execution; writes one setValues per span of changed rows (blocks of
// changed rows with short runs of unchanged rows between them, checked first).
import { ACCOUNT_STATUSES, Account, AccountStatus, Change } from '../../core/model';
import { ApplyResult, RosterPort, RosterReadProblem } from '../../core/ports';
import { UserError, msg } from '../../core/messages';
import { asText, ensureSheet, fromCell, keepSpareRow, runs, writeBlock } from '../../gas/sheets';
import { HISTORY_SHEET } from '../../gas/sheetHistory';
import { ROSTER_COLUMNS, RosterColumn as Column, RosterLayout, rosterLayout, withAttributes } from './rosterColumns';

export { ROSTER_COLUMNS };
export const ROSTER_SHEET = 'Roster';
/** The column listing the selected Google Groups (Settings → App groups) each account belongs to. */
export const GROUPS_COLUMN = 'Groups';

export function accountToRow(a: Account): string[] {
  return [a.id, a.email, a.name, a.roles.join(', '), a.status, a.permissions.join(', '), a.source, a.orgUnitPath, a.lastSynced, a.syncedStatus, a.outOfScopeSince].map(asText);
}

/** An account's cells in the layout's column order: ours, then the mapped attributes (and Groups). */
function cellsOf(a: Account, attributeNames: readonly string[]): string[] {
  const cells = accountToRow(a);
  for (const name of attributeNames) cells.push(asText(name === GROUPS_COLUMN ? (a.groups ?? []).join(', ') : a.attributes?.[name] ?? ''));
  return cells;
}

/** The value asText wrote. Names are kept exactly (a directory name is compared as is); other cells are trimmed. */
function fromRosterCell(value: unknown, exact: boolean): string {
  const s = String(value ?? '');
  return exact && !s.startsWith("'") ? s : fromCell(value);
}

/** The roster as last read or written in this execution; `accounts` (row order) is rebuilt from byId when needed. */
interface RosterCache {
  /** Where our columns are in this sheet (rosterColumns.ts), the mapped attributes' after ROSTER_COLUMNS. */
  layout: RosterLayout;
  /** The mapped attributes' column names, in layout order. */
  attributeNames: readonly string[];
  byId: Map<string, Account>;
  rowOf: Map<string, number>;
  accounts: Account[] | null;
  lastRow: number;
  problems: RosterReadProblem[];
  /** Row number → account id, for the unchanged rows inside a span (built on demand). */
  idAt?: Map<number, string> | null;
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

  private header(): string[] {
    return [...ROSTER_COLUMNS, ...this.attributeNames];
  }

  private sheet(): GoogleAppsScript.Spreadsheet.Sheet {
    const existing = this.spreadsheet.getSheetByName(ROSTER_SHEET);
    if (existing) return existing;
    // Deleted by a person after syncs wrote it: recreating it empty would recreate every account and
    // forget every local decision (disabled, deleted, manual accounts), so say so instead.
    if (this.syncedBefore()) {
      throw new UserError(msg('rosterDeleted', { sheet: ROSTER_SHEET }));
    }
    return ensureSheet(this.spreadsheet, ROSTER_SHEET, this.header());
  }

  /** Whether History records a sync that completed, i.e. the roster sheet existed. Read only when the sheet is missing. */
  private syncedBefore(): boolean {
    const history = this.spreadsheet.getSheetByName(HISTORY_SHEET);
    const last = history ? history.getLastRow() : 0;
    if (!history || last < 2) return false;
    return history
      .getRange(2, 4, last - 1, 1)
      .getValues()
      .some(([outcome]) => outcome === 'success' || outcome === 'warning' || outcome === 'partial');
  }

  readAll(): { accounts: Account[]; problems: RosterReadProblem[] } {
    const cache = this.cache ?? (this.cache = this.load());
    if (!cache.accounts) {
      const rowOf = cache.rowOf;
      cache.accounts = [...cache.byId.values()].sort((a, b) => rowOf.get(a.id)! - rowOf.get(b.id)!);
    }
    return { accounts: cache.accounts, problems: cache.problems };
  }

  /** The ID and Email columns alone (one read each), or the accounts already read; null when the header does not name them (the plan says what is wrong). */
  accountKeys(): { ids: string[]; emails: string[] } | null {
    if (this.cache) return { ids: [...this.cache.byId.keys()], emails: [...this.cache.byId.values()].map((a) => a.email) };
    const sheet = this.spreadsheet.getSheetByName(ROSTER_SHEET);
    // None yet (a first sync), or deleted by a person (then the plan refuses to sync, whatever was saved).
    if (!sheet) return { ids: [], emails: [] };
    const last = sheet.getLastRow();
    if (last < 2) return { ids: [], emails: [] };
    const header = sheet.getRange(1, 1, 1, sheet.getLastColumn()).getValues()[0].map((h) => String(h).trim());
    const [id, email] = [header.indexOf('ID'), header.indexOf('Email')];
    if (id < 0 || email < 0) return null;
    const column = (c: number) => sheet.getRange(2, c + 1, last - 1, 1).getValues().map((row) => fromRosterCell(row[0], false)).filter(Boolean);
    return { ids: column(id), emails: column(email) };
  }

  private load(): RosterCache {
    const sheet = this.sheet();
    const values = sheet.getDataRange().getValues();
    if (values.every((row) => row.every((v) => v === '' || v === null))) {
      // An empty sheet (an execution cut off between creating it and writing its header, or an
      // empty sheet a person added to start a new roster): it gets the header and holds no accounts.
      const header = this.header();
      writeBlock(sheet, 1, [header], header.length);
      return { layout: layoutOf(header, header.length, this.attributeNames), attributeNames: this.attributeNames, byId: new Map<string, Account>(), accounts: [], rowOf: new Map<string, number>(), lastRow: 1, problems: [] };
    }
    const header = (values[0] ?? []).map((h) => String(h).trim());
    const layout = layoutOf(header, values[0]?.length ?? 0, this.attributeNames);
    const at = layout.at;
    const accounts: Account[] = [];
    const byId = new Map<string, Account>();
    const rowOf = new Map<string, number>();
    const problems: RosterReadProblem[] = [];
    for (let r = 1; r < values.length; r++) {
      const cell = (name: Column) => fromRosterCell(values[r][at[COLUMN[name]]], name === 'Name');
      // A row with nothing in our columns holds no account (empty, or only what a person wrote beside the roster).
      if (at.every((c) => values[r][c] === '' || values[r][c] === null || values[r][c] === undefined)) continue;
      const rawId = values[r][at[COLUMN.ID]];
      const parsed = typeof rawId === 'number' ? `the ID is stored as a number (${rawId}) and has lost digits; format the ID column as plain text and paste the id again` : parseRow(cell);
      if (typeof parsed === 'string') problems.push({ row: r + 1, message: parsed });
      else if (rowOf.has(parsed.id)) problems.push({ row: r + 1, message: `the ID ${parsed.id} is also on row ${rowOf.get(parsed.id)}`, sameIdAs: { row: rowOf.get(parsed.id)!, id: parsed.id } });
      else {
        this.attributeNames.forEach((name, i) => {
          const value = fromCell(values[r][at[ROSTER_COLUMNS.length + i]]);
          if (name === GROUPS_COLUMN) parsed.groups = list(value.toLowerCase());
          else (parsed.attributes ??= {})[name] = value;
        });
        accounts.push(parsed);
        byId.set(parsed.id, parsed);
        rowOf.set(parsed.id, r + 1);
      }
    }
    return { layout, attributeNames: this.attributeNames, byId, rowOf, accounts, lastRow: Math.max(values.length, 1), problems };
  }

  /** An empty roster started on purpose (the sidebar's "Start a new roster"): the sheet with its header, nothing else. */
  startNew(): void {
    this.cache = null;
    const existing = this.spreadsheet.getSheetByName(ROSTER_SHEET);
    if (!existing) {
      ensureSheet(this.spreadsheet, ROSTER_SHEET, this.header());
      return;
    }
    const rows = existing.getDataRange().getValues().slice(1).filter((row) => row.some((v) => v !== '' && v !== null)).length;
    if (rows) throw new UserError(msg('rosterNotEmpty', { sheet: ROSTER_SHEET, count: rows }));
    const header = this.header();
    writeBlock(existing, 1, [header], header.length);
  }

  checkWritable(): void {
    const sheet = this.sheet();
    const me = Session.getEffectiveUser().getEmail();
    for (const p of sheet.getProtections(SpreadsheetApp.ProtectionType.SHEET)) {
      if (!p.canEdit()) throw new UserError(msg('rosterProtected', { sheet: ROSTER_SHEET, detail: `it is protected${me ? ` against ${me}` : ''}` }));
    }
  }

  /**
   * Writes the changes where their rows are now. People may sort, insert or delete rows while a sync
   * writes, so every write and every row deletion first reads the rows it is about to change, and goes
   * ahead only when they still hold the accounts (and the cells) it was planned for. On a mismatch the
   * sheet is read again and what is left is placed anew; a change whose row was edited or removed
   * meanwhile is not written (failed: the next sync plans it again), never guessed.
   */
  apply(changes: Change[]): ApplyResult {
    if (!changes.length) return { applied: [], failed: [] };
    const sheet = this.sheet();
    const applied: string[] = [];
    const failed: ApplyResult['failed'] = [];
    let pending = changes;
    try {
      for (let stalls = 0; pending.length; ) {
        const state = this.cache ?? (this.cache = this.load());
        const { placeable, gone } = placeChanges(state, pending);
        for (const c of gone) failed.push({ accountId: c.accountId, message: ROW_MOVED });
        const outcome = writeChecked(sheet, state, placeable);
        applied.push(...outcome.written);
        if (!outcome.moved) {
          this.cache = afterWrite(state, placeable, outcome.deletions);
          break;
        }
        // A person moved or edited rows since they were read: read the sheet again, place what is left.
        this.cache = null;
        const written = new Set(outcome.written);
        pending = placeable.filter((c) => !written.has(c.accountId));
        stalls = written.size ? 0 : stalls + 1;
        if (stalls >= MAX_STALLS) {
          for (const c of pending) failed.push({ accountId: c.accountId, message: ROW_MOVED });
          break;
        }
      }
      // Sheets commits buffered writes before the next read; commit them now, so the time they take
      // is this batch's (and the sync stops for its budget in time), not a later read's.
      SpreadsheetApp.flush();
    } catch (error) {
      this.cache = null;
      throw new UserError(msg('rosterProtected', { sheet: ROSTER_SHEET, detail: error instanceof Error ? error.message : String(error) }));
    }
    return { applied, failed };
  }
}

/** Re-reads in a row that let nothing be written (people keep moving rows): what is left then waits for the next sync. */
export const MAX_STALLS = 3;
const ROW_MOVED = 'its row was moved, edited or removed in the sheet while the sync was writing it, so it was not written; the next sync plans it again';

/**
 * Changes that can be placed on the sheet as read: an update or deletion whose account is on the
 * sheet as planned (the cells it read then), a creation whose account is not on the sheet yet.
 */
function placeChanges(state: RosterCache, changes: Change[]): { placeable: Change[]; gone: Change[] } {
  const placeable: Change[] = [];
  const gone: Change[] = [];
  for (const change of changes) {
    const now = state.byId.get(change.accountId);
    const ok = change.before ? !!now && sameAccount(now, change.before, state.attributeNames) : !now && !(change.after && state.byId.has(change.after.id));
    (ok ? placeable : gone).push(change);
  }
  return { placeable, gone };
}

function sameAccount(a: Account, b: Account, attributeNames: readonly string[]): boolean {
  const theirs = cellsOf(b, attributeNames);
  return cellsOf(a, attributeNames).every((cell, k) => fromRosterCell(cell, k === COLUMN.Name) === fromRosterCell(theirs[k], k === COLUMN.Name));
}

/**
 * Writes the changes at the rows `state` says they are on, each write after reading the rows it
 * changes: stops at the first write whose rows no longer hold what `state` says (moved: true).
 */
function writeChecked(sheet: GoogleAppsScript.Spreadsheet.Sheet, state: RosterCache, changes: Change[]): { written: string[]; moved: boolean; deletions: number[] } {
  const rows = new Map<number, string[]>();
  const planned = new Map<number, string>();
  const appended: string[][] = [];
  const appendedIds: string[] = [];
  const deletions: number[] = [];
  for (const change of changes) {
    const row = state.rowOf.get(change.accountId);
    if (row) planned.set(row, change.accountId);
    if (!change.after) {
      if (row) deletions.push(row);
    } else if (row) rows.set(row, cellsOf(change.after, state.attributeNames));
    else {
      appended.push(cellsOf(change.after, state.attributeNames));
      appendedIds.push(change.accountId);
    }
  }
  const written: string[] = [];
  const moved = (): { written: string[]; moved: boolean; deletions: number[] } => ({ written, moved: true, deletions });
  extendHeader(sheet, state.layout);
  for (const span of spans(runs([...rows.keys()]))) {
    if (!writeSpan(sheet, state, span, rows)) return moved();
    for (const run of span) for (const r of run.values) written.push(planned.get(r)!);
  }
  if (appended.length) {
    // Rows below the last one read must still be empty: a person may have added or removed rows.
    if (sheet.getLastRow() !== state.lastRow) return moved();
    writeRows(sheet, state.layout, state.lastRow + 1, appended, true);
    written.push(...appendedIds);
  }
  // Last run first, so the rows above keep their numbers; each run is checked just before it goes.
  keepSpareRow(sheet, deletions.length);
  for (const run of runs(deletions).reverse()) {
    if (!rowsHold(sheet, state, run.start, run.values.length)) return moved();
    sheet.deleteRows(run.start, run.values.length);
    for (const r of run.values) written.push(planned.get(r)!);
  }
  return { written, moved: false, deletions };
}

/** Whether rows start… of the sheet still hold the accounts `state` has there, cell for cell (one read). */
function rowsHold(sheet: GoogleAppsScript.Spreadsheet.Sheet, state: RosterCache, start: number, height: number): boolean {
  const fresh = sheet.getRange(start, 1, height, state.layout.width).getValues();
  const idAt = rowIndex(state);
  return fresh.every((cells, i) => {
    const account = state.byId.get(idAt.get(start + i) ?? '');
    return !!account && sameCells(cells, cellsOf(account, state.attributeNames), state.layout);
  });
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
 * Writes one span after reading it: false (nothing written) when a changed row no longer holds the
 * account it was planned for. Its unchanged rows are written back as they are, so they too must still
 * hold what this execution read: a row a person edited meanwhile is never overwritten; the span is
 * then written run by run instead.
 */
function writeSpan(sheet: GoogleAppsScript.Spreadsheet.Sheet, cache: RosterCache, span: Run[], rows: Map<number, string[]>): boolean {
  const { layout } = cache;
  const start = span[0].start;
  const last = span[span.length - 1];
  const height = last.start + last.values.length - start;
  const fresh = sheet.getRange(start, 1, height, layout.width).getValues();
  const idAt = rowIndex(cache);
  const values: string[][] = [];
  let bridgeable = true;
  for (let i = 0; i < height; i++) {
    const account = cache.byId.get(idAt.get(start + i) ?? '');
    const unchanged = account && cellsOf(account, cache.attributeNames);
    const holds = !!unchanged && sameCells(fresh[i], unchanged, layout);
    const changed = rows.get(start + i);
    if (changed && !holds) return false;
    if (changed) values.push(changed);
    else if (holds) values.push(unchanged);
    else bridgeable = false;
  }
  if (bridgeable) writeRows(sheet, layout, start, values, false);
  else for (const run of span) writeRows(sheet, layout, run.start, run.values.map((r) => rows.get(r)!), false);
  return true;
}

/**
 * Rows of cells (in layout order: ROSTER_COLUMNS, then the mapped attributes) written into our columns only: one setValues per run of
 * adjacent columns of ours, so a column a person put between two of ours is never written.
 */
function writeRows(sheet: GoogleAppsScript.Spreadsheet.Sheet, layout: RosterLayout, startRow: number, values: string[][], mayGrow: boolean): void {
  layout.runs.forEach((run, i) => {
    const block = layout.runs.length === 1 ? values : values.map((row) => run.columns.map((k) => row[k]));
    writeBlock(sheet, startRow, block, run.columns.length, mayGrow && i === 0, run.start + 1);
  });
}

/** Whether a row read from the sheet holds the cells a write of `expected` would leave there. */
function sameCells(actual: unknown[], expected: string[], layout: RosterLayout): boolean {
  return expected.every((cell, k) => fromRosterCell(actual[layout.at[k]], k === COLUMN.Name) === fromRosterCell(cell, k === COLUMN.Name));
}

/** Position of each column in ROSTER_COLUMNS (and in accountToRow's cells). */
const COLUMN = Object.fromEntries(ROSTER_COLUMNS.map((name, k) => [name, k])) as Record<Column, number>;

/** The layout of a header with the mapped attributes' columns, or the error that says what is wrong with it. */
function layoutOf(header: string[], usedWidth: number, attributeNames: readonly string[]): RosterLayout {
  const layout = rosterLayout(header, usedWidth);
  if ('problem' in layout) {
    throw new UserError(
      layout.problem === 'missing'
        ? msg('rosterColumnsChanged', { sheet: ROSTER_SHEET, columns: layout.columns.join(', ') })
        : msg('rosterColumnsMoved', { sheet: ROSTER_SHEET, columns: ROSTER_COLUMNS.join(', ') }),
    );
  }
  return withAttributes(layout, header, usedWidth, attributeNames);
}

/**
 * A roster of an earlier version, or one with newly mapped attributes, gets the columns it lacks at
 * the right of everything the sheet holds (the right-most of ours, side by side), with the first write
 * of an execution (a Preview writes nothing); the rows keep their cells.
 */
function extendHeader(sheet: GoogleAppsScript.Spreadsheet.Sheet, layout: RosterLayout): void {
  if (!layout.added.length) return;
  const first = layout.width - layout.added.length + 1;
  const needed = first + layout.added.length - 1 - sheet.getMaxColumns();
  if (needed > 0) sheet.insertColumnsAfter(sheet.getMaxColumns(), needed);
  writeBlock(sheet, 1, [layout.added], layout.added.length, false, first);
  sheet.getRange(1, first, 1, layout.added.length).setFontWeight('bold');
  layout.added = [];
}

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
