// Sync state that outgrows properties (snapshot pages, the job) in a hidden
// sheet: one row per 45,000-character chunk (a cell holds 50,000), rows of a
// key kept together. Properties keep only settings and small pointers.
import { BlobStore } from '../core/ports';
import { ensureSheet, removeRows, writeBlock } from './sheets';

export const STATE_SHEET = 'Roster Sync state';
/** The sync reports behind History entries: kept apart, so the state sheet holds only what a sync part needs. */
export const REPORTS_SHEET = 'Roster Sync reports';
const CHUNK = 45000;
/** Characters written by one setValues when several keys are saved at once (a checkpoint). */
const WRITE_CHARS = 4_000_000;

export class SheetBlobStore implements BlobStore {
  private index: Map<string, { row: number; count: number }> | null = null;
  private lastRow = 1;
  private handle: GoogleAppsScript.Spreadsheet.Sheet | null = null;
  /** Values read together with another key of their family, served once by get(). */
  private readonly ahead = new Map<string, string>();

  constructor(private readonly spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet, private readonly sheetName = STATE_SHEET) {}

  private sheet() {
    return this.handle ?? (this.handle = ensureSheet(this.spreadsheet, this.sheetName, ['Key', 'Chunks', 'Data'], true));
  }

  /** The sheet only once something is stored: reads of a missing sheet find nothing. */
  private existing() {
    return this.handle ?? (this.handle = this.spreadsheet.getSheetByName(this.sheetName));
  }

  private load(): Map<string, { row: number; count: number }> {
    if (this.index) return this.index;
    const sheet = this.existing();
    // Row 1 is the header even when an execution was cut off before writing it: data starts at row 2.
    this.lastRow = sheet ? Math.max(sheet.getLastRow(), 1) : 1;
    const index = new Map<string, { row: number; count: number }>();
    if (sheet && this.lastRow > 1) {
      const keys = sheet.getRange(2, 1, this.lastRow - 1, 2).getValues();
      keys.forEach(([key, count], i) => {
        if (key !== '' && Number(count) > 0 && !index.has(String(key))) index.set(String(key), { row: i + 2, count: Number(count) });
      });
    }
    return (this.index = index);
  }

  /**
   * One key's value. The first read of a key of a family (the keys sharing its prefix up to the last
   * '.', e.g. the pages snap.users.0, snap.users.1, …) reads the whole family in one call when its
   * rows lie together, so loading a 100,000-user snapshot is one sheet read, not hundreds.
   */
  get(key: string): string | null {
    const ahead = this.ahead.get(key);
    if (ahead !== undefined) {
      this.ahead.delete(key);
      return ahead;
    }
    const index = this.load();
    const at = index.get(key);
    if (!at) return null;
    const family = key.slice(0, key.lastIndexOf('.') + 1);
    const members = family ? [...index].filter(([k]) => k.startsWith(family)) : [];
    const first = Math.min(...members.map(([, m]) => m.row));
    const last = Math.max(...members.map(([, m]) => m.row + m.count - 1));
    const needed = members.reduce((n, [, m]) => n + m.count, 0);
    if (members.length < 2 || last - first + 1 > 2 * needed + 10) {
      const cells = this.sheet().getRange(at.row, 3, at.count, 1).getValues();
      return cells.map((c) => String(c[0])).join('');
    }
    const cells = this.sheet().getRange(first, 3, last - first + 1, 1).getValues();
    const text = (m: { row: number; count: number }) => cells.slice(m.row - first, m.row - first + m.count).map((c) => String(c[0])).join('');
    for (const [k, m] of members) if (k !== key) this.ahead.set(k, text(m));
    return text(at);
  }

  set(key: string, value: string): void {
    this.setMany([[key, value]]);
  }

  /**
   * Saves several keys with as few writes as their size allows (a checkpoint: snapshot pages, then
   * the job). New keys are written first; keys that already exist are replaced last, so an execution
   * cut off part-way leaves the previous job in place, never a job without its pages.
   */
  setMany(entries: [string, string][]): void {
    const index = this.load();
    for (const [key] of entries) this.ahead.delete(key);
    const fresh = entries.filter(([key]) => !index.has(key));
    const replaced = entries.filter(([key]) => index.has(key));
    this.append(fresh);
    if (replaced.length) {
      this.deleteRows(replaced.map(([key]) => key));
      this.append(replaced);
    }
  }

  private append(entries: [string, string][]): void {
    let block: string[][] = [];
    let chars = 0;
    const flush = () => {
      writeBlock(this.sheet(), this.lastRow + 1, block, 3);
      this.lastRow += block.length;
      block = [];
      chars = 0;
    };
    for (const [key, value] of entries) {
      const chunks: string[] = [];
      for (let i = 0; i < value.length || i === 0; i += CHUNK) chunks.push(value.slice(i, i + CHUNK));
      if (chars && chars + value.length > WRITE_CHARS) flush();
      this.index!.set(key, { row: this.lastRow + 1 + block.length, count: chunks.length });
      chunks.forEach((c, i) => block.push([i === 0 ? key : `${key}#${i}`, i === 0 ? String(chunks.length) : '0', c]));
      chars += value.length;
    }
    if (block.length) flush();
  }

  removePrefix(prefix: string): void {
    for (const key of [...this.ahead.keys()]) if (key.startsWith(prefix)) this.ahead.delete(key);
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
