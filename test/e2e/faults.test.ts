// Fault suite: the built bundle (dist/Code.js) in the simulated Apps Script runtime,
// with failures injected where Google fails in real life: the directory mid-read,
// broken mappings, lost admin rights, executions cut off at the 6-minute limit,
// concurrent syncs, a protected or deleted roster, corrupt or hand-edited state.
// Each test records what it tried into .cache/reliability/faults.json (see
// scripts/reliability.ts, which renders docs/reliability.md from it).
import { afterKilled, holdSyncLease, later, world as harnessWorld, World } from './harness';
import { DEMO_DOMAIN, generateDomain, rollover } from '../../emulator/domain';
import { DEMO_RULES } from '../../emulator/serve';
import { GoogleErrors } from '../../emulator/runtime';
import type { SheetData } from '../../emulator/fakes/sheetData';
import { CATALOG } from '../../src/core/messages';
import { Recorder } from '../../scripts/reliability';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Row = Record<string, string>;

const rec = new Recorder('faults');
afterAll(() => rec.finish());

/** A linked world running this suite's copy of the built bundle. */
const world = (options: Parameters<typeof harnessWorld>[0] = {}) => harnessWorld({ scriptPath: rec.bundle, ...options });

// ---------- helpers ----------

/** A catalog message with its {placeholders} as wildcards. */
function catalog(id: keyof typeof CATALOG): RegExp {
  const text = CATALOG[id].text;
  return new RegExp('^' + text.split(/\{\w+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*') + '$');
}

const TIME_COLUMNS = ['Last synced', 'Out of scope since'];
const untimed = (r: Row) => JSON.stringify(Object.entries(r).filter(([k]) => !TIME_COLUMNS.includes(k)));

/** Raw values of a sheet (null when it does not exist), for "nothing changed" comparisons. */
function sheetDump(w: World, name: string): string | null {
  try {
    return JSON.stringify(w.rt.sheetValues(name));
  } catch {
    return null;
  }
}

function setLimit(w: World, ms: number): void {
  // The runtime reads its limit at every service call; tests lower it to cut an execution off mid-part.
  (w.rt as unknown as { executionLimitMs: number }).executionLimitMs = ms;
}

/**
 * Compares the roster with the one a clean run produced: every expected account present once,
 * nothing extra. Records accounts checked, lost and duplicated (asserted 0 by the caller).
 */
function compareRoster(w: World, expected: Row[]): { lost: number; duplicated: number; extra: number; differing: number } {
  const rows = w.roster();
  const ids = rows.map((r) => r.ID);
  const duplicated = ids.length - new Set(ids).size;
  const emails = rows.filter((r) => r.Status !== 'deleted').map((r) => r.Email);
  const duplicatedEmails = emails.length - new Set(emails).size;
  const have = new Map(rows.map((r) => [r.ID, r]));
  const want = new Map(expected.map((r) => [r.ID, r]));
  const lost = [...want.keys()].filter((id) => !have.has(id)).length;
  const extra = [...have.keys()].filter((id) => !want.has(id)).length;
  const differing = [...want.entries()].filter(([id, r]) => have.has(id) && untimed(have.get(id)!) !== untimed(r)).length;
  rec.count('accountsChecked', rows.length);
  rec.count('accountsLost', lost);
  rec.count('accountsDuplicated', duplicated + duplicatedEmails);
  return { lost, duplicated: duplicated + duplicatedEmails, extra, differing };
}

/** Lets hours pass until the hourly heartbeat has fired at least once (it fires at a random minute). */
function beat(w: World): ReturnType<World['rt']['advanceHours']> {
  for (let i = 0; i < 3; i++) {
    const runs = w.rt.advanceHours(1);
    if (runs.length) return runs;
  }
  throw new Error('the heartbeat did not fire in 3 hours');
}

/** Lets hours pass until a heartbeat runs a sync (the schedule's slot may not be due at the first one). */
function scheduledRun(w: World): Json {
  for (let i = 0; i < 3; i++) {
    const ran = beat(w).map((r) => r.result as Json).find((r) => r.state !== 'idle');
    if (ran) return ran;
  }
  throw new Error('no heartbeat ran a sync in 9 hours');
}

const newest = (w: World) => {
  const h = w.history();
  return h[h.length - 1];
};

const STAFF_RULES = [
  { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
  { id: 'teachers', type: 'ou', orgUnitPath: '/Staff/Teachers', includeSubOrgUnits: true, role: 'teacher' },
];

/** A domain of 1,600 people: users.list needs 4 pages of 500. */
function bigWorld(): World {
  const directory = generateDomain({ users: 1600, domain: DEMO_DOMAIN, seed: 11 });
  directory.addOrgUnit('/Alumni');
  return world({ directory, rules: STAFF_RULES });
}

/** In-scope users of the generated domain, computed from the directory without the add-on. */
function expectedIds(w: World): Set<string> {
  return new Set(
    w.rt.directory
      .allUsers()
      .filter((u) => !u.suspended && !u.archived && (u.orgUnitPath.startsWith('/Students/') || u.orgUnitPath.startsWith('/Staff/Teachers/')))
      .map((u) => u.id),
  );
}

const TRANSIENT = {
  '500 backendError': (m: string) => GoogleErrors.backendError(m),
  '503 unavailable': (m: string) => GoogleErrors.unavailable(m),
  '429 rateLimitExceeded': (m: string) => GoogleErrors.quotaExceeded(m),
  '403 userRateLimitExceeded': (m: string) => GoogleErrors.rateLimited(m),
};

// ---------- directory errors mid-read ----------

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
  const rows = w.history();
  expect(rows.map((h) => h.Outcome)).toEqual(['failed', 'success']);
  expect(Date.parse(rows[1].Started) - Date.parse(failed.Started)).toBeLessThan(2 * 3_600_000);
  // Once it has run, the next one waits for tomorrow's slot.
  w.rt.advanceHours(6);
  expect(w.history()).toHaveLength(2);
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

// ---------- a mapped OU or group deleted or renamed ----------

interface BrokenCase {
  label: string;
  rules?: unknown[];
  /** Before the first sync. */
  prepare?: (w: World) => void;
  breakIt: (w: World) => void;
  problem: RegExp;
  /** The rule as it should read once the admin points it at the new name (null: remove the rule). */
  repair: (rules: Json[]) => Json[];
}

const BROKEN: BrokenCase[] = [
  {
    label: 'OU renamed',
    breakIt: (w) => void w.rt.directory.renameOu('/Staff/Teachers', 'Faculty'),
    problem: /The organizational unit \/Staff\/Teachers in rule .* no longer exists in Google Workspace\./,
    repair: (rules) => rules.map((r) => (r.id === 'teachers' ? { ...r, orgUnitPath: '/Staff/Faculty' } : r)),
  },
  {
    label: 'OU deleted (its users moved to the parent OU)',
    rules: [...DEMO_RULES, { id: 'support', type: 'ou', orgUnitPath: '/Staff/Support', includeSubOrgUnits: true, role: 'teacher' }],
    breakIt: (w) => w.rt.directory.deleteOu('/Staff/Support'),
    problem: /The organizational unit \/Staff\/Support in rule .* no longer exists in Google Workspace\./,
    repair: (rules) => rules.filter((r) => r.id !== 'support'),
  },
  {
    label: 'group deleted',
    breakIt: (w) => w.rt.directory.deleteGroup(`admins@${DEMO_DOMAIN}`),
    problem: new RegExp(`The group admins@${DEMO_DOMAIN.replace(/\./g, '\\.')} in rule .* no longer exists in Google Workspace\\.`),
    repair: (rules) => rules.filter((r) => r.id !== 'admins'),
  },
  {
    label: 'group renamed (old address not kept as an alias)',
    // Two support staff whose only rule is this group.
    prepare: (w) => {
      for (const u of w.rt.directory.allUsers().filter((x) => x.orgUnitPath === '/Staff/Support').slice(0, 2)) w.rt.directory.addMember(`counselors@${DEMO_DOMAIN}`, u.primaryEmail);
    },
    breakIt: (w) => void w.rt.directory.renameGroup(`counselors@${DEMO_DOMAIN}`, `guidance@${DEMO_DOMAIN}`, 'Guidance', false),
    problem: new RegExp(`The group counselors@${DEMO_DOMAIN.replace(/\./g, '\\.')} in rule .* no longer exists in Google Workspace\\.`),
    repair: (rules) => rules.map((r) => (r.id === 'counselors' ? { ...r, groupEmail: `guidance@${DEMO_DOMAIN}` } : r)),
  },
];

rec.test('mappings', 'a mapped OU or group deleted or renamed: its users are held, not treated as gone; preview, History and Finalize name the broken rule and the users', () => {
  for (const c of BROKEN) {
    const w = world(c.rules ? { rules: c.rules } : {});
    w.save({ threshold: { kind: 'percent', value: 100 } });
    c.prepare?.(w);
    w.call('syncNow', {});
    const before = new Map(w.roster().map((r) => [r.ID, r]));
    c.breakIt(w);
    later(w);

    const preview = w.call('previewSync');
    expect(preview.ruleProblems).toHaveLength(1);
    expect(preview.ruleProblems[0]).toMatch(c.problem);
    expect(preview.counts.deactivate + preview.counts.delete).toBe(0);
    expect(preview.held.length).toBeGreaterThan(0);
    for (const h of preview.held) expect(h.why).toMatch(catalog('ruleHeld'));
    // Nobody loses a role the broken rule gives, either.
    for (const ch of preview.changes) expect(ch.rolesBefore.filter((r: string) => !ch.rolesAfter.includes(r))).toEqual([]);
    const heldEmails: string[] = preview.held.map((h: Json) => h.change.email);

    const result = w.call('syncNow', {});
    expect(result.state).toBe('done');
    expect(result.applied.deactivate + result.applied.delete).toBe(0);
    for (const r of w.roster()) {
      const was = before.get(r.ID)!;
      expect(r.Status).toBe(was.Status);
      expect(r['Out of scope since']).toBe(was['Out of scope since']);
      for (const role of was.Roles.split(', ').filter(Boolean)) expect(r.Roles.split(', ')).toContain(role);
    }
    const entry = newest(w);
    expect(entry.Message).toMatch(c.problem);
    expect(entry.Message).toContain(`${heldEmails.length} changes (deactivations or role removals) held while a rule is broken: ${heldEmails[0]}`);
    expect(entry.Fix).toContain('Fix the broken rule');

    const mappings = w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'mappings');
    expect(mappings.status).toBe('fail');
    expect(mappings.found).toMatch(c.problem);

    // Once the rule points at the new name (or is removed), the held users are reviewed again.
    w.save({ rules: c.repair(w.settings().rules) });
    later(w);
    const repaired = w.call('previewSync');
    expect(repaired.ruleProblems).toEqual([]);
    expect(repaired.held).toEqual([]);
    rec.count('faultScenarios');
    rec.count('heldUsers', heldEmails.length);
  }
});

// ---------- the sync account loses its rights, or the API is off ----------

rec.test('access', 'lost admin rights or the Admin SDK API turned off: the Finalize wording, the roster untouched', () => {
  const cases: { label: string; apply: (w: World) => void; id: keyof typeof CATALOG; check: string }[] = [
    { label: 'admin rights revoked', apply: (w) => w.rt.revokeDirectoryAccess(true), id: 'noDirectoryAccess', check: 'readUsers' },
    { label: 'super admin role removed from the sync account', apply: (w) => void w.rt.directory.setAdmin(`admin@${DEMO_DOMAIN}`, false), id: 'noDirectoryAccess', check: 'readUsers' },
    { label: 'API access off in the Admin console', apply: (w) => w.rt.disableAdminApi(true), id: 'apiDisabled', check: 'apiAccess' },
    {
      label: 'Admin SDK advanced service missing from the project',
      apply: (w) => {
        w.rt.advancedServiceMissing = true;
      },
      id: 'apiDisabled',
      check: 'apiAccess',
    },
  ];
  for (const c of cases) {
    const w = world();
    w.call('syncNow', {});
    rollover(w.rt.directory, 'alumni');
    later(w);
    c.apply(w);
    const roster = sheetDump(w, 'Roster');
    const result = w.call('syncNow', {});
    expect(result).toMatchObject({ state: 'failed', message: CATALOG[c.id].text, fix: CATALOG[c.id].fix });
    expect(w.envelope('previewSync')).toMatchObject({ ok: false, error: { text: CATALOG[c.id].text, fix: CATALOG[c.id].fix } });
    const check = w.call('runFinalizeChecks').checks.find((k: Json) => k.id === c.check);
    expect(check).toMatchObject({ status: 'fail', found: CATALOG[c.id].text, fix: CATALOG[c.id].fix });
    expect(sheetDump(w, 'Roster')).toBe(roster);
    expect(newest(w)).toMatchObject({ Outcome: 'failed', Message: CATALOG[c.id].text });
    rec.count('faultScenarios');
  }
});

// ---------- executions cut off ----------

interface CutRun {
  /** Each execution: its duration in simulated ms and the state it returned ('cut' when it was killed). */
  parts: { ms: number; state: string }[];
  result: Json;
}

/**
 * Runs a sync to the end as the sidebar does (Sync now, then continueSync while in progress; after a
 * cut-off the person presses Sync now again). `cut` kills execution number `cut.part` after `cut.ms`.
 */
function runToEnd(w: World, cut?: { part: number; ms: number }): CutRun {
  const parts: CutRun['parts'] = [];
  let last: Json = null;
  for (let i = 1; i <= 80; i++) {
    setLimit(w, cut && cut.part === i ? cut.ms : 360_000);
    const fn = last && last.state === 'in-progress' ? 'continueSync' : 'syncNow';
    const start = w.rt.nowMs();
    try {
      const env = w.envelope(fn, fn === 'syncNow' ? {} : undefined);
      if (!env.ok) throw new Error(`${fn}: ${env.error.text}`);
      last = env.data;
      parts.push({ ms: w.rt.nowMs() - start, state: last.state });
    } catch (error) {
      expect(String(error)).toContain('Exceeded maximum execution time');
      parts.push({ ms: w.rt.nowMs() - start, state: 'cut' });
      // Google releases a killed execution's locks; its sync lease expires after the time limit.
      rec.count('stuckLocks', w.rt.locks.held.size);
      expect(w.rt.locks.held.size).toBe(0);
      afterKilled(w.rt, start);
      last = null;
      continue;
    }
    if (last.state !== 'in-progress') break;
  }
  // Killed just after it had finished (releasing the lock, say): the next Sync now is inside the cooldown.
  if (last && last.state === 'refused' && parts.some((p) => p.state === 'cut')) last = { ...last, state: 'done' };
  setLimit(w, 360_000);
  return { parts, result: last };
}

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
  expect(w.history().map((h) => [h.Trigger, h.Outcome])).toEqual([['scheduled', 'success']]);
  expect(Date.parse(w.history()[0].Started) - killedAt).toBeLessThan(2 * 3_600_000);
  rec.count('cutPoints');
  rec.count('faultScenarios');
});

// ---------- two syncs at once ----------

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

// ---------- destination failures ----------

rec.test('destination', 'a protected roster sheet: a clear error, nothing marked as synced, and the next run retries', () => {
  const w = world();
  w.save({ threshold: { kind: 'percent', value: 100 } });
  w.call('syncNow', {});
  rollover(w.rt.directory, 'alumni');
  later(w);
  const expectedChanges = w.call('previewSync').total;
  expect(expectedChanges).toBeGreaterThan(0);
  w.rt.protectSheet(w.rt.activeSpreadsheetId, 'Roster', []);
  const roster = sheetDump(w, 'Roster');
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result.message).toMatch(catalog('rosterProtected'));
  expect(result.fix).toBe(CATALOG.rosterProtected.fix);
  expect(Object.values(result.applied).every((n) => n === 0)).toBe(true);
  expect(newest(w)).toMatchObject({ Outcome: 'failed', Created: '0', Updated: '0', Deactivated: '0', Reactivated: '0', Deleted: '0' });
  expect(sheetDump(w, 'Roster')).toBe(roster);
  const dest = w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'destination');
  expect(dest).toMatchObject({ status: 'fail', fix: CATALOG.rosterProtected.fix });
  // Protection removed: the very same changes are applied on the next run.
  w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster').protections.length = 0;
  const retried = w.call('syncNow', {});
  expect(retried.state).toBe('done');
  expect(Object.values(retried.applied as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(expectedChanges);
  rec.count('faultScenarios');
});

rec.test('destination', 'a roster sheet deleted by a user: a clear error (no silent re-creation of every account), retried once it is restored', () => {
  const w = world();
  w.call('syncNow', {});
  const [first] = w.roster();
  w.call('updateAccounts', { ids: [first.ID], status: 'disabled' }); // a local decision the roster holds
  const ss = w.rt.spreadsheet();
  const saved = ss.sheets.find((s) => s.name === 'Roster')!;
  ss.sheets.splice(ss.sheets.indexOf(saved), 1);
  later(w);
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result).toMatchObject({ message: CATALOG.rosterDeleted.text.replace('{sheet}', 'Roster'), fix: CATALOG.rosterDeleted.fix.replace('{sheet}', 'Roster') });
  expect(ss.sheets.some((s) => s.name === 'Roster')).toBe(false); // not recreated empty
  expect(w.envelope('getAccounts', {})).toMatchObject({ ok: false, error: { text: result.message } });
  expect(w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'destination')).toMatchObject({ status: 'fail', found: result.message });
  expect(ss.sheets.some((s) => s.name === 'Roster')).toBe(false);
  // Restored (Edit → Undo / version history): the next run carries on, the local decision intact.
  ss.sheets.push(saved);
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(w.roster().find((r) => r.ID === first.ID)!.Status).toBe('disabled');
  // Deleted again, and an empty sheet named Roster added on purpose: a new roster is built in it.
  ss.sheets.splice(ss.sheets.indexOf(saved), 1);
  ss.addSheet('Roster');
  later(w);
  const rebuilt = w.call('syncNow', {});
  expect(rebuilt.state).toBe('done');
  expect(rebuilt.applied.create).toBe(w.roster().length);
  rec.count('faultScenarios', 2);
});

