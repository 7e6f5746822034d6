import { isDue, nextRunMs } from '../../src/core/schedule';
import { Schedule } from '../../src/core/settings';
import { intlLocal } from '../fakes/memory';

const daily: Schedule = { mode: 'daily', hour: 23, timeZone: 'America/New_York', blackouts: [] };
const at = (iso: string) => Date.parse(iso);

test('daily at 23:00 New York is due in the 23:00 heartbeat in summer (UTC-4) and winter (UTC-5)', () => {
  expect(isDue(daily, at('2026-07-02T03:30:00Z'), at('2026-07-01T03:30:00Z'), intlLocal).due).toBe(true);
  expect(isDue(daily, at('2026-07-02T02:30:00Z'), at('2026-07-01T03:30:00Z'), intlLocal).due).toBe(false);
  expect(isDue(daily, at('2026-12-02T04:30:00Z'), at('2026-12-01T04:30:00Z'), intlLocal).due).toBe(true);
  expect(isDue(daily, at('2026-12-02T03:30:00Z'), at('2026-12-01T04:30:00Z'), intlLocal).due).toBe(false);
});

test('a missed 23:00 heartbeat is caught up by the next one', () => {
  expect(isDue(daily, at('2026-07-02T04:10:00Z'), at('2026-07-01T03:30:00Z'), intlLocal).due).toBe(true);
});

test('a fresh install waits for the first 23:00 slot instead of syncing at once', () => {
  expect(isDue(daily, at('2026-07-01T15:00:00Z'), null, intlLocal).due).toBe(false);
  expect(isDue(daily, at('2026-07-02T03:05:00Z'), null, intlLocal).due).toBe(true);
});

test('a daily sync stays due until one is recorded: a killed first run or a missed heartbeat is caught up', () => {
  const savedAt = at('2026-07-01T15:00:00Z'); // 11:00 in New York
  expect(isDue(daily, at('2026-07-01T20:00:00Z'), null, intlLocal, savedAt).due).toBe(false);
  expect(isDue(daily, at('2026-07-02T03:20:00Z'), null, intlLocal, savedAt).due).toBe(true);
  // The 23:20 run was killed before it saved anything: the 00:20 heartbeat runs it again.
  expect(isDue(daily, at('2026-07-02T04:20:00Z'), null, intlLocal, savedAt).due).toBe(true);
  expect(isDue(daily, at('2026-07-02T04:20:00Z'), at('2026-07-02T04:20:00Z'), intlLocal, savedAt).due).toBe(false);
});

test('changing the hour does not run a sync at once for a slot that passed before the change', () => {
  const lastRun = at('2026-07-01T03:20:00Z'); // 23:20 the day before
  const hourChangedAt = at('2026-07-01T14:00:00Z'); // 10:00, hour set to 6:00
  const six: Schedule = { ...daily, hour: 6 };
  expect(isDue(six, at('2026-07-01T14:20:00Z'), lastRun, intlLocal, hourChangedAt).due).toBe(false);
  expect(isDue(six, at('2026-07-02T10:20:00Z'), lastRun, intlLocal, hourChangedAt).due).toBe(true);
});

test('after a blackout the first daily sync runs at its slot, not at the first heartbeat after midnight', () => {
  const s: Schedule = { ...daily, blackouts: [{ start: '2026-07-01', end: '2026-07-03' }] };
  const lastRun = at('2026-06-30T03:20:00Z'); // 23:20 on June 29
  expect(isDue(s, at('2026-07-04T04:20:00Z'), lastRun, intlLocal).due).toBe(false); // 00:20 on July 4
  expect(isDue(s, at('2026-07-04T15:20:00Z'), lastRun, intlLocal).due).toBe(false); // 11:20 on July 4
  expect(isDue(s, at('2026-07-05T03:20:00Z'), lastRun, intlLocal).due).toBe(true); // 23:20 on July 4
});

test('hourly runs once per heartbeat even when the trigger minute drifts', () => {
  const hourly: Schedule = { ...daily, mode: 'hourly' };
  expect(isDue(hourly, at('2026-07-01T10:59:00Z'), at('2026-07-01T10:02:00Z'), intlLocal).due).toBe(true);
  expect(isDue(hourly, at('2026-07-01T10:30:00Z'), at('2026-07-01T10:02:00Z'), intlLocal).due).toBe(false);
});

test('the next run skips blackout days and honours the time zone', () => {
  const s: Schedule = { ...daily, blackouts: [{ start: '2026-07-01', end: '2026-07-03' }] };
  expect(new Date(nextRunMs(s, at('2026-07-01T12:00:00Z'), intlLocal)!).toISOString()).toBe('2026-07-05T03:00:00.000Z');
  expect(isDue(s, at('2026-07-02T03:30:00Z'), null, intlLocal)).toMatchObject({ due: false, why: 'paused by the blackout 2026-07-01 to 2026-07-03' });
  expect(nextRunMs({ ...daily, mode: 'off' }, at('2026-07-01T12:00:00Z'), intlLocal)).toBeNull();
});
