// Fake SpreadsheetApp: spreadsheets, sheets and ranges over SheetData, with
// the behaviour that bites real add-ons: exact setValues dimensions, ranges
// must lie inside the sheet, automatic value conversion unless text-formatted,
// 50,000 characters a cell, 10 million cells a workbook, sheet protection,
// and no UI or active document in trigger executions.
import { Exec } from './exec';
import {
  CELL_CHAR_LIMIT, DateCell, FormulaCell, ProtectionData, SheetData, SpreadsheetData, SpreadsheetStore, Stored,
  WORKBOOK_CELL_LIMIT, coerce, display, evaluate, indexToCol, parseA1,
} from './sheetData';
import { UiState, makeUi } from './ui';

export interface SpreadsheetDeps {
  store: SpreadsheetStore;
  ui: UiState;
}

const SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
const SCOPE_CURRENT = 'https://www.googleapis.com/auth/spreadsheets.currentonly';

/** Formatting calls that change nothing the simulation models: accepted and chained. */
const FORMAT_NOOPS = [
  'setFontWeight', 'setFontWeights', 'setFontStyle', 'setFontStyles', 'setFontColor', 'setFontColors', 'setFontSize', 'setFontSizes',
  'setFontFamily', 'setFontFamilies', 'setFontLine', 'setBackground', 'setBackgrounds', 'setBackgroundRGB', 'setHorizontalAlignment',
  'setHorizontalAlignments', 'setVerticalAlignment', 'setVerticalAlignments', 'setWrap', 'setWraps', 'setWrapStrategy', 'setWrapStrategies',
  'setBorder', 'setNote', 'setNotes', 'setDataValidation', 'setDataValidations', 'clearDataValidations', 'setTextRotation', 'setShowHyperlink',
  'merge', 'breakApart', 'activate', 'clearNote', 'setTextStyle', 'setRichTextValue', 'applyRowBanding', 'createFilter', 'removeCheckboxes',
  'insertCheckboxes', 'setTextDirection',
];

function ex(exec: Exec, message: string): Error {
  return exec.error(message, { name: 'Exception' });
}

export function makeSpreadsheetApp(exec: Exec, deps: SpreadsheetDeps): unknown {
  const c = (m: string, args: unknown[] = []) => exec.call(`SpreadsheetApp.${m}`, args);
  const active = () => {
    if (!exec.activeDocId) return null;
    exec.requireAuth('SpreadsheetApp.getActiveSpreadsheet', SCOPE_CURRENT, 'LIMITED');
    const ss = deps.store.get(exec.activeDocId);
    return ss ? wrapSpreadsheet(exec, ss) : null;
  };
  const open = (id: string) => {
    exec.requireAuth('SpreadsheetApp.openById', SCOPE, 'FULL');
    const ss = deps.store.get(String(id));
    if (!ss) throw ex(exec, 'Unexpected error while getting the method or property openById on object SpreadsheetApp.');
    return wrapSpreadsheet(exec, ss);
  };
  return {
    ProtectionType: Object.freeze({ RANGE: 'RANGE', SHEET: 'SHEET' }),
    getActiveSpreadsheet: () => (c('getActiveSpreadsheet'), active()),
    getActive: () => (c('getActive'), active()),
    getActiveSheet: () => {
      c('getActiveSheet');
      const ss = exec.activeDocId ? deps.store.get(exec.activeDocId) : null;
      return ss ? wrapSheet(exec, ss, ss.sheets[ss.activeSheet] ?? ss.sheets[0]) : null;
    },
    openById: (id: string) => (c('openById', [id]), open(id)),
    openByUrl: (url: string) => {
      c('openByUrl', [url]);
      const m = /\/d\/([A-Za-z0-9_-]+)/.exec(String(url));
      if (!m) throw ex(exec, 'Invalid argument: url');
      return open(m[1]);
    },
    create: (name: string, rows?: number, columns?: number) => {
      c('create', [name]);
      exec.requireAuth('SpreadsheetApp.create', SCOPE, 'FULL');
      return wrapSpreadsheet(exec, deps.store.create(String(name), exec.effectiveUser, rows ?? 1000, columns ?? 26));
    },
    flush: () => {
      c('flush');
      exec.flushAll();
    },
    getUi: () => {
      c('getUi');
      if (exec.trigger || !exec.activeDocId) throw ex(exec, 'Cannot call SpreadsheetApp.getUi() from this context.');
      return makeUi(exec, deps.ui);
    },
  };
}

