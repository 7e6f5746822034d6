// Spreadsheet storage behind the fake SpreadsheetApp, plus the value coercion
// Sheets applies when a script writes a cell: numeric strings become numbers
// (a 21-digit id loses digits), '=' starts a formula, 'TRUE' becomes a
// boolean, '2024-01-05' becomes a date, unless the cell is formatted as text ('@').
import { zoned } from './utilities';

export class FormulaCell {
  constructor(readonly formula: string) {}
}

export class DateCell {
  constructor(readonly ms: number, readonly dateOnly = false) {}
}

export type Stored = string | number | boolean | FormulaCell | DateCell;

export const CELL_CHAR_LIMIT = 50_000;
export const WORKBOOK_CELL_LIMIT = 10_000_000;

export interface ProtectionData {
  type: 'SHEET' | 'RANGE';
  editors: Set<string>;
  description: string;
  warningOnly: boolean;
  domainEdit: boolean;
  /** Test-made protections bind the owner too, so "protected against the current user" is expressible. */
  strict: boolean;
  range: { r0: number; c0: number; nr: number; nc: number } | null;
}

export class SheetData {
  maxRows = 1000;
  maxCols = 26;
  hidden = false;
  frozenRows = 0;
  frozenCols = 0;
  deleted = false;
  /** Row-major, 0-based; rows and cells are created lazily ('' = empty). */
  readonly rows: (Stored[] | undefined)[] = [];
  /** Number formats, same layout; undefined = Automatic. */
  readonly fmts: ((string | undefined)[] | undefined)[] = [];
  readonly protections: ProtectionData[] = [];
  /** Calls that changed values or rows (setValues, setValue, appendRow, deleteRows…), for write-count assertions. */
  writes = 0;
  /** Cells read by getValues / getDisplayValues, for read-cost assertions. */
  cellsRead = 0;

  /**
   * Called before every call a script makes on this sheet or one of its ranges (method such as
   * 'Range.setValues', rows 1-based for ranges): a test uses it to let a person edit the sheet in the
   * Sheets UI between two of the script's calls, as people do while a sync runs.
   */
  beforeCall: ((method: string, rows: { first: number; count: number } | null) => void) | null = null;

  constructor(public name: string, readonly sheetId: number) {}

  // ---- what a person does in the Sheets UI (no script call, no protection check) ----

  /** Data → Sort range: rows from `firstRow` (1-based) to the last row with content, by a column (0-based). */
  personSorts(firstRow: number, column: number, descending = false): void {
    const last = this.lastRow();
    const block = Array.from({ length: Math.max(0, last - firstRow + 1) }, (_, i) => ({ cells: this.rows[firstRow - 1 + i], fmt: this.fmts[firstRow - 1 + i] }));
    const key = (cells: Stored[] | undefined) => String(cells?.[column] ?? '');
    block.sort((a, b) => {
      const x = key(a.cells);
      const y = key(b.cells);
      if (x === y) return 0;
      if (x === '') return 1; // Sheets sorts empty cells last either way
      if (y === '') return -1;
      return (x < y ? -1 : 1) * (descending ? -1 : 1);
    });
    block.forEach((b, i) => {
      this.rows[firstRow - 1 + i] = b.cells;
      this.fmts[firstRow - 1 + i] = b.fmt;
    });
  }

  /** Right-click → Insert 1 row above: a blank row before `row` (1-based); the rows below move down. */
  personInsertsRow(row: number): void {
    this.maxRows++;
    if (this.rows.length >= row) this.rows.splice(row - 1, 0, undefined);
    if (this.fmts.length >= row) this.fmts.splice(row - 1, 0, this.fmts[row - 2] ? [...this.fmts[row - 2]!] : undefined);
  }

  /** Right-click → Delete row: row `row` (1-based) goes; the rows below move up. */
  personDeletesRow(row: number): void {
    this.rows.splice(row - 1, 1);
    this.fmts.splice(row - 1, 1);
    this.maxRows--;
  }

  get(r: number, c: number): Stored {
    const row = this.rows[r];
    const v = row ? row[c] : undefined;
    return v === undefined ? '' : v;
  }

  set(r: number, c: number, v: Stored): void {
    let row = this.rows[r];
    if (!row) {
      if (v === '') return;
      row = this.rows[r] = [];
    }
    row[c] = v;
  }

