// Small helpers every sheet adapter shares.

/**
 * A value written as text: cells are formatted as plain text ('@') so ids keep
 * all 21 digits, and a leading = + - @ gets Sheets' quote prefix so a name can
 * never become a formula. A value that itself starts with a quote gets one more,
 * so that '=x (quote included) reads back as written, not as =x.
 */
export function asText(value: string): string {
  return /^['=+\-@]/.test(value) ? `'${value}` : value;
}

/** The value as written: drops the quote prefix asText added, whether or not Sheets kept it. */
export function fromCell(value: unknown): string {
  const s = String(value ?? '').trim();
  return s.startsWith("'") && /^['=+\-@]/.test(s.slice(1)) ? s.slice(1) : s;
}

export function ensureSheet(ss: GoogleAppsScript.Spreadsheet.Spreadsheet, name: string, header: string[], hidden = false): GoogleAppsScript.Spreadsheet.Sheet {
  const existing = ss.getSheetByName(name);
  if (existing) return existing;
  const sheet = ss.insertSheet(name);
  // A new sheet has 26 columns; the spreadsheet's 10 million cells count them all: keep only those used.
  const extra = sheet.getMaxColumns() - header.length;
  if (extra > 0) sheet.deleteColumns(header.length + 1, extra);
  writeBlock(sheet, 1, [header], header.length);
  sheet.setFrozenRows(1);
  sheet.getRange(1, 1, 1, header.length).setFontWeight('bold');
  if (hidden) sheet.hideSheet();
  return sheet;
}

/** One setValues for a block of rows, the cells formatted as text first. */
export function writeBlock(sheet: GoogleAppsScript.Spreadsheet.Sheet, startRow: number, values: string[][], width: number, mayGrow = true): void {
  if (!values.length) return;
  // A range past the sheet's last row is an error in Sheets ("outside the dimensions"): grow it first.
  // (mayGrow false: rows the caller knows exist, e.g. rows it just read, so no call is spent checking.)
  if (mayGrow) {
    const maxRows = sheet.getMaxRows();
    const lastRow = startRow + values.length - 1;
    if (lastRow > maxRows) sheet.insertRowsAfter(maxRows, lastRow - maxRows);
  }
  const range = sheet.getRange(startRow, 1, values.length, width);
  range.setNumberFormat('@');
  range.setValues(values);
}

/** Sorted row numbers grouped into runs of consecutive rows. */
export function runs(rows: number[]): { start: number; values: number[] }[] {
  const sorted = [...new Set(rows)].sort((a, b) => a - b);
  const out: { start: number; values: number[] }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.start + last.values.length === r) last.values.push(r);
    else out.push({ start: r, values: [r] });
  }
  return out;
}

/**
 * Deletes rows, last run first so earlier row numbers stay valid. Sheets refuses
 * to delete every non-frozen row, so a spare blank row is added when needed.
 */
export function removeRows(sheet: GoogleAppsScript.Spreadsheet.Sheet, rows: number[]): void {
  const all = runs(rows);
  if (!all.length) return;
  const total = all.reduce((n, r) => n + r.values.length, 0);
  if (sheet.getMaxRows() - total <= sheet.getFrozenRows()) sheet.insertRowsAfter(sheet.getMaxRows(), 1);
  for (const run of all.reverse()) sheet.deleteRows(run.start, run.values.length);
}
