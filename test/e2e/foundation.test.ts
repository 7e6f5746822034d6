// Foundation scenarios on the built bundle in the simulated Apps Script runtime.
import fs from 'node:fs';
import vm from 'node:vm';
import path from 'node:path';
import { DIST, later, world, World } from './harness';
import { DEMO_DOMAIN, rollover } from '../../emulator/domain';
import type { DirUser } from '../../emulator/fakes/directoryState';

const GLOBALS = ['onOpen', 'onInstall', 'showSidebar', 'runScheduledSync', 'getState', 'saveSettings', 'previewSync', 'syncNow', 'listOrgUnits', 'listGroups', 'getAccounts', 'updateAccounts', 'addAccount', 'runFinalizeChecks'];

/** The roster the demo rules should produce, computed from the directory independently of the add-on. */
function expectedRoster(w: World): Map<string, string> {
  const dir = w.rt.directory;
  const inGroup = (email: string, u: DirUser) => dir.isMemberDeep(dir.findGroup(`${email}@${DEMO_DOMAIN}`)!, u.id);
  const out = new Map<string, string>();
  for (const u of dir.allUsers()) {
    if (u.suspended || u.archived) continue;
    const roles = new Set<string>();
    if (u.orgUnitPath.startsWith('/Students/')) roles.add('student');
    if (u.orgUnitPath.startsWith('/Staff/Teachers/') || inGroup('counselors', u)) roles.add('teacher');
    if (inGroup('admins', u)) roles.add('admin').add('teacher');
    if (roles.size) out.set(u.id, ['student', 'teacher', 'admin'].filter((r) => roles.has(r)).join(', '));
  }
  return out;
}

const rosterRoles = (w: World) => new Map(w.roster().map((r) => [r.ID, r.Roles]));
const byEmail = (w: World, email: string) => w.roster().find((r) => r.Email === email);

test('the pushed script, loaded alone in a plain vm with Apps Script globals stubbed, defines every global function', () => {
  const code = fs.readFileSync(path.join(DIST, 'Code.js'), 'utf8');
  const context = vm.createContext({ SpreadsheetApp: {}, PropertiesService: {}, LockService: {}, ScriptApp: {}, HtmlService: {}, Session: {}, Utilities: {}, AdminDirectory: {}, MailApp: {}, console });
  vm.runInContext(code, context);
  for (const name of GLOBALS) expect(typeof context[name]).toBe('function');
  expect(fs.readdirSync(DIST).sort()).toEqual(['Code.js', 'Sidebar.html', 'appsscript.json']);
});

test('onOpen adds the menu without touching properties (AuthMode.NONE)', () => {
  const w = world({ link: false });
  w.rt.run('onOpen', [{ authMode: 'NONE' }], { authMode: 'NONE' });
  expect(JSON.stringify(w.rt.ui.menus)).toContain('Open Roster Sync');
  w.rt.run('showSidebar');
  expect(w.rt.ui.sidebar!.title).toBe('Roster Sync');
});

test('first sync of a school district creates exactly the in-scope users, keyed by their 21-digit ids', () => {
  const w = world();
  const result = w.call('syncNow', {});
  const expected = expectedRoster(w);
  expect(result).toMatchObject({ state: 'done', applied: { create: expected.size } });
  expect(rosterRoles(w)).toEqual(expected);
  for (const row of w.roster()) expect(row.ID).toMatch(/^\d{21}$/);
  const suspended = w.rt.directory.allUsers().filter((u) => u.suspended);
  for (const u of suspended) expect(byEmail(w, u.primaryEmail)).toBeUndefined();
  expect(w.history()[0]).toMatchObject({ Trigger: 'manual', Outcome: 'success', Created: String(expected.size) });
});

test('a second sync with no directory change plans nothing and writes nothing to the roster', () => {
  const w = world();
  w.call('syncNow', {});
  later(w);
  const writes = w.writes('Roster');
  expect(w.call('previewSync').total).toBe(0);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(w.writes('Roster')).toBe(writes);
  expect(w.writes('Roster Sync state')).toBe(0);
});

