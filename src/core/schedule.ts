// When a scheduled sync is due. The add-on owns one hourly heartbeat trigger;
// the schedule itself lives in settings, so changing it never touches triggers.
import { LocalTime } from './ports';
import { Schedule, Settings } from './settings';

const HOUR_MS = 60 * 60 * 1000;

export type LocalTimeFn = (ms: number, timeZone: string) => LocalTime;

export interface Due {
  due: boolean;
  why: string;
}

export function inBlackout(schedule: Schedule, today: string): { start: string; end: string } | undefined {
  return schedule.blackouts.find((b) => b.start <= today && today <= b.end);
}

/**
 * The start of the most recent daily slot at or before now: the hour boundary
 * whose local time is schedule.hour, searching back at most 25 hours (DST-safe).
 */
export function lastSlotMs(schedule: Schedule, nowMs: number, local: LocalTimeFn): number {
  const top = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  for (let h = 0; h <= 25; h++) {
    const t = top - h * HOUR_MS;
    if (local(t, schedule.timeZone).hour === schedule.hour) return t;
  }
  return top - 24 * HOUR_MS;
}

/**
 * Whether the heartbeat at nowMs should start a scheduled sync. `lastRunMs`: the last scheduled sync
 * that saved progress or ended; `scheduleSinceMs`: when the schedule was last set or changed. A daily
 * sync is due from the first slot after both, and stays due until one is recorded, so a first run
 * that was killed (or a heartbeat that did not fire) is caught up at the next heartbeat.
 */
export function isDue(schedule: Schedule, nowMs: number, lastRunMs: number | null, local: LocalTimeFn, scheduleSinceMs: number | null = null): Due {
  if (schedule.mode === 'off') return { due: false, why: 'scheduled syncs are off' };
  const blackout = inBlackout(schedule, local(nowMs, schedule.timeZone).date);
  if (blackout) return { due: false, why: `paused by the blackout ${blackout.start} to ${blackout.end}` };
  if (schedule.mode === 'hourly') {
    // Trigger minutes drift within the hour; 45 minutes keeps one run per heartbeat.
    const due = lastRunMs === null || nowMs - lastRunMs >= 45 * 60 * 1000;
    return { due, why: due ? 'hourly sync' : 'ran less than an hour ago' };
  }
  const slot = lastSlotMs(schedule, nowMs, local);
  // A slot that fell in a blackout is skipped, not caught up the morning after the blackout ends.
  const skipped = inBlackout(schedule, local(slot, schedule.timeZone).date);
  if (skipped) return { due: false, why: `the last daily slot fell in the blackout ${skipped.start} to ${skipped.end}` };
  const since = Math.max(lastRunMs ?? -Infinity, scheduleSinceMs ?? -Infinity);
  // Never run and no record of when the schedule was set: only the slot's own hour counts.
  const due = since === -Infinity ? nowMs - slot < HOUR_MS : since < slot;
  return { due, why: due ? `daily sync at ${schedule.hour}:00 ${schedule.timeZone}` : 'not yet time for the daily sync' };
}

/**
 * Whether the heartbeat at nowMs should run an incremental sync (when no full one is due): with a
 * daily schedule, at every heartbeat between the daily full syncs (an incremental sync with nothing
 * in the log costs one call), once the first full sync recorded where to read the admin log from (`ready`).
 */
export function isIncrementalDue(settings: Settings, nowMs: number, local: LocalTimeFn, ready: boolean): Due {
  const { schedule } = settings;
  if (!settings.incremental) return { due: false, why: 'incremental syncs are off' };
  if (schedule.mode !== 'daily') return { due: false, why: schedule.mode === 'hourly' ? 'hourly full syncs need no incremental ones' : 'scheduled syncs are off' };
  if (!ready) return { due: false, why: 'incremental syncs start after the first full sync' };
  const blackout = inBlackout(schedule, local(nowMs, schedule.timeZone).date);
  if (blackout) return { due: false, why: `paused by the blackout ${blackout.start} to ${blackout.end}` };
  return { due: true, why: 'incremental sync between the daily full syncs' };
}

/** The next time a scheduled sync will run (the heartbeat that follows the next slot). */
export function nextRunMs(schedule: Schedule, nowMs: number, local: LocalTimeFn): number | null {
  if (schedule.mode === 'off') return null;
  const top = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  for (let h = 1; h <= 24 * 400; h++) {
    const t = top + h * HOUR_MS;
    const lt = local(t, schedule.timeZone);
    if (inBlackout(schedule, lt.date)) continue;
    if (schedule.mode === 'hourly' || lt.hour === schedule.hour) return t;
  }
  return null;
}
