import * as api from '../../src/core/api';
import { loadSettings } from '../../src/core/config';
import { defaultSettings } from '../../src/core/settings';
import { school } from './fixture';
import { heartbeat } from '../../src/core/triggers';
import { TestWorld } from '../fakes/memory';
import { DESTINATIONS } from '../../src/destinations';

function as(w: TestWorld, email: string) {
  w.svc.session = { ...w.svc.session, activeUserEmail: () => email, effectiveUserEmail: () => email };
}

const NOT_ALLOWED = 'You do not have permission to change Roster Sync.';

test('only the installer and listed admins may call the server API', () => {
  const w = school();
  as(w, 'teacher@school.example');
  for (const call of [
    () => api.saveSettings(w.svc, defaultSettings()),
    () => api.syncNow(w.svc, {}),
    () => api.previewSync(w.svc),
    () => api.getAccounts(w.svc, {}),
    () => api.addAccount(w.svc, { name: 'X', email: 'x@school.example', role: 'student' }),
    () => api.updateAccounts(w.svc, { ids: ['100000000000000000001'], status: 'disabled' }),
    () => api.runFinalizeChecks(w.svc),
  ]) {
    expect(call).toThrow(NOT_ALLOWED);
  }
  expect(api.getState(w.svc)).toMatchObject({ canConfigure: false, message: { text: NOT_ALLOWED } });
  expect(w.roster.accounts.size).toBe(0);
  as(w, 'admin@school.example');
  api.saveSettings(w.svc, { ...loadSettings(w.config, DESTINATIONS), admins: ['teacher@school.example'] });
  as(w, 'teacher@school.example');
  expect(api.getState(w.svc).canConfigure).toBe(true);
});

test('linking: an admin who can read the directory becomes the sync account; others get a message for an admin', () => {
  const w = school();
  w.config.remove('installer');
  w.config.remove('syncAccount');
  expect(() => api.syncNow(w.svc, {})).toThrow('Roster Sync is not linked to the directory yet.');
  w.directory.failOn = () => Object.assign(new Error('Not Authorized to access this resource/api'), { details: { code: 403, errors: [{ reason: 'forbidden' }] } });
  expect(api.getSetupStatus(w.svc)).toMatchObject({ linked: false, canReadDirectory: false, problem: { text: 'This account cannot access the Google Workspace Directory.' } });
  expect(() => api.useMyAccountForSync(w.svc, {})).toThrow('This account cannot access the Google Workspace Directory.');
  const ask = api.askAdminMessage(w.svc, { adminEmail: 'it-admin@school.example' });
  expect(ask.body).toContain('Organizational Units → Read, Users → Read, Groups → Read');
  expect(ask.body).toContain('Groups → Read, and Reports');
  expect(ask.mailto).toMatch(/^mailto:it-admin%40school\.example\?subject=/);
  expect(w.config.get('installer')).toBeNull();
  w.directory.failOn = null;
  api.useMyAccountForSync(w.svc, {});
  expect(w.config.get('installer')).toBe('admin@school.example');
  expect(w.config.get('syncAccount')).toBe('admin@school.example');
  expect(w.triggers.list()).toHaveLength(1);
});

test('changing the sync account needs a confirmation, and the old account\'s trigger retires itself', () => {
  const w = school();
  api.saveSettings(w.svc, { ...loadSettings(w.config, DESTINATIONS), admins: ['it@school.example'] });
  as(w, 'it@school.example');
  expect(() => api.useMyAccountForSync(w.svc, {})).toThrow('scheduled syncs run as admin@school.example now');
  api.useMyAccountForSync(w.svc, { confirmChange: true });
  expect(w.config.get('syncAccount')).toBe('it@school.example');
  as(w, 'admin@school.example');
  expect(heartbeat(w.svc)).toMatchObject({ state: 'idle', message: expect.stringContaining('run as it@school.example') });
});

test('saving settings installs exactly one heartbeat trigger, however often it is saved', () => {
  const w = school();
  api.saveSettings(w.svc, loadSettings(w.config, DESTINATIONS));
  api.saveSettings(w.svc, { ...loadSettings(w.config, DESTINATIONS), schedule: { mode: 'hourly', hour: 0, timeZone: 'Europe/Paris', blackouts: [] } });
  expect(w.triggers.list()).toEqual([{ id: 't1', handler: 'runScheduledSync', kind: 'CLOCK' }]);
});

test('accounts: add a manual account, refuse a duplicate email, disable in bulk, page and filter', () => {
  const w = school();
  api.syncNow(w.svc, {});
  const added = api.addAccount(w.svc, { name: 'Visiting Coach', email: 'Coach@Other.example', role: 'admin' });
  expect(added).toMatchObject({ source: 'manual', email: 'coach@other.example', roles: ['teacher', 'admin'], status: 'active' });
  expect(() => api.addAccount(w.svc, { name: 'Ana again', email: 'ana@school.example', role: 'student' })).toThrow('An account with this email already exists.');
  const students = api.getAccounts(w.svc, { tab: 'student' });
  expect(students.rows.map((r) => r.email)).toEqual(['ana@school.example', 'ben@school.example', 'cy@school.example']);
  expect(students.tabCounts).toMatchObject({ all: 7, student: 3, teacher: 4, admin: 2 });
  expect(api.updateAccounts(w.svc, { ids: ['100000000000000000001', '100000000000000000002'], status: 'disabled', grant: ['reports'] })).toEqual({ updated: 2, failed: [] });
  expect(api.getAccounts(w.svc, { status: 'disabled' }).rows.map((r) => [r.email, r.permissions])).toEqual([
    ['ana@school.example', ['reports']],
    ['ben@school.example', ['reports']],
  ]);
  expect(api.getAccounts(w.svc, { query: 'BEN', limit: 1 }).total).toBe(1);
  expect(() => api.updateAccounts(w.svc, { ids: ['100000000000000000001'], grant: ['<b>root</b>'] })).toThrow('grant[0] must be one of hall-pass, reports.');
});

