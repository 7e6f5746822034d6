// Executions cut off at the time limit, anywhere in a sync: it resumes or starts clean, no account lost or
// duplicated, no lock left held.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { generateDomain, rollover, DEMO_DOMAIN } from '../../../emulator/domain';
import { faultSuite, Json, setLimit, beat, STAFF_RULES } from './helpers';

const { rec, world, compareRoster, runToEnd } = faultSuite('cutOffs');

function cutSweep(label: string, setup: () => World, pointsPerPart: number): void {
  const reference = setup();
  const clean = runToEnd(reference);
  expect(clean.result.state).toBe('done');
  const expected = reference.roster();
  let points = 0;
  clean.parts.forEach((part, index) => {
    for (let i = 0; i < pointsPerPart; i++) {
      const ms = Math.max(1, Math.floor((part.ms * (i + 0.5)) / pointsPerPart));
      const w = setup();
      const run = runToEnd(w, { part: index + 1, ms });
      expect(run.parts.some((p) => p.state === 'cut')).toBe(true);
      expect(run.result.state).toBe('done');
      expect(compareRoster(w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
      const state = w.call('getState');
      expect(state.running).toBeNull();
      expect(w.call('getSyncProgress')).toEqual({ running: false });
      expect(w.rt.locks.held.size).toBe(0);
      const outcomes = w.history().map((h) => h.Outcome);
      expect(outcomes[outcomes.length - 1]).toBe('success');
      // Resumed from its checkpoint or started clean, never failed, and no checkpoint was found damaged.
      expect(outcomes.filter((o) => o === 'failed' || o === 'discarded')).toEqual([]);
      points++;
      rec.count('cutPoints');
      rec.count('faultScenarios');
    }
  });
  rec.note(`${label}: ${clean.parts.length} execution(s) in a clean run, ${points} cut-off points`);
}

rec.test('cut-off', 'a first sync cut off anywhere (one part, or parts of 0.4 s and 0.7 s) resumes or starts clean: no lost or duplicated account, no stuck lock', () => {
  cutSweep('first sync, one part', () => world(), 24);
  cutSweep('first sync, 0.7 s parts', () => world({ globals: { ROSTER_SYNC_BUDGET_MS: 700 } }), 8);
  cutSweep('first sync, 0.4 s parts', () => world({ globals: { ROSTER_SYNC_BUDGET_MS: 400 } }), 5);
});

rec.test('cut-off', 'a rollover sync (moves, deactivations, deletions after the grace period) cut off anywhere ends with the same roster', () => {
  const setup = (budget?: number) => () => {
    const w = world(budget ? { globals: { ROSTER_SYNC_BUDGET_MS: budget } } : {});
    w.save({ threshold: { kind: 'percent', value: 100 } });
    expect(runToEnd(w).result.state).toBe('done');
    const students = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended);
    for (const u of students.slice(0, 20)) w.rt.directory.moveUser(u.primaryEmail, '/Alumni');
    later(w);
    expect(runToEnd(w).result.state).toBe('done'); // 20 deactivated, deleted once the 30-day grace period has passed
    rollover(w.rt.directory, 'alumni');
    w.rt.directory.renameUser(students[30].primaryEmail, 'Renamed', 'Person');
    w.rt.directory.suspend(students[40].primaryEmail, true);
    later(w, 31 * 24 * 60);
    return w;
  };
  cutSweep('rollover sync, one part', setup(), 16);
  cutSweep('rollover sync, 0.5 s parts', setup(500), 5);
});

rec.test('cut-off', 'a sync whose changes are applied over several parts never deletes, in a later part, an account it deactivated in an earlier one (grace period 0)', () => {
  const directory = generateDomain({ users: 1600, domain: DEMO_DOMAIN, seed: 11 });
  directory.addOrgUnit('/Alumni');
  const w = world({ directory, rules: STAFF_RULES, globals: { ROSTER_SYNC_BUDGET_MS: 1500 } });
  w.save({ threshold: { kind: 'percent', value: 100 }, graceDays: 0 });
  expect(runToEnd(w).result.state).toBe('done');
  const leavers = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended).slice(0, 700);
  for (const u of leavers) w.rt.directory.moveUser(u.primaryEmail, '/Alumni');
  later(w);
  const run = runToEnd(w);
  // 700 deactivations are written 500 at a time; the second batch is in a later part than the first.
  expect(run.parts.length).toBeGreaterThan(1);
  expect(run.result).toMatchObject({ state: 'done', applied: { deactivate: 700, delete: 0 } });
  const byId = new Map(w.roster().map((r) => [r.ID, r]));
  for (const u of leavers) expect(byId.get(u.id)).toMatchObject({ Status: 'disabled' });
  later(w);
  expect(runToEnd(w).result).toMatchObject({ state: 'done', applied: { delete: 700 } });
  rec.count('faultScenarios');
  rec.count('accountsChecked', 700);
});

rec.test('cut-off', 'a scheduled sync cut off by the limit is picked up by a later heartbeat; the trigger never sticks', () => {
  const cases: { budget?: number; cutAtBeat: number; cutMs: number }[] = [
    { cutAtBeat: 1, cutMs: 700 }, // one part, killed mid-read
    { budget: 600, cutAtBeat: 1, cutMs: 300 }, // killed before the first checkpoint
    { budget: 600, cutAtBeat: 2, cutMs: 300 }, // killed in the second part, after a checkpoint
  ];
  for (const { budget, cutAtBeat, cutMs } of cases) {
    const w = world(budget ? { globals: { ROSTER_SYNC_BUDGET_MS: budget } } : {});
    w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
    const reference = world();
    reference.call('syncNow', {});
    if (cutAtBeat === 2) expect((beat(w)[0].result as Json).state).toBe('in-progress');
    setLimit(w, cutMs);
    const first = beat(w);
    setLimit(w, 360_000);
    expect(first.some((r) => !r.ok && /Exceeded maximum execution time/.test(r.error ?? ''))).toBe(true);
    const runs = w.rt.advanceHours(6);
    expect(runs.every((r) => r.ok)).toBe(true);
    expect(w.history().some((h) => h.Trigger === 'scheduled' && h.Outcome === 'success')).toBe(true);
    expect(compareRoster(w, reference.roster())).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
    expect(w.rt.locks.held.size).toBe(0);
    rec.count('cutPoints');
    rec.count('faultScenarios');
  }
});

rec.test('cut-off', 'the first daily sync, killed before it saved anything, runs again at the next heartbeat, not a day later', () => {
  const w = world();
  // 10:00 in New York now; the daily slot is 11:00.
  w.save({ schedule: { mode: 'daily', hour: 11, timeZone: 'America/New_York', blackouts: [] } });
  setLimit(w, 300);
  let killedAt = 0;
  for (let h = 0; h < 4 && !killedAt; h++) {
    const runs = w.rt.advanceHours(1);
    if (runs.some((r) => !r.ok && /Exceeded maximum execution time/.test(r.error ?? ''))) killedAt = w.rt.nowMs();
  }
  setLimit(w, 360_000);
  expect(killedAt).toBeGreaterThan(0);
  expect(w.history()).toEqual([]);
  w.rt.advanceHours(2);
  // The full sync; an incremental one may follow it at the next heartbeat.
  expect(w.history().filter((h) => h.Kind !== 'incremental').map((h) => [h.Trigger, h.Outcome])).toEqual([['scheduled', 'success']]);
  expect(w.history()[0].Kind).toBe('full');
  expect(Date.parse(w.history()[0].Started) - killedAt).toBeLessThan(2 * 3_600_000);
  rec.count('cutPoints');
  rec.count('faultScenarios');
});
