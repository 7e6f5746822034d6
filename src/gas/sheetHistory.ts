// Sync history as a sheet admins can read: one row per sync, appended.
import { ChangeKind, HistoryEntry, SyncKind, SyncOutcome, SyncTrigger } from '../core/model';
import { HistoryPort } from '../core/ports';
import { asText, ensureSheet, fromCell, writeBlock } from './sheets';

export const HISTORY_SHEET = 'Sync history';
const KINDS: ChangeKind[] = ['create', 'update', 'deactivate', 'reactivate', 'delete'];
export const HISTORY_COLUMNS = ['Started', 'Finished', 'Trigger', 'Outcome', 'Created', 'Updated', 'Deactivated', 'Reactivated', 'Deleted', 'Duration (s)', 'Parts', 'Message', 'Fix', 'Kind'];

export class SheetHistory implements HistoryPort {
  constructor(private readonly spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet) {}

  private sheet() {
    return ensureSheet(this.spreadsheet, HISTORY_SHEET, HISTORY_COLUMNS);
  }

  append(e: HistoryEntry): void {
    const sheet = this.sheet();
    // A sheet left without its header (an execution cut off right after creating it) gets it first.
    const last = sheet.getLastRow();
    // So does a sheet begun before the Kind column existed (its header is one column short).
    if (last === 0 || sheet.getLastColumn() < HISTORY_COLUMNS.length) writeBlock(sheet, 1, [HISTORY_COLUMNS], HISTORY_COLUMNS.length);
    const row = [e.startedAt, e.finishedAt, e.trigger, e.outcome, ...KINDS.map((k) => String(e.counts[k])), (e.durationMs / 1000).toFixed(1), String(e.parts), e.message.slice(0, 5000), e.fix.slice(0, 2000), e.kind ?? ''];
    writeBlock(sheet, Math.max(last, 1) + 1, [row.map(asText)], HISTORY_COLUMNS.length);
  }

  list(limit: number): HistoryEntry[] {
    const sheet = this.spreadsheet.getSheetByName(HISTORY_SHEET);
    if (!sheet) return [];
    const last = sheet.getLastRow();
    const count = Math.min(limit, last - 1);
    if (count <= 0) return [];
    const rows = sheet.getRange(last - count + 1, 1, count, HISTORY_COLUMNS.length).getValues();
    return rows.reverse().map((r) => ({
      startedAt: String(r[0]),
      finishedAt: String(r[1]),
      trigger: String(r[2]) as SyncTrigger,
      outcome: String(r[3]) as SyncOutcome,
      counts: Object.fromEntries(KINDS.map((k, i) => [k, Number(r[4 + i]) || 0])) as Record<ChangeKind, number>,
      durationMs: Math.round(Number(r[9]) * 1000) || 0,
      parts: Number(r[10]) || 1,
      message: fromCell(r[11]),
      fix: fromCell(r[12]),
      // A sheet written before the Kind column existed reads '' there (a range may reach past the last column).
      kind: (['full', 'incremental'].includes(String(r[13])) ? String(r[13]) : '') as SyncKind | '',
    }));
  }
}
