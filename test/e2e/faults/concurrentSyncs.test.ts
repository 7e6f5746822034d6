// Two syncs at once: a second sync of the same roster waits or says one is running, and the two never both
// write.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { holdSyncLease, world as harnessWorld } from '../harness';
import { DEMO_DOMAIN } from '../../../emulator/domain';
import { faultSuite, Json, catalog, sheetDump, setLimit } from './helpers';

const { rec, world, compareRoster, runToEnd } = faultSuite('concurrentSyncs');

rec.test('concurrency', 'two syncs at once (trigger and Sync now, two admins): one runs, the other says a sync is already running', () => {
  const w = world({ globals: { ROSTER_SYNC_BUDGET_MS: 600 } });
  const second = `it@${DEMO_DOMAIN}`;
  w.save({ admins: [second] });
  // A sync part-way: the first part has saved its progress.
  const first = w.call('syncNow', {});
  expect(first.state).toBe('in-progress');
  const roster = sheetDump(w, 'Roster');
  const historyRows = w.history().length;

  // Its next part is running (holding the roster's sync lease) when the other admin presses Sync now,
  // edits an account, or when the heartbeat fires.
  const release = holdSyncLease(w.rt);
  const busy = w.call('syncNow', {}, second);
  expect(busy.state).toBe('busy');
  expect(busy.message).toMatch(catalog('alreadyRunning'));
  // The saved progress is part 1's; the part holding the lease is the next one.
  expect(busy.message).toContain('part 2');
  expect(w.call('continueSync', undefined, second).state).toBe('busy');
  expect(w.envelope('syncUser', { email: `admin@${DEMO_DOMAIN}` })).toMatchObject({ ok: false, error: { text: expect.stringMatching(catalog('alreadyRunning')) } });
  expect(w.envelope('addAccount', { name: 'Visiting Coach', email: 'coach@visitors.example', role: 'teacher' }, second)).toMatchObject({ ok: false, error: { text: expect.stringMatching(catalog('alreadyRunning')) } });
  const [beat] = w.rt.fireTriggers();
  expect(beat.ok).toBe(true);
  expect((beat.result as Json).state).toBe('busy');
  expect(sheetDump(w, 'Roster')).toBe(roster);
  expect(w.history()).toHaveLength(historyRows);
  rec.count('faultScenarios', 4);
  release();

  // The other admin's Sync now continues the same sync rather than starting a second one.
  const done = runToEnd(w);
  expect(done.result.state).toBe('done');
  const rows = w.history();
  expect(rows).toHaveLength(historyRows + 1);
  expect(rows[rows.length - 1]).toMatchObject({ Outcome: 'success', Created: String(w.roster().length) });
  expect(compareRoster(w, w.roster())).toMatchObject({ duplicated: 0 });
});

rec.test(
  'concurrency',
  'document scope: Sync now while a scheduled part holds the roster\'s sync lease says a sync is already running',
  () => {
    const w = harnessWorld({ scriptPath: rec.documentBundle });
    const release = holdSyncLease(w.rt); // the scheduled part running now
    const r = w.call('syncNow', {});
    release();
    expect(r.state).toBe('busy');
  },
);

rec.test('concurrency', 'the sync lease: a killed part blocks its roster until Google has surely ended it, and never another roster', () => {
  const w = world({ globals: { ROSTER_SYNC_BUDGET_MS: 600 } });
  // A part killed (before its lease could be released) leaves the lease behind.
  setLimit(w, 300);
  const start = w.rt.nowMs();
  expect(() => w.envelope('syncNow', {})).toThrow('Exceeded maximum execution time');
  setLimit(w, 360_000);
  expect(w.rt.locks.held.size).toBe(0);
  const busy = w.call('syncNow', {});
  expect(busy.state).toBe('busy');
  // Another roster of the same script syncs meanwhile: its lease is its own.
  const other = w.rt.spreadsheets.create('Another roster', w.rt.defaultUser).id;
  const inOther = (fn: string, arg?: unknown) => {
    const r = w.rt.runFromBrowser(fn, arg === undefined ? [] : [arg], { docId: other }) as Json;
    if (!r.ok) throw new Error(r.error.text);
    return r.data;
  };
  inOther('useMyAccountForSync', {});
  inOther('saveSettings', { ...inOther('getState').settings, rules: w.settings().rules });
  let r = inOther('syncNow', {});
  while (r.state === 'in-progress') r = inOther('continueSync');
  expect(r.state).toBe('done');
  // Six minutes after the killed part started, Google has ended it: Sync now goes on.
  w.rt.setClock(start + 6 * 60_000 + 16_000);
  expect(runToEnd(w).result.state).toBe('done');
  expect(compareRoster(w, w.roster())).toMatchObject({ duplicated: 0 });
  rec.count('faultScenarios', 2);
});