// ---- Spreadsheet ----------------------------------------------------------------------

function wrapSpreadsheet(exec: Exec, ss: SpreadsheetData): unknown {
  const c = (m: string, args: unknown[] = []) => exec.call(`Spreadsheet.${m}`, args);
  const sheetOf = (s: unknown): SheetData => {
    const name = (s as { getName?: () => string })?.getName?.();
    const data = name === undefined ? null : ss.sheet(name);
    if (!data) throw ex(exec, 'Invalid argument: sheet');
    return data;
  };
  const self: Record<string, unknown> = {
    getId: () => ss.id,
    getUrl: () => ss.url(),
    getName: () => ss.name,
    rename: (n: string) => (c('rename'), (ss.name = String(n)), undefined),
    getOwner: () => ({ getEmail: () => ss.owner }),
    getSpreadsheetTimeZone: () => ss.timeZone,
    setSpreadsheetTimeZone: (tz: string) => ((ss.timeZone = String(tz)), undefined),
    getSpreadsheetLocale: () => 'en_US',
    getNumSheets: () => ss.sheets.length,
    getSheets: () => (c('getSheets'), ss.sheets.map((s) => wrapSheet(exec, ss, s))),
    getSheetByName: (name: string) => {
      c('getSheetByName', [name]);
      const s = ss.sheet(String(name));
      return s ? wrapSheet(exec, ss, s) : null;
    },
    getSheetById: (id: number) => {
      const s = ss.sheets.find((x) => x.sheetId === Number(id));
      return s ? wrapSheet(exec, ss, s) : null;
    },
    getActiveSheet: () => wrapSheet(exec, ss, ss.sheets[ss.activeSheet] ?? ss.sheets[0]),
    setActiveSheet: (s: unknown) => {
      ss.activeSheet = ss.sheets.indexOf(sheetOf(s));
      return s;
    },
    insertSheet: (a?: unknown, b?: unknown) => {
      c('insertSheet', [a]);
      return wrapSheet(exec, ss, insertSheet(exec, ss, a, b));
    },
    deleteSheet: (s: unknown) => {
      c('deleteSheet');
      const data = sheetOf(s);
      if (ss.sheets.length === 1) throw ex(exec, "You can't remove all the sheets in a document.");
      checkEditable(exec, ss, data, null);
      ss.sheets.splice(ss.sheets.indexOf(data), 1);
      data.deleted = true;
      ss.activeSheet = Math.min(ss.activeSheet, ss.sheets.length - 1);
    },
    getRange: (a1: string) => {
      const m = /^(?:'((?:[^']|'')+)'|([^!]+))!(.+)$/.exec(String(a1));
      const sheet = m ? ss.sheet((m[1] ?? m[2]).replace(/''/g, "'")) : ss.sheets[ss.activeSheet];
      if (!sheet) throw ex(exec, 'Range not found');
      return (wrapSheet(exec, ss, sheet) as { getRange(a: string): unknown }).getRange(m ? m[3] : String(a1));
    },
    getRangeByName: () => null,
    getProtections: (type: string) => ss.sheets.flatMap((s) => s.protections.filter((p) => p.type === type).map((p) => wrapProtection(exec, ss, s, p))),
    toast: (msg: string, title?: string) => {
      c('toast');
      ss.toasts.push(title ? `${title}: ${msg}` : String(msg));
    },
    getEditors: () => [{ getEmail: () => ss.owner }],
    addEditor: () => self,
    addEditors: () => self,
    getAs: () => {
      throw ex(exec, 'getAs is not supported in this simulation');
    },
  };
  return self;
}

