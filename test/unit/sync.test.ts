import { runSync } from '../../src/core/sync';
import { heartbeat } from '../../src/core/triggers';
import { getSyncProgress } from '../../src/core/api';
import { loadSettings } from '../../src/core/config';
import { school } from './fixture';
import { TestWorld } from '../fakes/memory';
import { DESTINATIONS } from '../../src/destinations';

const manual = { trigger: 'manual' as const, mode: 'start' as const };

function addStudents(w: TestWorld, n: number) {
  for (let i = 0; i < n; i++) w.directory.addUser(String(200000000000000000000n + BigInt(i)), `s${i}@school.example`, `Student ${i}`, `/Students/${i % 2 ? '2025' : '2026'}`);
}

test('a sync applies the plan, records history, and a second sync changes nothing', () => {
  const w = school();
  const r = runSync(w.svc, manual);
  expect(r.state).toBe('done');
  expect(r.applied.create).toBe(6);
  expect(w.history.entries[0]).toMatchObject({ outcome: 'success', trigger: 'manual', parts: 1 });
  w.config.remove('lastFullSync'); // skip the cooldown
  const applyCalls = w.roster.applyCalls;
  const again = runSync(w.svc, manual);
  expect(again.state).toBe('done');
  expect(again.message).toBe('No changes.');
  expect(w.roster.applyCalls).toBe(applyCalls);
});

test('a sync cut into many parts reads each page once and ends with the same roster', () => {
  const one = school();
  const parts = school();
  for (const w of [one, parts]) addStudents(w, 1234);
  for (const w of [one, parts]) (w.directory as { pageSize: number }).pageSize; // same page size (500)
  expect(runSync(one.svc, manual).state).toBe('done');

  parts.budget.ms = 3; // three steps per execution
  parts.budget.stepMs = 1;
  let r = runSync(parts.svc, manual);
  let executions = 1;
  while (r.state === 'in-progress') {
    parts.budget.used = 0;
    r = runSync(parts.svc, { trigger: 'manual', mode: 'continue' });
    executions++;
  }
  expect(r.state).toBe('done');
  expect(executions).toBeGreaterThan(2);
  expect(parts.history.entries.at(-1)).toMatchObject({ outcome: 'success', parts: executions });
  const rosterOf = (w: TestWorld) => [...w.roster.accounts.values()].map((a) => JSON.stringify(a)).sort();
  expect(rosterOf(parts)).toEqual(rosterOf(one));
  // users: ceil(1240/500)=3 pages, 1 OU call, coaches (1 page, its nested assistant-coaches included
  // through includeDerivedMembership: the nested group is not listed on its own).
  expect(parts.directory.calls).toBe(one.directory.calls);
  expect(one.directory.calls).toBe(3 + 1 + 1);
  const creates = parts.roster.applied.filter((c) => c.kind === 'create').map((c) => c.accountId);
  expect(new Set(creates).size).toBe(creates.length);
});

test('a second sync while one holds the lock says a sync is already running', () => {
  const w = school();
  w.lock.heldElsewhere = true;
  const r = runSync(w.svc, manual);
  expect(r.state).toBe('busy');
  expect(r.message).toContain('A sync is already running');
  expect(w.roster.accounts.size).toBe(0);
});

test('a directory failure mid-read changes nothing and is recorded with its fix', () => {
  const w = school();
  runSync(w.svc, manual);
  w.config.remove('lastFullSync');
  w.directory.users.find((u) => u.email === 'ana@school.example')!.orgUnitPath = '/Alumni';
  w.directory.failOn = (_n, method) => (method === 'users' ? Object.assign(new Error('API call to directory.users.list failed with error: Backend Error'), { details: { code: 503, errors: [{ reason: 'backendError' }] } }) : undefined);
  const before = JSON.stringify([...w.roster.accounts.values()]);
  const r = runSync(w.svc, manual);
  expect(r.state).toBe('failed');
  expect(r.message).toContain('Backend Error');
  expect(JSON.stringify([...w.roster.accounts.values()])).toBe(before);
  expect(w.history.entries.at(-1)).toMatchObject({ outcome: 'failed' });
  expect(w.history.entries.at(-1)!.fix).not.toBe('');
});

test('the deletion threshold halts the sync, and a one-time confirmation applies it', () => {
  const w = school();
  runSync(w.svc, manual);
  w.config.remove('lastFullSync');
  w.directory.user('ana@school.example').orgUnitPath = '/Alumni';
  w.directory.user('ben@school.example').orgUnitPath = '/Alumni';
  const halted = runSync(w.svc, manual);
  expect(halted).toMatchObject({ state: 'halted', destructive: 2 });
  expect(w.roster.byEmail('ana@school.example')!.status).toBe('active');
  const confirmed = runSync(w.svc, { ...manual, allowDestructive: 2 });
  expect(confirmed.state).toBe('done');
  expect(confirmed.applied.deactivate).toBe(2);
  expect(w.roster.byEmail('ana@school.example')!.status).toBe('disabled');
});