  fmt(r: number, c: number): string | undefined {
    return this.fmts[r]?.[c];
  }

  setFmt(r: number, c: number, f: string | undefined): void {
    let row = this.fmts[r];
    if (!row) {
      if (f === undefined) return;
      row = this.fmts[r] = [];
    }
    row[c] = f;
  }

  /** 1-based index of the last row with content; 0 when the sheet is empty. */
  lastRow(): number {
    for (let r = Math.min(this.rows.length, this.maxRows) - 1; r >= 0; r--) {
      const row = this.rows[r];
      if (row && row.some((v) => v !== '' && v !== undefined)) return r + 1;
    }
    return 0;
  }

  lastCol(): number {
    let last = 0;
    for (const row of this.rows) {
      if (!row) continue;
      for (let c = Math.min(row.length, this.maxCols) - 1; c >= last; c--) {
        if (row[c] !== '' && row[c] !== undefined) {
          last = c + 1;
          break;
        }
      }
    }
    return last;
  }

  cellCount(): number {
    return this.maxRows * this.maxCols;
  }
}

export class SpreadsheetData {
  readonly sheets: SheetData[] = [];
  readonly toasts: string[] = [];
  activeSheet = 0;
  private nextSheetId = 0;

  constructor(readonly id: string, public name: string, public owner: string, public timeZone: string) {}

  url(): string {
    return `https://docs.google.com/spreadsheets/d/${this.id}/edit`;
  }

  addSheet(name: string, index = this.sheets.length, rows = 1000, cols = 26): SheetData {
    const s = new SheetData(name, this.nextSheetId === 0 ? 0 : 100_000 + this.nextSheetId * 7919);
    this.nextSheetId++;
    s.maxRows = rows;
    s.maxCols = cols;
    this.sheets.splice(index, 0, s);
    return s;
  }

  sheet(name: string): SheetData | null {
    return this.sheets.find((s) => s.name === name) ?? null;
  }

  cellCount(): number {
    return this.sheets.reduce((n, s) => n + s.cellCount(), 0);
  }
}

export class SpreadsheetStore {
  readonly byId = new Map<string, SpreadsheetData>();
  private serial = 0;

  constructor(private readonly timeZone: string) {}

  create(name: string, owner: string, rows = 1000, cols = 26): SpreadsheetData {
    this.serial++;
    // Google ids are 44 URL-safe characters; deterministic here for reproducible demos.
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
    let id = '1Sim';
    for (let i = 0; id.length < 44; i++) id += chars[(this.serial * 131 + i * 17 + i * i * 7) % 64];
    const ss = new SpreadsheetData(id, name, owner.toLowerCase(), this.timeZone);
    ss.addSheet('Sheet1', 0, rows, cols);
    this.byId.set(id, ss);
    return ss;
  }

  get(id: string): SpreadsheetData | null {
    return this.byId.get(id) ?? null;
  }
}

// ---- writing: Sheets' automatic conversion -------------------------------------------

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const GROUPED = /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/;
const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

function parseNumber(s: string): number | null {
  const t = s.trim();
  if (NUMBER.test(t)) return Number(t);
  if (GROUPED.test(t)) return Number(t.replace(/,/g, ''));
  if (/%$/.test(t) && NUMBER.test(t.slice(0, -1))) return Number(t.slice(0, -1)) / 100;
  return null;
}

/** Local wall time in a zone → epoch ms. */
export function zonedToUtc(y: number, mo: number, d: number, h: number, mi: number, s: number, tz: string): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = guess - zoned(guess, tz).offsetMin * 60000;
  return guess - zoned(first, tz).offsetMin * 60000;
}

function parseDate(s: string, tz: string): DateCell | null {
  const t = s.trim();
  let m = ISO_DATE.exec(t);
  if (m) {
    const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return null;
    return new DateCell(zonedToUtc(y, mo, d, h, mi, sec, tz), m[4] === undefined);
  }
  m = US_DATE.exec(t);
  if (m) {
    const [mo, d, y] = [m[1], m[2], m[3]].map(Number);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return null;
    return new DateCell(zonedToUtc(y, mo, d, 0, 0, 0, tz), true);
  }
  return null;
}