test('class rollover: a year of students moves OU and every account is updated in place, none recreated', () => {
  const w = world();
  w.call('syncNow', {});
  const ids = new Set(w.roster().map((r) => r.ID));
  const moved = rollover(w.rt.directory, 'alumni');
  later(w);
  const preview = w.call('previewSync');
  const sample = moved.moves.find((m) => m.to && m.to.startsWith('/Students'))!;
  const change = preview.changes.find((c: { email: string }) => c.email === sample.email);
  expect(change.reasons).toContain(`moved from ${sample.from} to ${sample.to}`);
  // Graduates leave every mapped OU: 35 deactivations, more than a 5% threshold allows, so the sync halts first.
  w.save({ threshold: { kind: 'percent', value: 5 } });
  const halted = w.call('syncNow', {});
  expect(halted.state).toBe('halted');
  expect(halted.message).toContain('would deactivate or delete');
  const done = w.call('syncNow', { allowDestructive: halted.destructive });
  expect(done.state).toBe('done');
  expect(done.applied.create).toBe(0);
  expect(new Set(w.roster().map((r) => r.ID))).toEqual(ids);
  expect(byEmail(w, sample.email)!.OU).toBe(sample.to);
  const graduate = moved.moves.find((m) => m.graduated)!;
  expect(byEmail(w, graduate.email)).toMatchObject({ Status: 'disabled', 'Synced status': 'disabled' });
  expect(rosterRoles(w).size).toBe(ids.size);
});

test('a teacher promoted to admin, a group-only teacher, suspension and unsuspension', () => {
  const w = world();
  w.call('syncNow', {});
  const dir = w.rt.directory;
  const teacher = dir.allUsers().find((u) => u.orgUnitPath.startsWith('/Staff/Teachers/') && !u.suspended && !u.archived)!;
  const support = dir.allUsers().find((u) => u.orgUnitPath === '/Staff/Support')!;
  const student = dir.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended)!;
  dir.addMember(`admins@${DEMO_DOMAIN}`, teacher.primaryEmail);
  dir.addMember(`counselors@${DEMO_DOMAIN}`, support.primaryEmail);
  dir.suspend(student.primaryEmail, true);
  later(w);
  w.save({ threshold: { kind: 'count', value: 5 } });
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { create: 1, update: 1, deactivate: 1 } });
  expect(byEmail(w, teacher.primaryEmail)!.Roles).toBe('teacher, admin');
  expect(byEmail(w, support.primaryEmail)).toMatchObject({ Roles: 'teacher', OU: '/Staff/Support' });
  expect(byEmail(w, student.primaryEmail)!.Status).toBe('suspended');
  dir.suspend(student.primaryEmail, false);
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { reactivate: 1 } });
  expect(byEmail(w, student.primaryEmail)!.Status).toBe('active');
});

test('a user leaving scope is deactivated, then deleted once the grace period has passed', () => {
  const w = world();
  w.call('syncNow', {});
  const student = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended)!;
  w.rt.directory.moveUser(student.primaryEmail, '/Alumni');
  later(w);
  expect(w.call('syncNow', {}).applied.deactivate).toBe(1);
  expect(byEmail(w, student.primaryEmail)).toMatchObject({ Status: 'disabled' });
  w.rt.setClock(w.rt.nowMs() + 29 * 86_400_000);
  expect(w.call('syncNow', {}).applied.delete).toBe(0);
  w.rt.setClock(w.rt.nowMs() + 2 * 86_400_000);
  expect(w.call('syncNow', {}).applied.delete).toBe(1);
  expect(byEmail(w, student.primaryEmail)).toBeUndefined();
});

test('a deleted synced account comes back on the next sync, an excluded one does not', () => {
  const w = world();
  w.call('syncNow', {});
  const [a, b] = w.roster().filter((r) => r.Roles === 'student');
  w.call('updateAccounts', { ids: [a.ID], status: 'deleted' });
  w.call('updateAccounts', { ids: [b.ID], status: 'deleted', exclude: true });
  later(w);
  const result = w.call('syncNow', {});
  expect(result.applied.reactivate).toBe(1);
  expect(byEmail(w, a.Email)!.Status).toBe('active');
  expect(byEmail(w, b.Email)!.Status).toBe('deleted');
  expect(w.settings().exclude).toEqual([b.Email]);
});