test('a manual sync within the cooldown is refused with the time of the next allowed one', () => {
  const w = school();
  runSync(w.svc, manual);
  const r = runSync(w.svc, manual);
  expect(r.state).toBe('refused');
  expect(r.message).toMatch(/next one is allowed at 2026-09-01T12:15/);
});

/** A new execution's Services, whose roster is opened on first use as the Apps Script layer does; counts the opens. */
function newExecution(w: TestWorld, roster = w.roster): { opens: number } {
  const execution = { opens: 0 };
  let opened: typeof roster | null = null;
  Object.defineProperty(w.svc, 'roster', {
    configurable: true,
    get: () => {
      if (!opened) execution.opens++;
      return (opened ??= roster);
    },
  });
  return execution;
}

test('a sync opens the roster only when it needs it: once for a sync, never for one the cooldown refuses', () => {
  const w = school();
  const first = newExecution(w);
  expect(runSync(w.svc, manual).state).toBe('done');
  expect(first.opens).toBe(1);
  const second = newExecution(w);
  expect(runSync(w.svc, manual).state).toBe('refused'); // within the cooldown
  expect(second.opens).toBe(0);
});

test('the heartbeat runs a daily full sync once at 23:00 New York time, incremental ones after it, and idles otherwise', () => {
  const w = school();
  w.clock.now = Date.parse('2026-09-01T20:30:00Z'); // 16:30 in New York: no full sync yet, so no incremental one either
  expect(heartbeat(w.svc)).toMatchObject({ state: 'idle' });
  w.clock.now = Date.parse('2026-09-02T03:20:00Z'); // 23:20 in New York
  expect(heartbeat(w.svc)).toMatchObject({ state: 'done', kind: 'full' });
  w.clock.now += 60 * 60 * 1000;
  expect(heartbeat(w.svc)).toMatchObject({ state: 'done', kind: 'incremental', message: expect.stringContaining('0 changes') });
  expect(w.history.entries.map((e) => [e.trigger, e.kind])).toEqual([
    ['scheduled', 'full'],
    ['scheduled', 'incremental'],
  ]);
  // With incremental syncs off, the heartbeats between the daily syncs idle.
  w.setSettings({ ...loadSettings(w.svc.config, DESTINATIONS), incremental: false });
  w.clock.now += 60 * 60 * 1000;
  expect(heartbeat(w.svc)).toMatchObject({ state: 'idle' });
  expect(w.history.entries).toHaveLength(2);
});

test('a blackout pauses scheduled syncs without touching the trigger', () => {
  const w = school();
  w.setSettings({ ...loadSettings(w.config, DESTINATIONS), schedule: { mode: 'hourly', hour: 23, timeZone: 'America/New_York', blackouts: [{ start: '2026-08-20', end: '2026-09-05' }] } });
  const r = heartbeat(w.svc);
  expect(r).toMatchObject({ state: 'idle' });
  expect(r.message).toContain('blackout');
});

test('a part-way sync started under other mappings is discarded with a history entry', () => {
  const w = school();
  w.budget.ms = 1;
  w.budget.stepMs = 1;
  expect(runSync(w.svc, manual).state).toBe('in-progress');
  w.setSettings({ ...loadSettings(w.config, DESTINATIONS), graceDays: 10 });
  w.budget.ms = Infinity;
  const r = runSync(w.svc, manual);
  expect(r.state).toBe('done');
  expect(w.history.entries[0]).toMatchObject({ outcome: 'discarded' });
  expect(w.history.entries[0].message).toContain('mappings or policy changed');
});

test('a failed scheduled sync emails the admins with the error, counts and a link', () => {
  const w = school();
  w.clock.now = Date.parse('2026-09-02T03:20:00Z');
  w.directory.failOn = () => Object.assign(new Error('API call to directory.orgunits.list failed with error: Not Authorized to access this resource/api'), { details: { code: 403, errors: [{ reason: 'forbidden' }] } });
  expect(heartbeat(w.svc)).toMatchObject({ state: 'failed' });
  expect(w.mail).toHaveLength(1);
  expect(w.mail[0].to).toEqual(['admin@school.example']);
  expect(w.mail[0].body).toContain('This account cannot access the Google Workspace Directory');
  expect(w.mail[0].body).toContain('https://docs.google.com/spreadsheets/d/test');
});

test('progress notes: shown while a part runs, ignored once older than an execution can last', () => {
  const w = school();
  w.budget.ms = 2;
  w.budget.stepMs = 1;
  expect(runSync(w.svc, manual).state).toBe('in-progress');
  expect(getSyncProgress(w.svc)).toMatchObject({ running: true, phase: 'read' });
  w.clock.now += 7 * 60_000;
  expect(getSyncProgress(w.svc)).toEqual({ running: false });
});
