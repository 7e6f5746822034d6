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
  // The full sync; an incremental one may follow it at the next heartbeat.
  expect(w.history().filter((h) => h.Kind !== 'incremental').map((h) => [h.Trigger, h.Outcome])).toEqual([['scheduled', 'success']]);
  expect(w.history()[0].Kind).toBe('full');
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
  // Deleted again, and an empty sheet named Roster added by hand: refused like an emptied roster.
  ss.sheets.splice(ss.sheets.indexOf(saved), 1);
  ss.addSheet('Roster');
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('rosterEmptied')) });
  // Started anew on purpose (Settings → Destination → Start a new roster): a new roster is built.
  ss.sheets.splice(ss.sheets.findIndex((s) => s.name === 'Roster'), 1);
  w.call('startNewRoster', { confirm: true });
  later(w);
  const rebuilt = w.call('syncNow', {});
  expect(rebuilt.state).toBe('done');
  expect(rebuilt.applied.create).toBe(w.roster().length);
  rec.count('faultScenarios', 3);
});

rec.test('destination', 'a roster whose rows were cleared (header kept) or all deleted is refused like a deleted sheet, until a new roster is started on purpose', () => {
  const w = world();
  w.call('syncNow', {});
  const sheet = rosterSheet(w);
  const accounts = w.roster().length;
  const [first] = w.roster();
  w.call('updateAccounts', { ids: [first.ID], status: 'disabled' }); // a local decision the roster holds
  const saved = sheet.rows.map((row) => (row ? [...row] : row));
  const restore = () => {
    sheet.rows.length = 0;
    saved.forEach((row) => sheet.rows.push(row ? [...row] : row));
  };
  const emptied: [string, () => void][] = [
    ['data rows cleared, header kept', () => sheet.rows.splice(1)],
    ['every row deleted, header too', () => sheet.rows.splice(0)],
    ['every data row deleted and one manual account typed in', () => {
      sheet.rows.splice(1);
      sheet.rows.push(['manual-typed1', 'typed@springfield-schools.example', 'Typed By Hand', 'student', 'active', '', 'manual', '', '', '', '']);
    }],
  ];
  for (const [label, empty] of emptied) {
    empty();
    later(w);
    const before = sheetDump(w, 'Roster');
    const result = w.call('syncNow', {});
    expect({ label, state: result.state }).toEqual({ label, state: 'failed' });
    expect(result.message).toBe(CATALOG.rosterEmptied.text.replace('{sheet}', 'Roster').replace('{count}', String(accounts)));
    expect(result.fix).toBe(CATALOG.rosterEmptied.fix.replace('{sheet}', 'Roster'));
    expect(Object.values(result.applied).every((n) => n === 0)).toBe(true);
    expect(newest(w)).toMatchObject({ Outcome: 'failed', Created: '0', Message: result.message });
    expect(w.envelope('previewSync')).toMatchObject({ ok: false, error: { text: result.message } });
    expect(w.envelope('syncUser', { email: first.Email })).toMatchObject({ ok: false, error: { text: result.message } });
    // Nothing was written beyond the header an entirely blank sheet gets.
    if (label !== 'every row deleted, header too') expect(sheetDump(w, 'Roster')).toBe(before);
    // Starting anew is refused while the sheet still holds a row: it would be lost with the old roster's decisions.
    if (label.includes('manual')) expect(w.envelope('startNewRoster', { confirm: true })).toMatchObject({ ok: false, error: { id: 'rosterNotEmpty' } });
    rec.count('faultScenarios');
  }
  // Restored from version history: the local decision is intact, nothing is recreated.
  restore();
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(w.roster().find((r) => r.ID === first.ID)!.Status).toBe('disabled');
  // Cleared again, then a new roster started on purpose: it needs a confirmation, then the next sync builds it.
  sheet.rows.splice(1);
  expect(w.envelope('startNewRoster', {})).toMatchObject({ ok: false, error: { id: 'invalidInput', field: 'confirm' } });
  w.call('startNewRoster', { confirm: true });
  later(w);
  const rebuilt = w.call('syncNow', {});
  expect(rebuilt.state).toBe('done');
  expect(rebuilt.applied.create).toBe(accounts);
});

// ---------- people editing the roster while a sync writes it ----------

const ID_COL = 0;
const EMAIL_COL = 1;
const NAME_COL = 2;
const SHEET_WRITES = new Set(['Range.setValues', 'Range.setValue', 'Sheet.deleteRows', 'Sheet.insertRowsAfter', 'Sheet.appendRow']);

/**
 * A roster whose next sync changes accounts all over the sheet: a year-end rollover (OU moves,
 * graduates deactivated), leavers of the last sync deleted after their grace period, new students
 * created; some accounts carry local decisions (disabled, a permission) and there are manual accounts.
 */
