// The one hourly heartbeat trigger, and what it does when it fires.
import { Services } from './ports';
import { KEYS, readNumber, readSettings } from './config';
import { isDue, isIncrementalDue } from './schedule';
import { haltedSinceApplied, readIncrementalState } from './incremental';
import { msg } from './messages';
import { SyncResult, loadJob, runSync, scheduledRunUnstartable } from './sync';
import { Settings } from './settings';

export const SCHEDULE_HANDLER = 'runScheduledSync';

/** Exactly one heartbeat trigger for this user and document: installs it if missing, removes extras. */
export function ensureTrigger(svc: Services): { installed: boolean; removed: number } {
  const mine = svc.triggers.list().filter((t) => t.handler === SCHEDULE_HANDLER);
  for (const extra of mine.slice(1)) svc.triggers.remove(extra.id);
  if (mine.length) return { installed: false, removed: mine.length - 1 };
  svc.triggers.installHourly(SCHEDULE_HANDLER);
  return { installed: true, removed: 0 };
}

/**
 * The heartbeat: continue a sync that is part-way, else start the full one the schedule says is due,
 * else (daily schedule) an incremental one from the admin log.
 */
export function heartbeat(svc: Services): SyncResult | { state: 'idle'; message: string } {
  const owner = svc.config.get(KEYS.syncAccount);
  const me = svc.session.effectiveUserEmail();
  if (owner && me && owner !== me) {
    // A previous sync account's trigger: retire it rather than sync as the wrong account.
    for (const t of svc.triggers.list()) if (t.handler === SCHEDULE_HANDLER) svc.triggers.remove(t.id);
    return { state: 'idle', message: msg('notSyncAccount', { owner }).text };
  }
  // A sync part-way, or one whose saved progress was lost (runSync reports it and starts clean).
  if (loadJob(svc.state) || svc.config.get(KEYS.runningJob) !== null) return runSync(svc, { trigger: 'scheduled', mode: 'continue' });
  let settings: Settings;
  try {
    settings = readSettings(svc);
  } catch (error) {
    return scheduledRunUnstartable(svc, error);
  }
  // A sync the destination postponed (the day's web requests used, say) goes on once it may send again.
  const resumeAfter = readNumber(svc.config, KEYS.resumeAfter);
  if (resumeAfter !== null && settings.schedule.mode !== 'off') {
    if (svc.clock.nowMs() < resumeAfter) return { state: 'idle', message: `the last sync continues after ${new Date(resumeAfter).toISOString()}` };
    return runSync(svc, { trigger: 'scheduled', mode: 'start' });
  }
  const due = isDue(settings.schedule, svc.clock.nowMs(), readNumber(svc.config, KEYS.lastScheduledRun), svc.clock.local, readNumber(svc.config, KEYS.scheduleSince));
  if (due.due) return runSync(svc, { trigger: 'scheduled', mode: 'start' });
  const state = readIncrementalState(svc.config);
  const incremental = isIncrementalDue(settings, svc.clock.nowMs(), svc.clock.local, state !== null);
  if (!incremental.due) return { state: 'idle', message: due.why };
  const halted = state && haltedSinceApplied(state);
  if (halted) return { state: 'idle', message: halted };
  return runSync(svc, { trigger: 'scheduled', mode: 'start', kind: 'incremental' });
}