// ---------- corrupt or hand-edited state ----------

function rosterSheet(w: World): SheetData {
  return w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
}

/** Hand edits must be reported with how to repair them, the sync must fail cleanly (no throw), and a scheduled run too. */
function expectReported(w: World, pattern: RegExp, fix: string): void {
  const roster = sheetDump(w, 'Roster');
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result.message).toMatch(pattern);
  expect(result.fix).toBe(fix);
  expect(sheetDump(w, 'Roster')).toBe(roster);
  expect(w.envelope('previewSync')).toMatchObject({ ok: false, error: { text: result.message, fix } });
  // A scheduled run: the trigger completes (no exception, so no crash loop) and records the failure once.
  w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  const before = w.history().length;
  const runs = beat(w);
  expect(runs.every((r) => r.ok)).toBe(true);
  expect(w.history().length).toBe(before + runs.filter((r) => (r.result as Json).state === 'failed').length);
  expect(newest(w)).toMatchObject({ Trigger: 'scheduled', Outcome: 'failed', Message: result.message });
  expect(sheetDump(w, 'Roster')).toBe(roster);
  w.save({ schedule: { mode: 'off', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  later(w);
  rec.count('faultScenarios');
}

rec.test('corrupt', 'a hand-edited roster (deleted column, invalid status, a 21-digit id pasted as a number) is reported with how to repair it; repaired, the next sync runs', () => {
  const w = world();
  w.call('syncNow', {});
  later(w);
  const sheet = rosterSheet(w);
  const header = (sheet.rows[0] ?? []).map(String);

  // A deleted column.
  const col = header.indexOf('Permissions');
  const saved = sheet.rows.map((r) => (r ? [...r] : r));
  for (const r of sheet.rows) if (r) r.splice(col, 1);
  expectReported(w, /The roster sheet "Roster" is missing the column\(s\) Permissions\./, CATALOG.rosterColumnsChanged.fix);
  saved.forEach((r, i) => (sheet.rows[i] = r));

  // Two columns swapped (header and values moved together): reading them by position would mix them up.
  const [name, email] = [header.indexOf('Name'), header.indexOf('Email')];
  const swap = () => sheet.rows.forEach((r) => r && ([r[name], r[email]] = [r[email], r[name]]));
  swap();
  expectReported(w, /^The columns of the roster sheet "Roster" were moved; they must stay in the order ID, Email, Name, /, CATALOG.rosterColumnsMoved.fix);
  swap();

  // A row with a status typed by hand that is not a status.
  const status = header.indexOf('Status');
  const row = 5;
  const was = sheet.rows[row]![status];
  sheet.rows[row]![status] = 'gone fishing';
  expectReported(w, new RegExp(`^Row ${row + 1} of "Roster" cannot be read: the status "gone fishing" is not one of active, disabled, suspended, deleted\\.$`), CATALOG.rosterRowInvalid.fix);
  sheet.rows[row]![status] = was;

  // A 21-digit id turned into a number by a paste (it has lost digits).
  const id = String(sheet.rows[7]![0]);
  sheet.rows[7]![0] = Number(id);
  expectReported(w, new RegExp(`^Row 8 of "Roster" cannot be read: the ID is stored as a number \\(.*\\) and has lost digits; format the ID column as plain text and paste the id again\\.$`), CATALOG.rosterRowInvalid.fix);
  sheet.rows[7]![0] = id;

  const repaired = w.call('syncNow', {});
  expect(repaired).toMatchObject({ state: 'done', message: 'No changes.' });
});

rec.test('corrupt', 'changed rows a few rows apart are written in one setValues with the rows between as they were, unless a person edited one of those meanwhile', () => {
  for (const editMeanwhile of [false, true]) {
    const w = world();
    w.call('syncNow', {});
    later(w);
    const sheet = rosterSheet(w);
    const header = (sheet.rows[0] ?? []).map(String);
    const cell = (row: number, name: string) => String(sheet.rows[row - 1]![header.indexOf(name)]);
    // Renamed in Google: the users on rows 10 and 12, and on rows 100 and 102 (two spans, one unchanged row in each).
    for (const row of [10, 12, 100, 102]) w.rt.directory.renameUser(cell(row, 'Email'), 'Renamed', `Row${row}`);
    const between = [11, 101].map((row) => JSON.stringify(sheet.rows[row - 1]));
    const writes = w.writes('Roster');
    // A person disables the account on row 101 by hand while the sync writes the first span.
    const remove = editMeanwhile ? w.rt.inject('Range.setNumberFormat', () => ((sheet.rows[100]![header.indexOf('Status')] = 'disabled'), undefined)) : () => undefined;
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { update: 4 } });
    remove();
    for (const row of [10, 12, 100, 102]) expect(cell(row, 'Name')).toBe(`Renamed Row${row}`);
    expect(JSON.stringify(sheet.rows[10])).toBe(between[0]);
    if (editMeanwhile) {
      // Its span is written run by run instead: the edit stays.
      expect(cell(101, 'Status')).toBe('disabled');
      expect(w.writes('Roster') - writes).toBe(3);
    } else {
      expect(JSON.stringify(sheet.rows[100])).toBe(between[1]);
      expect(w.writes('Roster') - writes).toBe(2);
    }
    rec.count('faultScenarios');
  }
});

