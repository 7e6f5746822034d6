// Directory errors mid-read: transient errors are retried with backoff, and a read that still fails part-way
// never produces a plan or a write.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { generateDomain, rollover, DEMO_DOMAIN } from '../../../emulator/domain';
import { GoogleErrors } from '../../../emulator/runtime';
import { CATALOG } from '../../../src/core/messages';
import { DEMO_RULES } from '../../../emulator/serve';
import { faultSuite, Row, catalog, sheetDump, newest, STAFF_RULES, expectedIds, TRANSIENT } from './helpers';

const { rec, world, compareRoster, bigWorld } = faultSuite('directoryErrors');

rec.test('directory', 'transient 5xx and 429 on page k of users.list are retried with backoff and the sync succeeds', () => {
  for (const [label, make] of Object.entries(TRANSIENT)) {
    const w = bigWorld();
    const want = expectedIds(w);
    for (let page = 1; page <= 4; page++) {
      later(w);
      // The k-th call fails, then its first retry fails too; the second retry succeeds.
      const remove = w.rt.inject('AdminDirectory.Users.list', (n) => (n === page || n === page + 1 ? make('users.list') : undefined));
      const result = w.call('syncNow', {});
      remove();
      const calls = w.rt.lastExecution()!.calls;
      expect(result.state).toBe('done');
      expect(calls['AdminDirectory.Users.list']).toBe(4 + 2); // 4 pages + 2 retries
      expect(calls['Utilities.sleep']).toBeGreaterThanOrEqual(2); // backoff between attempts
      rec.count('retriedErrors', 2);
      rec.count('faultScenarios');
      const ids = w.roster().map((r) => r.ID);
      expect(new Set(ids)).toEqual(want);
      expect(compareRoster(w, w.roster())).toMatchObject({ duplicated: 0 });
      if (page === 1) expect(result.applied.create).toBe(want.size);
      else expect(result.message).toBe('No changes.');
    }
    expect(w.history().every((h) => h.Outcome === 'success')).toBe(true);
    rec.note(`${label}: retried on each of the 4 users.list pages`);
  }
});

