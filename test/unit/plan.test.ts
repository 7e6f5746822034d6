import { makePlan } from '../../src/core/plan';
import { loadSettings } from '../../src/core/config';
import { readAll } from '../../src/core/snapshot';
import { Account, Plan } from '../../src/core/model';
import { TestWorld } from '../fakes/memory';
import { school } from './fixture';
import { DESTINATIONS } from '../../src/destinations';

const DAY = 24 * 3600 * 1000;

function plan(w: TestWorld): Plan {
  const settings = loadSettings(w.config, DESTINATIONS);
  const { snapshot } = readAll(settings, w.directory);
  return makePlan({ settings, snapshot, accounts: w.roster.readAll().accounts, now: new Date(w.clock.now).toISOString() });
}

function applyPlan(w: TestWorld): Plan {
  const p = plan(w);
  w.roster.apply(p.changes);
  return p;
}

const only = (p: Plan, email: string) => p.changes.filter((c) => c.email === email || c.before?.email === email);

describe('first sync', () => {
  test('creates an account per in-scope, unsuspended user with roles and reasons', () => {
    const w = school();
    const p = applyPlan(w);
    expect(p.counts).toEqual({ create: 6, update: 0, deactivate: 0, reactivate: 0, delete: 0 });
    expect(w.roster.byEmail('eve@school.example')!.roles).toEqual(['teacher', 'admin']);
    expect(w.roster.byEmail('fay@school.example')!.roles).toEqual(['teacher']);
    expect(only(p, 'fay@school.example')[0].reasons[0]).toContain('group coaches@school.example → teacher');
    expect(only(p, 'eve@school.example')[0].reasons[0]).toContain('admin also grants teacher');
    expect(w.roster.byEmail('gus@school.example')).toBeUndefined();
    expect(w.roster.byEmail('hal@school.example')).toBeUndefined();
    const ana = w.roster.byEmail('ana@school.example')!;
    expect(ana).toMatchObject({ id: '100000000000000000001', status: 'active', syncedStatus: 'active', source: 'synced', orgUnitPath: '/Students/2025' });
  });

  test('a second plan with no directory change is empty', () => {
    const w = school();
    applyPlan(w);
    expect(plan(w).changes).toEqual([]);
  });
});