function busyRoster(): World {
  const w = world();
  w.save({ graceDays: 1, threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
  w.call('syncNow', {});
  const students = w.roster().filter((r) => r.Roles === 'student');
  w.call('updateAccounts', { ids: students.filter((_, i) => i % 23 === 5).map((r) => r.ID), status: 'disabled' });
  w.call('updateAccounts', { ids: students.filter((_, i) => i % 31 === 7).map((r) => r.ID), grant: ['hall-pass'] });
  for (let i = 0; i < 3; i++) w.call('addAccount', { name: `Visitor ${i}`, email: `visitor${i}@partner.example`, role: 'teacher' });
  for (const r of students.filter((_, i) => i % 19 === 3)) w.rt.directory.deleteUser(r.Email);
  w.call('syncNow', {});
  w.rt.setClock(w.rt.nowMs() + 2 * 24 * 3600_000);
  rollover(w.rt.directory, 'alumni');
  for (let i = 0; i < 12; i++) w.rt.directory.addUser({ email: `new.student${i}@${DEMO_DOMAIN}`, givenName: 'New', familyName: `Student ${i}`, orgUnitPath: '/Students/Lincoln High/Grade 9' });
  return w;
}

type PersonEdit = [label: string, edit: (sheet: SheetData, unchanged: Set<string>) => string | null];

/** What people do in the Sheets UI; a delete takes the row of an account the sync leaves as it is (returns its id). */
const PERSON_EDITS: PersonEdit[] = [
  ['sorts the roster by name', (sheet) => (sheet.personSorts(2, NAME_COL), null)],
  ['inserts a blank row near the top', (sheet) => (sheet.personInsertsRow(3), null)],
  ['deletes a row in the middle', (sheet, unchanged) => {
    const last = sheet.lastRow();
    for (let d = 0; d < last; d++) {
      for (const row of [Math.floor(last / 2) + d, Math.floor(last / 2) - d]) {
        const id = String(sheet.get(row - 1, ID_COL));
        if (row > 1 && unchanged.has(id)) return (sheet.personDeletesRow(row), id);
      }
    }
    return null;
  }],
  ['sorts the roster by email, Z to A', (sheet) => (sheet.personSorts(2, EMAIL_COL, true), null)],
];

rec.test('concurrent edits', 'people sort, insert and delete roster rows before each write of a sync: no account is written over another, none is duplicated, History counts only what was written', () => {
  // The same roster synced with nobody editing: what every account must end up as.
  const twin = busyRoster();
  const before = new Map(twin.roster().map((r) => [r.ID, r]));
  twin.call('syncNow', { allowDestructive: 100000 });
  const expected = twin.roster();
  const want = new Map(expected.map((r) => [r.ID, r]));
  const unchanged = new Set([...want.keys()].filter((id) => before.has(id) && untimed(before.get(id)!) === untimed(want.get(id)!) && want.get(id)!.Status === 'active' && !want.get(id)!.Permissions));
  const changedIds = [...want.keys()].filter((id) => !unchanged.has(id) && (!before.has(id) || untimed(before.get(id)!) !== untimed(want.get(id)!)));
  expect(changedIds.length).toBeGreaterThan(100);
  expect([...before.keys()].filter((id) => !want.has(id)).length).toBeGreaterThan(5); // deletions too

  const w = busyRoster();
  const sheet = rosterSheet(w);
  // After the sync's first full read and after each of its writes, the next call finds the sheet edited.
  const personDeleted: string[] = [];
  const done: string[] = [];
  let armed = false;
  sheet.beforeCall = (method, rows) => {
    if (armed && done.length < 12) {
      armed = false;
      const [label, edit] = PERSON_EDITS[done.length % PERSON_EDITS.length];
      const id = edit(sheet, unchanged);
      if (id) personDeleted.push(id);
      done.push(label);
    }
    const fullRead = method === 'Range.getValues' && rows?.first === 1 && rows.count >= sheet.lastRow();
    if (SHEET_WRITES.has(method) || (fullRead && done.length === 0)) armed = true;
  };
  const result = w.call('syncNow', { allowDestructive: 100000 });
  sheet.beforeCall = null;
  expect(done.length).toBeGreaterThanOrEqual(PERSON_EDITS.length);
  expect(personDeleted.length).toBeGreaterThan(0);

  const rows = w.roster();
  const ids = rows.map((r) => r.ID);
  expect(ids.length).toBe(new Set(ids).size);
  const live = rows.filter((r) => r.Status !== 'deleted').map((r) => r.Email);
  expect(live.length).toBe(new Set(live).size);
  // Every row holds one account, either as it was or as the plan wanted it; nothing half-written or misplaced.
  const misplaced = rows.filter((r) => !(before.has(r.ID) && untimed(before.get(r.ID)!) === untimed(r)) && !(want.has(r.ID) && untimed(want.get(r.ID)!) === untimed(r)));
  expect(misplaced).toEqual([]);
  // History counts exactly the accounts written (a row differs from before the sync in any cell, its times included).
  const have = new Map(rows.map((r) => [r.ID, r]));
  const cells = (r: Row | undefined) => JSON.stringify(r && Object.entries(r));
  const written =
    [...want.keys()].filter((id) => have.has(id) && untimed(have.get(id)!) === untimed(want.get(id)!) && cells(have.get(id)) !== cells(before.get(id))).length +
    [...before.keys()].filter((id) => !want.has(id) && !have.has(id) && !personDeleted.includes(id)).length;
  const h = newest(w);
  const counted = ['Created', 'Updated', 'Deactivated', 'Reactivated', 'Deleted'].reduce((n, k) => n + Number(h[k]), 0);
  expect(counted).toBe(written);
  expect(written).toBeGreaterThan(changedIds.length / 2);
  if (result.state === 'done' && h.Outcome === 'partial') expect(h.Message).toContain('moved, edited or removed in the sheet');

  // The next sync (nobody editing) finishes the job: the roster is the one nobody edited, rows deleted by hand recreated.
  later(w);
  expect(w.call('syncNow', { allowDestructive: 100000 }).state).toBe('done');
  expect(compareRoster(w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
  rec.count('faultScenarios', done.length);
  rec.note(`${done.length} edits by a person during one sync (${[...new Set(done)].join(', ')}); ${written} accounts written in that sync, the rest by the next`);
});

rec.test('concurrent edits', 'a sort landing in the instant between a write\'s check and the write (which Apps Script cannot make one step): the next sync finds the account on two rows and writes nothing until the roster is restored; a row deleted in its place comes back with its decision', () => {
  // Every student carries a local decision (a permission), so whatever row a misplaced write or deletion takes has one.
  const roster = () => {
    const w = busyRoster();
    w.call('updateAccounts', { ids: w.roster().filter((r) => r.Roles === 'student').map((r) => r.ID), grant: ['reports'] });
    return w;
  };
  const twin = roster();
  twin.call('syncNow', { allowDestructive: 100000 });
  const expected = twin.roster();
  const outcomes: string[] = [];
  for (const [method, what] of [['Range.setValues', 'a span write'], ['Sheet.deleteRows', 'a row deletion']] as const) {
    const w = roster();
    const sheet = rosterSheet(w);
    const before = sheetDump(w, 'Roster');
    // The first check of a span (a read of a few rows) passes; the person's sort lands before the call it guards.
    let checked = false;
    let sorted = false;
    sheet.beforeCall = (m, rows) => {
      if (!sorted && checked && m === method) {
        sheet.personSorts(2, EMAIL_COL);
        sorted = true;
      }
      if (m === 'Range.getValues' && rows && rows.count < sheet.lastRow() - 1) checked = true;
    };
    w.call('syncNow', { allowDestructive: 100000 });
    sheet.beforeCall = null;
    expect(sorted).toBe(true);
    expect(sheetDump(w, 'Roster')).not.toBe(before);
    const ids = w.roster().map((r) => r.ID);
    const twice = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    later(w);
    if (method === 'Range.setValues') {
      // Written over a moved row: the next sync refuses, naming an ID on two rows, and writes nothing.
      expect(twice.length).toBeGreaterThan(0);
      const dump = sheetDump(w, 'Roster');
      const refused = w.call('syncNow', { allowDestructive: 100000 });
      expect(refused).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('rosterIdTwice')), fix: CATALOG.rosterIdTwice.fix });
      expect(twice).toContain(refused.message.match(/The ID (\d+)/)![1]);
      rec.count('windowWritesOverDuplicates', sheetDump(w, 'Roster') === dump ? 0 : 1);
      expect(sheetDump(w, 'Roster')).toBe(dump);
      expect(w.call('runFinalizeChecks').checks.find((c: Json) => c.status === 'warning' && /on two rows/.test(c.found))).toBeDefined();
      // The person deletes one row of each pair (as the fix says): the next sync rewrites those accounts and recreates those written over.
      for (const id of twice) sheet.personDeletesRow(sheet.rows.findIndex((r) => r && String(r[ID_COL]) === id) + 1);
    } else {
      // A deletion that took another row: nobody is on two rows; that account (with a permission) is recreated by the next sync.
      expect(twice).toEqual([]);
      const present = new Set(ids);
      const takenInPlace = expected.filter((r) => !present.has(r.ID) && r.Status !== 'deleted' && r.Permissions.includes('reports'));
      expect(takenInPlace.length).toBeGreaterThan(0);
    }
    expect(w.call('syncNow', { allowDestructive: 100000 }).state).toBe('done');
    expect({ what, ...compareRoster(w, expected) }).toEqual({ what, lost: 0, duplicated: 0, extra: 0, differing: 0 });
    outcomes.push(`${what}: ${twice.length ? `${twice.length} IDs on two rows, refused until one row of each pair was deleted` : 'another row deleted, recreated with its decision by the next sync'}`);
    rec.count('faultScenarios');
  }
  rec.note(outcomes.join('; '));
});

rec.test('identities', 'a synced user renamed to a manual account\'s email never leaves two accounts with one email in the roster: the rename is held and named with the fix; two people swapping emails still swap', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  w.call('syncNow', {});
  const nurse = `nurse@${DEMO_DOMAIN}`;
  const manual = w.call('addAccount', { name: 'Visiting Nurse', email: nurse, role: 'teacher' });
  const [renamed, a, b] = w.roster().filter((r) => r.Roles === 'student' && r.Status === 'active');
  w.rt.directory.renameEmail(renamed.Email, nurse, false);
  // Two people exchange addresses in the same sync: each address is freed by the other's rename.
  w.rt.directory.renameEmail(a.Email, `swap.${a.Email}`, false);
  w.rt.directory.renameEmail(b.Email, a.Email, false);
  w.rt.directory.renameEmail(`swap.${a.Email}`, b.Email, false);
  later(w);
  const r = w.call('syncNow', {});
  expect(r).toMatchObject({ state: 'done', applied: { update: 2 } });
  const rows = w.roster();
  const live = rows.filter((x) => x.Status !== 'deleted').map((x) => x.Email.toLowerCase());
  rec.count('accountsSharingEmail', live.length - new Set(live).size);
  expect(live.length).toBe(new Set(live).size);
  expect(rows.find((x) => x.ID === renamed.ID)).toMatchObject({ Email: renamed.Email, Status: 'active' });
  expect(rows.find((x) => x.ID === manual.id)).toMatchObject({ Email: nurse, Source: 'manual', Name: 'Visiting Nurse' });
  expect(rows.find((x) => x.ID === a.ID)!.Email).toBe(b.Email);
  expect(rows.find((x) => x.ID === b.ID)!.Email).toBe(a.Email);
  // Named with the fix in Preview; History counts it as held (a warning, not a success).
  const held = w.call('previewSync').held;
  expect(held).toHaveLength(1);
  expect(held[0].why).toBe(`${CATALOG.emailTaken.text.replace('{previous}', renamed.Email).replace('{email}', nurse).replace('{holder}', `Visiting Nurse, manual account ${manual.id}`)} ${CATALOG.emailTaken.fix}`);
  expect(newest(w)).toMatchObject({ Outcome: 'warning', Message: expect.stringContaining('1 changes held back') });
  // The admin's fix: the manual account deleted; the next sync writes the new address.
  w.call('updateAccounts', { ids: [manual.id], status: 'deleted' });
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { update: 1 } });
  expect(w.roster().find((x) => x.ID === renamed.ID)).toMatchObject({ Email: nurse, Status: 'active' });
  rec.count('faultScenarios', 2);
  rec.count('accountsChecked', rows.length);
});

