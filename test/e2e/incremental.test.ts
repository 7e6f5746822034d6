// Incremental syncs from the admin activity log (Reports API), on the built bundle in the simulated
// runtime: the fake directory logs every change as Google's admin log would (ids, times, a lag of a
// couple of minutes, events it never reports), and the hourly heartbeat applies them.
import { World, later, world } from './harness';
import { DEMO_DOMAIN } from '../../emulator/domain';

/** A linked demo district after its first full sync (which records where the log is read from). */
function synced(): World {
  const w = world();
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done' });
  return w;
}

/** Lets time pass until the hourly heartbeat fires once (at a random minute of the hour, as Google's does). */
function heartbeat(w: World) {
  const clock = w.rt.triggers.list.filter((t) => t.eventType === 'CLOCK');
  expect(clock).toHaveLength(1);
  const runs = w.rt.advance(Math.max(0, clock[0].nextFireMs - w.rt.nowMs()));
  expect(runs).toHaveLength(1);
  expect(runs[0].ok).toBe(true);
  return runs[0].result as { state: string; kind: string; message: string };
}

/** The newest History row (the sheet appends). */
const latest = (w: World) => w.history()[w.history().length - 1];
const row = (w: World, email: string) => w.roster().find((r) => r.Email === email);
const student = (w: World, i = 0) => w.rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && !u.archived)[i];

/** After the incremental sync, a full one plans nothing: the incremental gave the same result. */
function fullPlansNothing(w: World): void {
  expect(w.call('previewSync').total).toBe(0);
}

test('a new user in a mapped OU is created within one heartbeat, re-reading only that user', () => {
  const w = synced();
  const u = w.rt.directory.addUser({ email: `new.teacher@${DEMO_DOMAIN}`, givenName: 'Nova', familyName: 'Teacher', orgUnitPath: '/Staff/Teachers/Lincoln High' });
  w.rt.resetCounters();
  const result = heartbeat(w);
  expect(result).toMatchObject({ state: 'done', kind: 'incremental' });
  expect(row(w, u.primaryEmail)).toMatchObject({ ID: u.id, Roles: 'teacher', Status: 'active' });
  // One users.get and one page of each log (admin, group managers'); the directory is not listed.
  expect(w.rt.calls['AdminDirectory.Users.list'] ?? 0).toBe(0);
  expect(w.rt.calls['AdminDirectory.Users.get']).toBe(1);
  expect(w.rt.calls['AdminReports.Activities.list']).toBe(2);
  expect(latest(w)).toMatchObject({ Kind: 'incremental', Trigger: 'scheduled', Outcome: 'success', Created: '1' });
  expect(latest(w).Message).toMatch(/^Incremental: 1 changes in the admin log since .*, 1 users re-read\. 1 created\.$/);
  // Its sync report says it was incremental and lists the account with its reason.
  const report = w.call('getSyncReport', { startedAt: latest(w).Started });
  expect(report).toMatchObject({ kind: 'incremental', trigger: 'scheduled', startedBy: 'the schedule' });
  expect(report.changes).toEqual([expect.objectContaining({ kind: 'create', accountId: u.id, reasons: [expect.stringContaining('in /Staff/Teachers/Lincoln High')] })]);
  fullPlansNothing(w);
});

test('a heartbeat with nothing in the logs makes two Reports calls (admin, group managers), reads no directory and no roster, and writes nothing', () => {
  const w = synced();
  const rosterWrites = w.writes('Roster');
  const rosterCellsRead = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster').cellsRead;
  w.rt.resetCounters();
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', message: expect.stringContaining('0 changes in the admin log') });
  expect(w.rt.calls['AdminReports.Activities.list']).toBe(2);
  expect(Object.keys(w.rt.calls).filter((k) => k.startsWith('AdminDirectory.'))).toEqual([]);
  expect(w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster').cellsRead).toBe(rosterCellsRead);
  expect(w.writes('Roster')).toBe(rosterWrites);
});

test('a suspension, a rename, an email change, an OU move and a group membership change each reach the roster as a full sync would', () => {
  const w = synced();
  const dir = w.rt.directory;
  const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) => student(w, i));
  dir.suspend(a.primaryEmail);
  dir.renameUser(b.primaryEmail, 'Renamed', 'Person');
  const newEmail = `moved.on@${DEMO_DOMAIN}`;
  dir.renameEmail(c.primaryEmail, newEmail, false);
  dir.moveUser(d.primaryEmail, '/Staff/Teachers/Lincoln High');
  dir.addMember(`admins@${DEMO_DOMAIN}`, e.primaryEmail);
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental' });
  expect(row(w, a.primaryEmail)).toMatchObject({ Status: 'suspended' });
  expect(row(w, b.primaryEmail)).toMatchObject({ Name: 'Renamed Person' });
  expect(row(w, newEmail)).toMatchObject({ ID: c.id, Status: 'active' });
  expect(row(w, d.primaryEmail)).toMatchObject({ Roles: 'teacher', OU: '/Staff/Teachers/Lincoln High' });
  expect(row(w, e.primaryEmail)).toMatchObject({ Roles: 'student, teacher, admin' });
  expect(latest(w)).toMatchObject({ Kind: 'incremental', Updated: '4', Deactivated: '1' });
  fullPlansNothing(w);
  // Leaving the group again, and a deletion, also reach it.
  dir.removeMember(`admins@${DEMO_DOMAIN}`, e.primaryEmail);
  dir.deleteUser(b.primaryEmail);
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental' });
  expect(row(w, e.primaryEmail)).toMatchObject({ Roles: 'student' });
  expect(row(w, b.primaryEmail)).toMatchObject({ Status: 'disabled' });
  fullPlansNothing(w);
});