test('an account edit the sheet could not take (its row deleted by a person meanwhile) is reported, not counted as saved', () => {
  const w = world();
  w.call('syncNow', {});
  const [a, b] = w.roster().filter((r) => r.Roles === 'student');
  const sheet = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
  const rowOfA = w.rt.sheetValues('Roster').findIndex((r) => r[0] === a.ID) + 1;
  // Right after the edit read the roster (its first read), a person deletes a's row.
  let reads = 0;
  sheet.beforeCall = (method) => {
    if (method === 'Range.getValues' && ++reads === 2) sheet.personDeletesRow(rowOfA);
  };
  const r = w.call('updateAccounts', { ids: [a.ID, b.ID], status: 'disabled' });
  sheet.beforeCall = null;
  expect(reads).toBeGreaterThan(2);
  expect(r).toEqual({ updated: 1, failed: [{ accountId: a.ID, email: a.Email, message: expect.stringContaining('moved, edited or removed in the sheet') }] });
  expect(byEmail(w, b.Email)!.Status).toBe('disabled');
  expect(byEmail(w, a.Email)).toBeUndefined();
});

test('a locally disabled account stays disabled across syncs', () => {
  const w = world();
  w.call('syncNow', {});
  const [a, b] = w.roster().filter((r) => r.Roles === 'student');
  w.call('updateAccounts', { ids: [a.ID, b.ID], status: 'disabled' });
  rollover(w.rt.directory, 'alumni');
  later(w);
  w.save({ threshold: { kind: 'percent', value: 100 } });
  w.call('syncNow', {});
  later(w);
  w.call('syncNow', {});
  for (const r of [a, b]) expect(byEmail(w, r.Email)!.Status).toBe('disabled');
});

test('the schedule: one hourly heartbeat trigger, a daily full sync at 23:00 New York, only incremental syncs (here: nothing to do) in between', () => {
  const w = world();
  expect(w.rt.triggers.list).toHaveLength(1);
  w.save({ schedule: { mode: 'daily', hour: 23, timeZone: 'America/New_York', blackouts: [] } });
  expect(w.rt.triggers.list).toHaveLength(1);
  const runs = w.rt.advanceHours(30); // 2026-09-01 14:00Z → 2026-09-02 20:00Z
  expect(runs.length).toBeGreaterThanOrEqual(29);
  expect(runs.every((r) => r.ok)).toBe(true);
  const synced = w.history().filter((h) => h.Trigger === 'scheduled' && h.Kind === 'full');
  expect(synced).toHaveLength(1);
  const started = new Date(synced[0].Started);
  expect(started.toISOString()).toMatch(/^2026-09-02T03:/); // 23:xx in New York (UTC-4)
  expect(w.roster().length).toBe(expectedRoster(w).size);
  // Before the first full sync nothing runs; after it, each heartbeat reads the admin log and finds nothing.
  const rows = w.history();
  expect(rows[0]).toEqual(synced[0]);
  const incremental = rows.slice(1);
  expect(incremental.length).toBeGreaterThanOrEqual(14);
  for (const h of incremental) expect(h).toMatchObject({ Trigger: 'scheduled', Kind: 'incremental', Outcome: 'success', Message: expect.stringMatching(/^Incremental: 0 changes .* No changes\.$/) });
});

test('a scheduled sync opens the roster by its stored id, with no active document', () => {
  const w = world();
  w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  const [run] = w.rt.advanceHours(2);
  expect(run).toMatchObject({ ok: true, handler: 'runScheduledSync' });
  expect((run.result as { state: string }).state).toBe('done');
  expect(w.roster().length).toBeGreaterThan(300);
});

test('settings are validated, namespaced per roster spreadsheet, and refused with the field named', () => {
  const w = world();
  const bad = w.envelope('saveSettings', { ...w.settings(), schedule: { mode: 'daily', hour: 25, timeZone: 'America/New_York', blackouts: [] } });
  expect(bad).toMatchObject({ ok: false, error: { text: 'Setting schedule.hour must be a whole number from 0 to 23.' } });
  const keys = Object.keys(w.rt.scriptProperties());
  expect(keys.length).toBeGreaterThan(0);
  for (const k of keys) expect(k.startsWith(`rs:${w.rt.activeSpreadsheetId}:`)).toBe(true);
});

test('a corrupt settings property is reported with how to repair it, and nothing is synced', () => {
  const w = world();
  const key = Object.keys(w.rt.scriptProperties()).find((k) => k.endsWith(':settings'))!;
  w.rt.properties.script.map.set(key, '{"rules": [');
  const r = w.envelope('syncNow', {});
  expect(r.ok).toBe(true);
  expect(r.data).toMatchObject({ state: 'failed', message: 'The saved settings cannot be read: the stored value is not valid JSON.' });
  expect(w.roster()).toEqual([]);
  expect(w.call('getState').settingsError.text).toContain('cannot be read');
});