rec.test('corrupt', 'a hand-edited valid status (disabled, typed in another case) is respected by the sync', () => {
  const w = world();
  w.call('syncNow', {});
  const sheet = rosterSheet(w);
  const header = (sheet.rows[0] ?? []).map(String);
  const status = header.indexOf('Status');
  const target = sheet.rows[3]!;
  target[status] = 'Disabled';
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  later(w);
  expect(w.call('syncNow', {}).message).toBe('No changes.');
  const row = w.roster().find((r) => r.ID === String(target[0]))!;
  expect(row.Status.toLowerCase()).toBe('disabled');
  const explained = w.call('explainUser', { email: row.Email });
  expect(explained.localDecision).toContain('set locally and is kept by sync');
  rec.count('faultScenarios');
});

rec.test('corrupt', 'corrupt properties and sync state (invalid JSON, a lost chunk, a damaged checkpoint) are reported or recovered, never a crash loop', () => {
  const props = (w: World) => w.rt.properties.script.map;
  const key = (w: World, suffix: string) => `rs:${w.rt.activeSpreadsheetId}:${suffix}`;

  // Settings that are not JSON: reported in the sidebar and by the sync; scheduled runs end cleanly.
  let w = world();
  w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  props(w).set(key(w, 'settings'), '{"rules": [');
  const corrupt = CATALOG.corruptSettings;
  expect(w.call('syncNow', {})).toMatchObject({ state: 'failed', message: corrupt.text.replace('{problem}', 'the stored value is not valid JSON'), fix: corrupt.fix });
  expect(w.call('getState').settingsError.text).toMatch(catalog('corruptSettings'));
  expect(w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'settings')).toMatchObject({ status: 'fail', fix: corrupt.fix });
  const runs = w.rt.advanceHours(3);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(runs.every((r) => r.ok && (r.result as Json).state === 'failed')).toBe(true);
  expect(w.roster()).toEqual([]);
  // History and the installer hear of it once, not at every hourly heartbeat.
  const unstartable = w.history().filter((h) => h.Trigger === 'scheduled');
  expect(unstartable).toHaveLength(1);
  expect(unstartable[0]).toMatchObject({ Outcome: 'failed', Fix: corrupt.fix });
  expect(w.rt.outbox.map((m) => [m.to, m.subject])).toEqual([[`admin@${DEMO_DOMAIN}`, 'Roster Sync: scheduled sync failed']]);
  expect(w.rt.outbox[0].body).toContain('not valid JSON');
  // Saved again from the sidebar: repaired.
  w.save({ rules: DEMO_RULES });
  expect(w.call('syncNow', {}).state).toBe('done');
  rec.count('faultScenarios');

  // Settings large enough to be split over several properties, one of which is lost.
  w = world();
  w.save({ exclude: Array.from({ length: 400 }, (_, i) => `excluded.person.${i}@${DEMO_DOMAIN}`) });
  const chunk = [...props(w).keys()].find((k) => k.startsWith(key(w, 'settings#')))!;
  expect(chunk).toBeDefined();
  props(w).delete(chunk);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('corruptSettings')), fix: corrupt.fix });
  rec.count('faultScenarios');

  // A progress note that is not JSON: the next sync writes a fresh one.
  w = world();
  props(w).set(key(w, 'progress'), '{"part": 1,');
  const progress = w.envelope('getSyncProgress');
  expect(progress).toHaveProperty('ok'); // an envelope, not an exception
  expect(w.call('syncNow', {}).state).toBe('done');
  expect(w.call('getSyncProgress')).toEqual({ running: false });
  rec.count('faultScenarios');

  // A checkpoint whose job or snapshot pages were damaged between parts: discarded, the sync starts again.
  for (const damage of ['job', 'snap.users.0', 'snap.ous'] as const) {
    w = world({ globals: { ROSTER_SYNC_BUDGET_MS: 700 } });
    let r = w.call('syncNow', {});
    for (let i = 0; i < 10 && !(w.rt.spreadsheet().sheet('Roster Sync state')?.rows ?? []).some((row) => row && row[0] === damage); i++) r = w.call('continueSync');
    expect(r.state).toBe('in-progress');
    const state = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster Sync state');
    const target = state.rows.find((row) => row && row[0] === damage)!;
    target[2] = '{"this is": not json';
    const end = runToEnd(w);
    expect(end.result.state).toBe('done');
    const reference = world();
    reference.call('syncNow', {});
    expect(compareRoster(w, reference.roster())).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
    expect(w.history().map((h) => h.Outcome)).toContain('discarded');
    expect(w.history().map((h) => h.Outcome)).not.toContain('failed');
    rec.count('faultScenarios');
  }
});

// ---------- mail to the admins ----------

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