test('mapped attributes and app groups reach the roster through the heartbeat as a full sync would', () => {
  const w = world();
  w.save({
    attributes: [
      { name: 'School', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'school' },
      { name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade' },
      { name: 'Student ID', source: 'externalIds.organization' },
    ],
    appGroups: [`robotics-club@${DEMO_DOMAIN}`],
  });
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done' });
  const dir = w.rt.directory;
  const mover = dir.allUsers().find((u) => u.orgUnitPath === '/Students/Lincoln High/Grade 9' && !u.suspended)!;
  const joiner = dir.allUsers().find((u) => u.orgUnitPath === '/Students/Jefferson Elementary/Grade 3' && !u.suspended)!;
  const before = row(w, mover.primaryEmail)!;
  expect(before).toMatchObject({ School: 'Lincoln High', Grade: '9' });
  expect(before['Student ID']).not.toBe('');
  dir.moveUser(mover.primaryEmail, '/Students/Washington Middle/Grade 8');
  dir.addMember(`robotics-club@${DEMO_DOMAIN}`, joiner.primaryEmail);
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental' });
  // Re-read with its mapped fields: the ID number is kept, school and grade follow the OU.
  expect(row(w, mover.primaryEmail)).toMatchObject({ School: 'Washington Middle', Grade: '8', 'Student ID': before['Student ID'] });
  expect(row(w, joiner.primaryEmail)!.Groups).toBe(`robotics-club@${DEMO_DOMAIN}`);
  // Nobody else lost a group or an attribute: a full sync plans nothing.
  fullPlansNothing(w);
});

test('a member a group manager adds to a mapped group (the groups_enterprise log, not the admin log) gets the role within one heartbeat', () => {
  const w = synced();
  const u = student(w);
  w.rt.directory.addMember(`counselors@${DEMO_DOMAIN}`, u.primaryEmail, 'MEMBER', 'manager');
  expect(w.rt.directory.auditLog.slice(-1)[0]).toMatchObject({ application: 'groups_enterprise', name: 'add_member' });
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', applied: { update: 1 } });
  expect(row(w, u.primaryEmail)).toMatchObject({ Roles: 'student, teacher' });
  w.rt.directory.removeMember(`counselors@${DEMO_DOMAIN}`, u.primaryEmail, 'manager');
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', applied: { update: 1 } });
  expect(row(w, u.primaryEmail)).toMatchObject({ Roles: 'student' });
  fullPlansNothing(w);
});

test('an address given to someone new: the old owner, renamed in an event the log lost, is found by id and updated, not deactivated', () => {
  const w = synced();
  const dir = w.rt.directory;
  const a = student(w);
  const old = a.primaryEmail;
  dir.audit.dropNext = 1;
  dir.renameEmail(old, `renamed.${old}`, false);
  const b = dir.addUser({ email: old, givenName: 'New', familyName: 'Owner', orgUnitPath: '/Students/Lincoln High/Grade 9' });
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', applied: { create: 1, update: 1 } });
  expect(w.roster().find((r) => r.ID === a.id)).toMatchObject({ Email: `renamed.${old}`, Status: 'active' });
  expect(w.roster().find((r) => r.ID === b.id)).toMatchObject({ Email: old, Status: 'active' });
  fullPlansNothing(w);
});

test('an event Google logs late is caught by the next heartbeat (the overlap), and counted once', () => {
  const w = synced();
  const u = student(w);
  // A minute before the heartbeat fires, a suspension that Google logs 5 to 6 minutes late.
  w.rt.setClock(w.rt.triggers.list[0].nextFireMs - 60_000);
  w.rt.directory.audit.lagMs = 5 * 60_000;
  w.rt.directory.suspend(u.primaryEmail);
  expect(heartbeat(w).message).toContain('0 changes');
  expect(row(w, u.primaryEmail)).toMatchObject({ Status: 'active' });
  expect(heartbeat(w).message).toContain(' 1 changes');
  expect(row(w, u.primaryEmail)).toMatchObject({ Status: 'suspended' });
  expect(heartbeat(w).message).toContain('0 changes');
});

test('an event the log never reports is corrected by the next nightly full sync, which records that incremental syncs missed it', () => {
  const w = synced();
  const u = student(w);
  w.rt.directory.audit.dropNext = 1;
  w.rt.directory.suspend(u.primaryEmail);
  expect(heartbeat(w)).toMatchObject({ kind: 'incremental', message: expect.stringContaining('0 changes') });
  expect(row(w, u.primaryEmail)).toMatchObject({ Status: 'active' });
  // Hour by hour to the daily slot (23:00 New York): there a full sync runs.
  let full: { kind: string; message: string } | undefined;
  for (let h = 0; h < 24 && !full; h++) {
    const r = heartbeat(w);
    if (r.kind === 'full') full = r;
  }
  expect(full).toBeDefined();
  expect(row(w, u.primaryEmail)).toMatchObject({ Status: 'suspended' });
  expect(full!.message).toMatch(/found 1 differences that the incremental syncs since .* had not caught/);
  expect(latest(w)).toMatchObject({ Kind: 'full', Trigger: 'scheduled', Updated: '0', Deactivated: '1' });
});

test('the threshold counts every synced account of the roster, not only those an incremental sync reviews: a few leavers are applied', () => {
  const w = synced();
  const leavers = [0, 1, 2].map((i) => student(w, i));
  for (const u of leavers) w.rt.directory.moveUser(u.primaryEmail, '/Alumni');
  // 3 deactivations of 3 reviewed accounts, but far below 10 % of the roster's synced accounts.
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', applied: { deactivate: 3 } });
  for (const u of leavers) expect(row(w, u.primaryEmail)).toMatchObject({ Status: 'disabled' });
  fullPlansNothing(w);
});

test('a full sync right after a change the incremental syncs have not read yet does not count it as missed', () => {
  const w = synced();
  expect(heartbeat(w)).toMatchObject({ kind: 'incremental' });
  const u = student(w);
  w.rt.directory.suspend(u.primaryEmail);
  later(w, 20);
  const r = w.call('syncNow', {});
  expect(r).toMatchObject({ state: 'done', kind: 'full', applied: { deactivate: 1 } });
  expect(r.message).not.toContain('had not caught');
});

test('a mass move out of the mapped OUs still halts at the threshold; heartbeats then wait for an admin instead of halting hourly, and run again once it is applied', () => {
  const w = synced();
  const dir = w.rt.directory;
  const movers = dir.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/Lincoln High'));
  expect(movers.length).toBeGreaterThan(40);
  for (const u of movers) dir.moveUser(u.primaryEmail, '/Alumni');
  const before = w.roster();
  const r = heartbeat(w);
  expect(r).toMatchObject({ state: 'halted', kind: 'incremental' });
  expect(w.roster()).toEqual(before);
  expect(latest(w)).toMatchObject({ Kind: 'incremental', Outcome: 'halted' });
  const rows = w.history().length;
  expect(heartbeat(w)).toMatchObject({ state: 'idle', message: expect.stringContaining('waits for an admin (Preview, then Apply anyway)') });
  expect(w.history()).toHaveLength(rows);
  // The admin confirms once (Apply anyway): the watermark moves, and heartbeats run incremental syncs again.
  later(w);
  const destructive = (r as unknown as { destructive: number }).destructive;
  expect(destructive).toBeGreaterThan(40);
  expect(w.call('syncNow', { allowDestructive: destructive })).toMatchObject({ state: 'done', applied: { deactivate: destructive } });
  for (const u of movers.filter((x) => !x.suspended).slice(0, 3)) expect(row(w, u.primaryEmail)).toMatchObject({ Status: 'disabled' });
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', applied: { deactivate: 0 } });
});

test('an OU renamed falls back to a full sync at the heartbeat, saying why', () => {
  const w = synced();
  w.rt.directory.renameOu('/Students/Lincoln High', 'Lincoln Senior High');
  const r = heartbeat(w);
  expect(r).toMatchObject({ state: 'done', kind: 'full' });
  expect(r.message).toMatch(/^Full sync instead of an incremental one: the organizational unit \/Students\/Lincoln High was renamed/);
  expect(latest(w)).toMatchObject({ Kind: 'full' });
  expect(w.roster().some((x) => x.OU.startsWith('/Students/Lincoln Senior High/'))).toBe(true);
  fullPlansNothing(w);
});

test('changed mappings fall back to a full sync, saying why', () => {
  const w = synced();
  w.save({ rules: [...w.settings().rules.filter((x: { id: string }) => x.id !== 'counselors')] });
  expect(heartbeat(w)).toMatchObject({ kind: 'full', message: expect.stringContaining('the mappings or policy changed since the last full sync') });
  fullPlansNothing(w);
});

test('a group nested into a mapped group: its members get the role at the next heartbeat (the mapped group is read again with indirect members)', () => {
  const w = synced();
  const support = w.rt.directory.findGroup(`support-staff@${DEMO_DOMAIN}`)!.members.map((m) => w.rt.directory.userById(m.id)!);
  w.rt.directory.addMember(`admins@${DEMO_DOMAIN}`, `support-staff@${DEMO_DOMAIN}`);
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', applied: { create: support.length } });
  for (const u of support) expect(row(w, u.primaryEmail)).toMatchObject({ Roles: 'teacher, admin' });
  fullPlansNothing(w);
});

test('a change to a group nested in a mapped one (not mapped itself) re-reads the mapped groups and reaches the roster', () => {
  const w = synced();
  const dir = w.rt.directory;
  // all-teachers is not mapped; nest it under counselors@ (mapped, teacher), then add a student to a school's teachers group.
  dir.addMember(`counselors@${DEMO_DOMAIN}`, `lincoln-teachers@${DEMO_DOMAIN}`);
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental' });
  const u = student(w);
  dir.addMember(`lincoln-teachers@${DEMO_DOMAIN}`, u.primaryEmail);
  expect(heartbeat(w)).toMatchObject({ state: 'done', kind: 'incremental', applied: { update: 1 } });
  expect(row(w, u.primaryEmail)).toMatchObject({ Roles: 'student, teacher' });
  fullPlansNothing(w);
});

test('without the Reports privilege the heartbeat records it once a day, the daily full sync goes on, and Finalize says how to enable incremental syncs', () => {
  const w = synced();
  w.rt.revokeReportsPrivilege();
  const u = student(w);
  w.rt.directory.suspend(u.primaryEmail);
  const r = heartbeat(w);
  expect(r).toMatchObject({ state: 'failed', kind: 'incremental' });
  expect(r.message).toContain('Incremental syncs cannot read the admin activity log');
  expect(latest(w)).toMatchObject({ Kind: 'incremental', Outcome: 'failed' });
  const rows = w.history().length;
  expect(heartbeat(w).state).toBe('failed');
  expect(w.history().length).toBe(rows); // not again within the day
  const check = w.call('runFinalizeChecks').checks.find((c: { id: string }) => c.id === 'incremental');
  expect(check).toMatchObject({ status: 'warning' });
  expect(check.fix).toContain('Reports');
  expect(check.fix).toContain('admin.reports.audit.readonly');
  for (let h = 0; h < 24 && row(w, u.primaryEmail)!.Status !== 'suspended'; h++) w.rt.advanceHours(1);
  expect(row(w, u.primaryEmail)).toMatchObject({ Status: 'suspended' });
  expect(w.history().find((e) => e.Kind === 'full' && e.Trigger === 'scheduled')).toBeDefined();
});

test('Sync changes in the sidebar runs an incremental sync on demand, with no cooldown', () => {
  const w = synced();
  const u = w.rt.directory.addUser({ email: `on.demand@${DEMO_DOMAIN}`, givenName: 'On', familyName: 'Demand', orgUnitPath: '/Students/Lincoln High/Grade 9' });
  later(w, 3);
  expect(w.call('syncChanges')).toMatchObject({ state: 'done', kind: 'incremental', applied: { create: 1 } });
  expect(row(w, u.primaryEmail)).toMatchObject({ Roles: 'student' });
  expect(latest(w)).toMatchObject({ Kind: 'incremental', Trigger: 'manual' });
});

test('incremental syncs need a first full sync: before it the heartbeat stays idle until the daily slot', () => {
  const w = world();
  const r = heartbeat(w);
  expect(r.state).toBe('idle');
  expect(w.history()).toEqual([]);
});
