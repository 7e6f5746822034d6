// Sync state that outgrows properties (snapshot pages, the job) in a hidden
// sheet: one row per 45,000-character chunk (a cell holds 50,000), rows of a
// key kept together. Properties keep only settings and small pointers.
import { BlobStore } from '../core/ports';
import { ensureSheet, removeRows, writeBlock } from './sheets';

export const STATE_SHEET = 'Roster Sync state';
const CHUNK = 45000;

export class SheetBlobStore implements BlobStore {
  private index: Map<string, { row: number; count: number }> | null = null;
  private lastRow = 1;

  constructor(private readonly spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet) {}

  private sheet() {
    return ensureSheet(this.spreadsheet, STATE_SHEET, ['Key', 'Chunks', 'Data'], true);
  }

  /** The state sheet only once something is stored: reads of a missing sheet find nothing. */
  private existing() {
    return this.spreadsheet.getSheetByName(STATE_SHEET);
  }

  private load(): Map<string, { row: number; count: number }> {
    if (this.index) return this.index;
    const sheet = this.existing();
    this.lastRow = sheet ? sheet.getLastRow() : 1;
    const index = new Map<string, { row: number; count: number }>();
    if (sheet && this.lastRow > 1) {
      const keys = sheet.getRange(2, 1, this.lastRow - 1, 2).getValues();
      keys.forEach(([key, count], i) => {
        if (key !== '' && Number(count) > 0 && !index.has(String(key))) index.set(String(key), { row: i + 2, count: Number(count) });
      });
    }
    return (this.index = index);
  }

  get(key: string): string | null {
    const at = this.load().get(key);
    if (!at) return null;
    const cells = this.sheet().getRange(at.row, 3, at.count, 1).getValues();
    return cells.map((c) => String(c[0])).join('');
  }

  set(key: string, value: string): void {
    if (this.load().has(key)) this.deleteRows([key]);
    const chunks: string[] = [];
    for (let i = 0; i < value.length || i === 0; i += CHUNK) chunks.push(value.slice(i, i + CHUNK));
    const rows = chunks.map((c, i) => [i === 0 ? key : `${key}#${i}`, i === 0 ? String(chunks.length) : '0', c]);
    writeBlock(this.sheet(), this.lastRow + 1, rows, 3);
    this.index!.set(key, { row: this.lastRow + 1, count: chunks.length });
    this.lastRow += chunks.length;
  }

  removePrefix(prefix: string): void {
    const keys = [...this.load().keys()].filter((k) => k.startsWith(prefix));
    if (keys.length) this.deleteRows(keys);
  }

  private deleteRows(keys: string[]): void {
    const rows: number[] = [];
    for (const key of keys) {
      const at = this.index!.get(key)!;
      for (let i = 0; i < at.count; i++) rows.push(at.row + i);
    }
    removeRows(this.sheet(), rows);
    this.index = null;
    this.load();
  }
}