describe('changes in the directory', () => {
  test('an OU move (rollover) and an email rename are updates of the same account', () => {
    const w = school();
    applyPlan(w);
    w.directory.user('ana@school.example').orgUnitPath = '/Students/2026';
    w.directory.user('ben@school.example').email = 'benjamin@school.example';
    const p = applyPlan(w);
    expect(p.counts.update).toBe(2);
    expect(p.counts.create + p.counts.delete + p.counts.deactivate).toBe(0);
    expect(only(p, 'ana@school.example')[0].reasons).toContain('moved from /Students/2025 to /Students/2026');
    expect(only(p, 'benjamin@school.example')[0].reasons).toContain('email changed from ben@school.example to benjamin@school.example');
    expect(w.roster.accounts.get('100000000000000000002')!.email).toBe('benjamin@school.example');
  });

  test('a teacher promoted to admin gains admin and keeps teacher', () => {
    const w = school();
    applyPlan(w);
    w.directory.user('dee@school.example').orgUnitPath = '/Staff/Admin';
    const p = applyPlan(w);
    expect(only(p, 'dee@school.example')[0].kind).toBe('update');
    expect(w.roster.byEmail('dee@school.example')!.roles).toEqual(['teacher', 'admin']);
  });

  test('suspension sets the account suspended; unsuspension restores it', () => {
    const w = school();
    applyPlan(w);
    w.directory.user('cy@school.example').suspended = true;
    let p = applyPlan(w);
    expect(only(p, 'cy@school.example')[0]).toMatchObject({ kind: 'deactivate', reasons: ['suspended in Google'] });
    expect(w.roster.byEmail('cy@school.example')!.status).toBe('suspended');
    w.directory.user('cy@school.example').suspended = false;
    p = applyPlan(w);
    expect(only(p, 'cy@school.example')[0]).toMatchObject({ kind: 'reactivate', reasons: ['unsuspended in Google'] });
    expect(w.roster.byEmail('cy@school.example')!.status).toBe('active');
  });

  test('archived users are treated like suspended ones', () => {
    const w = school();
    applyPlan(w);
    w.directory.user('dee@school.example').archived = true;
    expect(only(applyPlan(w), 'dee@school.example')[0].reasons).toEqual(['archived in Google']);
  });

  test('a user leaving scope is deactivated now and deleted after the grace period', () => {
    const w = school();
    applyPlan(w);
    w.directory.user('ana@school.example').orgUnitPath = '/Alumni';
    let p = applyPlan(w);
    expect(only(p, 'ana@school.example')[0].kind).toBe('deactivate');
    expect(only(p, 'ana@school.example')[0].reasons[0]).toContain('left every mapped OU and group');
    expect(w.roster.byEmail('ana@school.example')).toMatchObject({ status: 'disabled', syncedStatus: 'disabled' });
    w.clock.now += 29 * DAY;
    expect(plan(w).changes).toEqual([]);
    w.clock.now += 1 * DAY;
    p = applyPlan(w);
    expect(only(p, 'ana@school.example')[0].kind).toBe('delete');
    expect(w.roster.byEmail('ana@school.example')).toBeUndefined();
  });

  test('a user who returns within the grace period is reactivated', () => {
    const w = school();
    applyPlan(w);
    w.directory.user('ana@school.example').orgUnitPath = '/Alumni';
    applyPlan(w);
    w.clock.now += 3 * DAY;
    w.directory.user('ana@school.example').orgUnitPath = '/Students/2026';
    const p = applyPlan(w);
    expect(only(p, 'ana@school.example')[0].kind).toBe('reactivate');
    expect(w.roster.byEmail('ana@school.example')).toMatchObject({ status: 'active', outOfScopeSince: '' });
  });

  test('a user deleted from Google is deprovisioned the same way, never dropped at once', () => {
    const w = school();
    applyPlan(w);
    w.directory.users = w.directory.users.filter((u) => u.email !== 'ben@school.example');
    const p = applyPlan(w);
    expect(only(p, 'ben@school.example')[0]).toMatchObject({ kind: 'deactivate' });
    expect(only(p, 'ben@school.example')[0].reasons[0]).toContain('no longer in the Google directory');
  });
});