// ---------- mass changes, however they arrive ----------

const counted = (w: World) => w.roster().filter((r) => r.Source === 'synced' && r.Status !== 'deleted').length;

rec.test('mass changes', 'a drip of small deactivations (7% of the students an hour) is halted once the rolling 24 hours pass the threshold; a confirmed change does not count again; the window is turned off only with a confirmation, and History records who did', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  w.call('syncNow', {});
  const leavers = w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students') && !u.suspended);
  const limit = Math.floor(counted(w) / 10);
  // 7% of the students each time: under the threshold's share of the students, and of the whole roster.
  const drip = Math.floor((w.roster().filter((r) => r.Roles === 'student' && r.Status === 'active').length * 7) / 100);
  const leave = () => {
    for (const u of leavers.splice(0, drip)) w.rt.directory.deleteUser(u.primaryEmail);
  };
  // Hour 1: under the 10% threshold: applied.
  leave();
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { deactivate: drip } });
  // Hour 2: as many again, alone under the threshold too, but together over it within 24 hours: halted, nothing changed.
  expect(2 * drip).toBeGreaterThan(limit);
  later(w, 60);
  leave();
  const roster = sheetDump(w, 'Roster');
  const halted = w.call('syncNow', {});
  expect(halted).toMatchObject({ state: 'halted', destructive: drip, applied: { deactivate: 0 } });
  expect(halted.message).toBe(
    CATALOG.rollingThresholdBlocked.text
      .replace('{count}', String(drip)).replace('{recent}', String(drip)).replace('{hours}', '24').replace('{total}', String(2 * drip))
      .replace('{limit}', String(limit)).replace('{threshold}', `10% of ${counted(w)} synced accounts`),
  );
  expect(halted.fix).toBe(CATALOG.rollingThresholdBlocked.fix);
  expect(halted.fix).toContain('Settings → Policy → deletion threshold');
  expect(newest(w)).toMatchObject({ Outcome: 'halted', Deactivated: '0', Message: halted.message });
  expect(sheetDump(w, 'Roster')).toBe(roster);
  expect(w.call('previewSync').blocked).toMatchObject({ destructive: drip, message: halted.message });
  // Confirmed once ("Apply anyway"): applied, and a confirmed change is not counted against the next syncs.
  expect(w.call('syncNow', { allowDestructive: halted.destructive })).toMatchObject({ state: 'done', applied: { deactivate: drip } });
  // Hour 3: the unconfirmed drip of hour 1 is still inside the window: halted again.
  later(w, 60);
  leave();
  expect(w.call('syncNow', {})).toMatchObject({ state: 'halted', destructive: drip });
  // A day after hour 1 it has left the window: the same sync goes through.
  later(w, 24 * 60);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { deactivate: drip } });
  // Turning the window off lowers the protection: refused until confirmed; History records who, what, before and after.
  const off = { ...w.settings(), threshold: { kind: 'percent', value: 10, windowHours: 0 } };
  expect(w.envelope('saveSettings', off)).toMatchObject({
    ok: false,
    error: { id: 'protectionLowered', text: CATALOG.protectionLowered.text.replace('{changes}', 'the rolling window turned off (was 24 hours)') },
  });
  expect(w.settings().threshold.windowHours).toBe(24);
  w.call('saveSettings', { ...off, confirmLowerProtection: true });
  expect(w.settings().threshold.windowHours).toBe(0);
  const recorded = w.settingsChanges().pop()!;
  expect(recorded).toMatchObject({ Trigger: 'settings', Outcome: 'changed', Message: `Settings saved by admin@${DEMO_DOMAIN}: rolling window 24 → 0 hours.` });
  expect(Date.parse(recorded.Started)).toBeGreaterThan(w.rt.nowMs() - 60_000);
  // Without the window, each sync faces the threshold alone: the drip an hour after the last one goes through.
  later(w, 60);
  leave();
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { deactivate: drip } });
  rec.count('faultScenarios', 6);
});