function insertSheet(exec: Exec, ss: SpreadsheetData, a: unknown, b: unknown): SheetData {
  let name = typeof a === 'string' ? a : '';
  const index = typeof a === 'number' ? a : typeof b === 'number' ? b : ss.sheets.length;
  if (!name) {
    let n = ss.sheets.length + 1;
    while (ss.sheet(`Sheet${n}`)) n++;
    name = `Sheet${n}`;
  }
  if (ss.sheet(name)) throw ex(exec, `A sheet with the name "${name}" already exists. Please enter another name.`);
  if (ss.cellCount() + 1000 * 26 > WORKBOOK_CELL_LIMIT) throw cellLimit(exec);
  return ss.addSheet(name, Math.max(0, Math.min(index, ss.sheets.length)));
}

function cellLimit(exec: Exec): Error {
  return ex(exec, `This action would increase the number of cells in the workbook above the limit of ${WORKBOOK_CELL_LIMIT} cells.`);
}

// ---- protection -----------------------------------------------------------------------------

function covers(p: ProtectionData, r0: number, c0: number, nr: number, nc: number): boolean {
  if (!p.range) return true;
  const q = p.range;
  return r0 < q.r0 + q.nr && q.r0 < r0 + nr && c0 < q.c0 + q.nc && q.c0 < c0 + nc;
}

/** Throws Google's error when the effective user may not edit the area (whole sheet when box is null). */
function checkEditable(exec: Exec, ss: SpreadsheetData, sheet: SheetData, box: [number, number, number, number] | null): void {
  const me = exec.effectiveUser.toLowerCase();
  for (const p of sheet.protections) {
    if (p.warningOnly || p.editors.has(me) || (!p.strict && me === ss.owner)) continue;
    if (!box || covers(p, ...box)) {
      throw ex(exec, 'You are trying to edit a protected cell or object. Please contact the spreadsheet owner to remove protection if you need to edit.');
    }
  }
}

function wrapProtection(exec: Exec, ss: SpreadsheetData, sheet: SheetData, p: ProtectionData): unknown {
  const emails = (x: unknown): string[] =>
    (Array.isArray(x) ? x : [x]).map((e) => (typeof e === 'string' ? e : (e as { getEmail(): string }).getEmail()).toLowerCase());
  const self: Record<string, unknown> = {
    getProtectionType: () => p.type,
    getDescription: () => p.description,
    setDescription: (d: string) => ((p.description = String(d)), self),
    getEditors: () => [...p.editors].map((e) => ({ getEmail: () => e })),
    addEditor: (e: unknown) => (emails(e).forEach((x) => p.editors.add(x)), self),
    addEditors: (e: unknown) => (emails(e).forEach((x) => p.editors.add(x)), self),
    removeEditor: (e: unknown) => (emails(e).forEach((x) => x !== ss.owner && x !== exec.effectiveUser && p.editors.delete(x)), self),
    removeEditors: (e: unknown) => (emails(e).forEach((x) => x !== ss.owner && x !== exec.effectiveUser && p.editors.delete(x)), self),
    setWarningOnly: (w: boolean) => ((p.warningOnly = !!w), self),
    isWarningOnly: () => p.warningOnly,
    setDomainEdit: (d: boolean) => ((p.domainEdit = !!d), self),
    canDomainEdit: () => p.domainEdit,
    canEdit: () => p.warningOnly || p.editors.has(exec.effectiveUser.toLowerCase()) || (!p.strict && exec.effectiveUser.toLowerCase() === ss.owner),
    setUnprotectedRanges: () => self,
    getUnprotectedRanges: () => [],
    getRange: () => (p.range ? makeRange(exec, ss, sheet, p.range.r0, p.range.c0, p.range.nr, p.range.nc) : null),
    remove: () => {
      const i = sheet.protections.indexOf(p);
      if (i >= 0) sheet.protections.splice(i, 1);
    },
  };
  return self;
}

function newProtection(exec: Exec, ss: SpreadsheetData, range: ProtectionData['range']): ProtectionData {
  const editors = new Set([ss.owner, exec.effectiveUser.toLowerCase()]);
  return { type: range ? 'RANGE' : 'SHEET', editors, description: '', warningOnly: false, domainEdit: false, strict: false, range };
}