test('deleting and excluding a synced account keeps it deleted after the next sync', () => {
  const w = school();
  api.syncNow(w.svc, {});
  api.updateAccounts(w.svc, { ids: ['100000000000000000003'], status: 'deleted', exclude: true });
  expect(loadSettings(w.config, DESTINATIONS).exclude).toEqual(['cy@school.example']);
  w.config.remove('lastFullSync');
  api.syncNow(w.svc, {});
  expect(w.roster.byEmail('cy@school.example')!.status).toBe('deleted');
});

test('explain a user: the rules that matched, the roles, and what the next sync does', () => {
  const w = school();
  api.syncNow(w.svc, {});
  w.directory.user('fay@school.example').orgUnitPath = '/Staff/Teachers';
  const e = api.explainUser(w.svc, { email: 'fay@school.example' });
  expect(e.matchedRules.map((r) => r.id)).toEqual(['teachers', 'coaches']);
  expect(e.roles).toEqual([{ role: 'teacher', from: ['OU /Staff/Teachers (and sub-OUs) → teacher', 'group coaches@school.example → teacher'] }]);
  expect(e.changes).toHaveLength(1);
  expect(e.changes[0].reasons).toContain('moved from /Staff/Support to /Staff/Teachers');
  const applied = api.syncUser(w.svc, { email: 'fay@school.example' });
  expect(applied.applied).toBe(1);
  expect(w.roster.byEmail('fay@school.example')!.orgUnitPath).toBe('/Staff/Teachers');
  expect(api.explainUser(w.svc, { email: 'fay@school.example' }).changes).toEqual([]);
  // History records it as a single-user sync, which never counts as the last full sync.
  const [entry, full] = w.history.list(2);
  expect(entry).toMatchObject({ trigger: 'user', outcome: 'success', message: 'Synced one user (fay@school.example): 1 updated.' });
  expect(full.trigger).toBe('manual');
  expect(api.syncUser(w.svc, { email: 'fay@school.example' }).applied).toBe(0);
  expect(w.history.list(5).filter((h) => h.trigger === 'user')).toHaveLength(1);
});

test('account edits wait for a sync part that holds the lock, and change nothing when it does not end', () => {
  const w = school();
  api.syncNow(w.svc, {});
  const ana = w.roster.byEmail('ana@school.example')!;
  w.lock.heldElsewhere = true;
  const busy = [
    () => api.updateAccounts(w.svc, { ids: [ana.id], status: 'disabled' }),
    () => api.addAccount(w.svc, { name: 'Visiting Coach', email: 'coach@other.example', role: 'teacher' }),
    () => api.syncUser(w.svc, { email: 'ana@school.example' }),
  ];
  for (const edit of busy) expect(edit).toThrow('A sync is already running');
  expect(w.roster.byEmail('ana@school.example')!.status).toBe('active');
  expect(w.roster.byEmail('coach@other.example')).toBeUndefined();
  w.lock.heldElsewhere = false;
  expect(api.updateAccounts(w.svc, { ids: [ana.id], status: 'disabled' })).toEqual({ updated: 1, failed: [] });
  expect(w.lock.held).toBe(false);
});

test('preview is the plan, not applied, with per-rule match counts', () => {
  const w = school();
  const p = api.previewSync(w.svc);
  expect(p.counts.create).toBe(6);
  expect(p.ruleMatches).toEqual({ students: 4, teachers: 1, admins: 1, coaches: 1 });
  expect(p.changes.find((c) => c.email === 'ana@school.example')!.reasons[0]).toBe('in /Students/2025: student (OU /Students (and sub-OUs) → student)');
  expect(w.roster.accounts.size).toBe(0);
});

test('hostile payloads are refused with the field named and change nothing', () => {
  const w = school();
  api.syncNow(w.svc, {});
  const before = JSON.stringify([...w.roster.accounts.values()]);
  const cases: [() => unknown, string][] = [
    [() => api.addAccount(w.svc, { name: 'x', email: '=HYPERLINK("http://evil")', role: 'student' }), 'email must be an email address'],
    [() => api.addAccount(w.svc, { name: 'x'.repeat(201), email: 'a@b.example', role: 'student' }), 'name must be at most 200 characters'],
    [() => api.addAccount(w.svc, { name: 'x', email: 'a@b.example', role: 'root' }), 'role must be one of student, teacher, admin'],
    [() => api.addAccount(w.svc, 'not an object'), 'request must be an object'],
    [() => api.updateAccounts(w.svc, { ids: ['../../etc'], status: 'active' }), 'ids[0] is not an account id'],
    [() => api.updateAccounts(w.svc, { ids: ['100000000000000000001'], status: 'god' }), 'status must be one of active, disabled, suspended, deleted'],
    [() => api.listOrgUnits(w.svc, { parent: 'no-slash' }), 'parent must be an organizational unit path'],
    [() => api.getAccounts(w.svc, { limit: 1e9 }), 'limit must be a whole number from 1 to 500'],
    [() => api.explainUser(w.svc, { email: { $ne: 1 } }), 'email must be text'],
    [() => api.syncNow(w.svc, { allowDestructive: -5 }), 'allowDestructive must be a whole number'],
  ];
  for (const [call, expected] of cases) expect(call).toThrow(expected);
  expect(JSON.stringify([...w.roster.accounts.values()])).toBe(before);
});
