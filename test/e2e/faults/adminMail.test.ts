// Mail to the admins about scheduled syncs that failed or were halted.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { rollover, DEMO_DOMAIN } from '../../../emulator/domain';
import { CATALOG } from '../../../src/core/messages';
import { faultSuite, Json, beat, scheduledRun, newest } from './helpers';

const { rec, world } = faultSuite('adminMail');

rec.test('notify', 'a scheduled sync that fails or is halted by the threshold emails the admins (error, counts, link); notifyOnFailure=false turns it off', () => {
  const hourly = { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] };
  const admins = [`it@${DEMO_DOMAIN}`, `principal@${DEMO_DOMAIN}`];
  for (const notifyOnFailure of [true, false]) {
    // Failure: the sync account lost its directory rights.
    let w = world();
    w.save({ schedule: hourly, admins, notifyOnFailure });
    w.rt.revokeDirectoryAccess(true);
    const [run] = beat(w);
    expect(run.ok).toBe(true);
    expect((run.result as Json).state).toBe('failed');
    if (notifyOnFailure) {
      expect(w.rt.outbox).toHaveLength(1);
      const mail = w.rt.outbox[0];
      expect(mail.to.split(',').sort()).toEqual([`admin@${DEMO_DOMAIN}`, ...admins].sort());
      expect(mail.subject).toBe('Roster Sync: scheduled sync failed');
      expect(mail.body).toContain(CATALOG.noDirectoryAccess.text);
      expect(mail.body).toContain(CATALOG.noDirectoryAccess.fix);
      expect(mail.body).toContain('Counts: No changes.');
      expect(mail.body).toContain(w.rt.spreadsheet().url());
      rec.count('emails');
      // The same failure an hour later is in History again, but not mailed again until a day has passed.
      expect(scheduledRun(w).state).toBe('failed');
      expect(w.history().filter((h) => h.Outcome === 'failed')).toHaveLength(2);
      expect(w.rt.outbox).toHaveLength(1);
      w.rt.advanceHours(24);
      expect(w.rt.outbox).toHaveLength(2);
      // Once a scheduled sync succeeds, the next failure is news again.
      w.rt.revokeDirectoryAccess(false);
      expect(scheduledRun(w).state).toBe('done');
      expect(newest(w)).toMatchObject({ Outcome: 'success' });
      w.rt.revokeDirectoryAccess(true);
      expect(scheduledRun(w).state).toBe('failed');
      expect(w.rt.outbox).toHaveLength(3);
    } else expect(w.rt.outbox).toHaveLength(0);

    // Halted: a rollover would deactivate more than 5 % of the accounts.
    w = world();
    w.save({ admins, notifyOnFailure, threshold: { kind: 'percent', value: 5 } });
    w.call('syncNow', {});
    rollover(w.rt.directory, 'alumni');
    w.save({ schedule: hourly });
    const [halt] = beat(w);
    expect((halt.result as Json).state).toBe('halted');
    if (notifyOnFailure) {
      expect(w.rt.outbox).toHaveLength(1);
      const mail = w.rt.outbox[0];
      expect(mail.subject).toBe('Roster Sync: scheduled sync halted by the deletion threshold');
      expect(mail.body).toMatch(/This sync would deactivate or delete \d+ accounts, more than the limit of \d+ \(5% of \d+ synced accounts\)\. Nothing was changed\./);
      expect(mail.body).toContain(CATALOG.thresholdBlocked.fix);
      expect(mail.body).toContain('Counts: No changes.');
      expect(mail.body).toContain(w.rt.spreadsheet().url());
      rec.count('emails');
    } else expect(w.rt.outbox).toHaveLength(0);
    rec.count('faultScenarios', 2);
  }
  // A manual failure and a successful scheduled sync send nothing.
  const w = world();
  w.rt.revokeDirectoryAccess(true);
  expect(w.call('syncNow', {}).state).toBe('failed');
  w.rt.revokeDirectoryAccess(false);
  w.save({ schedule: hourly });
  beat(w);
  expect(newest(w)).toMatchObject({ Trigger: 'scheduled', Outcome: 'success' });
  expect(w.rt.outbox).toHaveLength(0);
});