// ---- Sheet ------------------------------------------------------------------------------------

function wrapSheet(exec: Exec, ss: SpreadsheetData, sheet: SheetData): unknown {
  const c = (m: string, args: unknown[] = []) => {
    exec.call(`Sheet.${m}`, args);
    if (sheet.deleted) throw ex(exec, `The sheet ${sheet.name} has been deleted.`);
  };
  const growRows = (n: number) => {
    if (ss.cellCount() + n * sheet.maxCols > WORKBOOK_CELL_LIMIT) throw cellLimit(exec);
    sheet.maxRows += n;
  };
  const self: Record<string, unknown> = {
    getName: () => sheet.name,
    setName: (n: string) => {
      c('setName', [n]);
      const other = ss.sheet(String(n));
      if (other && other !== sheet) throw ex(exec, `A sheet with the name "${n}" already exists. Please enter another name.`);
      sheet.name = String(n);
      return self;
    },
    getSheetId: () => sheet.sheetId,
    getIndex: () => ss.sheets.indexOf(sheet) + 1,
    getParent: () => wrapSpreadsheet(exec, ss),
    getRange: (a: unknown, col?: number, numRows?: number, numCols?: number) => {
      c('getRange', [a, col, numRows, numCols]);
      if (typeof a === 'string' && col === undefined) {
        const r = parseA1(a, sheet);
        if (!r) throw ex(exec, 'Range not found');
        return rangeChecked(exec, ss, sheet, r.row, r.col, r.numRows, r.numCols);
      }
      return rangeChecked(exec, ss, sheet, Number(a), Number(col), numRows ?? 1, numCols ?? 1);
    },
    getDataRange: () => {
      c('getDataRange');
      return makeRange(exec, ss, sheet, 0, 0, Math.max(1, sheet.lastRow()), Math.max(1, sheet.lastCol()));
    },
    getLastRow: () => (exec.reading(ss.id), c('getLastRow'), sheet.lastRow()),
    getLastColumn: () => (c('getLastColumn'), sheet.lastCol()),
    getMaxRows: () => (c('getMaxRows'), sheet.maxRows),
    getMaxColumns: () => (c('getMaxColumns'), sheet.maxCols),
    insertRowsAfter: (after: number, n: number) => (c('insertRowsAfter', [after, n]), insertRows(exec, ss, sheet, Number(after), Number(n), growRows), self),
    insertRowAfter: (after: number) => (c('insertRowAfter', [after]), insertRows(exec, ss, sheet, Number(after), 1, growRows), self),
    insertRowsBefore: (before: number, n: number) => (c('insertRowsBefore', [before, n]), insertRows(exec, ss, sheet, Number(before) - 1, Number(n), growRows), self),
    insertRowBefore: (before: number) => (c('insertRowBefore', [before]), insertRows(exec, ss, sheet, Number(before) - 1, 1, growRows), self),
    insertRows: (before: number, n = 1) => (c('insertRows', [before, n]), insertRows(exec, ss, sheet, Number(before) - 1, Number(n), growRows), undefined),
    insertColumnsAfter: (after: number, n: number) => (c('insertColumnsAfter', [after, n]), insertCols(exec, ss, sheet, Number(after), Number(n)), self),
    insertColumnAfter: (after: number) => (c('insertColumnAfter', [after]), insertCols(exec, ss, sheet, Number(after), 1), self),
    insertColumnsBefore: (before: number, n: number) => (c('insertColumnsBefore', [before, n]), insertCols(exec, ss, sheet, Number(before) - 1, Number(n)), self),
    deleteRow: (r: number) => (c('deleteRow', [r]), deleteRows(exec, ss, sheet, Number(r), 1), self),
    deleteRows: (r: number, n: number) => (c('deleteRows', [r, n]), sheet.writes++, exec.wroteCells(ss.id, Number(n) * sheet.maxCols), exec.untimed(() => deleteRows(exec, ss, sheet, Number(r), Number(n))), undefined),
    deleteColumn: (col: number) => (c('deleteColumn', [col]), deleteCols(exec, ss, sheet, Number(col), 1), self),
    deleteColumns: (col: number, n: number) => (c('deleteColumns', [col, n]), deleteCols(exec, ss, sheet, Number(col), Number(n)), undefined),
    appendRow: (values: unknown[]) => {
      c('appendRow', [values]);
      exec.wroteCells(ss.id, sheet.maxCols);
      appendRow(exec, ss, sheet, values, growRows);
      return self;
    },
    hideSheet: () => (c('hideSheet'), hide(exec, ss, sheet), self),
    showSheet: () => (c('showSheet'), (sheet.hidden = false), self),
    isSheetHidden: () => sheet.hidden,
    setFrozenRows: (n: number) => (c('setFrozenRows', [n]), (sheet.frozenRows = Number(n)), undefined),
    getFrozenRows: () => sheet.frozenRows,
    setFrozenColumns: (n: number) => (c('setFrozenColumns', [n]), (sheet.frozenCols = Number(n)), undefined),
    getFrozenColumns: () => sheet.frozenCols,
    clear: () => (c('clear'), checkEditable(exec, ss, sheet, null), (sheet.rows.length = 0), (sheet.fmts.length = 0), self),
    clearContents: () => (c('clearContents'), checkEditable(exec, ss, sheet, null), (sheet.rows.length = 0), self),
    clearFormats: () => (c('clearFormats'), (sheet.fmts.length = 0), self),
    protect: () => {
      c('protect');
      const p = newProtection(exec, ss, null);
      sheet.protections.push(p);
      return wrapProtection(exec, ss, sheet, p);
    },
    getProtections: (type: string) => sheet.protections.filter((p) => p.type === type).map((p) => wrapProtection(exec, ss, sheet, p)),
    activate: () => ((ss.activeSheet = ss.sheets.indexOf(sheet)), self),
    setColumnWidth: () => self,
    setColumnWidths: () => self,
    autoResizeColumn: () => self,
    autoResizeColumns: () => self,
    setRowHeight: () => self,
    setTabColor: () => self,
    getFilter: () => null,
    toString: () => 'Sheet',
  };
  return self;
}