rec.test('directory', 'transient errors on page k of members.list (a group rule with several pages) are retried and the sync succeeds', () => {
  const rules = [...DEMO_RULES, { id: 'all-students', type: 'group', groupEmail: `all-students@${DEMO_DOMAIN}`, role: 'student' }];
  for (const [, make] of Object.entries(TRANSIENT)) {
    const w = world({ rules });
    let reference: Row[] | null = null;
    // admins (1 page), counselors (1 page), all-students (2 pages of 200): 4 members.list calls.
    for (let call = 1; call <= 4; call++) {
      later(w);
      const remove = w.rt.inject('AdminDirectory.Members.list', (n) => (n >= call && n < call + 3 ? make('members.list') : undefined));
      const result = w.call('syncNow', {});
      remove();
      expect(result.state).toBe('done');
      expect(w.rt.lastExecution()!.calls['AdminDirectory.Members.list']).toBe(4 + 3);
      rec.count('retriedErrors', 3);
      rec.count('faultScenarios');
      if (!reference) reference = w.roster();
      expect(compareRoster(w, reference)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
    }
  }
});

rec.test('directory', 'when retries run out mid-read the sync stops, History records the error, and nothing is deactivated from the partial snapshot', () => {
  const cases: { world: () => World; method: string; calls: number; prepare: (w: World) => void }[] = [
    {
      // users.list page 3 of 4 keeps failing; 300 people moved to /Alumni would be deactivated by a full read.
      world: bigWorld,
      method: 'AdminDirectory.Users.list',
      calls: 4,
      prepare: (w) => {
        for (const u of w.rt.directory.allUsers().filter((x) => x.orgUnitPath.startsWith('/Students/')).slice(0, 300)) w.rt.directory.moveUser(u.primaryEmail, '/Alumni');
      },
    },
    {
      // members.list of the second group rule keeps failing; a yearly rollover would deactivate the graduates.
      world: () => world(),
      method: 'AdminDirectory.Members.list',
      calls: 2,
      prepare: (w) => void rollover(w.rt.directory, 'alumni'),
    },
    {
      world: () => world(),
      method: 'AdminDirectory.Orgunits.list',
      calls: 1,
      prepare: (w) => void rollover(w.rt.directory, 'alumni'),
    },
  ];
  for (const c of cases) {
    for (let page = 1; page <= c.calls; page++) {
      for (const make of [TRANSIENT['503 unavailable'], TRANSIENT['429 rateLimitExceeded']]) {
        const w = c.world();
        w.save({ threshold: { kind: 'percent', value: 100 } });
        w.call('syncNow', {});
        c.prepare(w);
        later(w);
        const roster = sheetDump(w, 'Roster');
        const writes = w.writes('Roster');
        const historyRows = w.history().length;
        const remove = w.rt.inject(c.method, (n) => (n >= page ? make(c.method) : undefined));
        const result = w.call('syncNow', {});
        const attempts = w.rt.lastExecution()!.calls[c.method];
        remove();
        expect(result.state).toBe('failed');
        expect(result.message).toMatch(catalog('directoryUnavailable'));
        expect(result.fix).toBe(CATALOG.directoryUnavailable.fix);
        expect(attempts).toBe(page - 1 + 5); // the pages before, then 5 attempts on the failing one
        rec.count('retriedErrors', 4);
        expect(w.history()).toHaveLength(historyRows + 1);
        expect(newest(w)).toMatchObject({ Outcome: 'failed', Message: result.message, Created: '0', Deactivated: '0', Deleted: '0' });
        expect(sheetDump(w, 'Roster')).toBe(roster);
        rec.count('writesFromPartialRead', w.writes('Roster') - writes);
        expect(w.writes('Roster')).toBe(writes);
        expect(w.call('getState').running).toBeNull(); // the failed sync left no job behind
        rec.count('faultScenarios');
        // The same sync without the fault does deactivate: the failed one really was holding changes back.
        later(w);
        const ok = w.call('syncNow', {});
        expect(ok.state).toBe('done');
        expect(ok.applied.deactivate).toBeGreaterThan(0);
      }
    }
  }
});

rec.test('directory', 'a non-transient error mid-read (400 bad page token, 403 forbidden) is not retried and changes nothing', () => {
  for (const make of [(m: string) => GoogleErrors.invalidInput(m, 'Invalid pageToken'), (m: string) => GoogleErrors.forbidden(m)]) {
    const w = bigWorld();
    w.call('syncNow', {});
    later(w);
    const roster = sheetDump(w, 'Roster');
    const remove = w.rt.inject('AdminDirectory.Users.list', (n) => (n === 2 ? make('users.list') : undefined));
    const result = w.call('syncNow', {});
    expect(w.rt.lastExecution()!.calls['AdminDirectory.Users.list']).toBe(2);
    remove();
    expect(result.state).toBe('failed');
    expect(result.message).toMatch(/directory/i);
    expect(sheetDump(w, 'Roster')).toBe(roster);
    expect(newest(w).Outcome).toBe('failed');
    rec.count('faultScenarios');
  }
});

rec.test('directory', 'a daily sync that fails because the directory is down is tried again at the next heartbeat, not a day later', () => {
  const w = world();
  // 10:00 in New York now; the daily slot is 11:00.
  w.save({ schedule: { mode: 'daily', hour: 11, timeZone: 'America/New_York', blackouts: [] } });
  const remove = w.rt.inject('AdminDirectory.Users.list', (n) => GoogleErrors.unavailable(`users.list #${n}`));
  for (let h = 0; h < 4 && !w.history().length; h++) w.rt.advanceHours(1);
  remove();
  const [failed] = w.history();
  expect(failed).toMatchObject({ Trigger: 'scheduled', Outcome: 'failed', Fix: CATALOG.directoryUnavailable.fix });
  w.rt.advanceHours(2);
  // Full syncs only: once one succeeded, the heartbeats between the daily slots run incremental ones.
  const fullSyncs = () => w.history().filter((h) => h.Kind !== 'incremental');
  const rows = fullSyncs();
  expect(rows.map((h) => h.Outcome)).toEqual(['failed', 'success']);
  expect(Date.parse(rows[1].Started) - Date.parse(failed.Started)).toBeLessThan(2 * 3_600_000);
  // Once it has run, the next one waits for tomorrow's slot.
  w.rt.advanceHours(6);
  expect(fullSyncs()).toHaveLength(2);
  expect(w.history().filter((h) => h.Kind === 'incremental').every((h) => h.Outcome === 'success' && Date.parse(h.Started) > Date.parse(rows[1].Started))).toBe(true);
  rec.count('faultScenarios');
});

rec.test('directory', 'a scheduled sync resumed an hour later reads its users listing again rather than use a page token Google has ended (listings over 60 minutes); one that cannot be read between heartbeats fails with how to fix it', () => {
  const hourly = { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] };
  const slowParts = (budgetMs: number) => {
    const w = world({ directory: generateDomain({ users: 1600, domain: DEMO_DOMAIN, seed: 11 }), rules: STAFF_RULES, globals: { ROSTER_SYNC_BUDGET_MS: budgetMs } });
    // A domain an earlier sync counted as small is read one call at a time (the listing this test is about);
    // a large one is read in parallel rounds, each listing ending within a part (scale.test.ts).
    w.rt.properties.script.map.set(`rs:${w.rt.activeSpreadsheetId}:directoryUsers`, '1600');
    w.save({ schedule: hourly });
    w.rt.resetCounters();
    for (let i = 0; i < 10 && !w.history().length; i++) w.rt.advanceHours(1);
    return w;
  };
  // Parts of 1.3 s read two or three pages of four, an hour apart.
  let w = slowParts(1300);
  expect(w.history().map((h) => [h.Outcome, h.Parts])).toEqual([['success', expect.stringMatching(/^[3-9]$/)]]);
  expect(w.rt.calls['AdminDirectory.Users.list']).toBeGreaterThan(4); // read again from the first page
  const reference = world({ directory: generateDomain({ users: 1600, domain: DEMO_DOMAIN, seed: 11 }), rules: STAFF_RULES });
  reference.call('syncNow', {});
  expect(compareRoster(w, reference.roster())).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
  rec.count('faultScenarios');

  // Parts of 0.7 s read one page an hour: the listing never ends within the hour, and the sync says so.
  w = slowParts(700);
  const [failed] = w.history();
  expect(failed).toMatchObject({ Trigger: 'scheduled', Outcome: 'failed', Fix: CATALOG.listingTooSlow.fix });
  expect(failed.Message).toMatch(catalog('listingTooSlow'));
  expect(w.roster()).toEqual([]);
  expect(w.rt.outbox.map((m) => m.subject)).toEqual(['Roster Sync: scheduled sync failed']);
  rec.count('faultScenarios');
});