describe('local decisions', () => {
  function setStatus(w: TestWorld, email: string, status: Account['status']) {
    const a = w.roster.byEmail(email)!;
    w.roster.accounts.set(a.id, { ...a, status });
  }

  test('a locally disabled account stays disabled across syncs', () => {
    const w = school();
    applyPlan(w);
    setStatus(w, 'ana@school.example', 'disabled');
    w.directory.user('ana@school.example').orgUnitPath = '/Students/2026';
    const p = applyPlan(w);
    expect(only(p, 'ana@school.example')[0].kind).toBe('update');
    expect(w.roster.byEmail('ana@school.example')!.status).toBe('disabled');
    expect(plan(w).changes).toEqual([]);
  });

  test('a deleted synced account comes back while the user is in scope, unless excluded', () => {
    const w = school();
    applyPlan(w);
    setStatus(w, 'ben@school.example', 'deleted');
    setStatus(w, 'cy@school.example', 'deleted');
    w.setSettings({ ...loadSettings(w.config, DESTINATIONS), exclude: ['cy@school.example'] });
    const p = applyPlan(w);
    expect(only(p, 'ben@school.example')[0]).toMatchObject({ kind: 'reactivate' });
    expect(only(p, 'ben@school.example')[0].reasons[0]).toContain('exclude list');
    expect(w.roster.byEmail('ben@school.example')!.status).toBe('active');
    expect(only(p, 'cy@school.example')).toEqual([]);
    expect(w.roster.byEmail('cy@school.example')!.status).toBe('deleted');
  });

  test('an excluded user gets no account, and an existing one is deprovisioned', () => {
    const w = school();
    applyPlan(w);
    w.setSettings({ ...loadSettings(w.config, DESTINATIONS), exclude: ['dee@school.example', 'fay@school.example'] });
    const p = plan(w);
    expect(only(p, 'dee@school.example')[0].kind).toBe('deactivate');
    expect(only(p, 'dee@school.example')[0].reasons[0]).toContain('on the exclude list');
  });

  test('manual accounts are never touched, and one whose email a synced user takes is adopted', () => {
    const w = school();
    const manual = (id: string, email: string): Account => ({ id, email, name: 'Hand Made', roles: ['teacher'], status: 'active', permissions: ['reports'], source: 'manual', orgUnitPath: '', lastSynced: '', syncedStatus: '', outOfScopeSince: '' });
    w.roster.accounts.set('manual-a', manual('manual-a', 'visitor@other.example'));
    w.roster.accounts.set('manual-b', manual('manual-b', 'dee@school.example'));
    const p = applyPlan(w);
    expect(p.counts.create).toBe(5);
    const adopted = only(p, 'dee@school.example')[0];
    expect(adopted.kind).toBe('update');
    expect(adopted.accountId).toBe('manual-b');
    expect(adopted.reasons[0]).toContain('manual account adopted');
    expect(w.roster.accounts.get('manual-b')).toBeUndefined();
    expect(w.roster.accounts.get('100000000000000000004')).toMatchObject({ source: 'synced', permissions: ['reports'] });
    expect(w.roster.accounts.get('manual-a')).toMatchObject({ source: 'manual', email: 'visitor@other.example' });
    expect(plan(w).changes).toEqual([]);
  });

  test('a rename onto the email a manual account keeps is held, and so is a rename onto the address that held one keeps', () => {
    const w = school();
    applyPlan(w);
    const manual: Account = { id: 'manual-n', email: 'nurse@school.example', name: 'Nurse', roles: ['teacher'], status: 'active', permissions: [], source: 'manual', orgUnitPath: '', lastSynced: '', syncedStatus: '', outOfScopeSince: '' };
    w.roster.accounts.set(manual.id, manual);
    w.directory.user('ana@school.example').email = 'nurse@school.example';
    w.directory.user('ben@school.example').email = 'ana@school.example';
    const p = plan(w);
    expect(p.changes.filter((c) => c.kind === 'update')).toEqual([]);
    expect(p.held.map((h) => [h.change.before!.email, h.change.after!.email])).toEqual([
      ['ana@school.example', 'nurse@school.example'],
      ['ben@school.example', 'ana@school.example'],
    ]);
    expect(p.held[0].why).toContain('another account of the roster keeps (Nurse, manual account manual-n)');
    // The manual account deleted: both renames go through.
    w.roster.accounts.set(manual.id, { ...manual, status: 'deleted' });
    expect(plan(w).changes.filter((c) => c.kind === 'update').map((c) => c.after!.email).sort()).toEqual(['ana@school.example', 'nurse@school.example']);
  });
});

describe('safety', () => {
  test('a plan deactivating more than the threshold is blocked with a message', () => {
    const w = school();
    applyPlan(w);
    w.directory.user('ana@school.example').orgUnitPath = '/Alumni';
    const p = plan(w);
    // 6 synced accounts, 10% → limit 0, one deactivation exceeds it.
    expect(p.blockedByThreshold).toMatchObject({ destructive: 1, limit: 0 });
    expect(p.blockedByThreshold!.message).toContain('would deactivate or delete 1 accounts');
    w.setSettings({ ...loadSettings(w.config, DESTINATIONS), threshold: { kind: 'count', value: 1, windowHours: 24 } });
    expect(plan(w).blockedByThreshold).toBeNull();
  });

  test('a vanished OU or group holds deactivations instead of treating its users as gone', () => {
    const w = school();
    applyPlan(w);
    w.directory.orgUnits = w.directory.orgUnits.filter((o) => !o.orgUnitPath.startsWith('/Staff/Teachers'));
    w.directory.groups.delete('coaches@school.example');
    const p = plan(w);
    expect(p.ruleProblems.map((r) => r.ruleId).sort()).toEqual(['coaches', 'teachers']);
    expect(p.changes.filter((c) => c.kind === 'deactivate')).toEqual([]);
    expect(p.held.map((h) => h.change.email).sort()).toEqual(['dee@school.example', 'fay@school.example']);
    expect(p.held[0].why).toContain('no longer exists');
  });
});