function hide(exec: Exec, ss: SpreadsheetData, sheet: SheetData): void {
  if (ss.sheets.filter((s) => !s.hidden && s !== sheet).length === 0) throw ex(exec, "You can't hide all the sheets in a document.");
  sheet.hidden = true;
}

function insertRows(exec: Exec, ss: SpreadsheetData, sheet: SheetData, after: number, n: number, grow: (n: number) => void): void {
  if (!(n >= 1)) throw ex(exec, 'The number of rows to insert must be at least 1.');
  if (after < 0 || after > sheet.maxRows) throw ex(exec, 'Those rows are out of bounds.');
  checkEditable(exec, ss, sheet, null);
  grow(n);
  if (sheet.rows.length > after) sheet.rows.splice(after, 0, ...new Array<undefined>(n));
  const inherit = after > 0 ? sheet.fmts[after - 1] : undefined;
  if (sheet.fmts.length > after || inherit) {
    while (sheet.fmts.length < after) sheet.fmts.push(undefined);
    // New rows take the formatting of the row above, as in Sheets.
    sheet.fmts.splice(after, 0, ...Array.from({ length: n }, () => (inherit ? [...inherit] : undefined)));
  }
}

function insertCols(exec: Exec, ss: SpreadsheetData, sheet: SheetData, after: number, n: number): void {
  if (!(n >= 1)) throw ex(exec, 'The number of columns to insert must be at least 1.');
  if (after < 0 || after > sheet.maxCols) throw ex(exec, 'Those columns are out of bounds.');
  checkEditable(exec, ss, sheet, null);
  if (ss.cellCount() + n * sheet.maxRows > WORKBOOK_CELL_LIMIT) throw cellLimit(exec);
  sheet.maxCols += n;
  for (const grid of [sheet.rows, sheet.fmts] as ((unknown[] | undefined)[])[]) {
    for (const row of grid) if (row && row.length > after) row.splice(after, 0, ...new Array(n));
  }
}