export interface CoerceError {
  tooLong: true;
}

/** What a cell holds after a script writes `v` into it (null → tooLong). */
export function coerce(v: unknown, fmt: string | undefined, tz: string): Stored | CoerceError {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? v : '#NUM!';
  if (typeof v === 'boolean') return v;
  if (Object.prototype.toString.call(v) === '[object Date]') {
    const ms = (v as Date).getTime();
    return Number.isFinite(ms) ? new DateCell(ms) : '';
  }
  const s = String(v);
  if (s.length > CELL_CHAR_LIMIT) return { tooLong: true };
  if (s === '' || fmt === '@') return s;
  if (s[0] === "'") return s.slice(1); // a leading apostrophe forces text and is not shown
  if (s[0] === '=' && s.length > 1) return new FormulaCell(s);
  const t = s.trim();
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  const n = parseNumber(s);
  if (n !== null) return n;
  return parseDate(s, tz) ?? s;
}

// ---- reading -------------------------------------------------------------------------------

/** A tiny formula "engine": arithmetic and HYPERLINK evaluate, anything else is #NAME?. */
export function evaluate(f: FormulaCell): string | number {
  const body = f.formula.slice(1).trim();
  if (/^[\d+\-*/(). ]+$/.test(body)) {
    try {
      const n = Function(`"use strict"; return (${body});`)() as unknown;
      return typeof n === 'number' && Number.isFinite(n) ? n : '#DIV/0!';
    } catch {
      return '#ERROR!';
    }
  }
  const link = /^HYPERLINK\(\s*"([^"]*)"\s*(?:[,;]\s*"([^"]*)"\s*)?\)$/i.exec(body);
  if (link) return link[2] ?? link[1];
  return '#NAME?';
}

/** Sheets' "Automatic" display of a number (approximate: long numbers go scientific). */
export function displayNumber(n: number, fmt: string | undefined): string {
  if (fmt === '@') return String(n);
  const a = Math.abs(n);
  if (a !== 0 && (a >= 1e11 || a < 1e-9)) {
    const [mant, exp] = n.toExponential(5).split('e');
    const m = mant.replace(/\.?0+$/, '');
    return `${m}E${exp[0] === '-' ? '-' : '+'}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return String(Number(n.toFixed(10)));
}

export function displayDate(d: DateCell, tz: string): string {
  const z = zoned(d.ms, tz);
  const date = `${z.month}/${z.day}/${z.year}`;
  return d.dateOnly ? date : `${date} ${z.hour}:${String(z.minute).padStart(2, '0')}:${String(z.second).padStart(2, '0')}`;
}

export function display(v: Stored, fmt: string | undefined, tz: string): string {
  if (v instanceof FormulaCell) {
    const e = evaluate(v);
    return typeof e === 'number' ? displayNumber(e, fmt) : e;
  }
  if (v instanceof DateCell) return displayDate(v, tz);
  if (typeof v === 'number') return displayNumber(v, fmt);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return v;
}

// ---- A1 notation ------------------------------------------------------------------------------

export function colToIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

export function indexToCol(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/** 1-based {row, col, numRows, numCols} of an A1 range on a sheet; null when malformed. */
export function parseA1(a1: string, sheet: SheetData): { row: number; col: number; numRows: number; numCols: number } | null {
  const ref = a1.replace(/\$/g, '').trim();
  const cell = /^([A-Za-z]+)?(\d+)?$/;
  const [a, b = a] = ref.split(':');
  const m1 = cell.exec(a);
  const m2 = cell.exec(b);
  if (!m1 || !m2 || (!m1[1] && !m1[2]) || (!m2[1] && !m2[2])) return null;
  const c1 = m1[1] ? colToIndex(m1[1]) : 1;
  const c2 = m2[1] ? colToIndex(m2[1]) : sheet.maxCols;
  const r1 = m1[2] ? Number(m1[2]) : 1;
  const r2 = m2[2] ? Number(m2[2]) : sheet.maxRows;
  if (r1 < 1 || c1 < 1) return null;
  return { row: Math.min(r1, r2), col: Math.min(c1, c2), numRows: Math.abs(r2 - r1) + 1, numCols: Math.abs(c2 - c1) + 1 };
}
