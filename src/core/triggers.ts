// The one hourly heartbeat trigger, and what it does when it fires.
import { Services } from './ports';
import { KEYS, loadSettings, readNumber } from './config';
import { isDue } from './schedule';
import { SyncResult, loadJob, runSync } from './sync';

export const SCHEDULE_HANDLER = 'runScheduledSync';

/** Exactly one heartbeat trigger for this user and document: installs it if missing, removes extras. */
export function ensureTrigger(svc: Services): { installed: boolean; removed: number } {
  const mine = svc.triggers.list().filter((t) => t.handler === SCHEDULE_HANDLER);
  for (const extra of mine.slice(1)) svc.triggers.remove(extra.id);
  if (mine.length) return { installed: false, removed: mine.length - 1 };
  svc.triggers.installHourly(SCHEDULE_HANDLER);
  return { installed: true, removed: 0 };
}

/** The heartbeat: continue a sync that is part-way, else start one when the schedule says so. */
export function heartbeat(svc: Services): SyncResult | { state: 'idle'; message: string } {
  if (loadJob(svc.state)) return runSync(svc, { trigger: 'scheduled', mode: 'continue' });
  const settings = loadSettings(svc.config);
  const due = isDue(settings.schedule, svc.clock.nowMs(), readNumber(svc.config, KEYS.lastScheduledRun), svc.clock.local);
  if (!due.due) return { state: 'idle', message: due.why };
  return runSync(svc, { trigger: 'scheduled', mode: 'start' });
}