function deleteRows(exec: Exec, ss: SpreadsheetData, sheet: SheetData, start: number, n: number): void {
  if (!(start >= 1) || !(n >= 1) || start + n - 1 > sheet.maxRows) throw ex(exec, 'Those rows are out of bounds.');
  if (n >= sheet.maxRows) throw ex(exec, "You can't delete all the rows on the sheet.");
  checkEditable(exec, ss, sheet, null);
  sheet.rows.splice(start - 1, n);
  sheet.fmts.splice(start - 1, n);
  sheet.maxRows -= n;
}

function deleteCols(exec: Exec, ss: SpreadsheetData, sheet: SheetData, start: number, n: number): void {
  if (!(start >= 1) || !(n >= 1) || start + n - 1 > sheet.maxCols) throw ex(exec, 'Those columns are out of bounds.');
  if (n >= sheet.maxCols) throw ex(exec, "You can't delete all the columns on the sheet.");
  checkEditable(exec, ss, sheet, null);
  for (const grid of [sheet.rows, sheet.fmts] as ((unknown[] | undefined)[])[]) for (const row of grid) row?.splice(start - 1, n);
  sheet.maxCols -= n;
}

function appendRow(exec: Exec, ss: SpreadsheetData, sheet: SheetData, values: unknown[], grow: (n: number) => void): void {
  if (!Array.isArray(values)) throw ex(exec, "The parameters (String) don't match the method signature for SpreadsheetApp.Sheet.appendRow.");
  const r = sheet.lastRow();
  checkEditable(exec, ss, sheet, [r, 0, 1, values.length]);
  if (r + 1 > sheet.maxRows) grow(1);
  if (values.length > sheet.maxCols) {
    if (ss.cellCount() + (values.length - sheet.maxCols) * sheet.maxRows > WORKBOOK_CELL_LIMIT) throw cellLimit(exec);
    sheet.maxCols = values.length;
  }
  values.forEach((v, c) => writeCell(exec, ss, sheet, r, c, v));
}

function writeCell(exec: Exec, ss: SpreadsheetData, sheet: SheetData, r: number, c: number, v: unknown): void {
  const stored = coerce(v, sheet.fmt(r, c), ss.timeZone);
  if (typeof stored === 'object' && 'tooLong' in stored) {
    throw ex(exec, `Your input contains more than the maximum of ${CELL_CHAR_LIMIT} characters in a single cell.`);
  }
  sheet.set(r, c, stored);
}

// ---- Range ----------------------------------------------------------------------------------------

function rangeChecked(exec: Exec, ss: SpreadsheetData, sheet: SheetData, row: number, col: number, numRows: number, numCols: number): unknown {
  if (!Number.isInteger(row) || row < 1) throw ex(exec, 'The starting row of the range is too small.');
  if (!Number.isInteger(col) || col < 1) throw ex(exec, 'The starting column of the range is too small.');
  if (!(numRows >= 1)) throw ex(exec, 'The number of rows in the range must be at least 1.');
  if (!(numCols >= 1)) throw ex(exec, 'The number of columns in the range must be at least 1.');
  if (row + numRows - 1 > sheet.maxRows || col + numCols - 1 > sheet.maxCols) {
    throw ex(exec, 'The coordinates of the range are outside the dimensions of the sheet.');
  }
  return makeRange(exec, ss, sheet, row - 1, col - 1, numRows, numCols);
}

function readValue(exec: Exec, v: Stored): unknown {
  if (v instanceof DateCell) return exec.date(v.ms);
  if (v instanceof FormulaCell) return evaluate(v);
  return v;
}

function grid<T>(nr: number, nc: number, f: (r: number, c: number) => T): T[][] {
  const out: T[][] = new Array(nr);
  for (let r = 0; r < nr; r++) {
    const row: T[] = new Array(nc);
    for (let c = 0; c < nc; c++) row[c] = f(r, c);
    out[r] = row;
  }
  return out;
}

