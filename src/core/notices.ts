// Emails to the admins about scheduled syncs: a failure, a halt or errors, each
// problem once a day while it lasts (an hourly schedule must not mail hourly).
import { CHANGE_KINDS, ChangeKind, SyncOutcome, SyncTrigger, summarize } from './model';
import { ReportDraft } from './reports';
import { Services } from './ports';
import { Settings } from './settings';
import { KEYS, readSettings } from './config';
import { toMessage } from './messages';

/** The last problem the admins were emailed about, so an hourly schedule does not repeat it hourly. */
export const NOTICE_KEY = 'lastNotice';
const NOTICE_REPEAT_MS = 24 * 60 * 60 * 1000;

/** Emails the admins about a scheduled sync that failed, was halted or finished with errors. */
export function notify(svc: Services, trigger: SyncTrigger, outcome: SyncOutcome, m: { text: string; fix: string }, counts: Record<ChangeKind, number>): void {
  if (trigger !== 'scheduled') return;
  if (noticeIsNew(svc, `${outcome}\n${m.text}`)) sendNotice(svc, outcome, m, counts);
}

/** True when this problem was not reported in the last day; records it as reported now. */
export function noticeIsNew(svc: Services, signature: string): boolean {
  const now = svc.clock.nowMs();
  const last = [readNotice(svc.config.get(NOTICE_KEY)), readNotice(svc.state.get(NOTICE_KEY))].find((n) => n.signature === signature);
  if (last && typeof last.at === 'number' && now - last.at < NOTICE_REPEAT_MS) return false;
  const record = JSON.stringify({ signature, at: now });
  try {
    svc.config.set(NOTICE_KEY, record);
  } catch (error) {
    // A full property store (itself the problem, maybe): the state sheet remembers it, so an hourly schedule does not mail hourly.
    if (toMessage(error).id !== 'propertyStoreFull') throw error;
    evenIfStateUnwritable(() => svc.state.set(NOTICE_KEY, record));
  }
  return true;
}

/** After a sync that succeeded: the next problem is news again (wherever the last one was remembered). */
export function forgetNotice(svc: Services): void {
  if (svc.config.get(NOTICE_KEY) !== null) svc.config.remove(NOTICE_KEY);
  if (svc.state.get(NOTICE_KEY) !== null) svc.state.removePrefix(NOTICE_KEY);
}

function readNotice(raw: string | null): { signature?: string; at?: number } {
  try {
    return (JSON.parse(raw ?? '{}') as { signature?: string; at?: number }) ?? {};
  } catch {
    return {}; // an unreadable record only means the problem is reported again
  }
}

/** The state sheet may be unwritable too (protected, deleted): the admins then hear of it again next time rather than never. */
function evenIfStateUnwritable(write: () => void): void {
  try {
    write();
  } catch {
    // nothing more to remember it in
  }
}

/** Changes of each kind named in a report email; the sidebar's History has the whole report. */
const REPORT_EMAIL_PER_KIND = 25;
const KIND_HEADING: Record<ChangeKind, string> = { create: 'Created', update: 'Updated', deactivate: 'Deactivated', reactivate: 'Reactivated', delete: 'Deleted' };

/**
 * The optional report after a scheduled sync that changed something (Settings → Policy, off by
 * default), like the sync reports of Google Cloud Directory Sync: what changed and why.
 */
export function sendSyncReport(svc: Services, draft: ReportDraft, counts: Record<ChangeKind, number>, summary: string): void {
  let settings: Settings;
  try {
    settings = readSettings(svc);
  } catch {
    return; // the failure notice tells the installer about unreadable settings
  }
  if (!settings.reportEmail) return;
  const to = recipients(svc, settings);
  if (!to.length) return;
  const changed = CHANGE_KINDS.reduce((n, k) => n + counts[k], 0);
  const sections = CHANGE_KINDS.filter((k) => counts[k]).map((k) => {
    const listed = draft.changes.filter((c) => c.kind === k).slice(0, REPORT_EMAIL_PER_KIND);
    const lines = listed.map((c) => `- ${c.name ? `${c.name} <${c.email}>` : c.email}: ${c.reasons.join('; ')}`);
    const more = counts[k] - listed.length;
    return [`${KIND_HEADING[k]} (${counts[k]}):`, ...lines, ...(more > 0 ? [`… and ${more} more (History in the sidebar lists them).`] : [])].join('\n');
  });
  const held = draft.heldTotal ? [`Held (${draft.heldTotal}): ${draft.held.slice(0, 5).map((h) => h.email).join(', ')}${draft.heldTotal > 5 ? ' …' : ''}; Preview lists them.`] : [];
  const subject = `Roster Sync: scheduled sync changed ${changed} account${changed === 1 ? '' : 's'} (${summarize(counts)})`;
  const body = [summary, ...sections, ...held, `Open the roster and the Roster Sync sidebar: ${svc.rosterUrl()}`, 'You receive this because "Email a report after scheduled syncs" is on under Settings → Policy.'].join('\n\n');
  try {
    svc.notifier.send(to, subject, body);
  } catch {
    // A mail quota error must not fail a sync that was applied; History holds the report.
  }
}

function recipients(svc: Services, settings: Settings | null): string[] {
  return [...new Set([svc.config.get(KEYS.installer) ?? '', ...(settings?.admins ?? [])].filter(Boolean))];
}

export function sendNotice(svc: Services, outcome: SyncOutcome, m: { text: string; fix: string }, counts: Record<ChangeKind, number>): void {
  let settings: Settings | null = null;
  try {
    settings = readSettings(svc);
  } catch {
    // Unreadable settings: the installer still hears of it.
  }
  if (settings && !settings.notifyOnFailure) return;
  const to = recipients(svc, settings);
  if (!to.length) return;
  const subject = `Roster Sync: scheduled sync ${outcome === 'halted' ? 'halted by the deletion threshold' : outcome === 'partial' ? 'finished with errors' : outcome === 'warning' ? 'finished with changes held back' : outcome}`;
  const body = [m.text, m.fix && `How to fix: ${m.fix}`, `Counts: ${summarize(counts)}.`, `Open the roster and the Roster Sync sidebar: ${svc.rosterUrl()}`].filter(Boolean).join('\n\n');
  try {
    svc.notifier.send(to, subject, body);
  } catch {
    // A mail quota error must not hide the sync's own outcome, which History already holds.
  }
}
