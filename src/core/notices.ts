// Emails to the admins about scheduled syncs: a failure, a halt or errors, each
// problem once a day while it lasts (an hourly schedule must not mail hourly).
import { ChangeKind, SyncOutcome, SyncTrigger, summarize } from './model';
import { Services } from './ports';
import { Settings } from './settings';
import { KEYS, evenIfStoreFull, readSettings } from './config';

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
  let last: { signature?: string; at?: number } = {};
  try {
    last = JSON.parse(svc.config.get(NOTICE_KEY) ?? '{}') ?? {};
  } catch {
    // An unreadable record only means the problem is reported again.
  }
  if (last.signature === signature && typeof last.at === 'number' && now - last.at < NOTICE_REPEAT_MS) return false;
  // A full store cannot remember the notice: the admins hear of it again next time rather than never.
  evenIfStoreFull(() => svc.config.set(NOTICE_KEY, JSON.stringify({ signature, at: now })));
  return true;
}

export function sendNotice(svc: Services, outcome: SyncOutcome, m: { text: string; fix: string }, counts: Record<ChangeKind, number>): void {
  let settings: Settings | null = null;
  try {
    settings = readSettings(svc);
  } catch {
    // Unreadable settings: the installer still hears of it.
  }
  if (settings && !settings.notifyOnFailure) return;
  const to = [...new Set([svc.config.get(KEYS.installer) ?? '', ...(settings?.admins ?? [])].filter(Boolean))];
  if (!to.length) return;
  const subject = `Roster Sync: scheduled sync ${outcome === 'halted' ? 'halted by the deletion threshold' : outcome === 'partial' ? 'finished with errors' : outcome === 'warning' ? 'finished with changes held back' : outcome}`;
  const body = [m.text, m.fix && `How to fix: ${m.fix}`, `Counts: ${summarize(counts)}.`, `Open the roster and the Roster Sync sidebar: ${svc.rosterUrl()}`].filter(Boolean).join('\n\n');
  try {
    svc.notifier.send(to, subject, body);
  } catch {
    // A mail quota error must not hide the sync's own outcome, which History already holds.
  }
}