function makeRange(exec: Exec, ss: SpreadsheetData, sheet: SheetData, r0: number, c0: number, nr: number, nc: number): unknown {
  const cells = nr * nc;
  const c = (m: string, args: unknown[] = [], sized = false) => {
    exec.call(`Range.${m}`, args, sized ? cells : 0);
    if (sheet.deleted) throw ex(exec, `The sheet ${sheet.name} has been deleted.`);
  };
  const editable = () => checkEditable(exec, ss, sheet, [r0, c0, nr, nc]);
  const checkGrid = (values: unknown, method: string) => {
    if (!Array.isArray(values) || (values.length && !Array.isArray(values[0]))) {
      throw ex(exec, `The parameters (${Array.isArray(values) ? 'number[]' : typeof values}) don't match the method signature for SpreadsheetApp.Range.${method}.`);
    }
    const rows = values as unknown[][];
    if (rows.length !== nr) {
      throw ex(exec, `The number of rows in the data does not match the number of rows in the range. The data has ${rows.length} but the range has ${nr}.`);
    }
    for (const row of rows) {
      if (!Array.isArray(row) || row.length !== nc) {
        throw ex(exec, `The number of columns in the data does not match the number of columns in the range. The data has ${Array.isArray(row) ? row.length : 0} but the range has ${nc}.`);
      }
    }
    return rows;
  };
  const fill = (v: unknown) => {
    for (let r = 0; r < nr; r++) for (let k = 0; k < nc; k++) writeCell(exec, ss, sheet, r0 + r, c0 + k, v);
  };
  const self: Record<string, unknown> = {
    getValues: () => (exec.reading(ss.id), c('getValues', [], true), exec.untimed(() => grid(nr, nc, (r, k) => readValue(exec, sheet.get(r0 + r, c0 + k))))),
    getValue: () => (exec.reading(ss.id), c('getValue'), readValue(exec, sheet.get(r0, c0))),
    getDisplayValues: () =>
      (exec.reading(ss.id), c('getDisplayValues', [], true), grid(nr, nc, (r, k) => display(sheet.get(r0 + r, c0 + k), sheet.fmt(r0 + r, c0 + k), ss.timeZone))),
    getDisplayValue: () => (exec.reading(ss.id), c('getDisplayValue'), display(sheet.get(r0, c0), sheet.fmt(r0, c0), ss.timeZone)),
    getFormulas: () => (exec.reading(ss.id), c('getFormulas', [], true), grid(nr, nc, (r, k) => formulaOf(sheet.get(r0 + r, c0 + k)))),
    getFormula: () => (c('getFormula'), formulaOf(sheet.get(r0, c0))),
    setValues: (values: unknown) => {
      c('setValues', [], true);
      const rows = checkGrid(values, 'setValues');
      editable();
      sheet.writes++;
      exec.wroteCells(ss.id, cells);
      exec.untimed(() => rows.forEach((row, r) => row.forEach((v, k) => writeCell(exec, ss, sheet, r0 + r, c0 + k, v))));
      return self;
    },
    setValue: (v: unknown) => (c('setValue', [], true), editable(), sheet.writes++, exec.wroteCells(ss.id, cells), fill(v), self),
    setFormula: (f: string) => (c('setFormula'), editable(), fill(String(f).startsWith('=') ? f : `=${f}`), self),
    setFormulas: (fs: unknown) => {
      c('setFormulas', [], true);
      const rows = checkGrid(fs, 'setFormulas');
      editable();
      rows.forEach((row, r) => row.forEach((v, k) => sheet.set(r0 + r, c0 + k, v ? new FormulaCell(String(v)) : '')));
      return self;
    },
    setNumberFormat: (f: string) => {
      c('setNumberFormat', [f], true);
      exec.wroteCells(ss.id, cells);
      exec.untimed(() => {
        for (let r = 0; r < nr; r++) for (let k = 0; k < nc; k++) sheet.setFmt(r0 + r, c0 + k, String(f));
      });
      return self;
    },
    setNumberFormats: (fs: unknown) => {
      c('setNumberFormats', [], true);
      const rows = checkGrid(fs, 'setNumberFormats');
      rows.forEach((row, r) => row.forEach((f, k) => sheet.setFmt(r0 + r, c0 + k, String(f))));
      return self;
    },
    getNumberFormat: () => sheet.fmt(r0, c0) ?? 'General',
    getNumberFormats: () => grid(nr, nc, (r, k) => sheet.fmt(r0 + r, c0 + k) ?? 'General'),
    getNumRows: () => nr,
    getNumColumns: () => nc,
    getRow: () => r0 + 1,
    getColumn: () => c0 + 1,
    getLastRow: () => r0 + nr,
    getLastColumn: () => c0 + nc,
    getHeight: () => nr,
    getWidth: () => nc,
    getA1Notation: () => a1(r0, c0, nr, nc),
    getSheet: () => wrapSheet(exec, ss, sheet),
    getCell: (r: number, k: number) => {
      if (r < 1 || k < 1 || r > nr || k > nc) throw ex(exec, 'Cell reference out of range');
      return makeRange(exec, ss, sheet, r0 + r - 1, c0 + k - 1, 1, 1);
    },
    offset: (dr: number, dc: number, rows?: number, cols?: number) =>
      rangeChecked(exec, ss, sheet, r0 + 1 + Number(dr), c0 + 1 + Number(dc), rows ?? nr, cols ?? nc),
    clearContent: () => (c('clearContent', [], true), editable(), fill(''), self),
    clear: () => {
      c('clear', [], true);
      editable();
      fill('');
      for (let r = 0; r < nr; r++) for (let k = 0; k < nc; k++) sheet.setFmt(r0 + r, c0 + k, undefined);
      return self;
    },
    clearFormat: () => {
      for (let r = 0; r < nr; r++) for (let k = 0; k < nc; k++) sheet.setFmt(r0 + r, c0 + k, undefined);
      return self;
    },
    isBlank: () => {
      for (let r = 0; r < nr; r++) for (let k = 0; k < nc; k++) if (sheet.get(r0 + r, c0 + k) !== '') return false;
      return true;
    },
    protect: () => {
      const p = newProtection(exec, ss, { r0, c0, nr, nc });
      sheet.protections.push(p);
      return wrapProtection(exec, ss, sheet, p);
    },
    sort: (spec: unknown) => (c('sort', [], true), editable(), sortRange(sheet, r0, c0, nr, nc, spec), self),
    toString: () => 'Range',
  };
  for (const name of FORMAT_NOOPS) self[name] = () => self;
  return self;
}