rec.test('mass changes', 'removing the teacher rule deactivates every teacher (fewer than the 15% threshold of all accounts): halted by the per-role share; History records the rule removed', () => {
  const w = world();
  w.save({ cooldownMinutes: 0, threshold: { kind: 'percent', value: 15, windowHours: 24 } });
  w.call('syncNow', {});
  const before = sheetDump(w, 'Roster');
  const teachers = w.roster().filter((r) => r.Roles.split(', ').includes('teacher') && r.Status === 'active').length;
  w.save({ rules: DEMO_RULES.filter((r) => r.id !== 'teachers') });
  expect(w.settingsChanges().pop()!.Message).toContain('rule removed: OU /Staff/Teachers (and sub-OUs) → teacher');
  // The whole-roster threshold alone would let it through.
  const plan = w.call('previewSync');
  expect(plan.counts.deactivate).toBeGreaterThan(Math.max(1, Math.floor((teachers * 15) / 100)));
  expect(plan.counts.deactivate).toBeLessThanOrEqual(Math.floor((counted(w) * 15) / 100));
  const halted = w.call('syncNow', {});
  expect(halted.state).toBe('halted');
  expect(halted.message).toMatch(catalog('roleThresholdBlocked'));
  expect(halted.message).toContain(`take the role teacher from ${halted.destructive} of its ${teachers} accounts`);
  expect(halted.fix).toBe(CATALOG.roleThresholdBlocked.fix);
  expect(newest(w)).toMatchObject({ Outcome: 'halted', Deactivated: '0', Updated: '0' });
  expect(sheetDump(w, 'Roster')).toBe(before);
  // Put back: nothing to do. Removed again and confirmed once: applied.
  w.save({ rules: DEMO_RULES });
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  w.save({ rules: DEMO_RULES.filter((r) => r.id !== 'teachers') });
  expect(w.call('syncNow', { allowDestructive: halted.destructive }).state).toBe('done');
  rec.count('faultScenarios', 2);
});

