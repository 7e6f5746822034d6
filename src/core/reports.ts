// The sync report behind each History entry: which accounts changed and why, who
// started the run, what was held or failed. Kept in a store of its own (a hidden
// sheet apart from the sync state), bounded: at
// most REPORTS_KEPT reports of the last REPORT_DAYS days, each listing at most
// REPORT_PER_KIND changes of each kind (the counts stay exact).
import { Change, ChangeKind, SyncOutcome, SyncTrigger, emptyCounts } from './model';
import { BlobStore } from './ports';

export const REPORT_PER_KIND = 200;
export const REPORT_HELD = 200;
export const REPORTS_KEPT = 30;
export const REPORT_DAYS = 30;

/** No '.' in these keys: the sheet store reads a key's '.'-family together, and reports are read one at a time. */
const INDEX_KEY = 'reports';
// Fixed width, so removing one report by its key as a prefix never removes another.
const reportKey = (startedAtMs: number) => `report-${String(startedAtMs).padStart(15, '0')}`;

export interface ReportChange {
  kind: ChangeKind;
  accountId: string;
  email: string;
  name: string;
  reasons: string[];
}

/** What a sync collects while it runs (saved with its job between parts). */
export interface ReportDraft {
  /** The admin's email for Sync now and Sync this user, "the schedule" for the heartbeat. */
  startedBy: string;
  changes: ReportChange[];
  /** Applied changes of each kind not listed (over REPORT_PER_KIND). */
  omitted: Record<ChangeKind, number>;
  held: { email: string; why: string }[];
  heldTotal: number;
}

export interface SyncReport extends ReportDraft {
  startedAt: string;
  finishedAt: string;
  trigger: SyncTrigger;
  outcome: SyncOutcome;
  counts: Record<ChangeKind, number>;
  message: string;
  failed: { email: string; message: string }[];
}

export function newDraft(startedBy: string): ReportDraft {
  return { startedBy, changes: [], omitted: emptyCounts(), held: [], heldTotal: 0 };
}

/** Adds the changes the destination accepted, up to REPORT_PER_KIND of each kind. */
export function noteApplied(draft: ReportDraft, changes: Change[], appliedIds: string[]): void {
  const applied = new Set(appliedIds);
  const listed = emptyCounts();
  for (const c of draft.changes) listed[c.kind]++;
  for (const c of changes) {
    if (!applied.has(c.accountId)) continue;
    if (listed[c.kind]++ < REPORT_PER_KIND) draft.changes.push({ kind: c.kind, accountId: c.accountId, email: c.email, name: c.name, reasons: c.reasons });
    else draft.omitted[c.kind]++;
  }
}

export function noteHeld(draft: ReportDraft, held: { change: Change; why: string }[]): void {
  draft.heldTotal = held.length;
  draft.held = held.slice(0, REPORT_HELD).map((h) => ({ email: h.change.email, why: h.why }));
}

/** Stores a finished run's report and drops those beyond REPORTS_KEPT or older than REPORT_DAYS. */
export function saveReport(state: BlobStore, startedAtMs: number, report: SyncReport, nowMs: number): void {
  const oldest = nowMs - REPORT_DAYS * 24 * 60 * 60 * 1000;
  const kept = [...readIndex(state).filter((ms) => ms !== startedAtMs), startedAtMs].sort((a, b) => a - b);
  const dropped = kept.filter((ms, i) => ms < oldest || i < kept.length - REPORTS_KEPT);
  const index = kept.filter((ms) => !dropped.includes(ms));
  state.set(reportKey(startedAtMs), JSON.stringify(report));
  state.set(INDEX_KEY, JSON.stringify(index));
  for (const ms of dropped) state.removePrefix(reportKey(ms));
}

/** The report of the run that started at this ISO time, or null when it was not kept (or never made). */
export function loadReport(state: BlobStore, startedAt: string): SyncReport | null {
  const ms = Date.parse(startedAt);
  if (Number.isNaN(ms) || !readIndex(state).includes(ms)) return null;
  try {
    return JSON.parse(state.get(reportKey(ms)) ?? 'null') as SyncReport | null;
  } catch {
    return null;
  }
}

function readIndex(state: BlobStore): number[] {
  try {
    const index = JSON.parse(state.get(INDEX_KEY) ?? '[]');
    return Array.isArray(index) ? index.filter((ms): ms is number => typeof ms === 'number') : [];
  } catch {
    return [];
  }
}

/** The report's changes whose email, name, kind or reason contains the query (case-insensitive). */
export function searchReport(report: SyncReport, query: string): ReportChange[] {
  const q = query.trim().toLowerCase();
  if (!q) return report.changes;
  return report.changes.filter((c) => [c.email, c.name, c.kind, ...c.reasons].some((s) => s.toLowerCase().includes(q)));
}