function formulaOf(v: Stored): string {
  return v instanceof FormulaCell ? v.formula : '';
}

function a1(r0: number, c0: number, nr: number, nc: number): string {
  const first = `${indexToCol(c0 + 1)}${r0 + 1}`;
  return nr === 1 && nc === 1 ? first : `${first}:${indexToCol(c0 + nc)}${r0 + nr}`;
}

function sortRange(sheet: SheetData, r0: number, c0: number, nr: number, nc: number, spec: unknown): void {
  const specs = (Array.isArray(spec) ? spec : [spec]).map((s) =>
    typeof s === 'number' ? { column: s, ascending: true } : { column: Number((s as { column: number }).column), ascending: (s as { ascending?: boolean }).ascending !== false },
  );
  const rows = Array.from({ length: nr }, (_, r) => Array.from({ length: nc }, (_, k) => sheet.get(r0 + r, c0 + k)));
  const key = (v: Stored) => (v instanceof DateCell ? v.ms : v instanceof FormulaCell ? v.formula : v);
  rows.sort((a, b) => {
    for (const s of specs) {
      const x = key(a[s.column - 1 - c0]);
      const y = key(b[s.column - 1 - c0]);
      if (x === y) continue;
      if (x === '') return 1;
      if (y === '') return -1;
      return (x < y ? -1 : 1) * (s.ascending ? 1 : -1);
    }
    return 0;
  });
  rows.forEach((row, r) => row.forEach((v, k) => sheet.set(r0 + r, c0 + k, v)));
}