rec.test('mass changes', 'remapping students to admin would give hundreds of people the admin role: halted for a confirmation (privileged-role grant limit); nobody gets it meanwhile', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  w.call('syncNow', {});
  const admins = () => w.roster().filter((r) => r.Roles.split(', ').includes('admin')).length;
  const adminsBefore = admins();
  const students = w.roster().filter((r) => r.Roles === 'student' && r.Status === 'active').length;
  w.save({ rules: DEMO_RULES.map((r) => (r.id === 'students' ? { ...r, role: 'admin' } : r)) });
  const halted = w.call('syncNow', {});
  expect(halted.state).toBe('halted');
  expect(halted.message).toContain(CATALOG.privilegeBlocked.text.replace('{roles}', 'admin').replace('{count}', String(students)).replace('{limit}', '10'));
  expect(halted.destructive).toBe(students);
  expect(newest(w)).toMatchObject({ Outcome: 'halted', Updated: '0' });
  expect(admins()).toBe(adminsBefore);
  // A few grants stay under the limit: a new admin (and a first sync, which creates every admin) needs no confirmation.
  w.save({ rules: DEMO_RULES });
  const principal = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Staff/Teachers') && !u.suspended)!;
  w.rt.directory.addMember(`admins@${DEMO_DOMAIN}`, principal.primaryEmail);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { update: 1 } });
  expect(admins()).toBe(adminsBefore + 1);
  // The limit itself is a protection: raising it takes a confirmation.
  expect(w.envelope('saveSettings', { ...w.settings(), privilegedGrantLimit: 1000 })).toMatchObject({ ok: false, error: { id: 'protectionLowered' } });
  rec.count('faultScenarios', 2);
});

