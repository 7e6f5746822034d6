// Words and numbers as the sidebar shows them. The keys are the server's own types, so a new
// change kind, status or outcome fails the type check until it has a label here.
import { CHANGE_KINDS, AccountStatus, ChangeKind, SyncOutcome, SyncTrigger } from '../core/model';
import type { CheckStatus } from '../core/finalize';
import { store } from './store';

export const KIND_LABEL: Record<ChangeKind, string> = { create: 'Create', update: 'Update', deactivate: 'Deactivate', reactivate: 'Reactivate', delete: 'Delete' };
const KIND_PAST: Record<ChangeKind, string> = { create: 'created', update: 'updated', deactivate: 'deactivated', reactivate: 'reactivated', delete: 'deleted' };
export const STATUS_LABEL: Record<AccountStatus, string> = { active: 'Active', disabled: 'Disabled', suspended: 'Suspended', deleted: 'Deleted' };
export const OUTCOME_LABEL: Record<SyncOutcome, string> = { success: 'Success', failed: 'Failed', halted: 'Halted', partial: 'Partly applied', discarded: 'Discarded' };
export const TRIGGER_LABEL: Record<SyncTrigger, string> = { manual: 'Manual', scheduled: 'Scheduled', user: 'Single user' };
export const CHECK_LABEL: Record<CheckStatus, string> = { pass: 'Pass', fail: 'Fail', warning: 'Warning', notRun: 'Not run' };

export function plural(n: number, word: string, many?: string): string {
  return n + ' ' + (n === 1 ? word : many || word + 's');
}

export function sum(counts: Partial<Record<string, number>> | undefined): number {
  return Object.values(counts ?? {}).reduce<number>((total, n) => total + (n || 0), 0);
}

export function cap(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
}

/** The entries of a one-per-line (or comma-separated) text field. */
export function lines(text: string): string[] {
  return text
    .split(/[\n,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const DATE_OPTIONS: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };

/**
 * The zone every time is shown in: the schedule's, so History, Last sync and Next run read alike
 * whatever the browser's zone (before settings are read, the browser's own).
 */
function displayZone(): string {
  return store.settings?.schedule.timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** An ISO time for people, in the display zone and named after it: "Sep 1, 2026, 10:00 AM (America/New_York)". */
export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  const zone = displayZone();
  try {
    return d.toLocaleString(undefined, { ...DATE_OPTIONS, timeZone: zone }) + ' (' + zone + ')';
  } catch {
    return d.toLocaleString(undefined, { ...DATE_OPTIONS, timeZone: 'UTC' }) + ' (UTC)';
  }
}

/** Server messages carry ISO times; show them as every other time, in the display zone. */
export function localize(text: string | null | undefined): string {
  return String(text || '').replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b/g, (iso) => fmtDate(iso));
}

export function fmtDuration(ms: number): string {
  if (!(ms >= 0)) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = Math.round(ms / 1000);
  return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
}

/** "3 created, 1 deleted", or "No changes". */
export function countsText(counts: Partial<Record<ChangeKind, number>> | undefined): string {
  const parts = CHANGE_KINDS.filter((k) => counts && counts[k]).map((k) => counts![k] + ' ' + KIND_PAST[k]);
  return parts.length ? parts.join(', ') : 'No changes';
}