rec.test('mass changes', 'a sync with changes held back by a broken rule is recorded as a warning, not a success', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  w.call('syncNow', {});
  w.rt.directory.renameOu('/Staff/Teachers', 'Faculty');
  later(w);
  const result = w.call('syncNow', {});
  expect(result.state).toBe('done');
  expect(newest(w)).toMatchObject({ Outcome: 'warning' });
  expect(newest(w).Message).toMatch(/changes \(deactivations or role removals\) held while a rule is broken/);
  rec.count('faultScenarios');
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

rec.test('corrupt', 'the hidden state sheet is protected (only the accounts that run syncs edit it); deleted or cleared between two parts, the sync is recorded as interrupted and starts clean, never "done"', () => {
  const clean = world();
  clean.call('syncNow', {});
  const expected = clean.roster();
  const it = `it@${DEMO_DOMAIN}`;
  const teacher = clean.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Staff/Teachers/'))!.primaryEmail;
  for (const how of ['deleted', 'cleared'] as const) {
    const w = world({ globals: { ROSTER_SYNC_BUDGET_MS: 700 } });
    w.save({ admins: [it] });
    expect(w.call('syncNow', {}).state).toBe('in-progress');
    const ss = w.rt.spreadsheet();
    const state = ss.sheet('Roster Sync state')!;
    expect(state.hidden).toBe(true);
    expect(state.protections).toHaveLength(1);
    const [protection] = state.protections;
    expect(protection).toMatchObject({ type: 'SHEET', domainEdit: false, warningOnly: false, range: null });
    expect([...protection.editors].sort()).toEqual([`admin@${DEMO_DOMAIN}`, it].sort());
    expect(protection.editors.has(teacher)).toBe(false);
    // Between two parts a person deletes the hidden sheet, or clears it (header kept).
    if (how === 'deleted') ss.sheets.splice(ss.sheets.indexOf(state), 1);
    else state.rows.splice(1);
    const next = w.call('continueSync');
    expect({ how, state: next.state }).toEqual({ how, state: 'in-progress' });
    expect(next.part).toBe(1);
    const interrupted = newest(w);
    expect(interrupted).toMatchObject({ Outcome: 'discarded', Message: CATALOG.staleCheckpoint.text.replace('{reason}', 'its saved progress (the hidden sheet "Roster Sync state") was deleted or cleared') });
    let last = next;
    for (let i = 0; i < 100 && last.state === 'in-progress'; i++) last = w.call('continueSync');
    expect(last.state).toBe('done');
    expect(compareRoster(w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
    expect(w.history().map((h) => h.Outcome)).toEqual(['discarded', 'success']);
    rec.count('faultScenarios');
  }
});

/** The hidden state sheet as saved blobs: key → value, reassembled from its chunk rows. */
function stateBlobs(w: World): Map<string, string> {
  const blobs = new Map<string, string>();
  let rows: string[][] = [];
  try {
    rows = (w.rt.sheetValues('Roster Sync state') as string[][]).slice(1).filter((r) => r.some((v) => v !== ''));
  } catch {
    return blobs;
  }
  rows.forEach(([key, count], i) => {
    if (!String(key).includes('#') && Number(count) > 0) blobs.set(String(key), rows.slice(i, i + Number(count)).map((r) => String(r[2])).join(''));
  });
  return blobs;
}

/** What a checkpoint holds: the directory users of its snapshot pages, its characters, and the job's phase. */
function stateSize(w: World): { users: number; listedPages: number; chars: number; phase: string } {
  const blobs = stateBlobs(w);
  const pages = [...blobs].filter(([k]) => /^snap\.(users|kept)\./.test(k));
  const users = pages.reduce((n, [, v]) => n + (JSON.parse(v) as unknown[]).length, 0);
  const chars = [...blobs.values()].reduce((n, v) => n + v.length, 0);
  const job = blobs.get('job');
  return { users, listedPages: pages.filter(([k]) => k.startsWith('snap.users.')).length, chars, phase: job ? JSON.parse(job).phase : '' };
}

rec.test('corrupt', 'the hidden state sheet keeps, at every checkpoint (while reading the directory and once planned), only the users the later parts need (in scope, or with an account): 5% of a 6,000-user domain in scope; the resumed parts end with the roster of a sync in one part, looking up only the user really gone', () => {
  const grade = '/Students/School 1/Grade 9';
  const setup = (budget: number) => {
    const directory = generateDomain({ users: 6000, domain: DEMO_DOMAIN, seed: 11 });
    directory.addOrgUnit('/Alumni');
    const rules = [{ id: 'grade9', type: 'ou', orgUnitPath: grade, includeSubOrgUnits: true, role: 'student' }, { id: 'coaches', type: 'group', groupEmail: `group-1@${DEMO_DOMAIN}`, role: 'teacher' }];
    const globals = { ROSTER_SYNC_BUDGET_MS: 600_000 };
    const w = world({ directory, rules, globals });
    w.save({ threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
    expect(runToEnd(w).result.state).toBe('done');
    // The next sync: 300 leave the grade, 300 join it, one in-scope user is deleted in Google.
    const dir = w.rt.directory;
    const coaches = dir.findGroup(`group-1@${DEMO_DOMAIN}`)!;
    const plain = dir.allUsers().filter((u) => !u.suspended && !dir.isMemberDeep(coaches, u.id));
    const inGrade = plain.filter((u) => u.orgUnitPath === grade);
    const outside = plain.filter((u) => u.orgUnitPath !== grade);
    for (const u of inGrade.slice(0, 300)) dir.moveUser(u.primaryEmail, '/Alumni');
    for (const u of outside.slice(0, 300)) dir.moveUser(u.primaryEmail, grade);
    const gone = inGrade[310];
    dir.deleteUser(gone.primaryEmail);
    later(w);
    globals.ROSTER_SYNC_BUDGET_MS = budget;
    return { w, gone };
  };
  const reference = setup(600_000);
  expect(runToEnd(reference.w).result).toMatchObject({ state: 'done', applied: { create: 300, deactivate: 301 } });
  const expected = reference.w.roster();

  const { w, gone } = setup(1500);
  const directoryUsers = w.rt.directory.allUsers().length;
  const rosterRows = w.roster().length;
  const coaches = w.rt.directory.findGroup(`group-1@${DEMO_DOMAIN}`)!;
  const inScope = w.rt.directory.allUsers().filter((u) => u.orgUnitPath === grade || w.rt.directory.isMemberDeep(coaches, u.id)).length;
  w.rt.resetCounters();
  const checkpoints: ReturnType<typeof stateSize>[] = [];
  let r = w.call('syncNow', {});
  for (let i = 0; i < 40 && r.state === 'in-progress'; i++) {
    checkpoints.push(stateSize(w));
    r = w.call('continueSync');
  }
  expect(r).toMatchObject({ state: 'done', applied: { create: 300, deactivate: 301 } });
  const planned = checkpoints.filter((c) => c.phase === 'apply');
  const reading = checkpoints.filter((c) => c.phase !== 'apply');
  expect(planned.length).toBeGreaterThan(0); // the changes were applied over several parts
  expect(reading.length).toBeGreaterThan(0); // and the directory read over several parts
  for (const c of checkpoints) {
    // Only the users the later parts need: bounded by those in scope plus the roster's accounts, never the directory's.
    expect(c.users).toBeLessThanOrEqual(inScope + rosterRows);
  }
  for (const c of planned) expect(c.listedPages).toBe(0);
  expect(compareRoster(w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
  expect(w.roster().find((row) => row.ID === gone.id)).toMatchObject({ Status: 'disabled' });
  // Confirmation before deactivating still holds, and the users left out are never looked up: one users.get, for the one gone.
  expect(w.rt.calls['AdminDirectory.Users.get'] ?? 0).toBeLessThanOrEqual(1);
  expect(w.history().at(-1)).toMatchObject({ Outcome: 'success' });

  // Killed right after the checkpoint that kept the needed users apart: the next part resumes from them.
  const cut = setup(1500);
  let c = cut.w.call('syncNow', {});
  for (let i = 0; i < 40 && c.state === 'in-progress' && stateSize(cut.w).phase !== 'apply'; i++) c = cut.w.call('continueSync');
  expect(stateSize(cut.w).phase).toBe('apply');
  const end = runToEnd(cut.w, { part: 1, ms: 200 });
  expect(end.parts[0].state).toBe('cut');
  expect(end.result.state).toBe('done');
  expect(compareRoster(cut.w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
  expect(cut.w.history().map((h) => h.Outcome).filter((o) => o === 'failed' || o === 'discarded')).toEqual([]);

  const largest = Math.max(...planned.map((p) => p.users));
  const read = reading;
  rec.note(
    `${directoryUsers.toLocaleString('en-US')} directory users, ${inScope} in scope, ${rosterRows} roster accounts: once planned, each checkpoint held at most ${largest} users ` +
      `(${Math.max(...planned.map((p) => p.chars)).toLocaleString('en-US')} characters) over ${planned.length} checkpoints; ` +
      `while reading, at most ${Math.max(...read.map((p) => p.users)).toLocaleString('en-US')} users (${Math.max(...read.map((p) => p.chars)).toLocaleString('en-US')} characters) over ${read.length} checkpoints`,
  );
  rec.count('stateUsersRead', directoryUsers);
  rec.count('stateUsersKept', largest);
  rec.count('stateUsersNeeded', inScope + rosterRows);
  rec.count('stateUsersBeforePlan', Math.max(...read.map((p) => p.users)));
  rec.count('faultScenarios', 2);
  rec.count('cutPoints');
});

rec.test('corrupt', 'a person deletes the rows of a disabled account, of one with a permission and of a manual account, and retypes an ID: each comes back with its decision; the retyped ID is reported, never a second account with the same email', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  w.call('syncNow', {});
  const students = w.roster().filter((r) => r.Roles === 'student' && r.Status === 'active');
  const [disabled, permitted, retyped] = [students[3], students[40], students[77]];
  w.call('updateAccounts', { ids: [disabled.ID], status: 'disabled' });
  w.call('updateAccounts', { ids: [permitted.ID], grant: ['hall-pass'] });
  const manual = w.call('addAccount', { name: 'Visiting Nurse', email: 'nurse@partner.example', role: 'teacher' });
  const sheet = rosterSheet(w);
  const rowOf = (id: string) => sheet.rows.findIndex((row) => row?.[ID_COL] === id) + 1;
  // Deleted rows (bottom first, as a person would pick them) and an ID retyped with one digit wrong.
  for (const row of [disabled.ID, permitted.ID, manual.id].map(rowOf).sort((a, b) => b - a)) sheet.personDeletesRow(row);
  const typo = retyped.ID.slice(0, -1) + String((Number(retyped.ID.slice(-1)) + 1) % 10);
  sheet.set(rowOf(retyped.ID) - 1, ID_COL, typo);
  later(w);
  const preview = w.call('previewSync');
  const conflict = CATALOG.idConflict.text.replace(/\{email\}/g, retyped.Email).replace('{id}', typo).replace('{googleId}', retyped.ID);
  expect(preview.held.map((h: Json) => h.why)).toEqual([expect.stringContaining(conflict), expect.stringContaining(conflict)]);
  const result = w.call('syncNow', {});
  expect(result).toMatchObject({ state: 'done', applied: { create: 3, deactivate: 0 } });
  const byId = new Map(w.roster().map((r) => [r.ID, r]));
  expect(byId.get(disabled.ID)).toMatchObject({ Email: disabled.Email, Status: 'disabled', 'Synced status': 'active', Source: 'synced' });
  expect(byId.get(permitted.ID)).toMatchObject({ Email: permitted.Email, Status: 'active', Permissions: 'hall-pass' });
  expect(byId.get(manual.id)).toMatchObject({ Email: 'nurse@partner.example', Source: 'manual', Status: 'active', Roles: 'teacher' });
  // The retyped row is left as it is, and no second account takes its email.
  expect(w.roster().filter((r) => r.Email === retyped.Email)).toEqual([{ ...retyped, ID: typo }]);
  expect(newest(w)).toMatchObject({ Outcome: 'warning', Created: '3' });
  expect(newest(w).Message).toContain(retyped.Email);
  // The ID typed back: nothing left to do.
  sheet.set(rowOf(typo) - 1, ID_COL, retyped.ID);
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(newest(w).Outcome).toBe('success');
  rec.count('faultScenarios', 4);
});

rec.test('corrupt', 'a full script property store (other rosters of the deployment fill it): the sync says what is full and what to do, History records it and the admins are emailed; the sync lease never needs free space', () => {
  const w = world();
  w.save({ cooldownMinutes: 0, schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  w.call('syncNow', {});
  // Other rosters' settings fill the script properties to the last byte.
  const store = w.rt.properties.script;
  const LIMIT = 500 * 1024;
  for (let i = 0; store.size() < LIMIT - 9000; i++) store.map.set(`rs:another-roster-${i}:settings`, 'x'.repeat(8000));
  const topUp = 'rs:another-roster-last:settings';
  store.map.set(topUp, 'x'.repeat(LIMIT - store.size() - topUp.length));
  expect(store.size()).toBe(LIMIT);
  later(w);
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result.message).toMatch(catalog('propertyStoreFull'));
  expect(result.message).toContain('script properties (shared by every roster of this deployment) are full (500 KB of the 500 KB Google allows)');
  expect(result.fix).toBe(CATALOG.propertyStoreFull.fix);
  expect(newest(w)).toMatchObject({ Outcome: 'failed', Message: result.message, Fix: result.fix });
  // The scheduled sync: recorded and emailed, the heartbeat itself never fails.
  const mails = w.rt.outbox.length;
  const scheduled = scheduledRun(w);
  expect(scheduled).toMatchObject({ state: 'failed', message: result.message });
  expect(newest(w)).toMatchObject({ Trigger: 'scheduled', Outcome: 'failed', Message: result.message });
  // (A full store cannot remember that the admins were told: each failed scheduled run tells them.)
  const sent = w.rt.outbox.slice(mails);
  expect(sent.length).toBeGreaterThan(0);
  for (const mail of sent) expect(mail.body).toContain(`${result.message}\n\nHow to fix: ${CATALOG.propertyStoreFull.fix}`);
  expect(store.size()).toBeLessThanOrEqual(LIMIT);
  // Space freed: the next sync runs as usual.
  for (const key of [...store.map.keys()]) if (key.startsWith('rs:another-roster-')) store.map.delete(key);
  later(w);
  expect(w.call('syncNow', {}).state).toBe('done');
  rec.count('faultScenarios', 2);
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
