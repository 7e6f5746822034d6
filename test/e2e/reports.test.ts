// The sync report behind each History entry, on the built bundle in the simulated runtime.
import { later, world } from './harness';
import { DEMO_DOMAIN } from '../../emulator/domain';


test('a Sync now report lists each created account with its reason, names who started it, and is searchable', () => {
  const w = world();
  const result = w.call('syncNow', {});
  const entry = w.call('getState').history[0];
  const report = w.call('getSyncReport', { startedAt: entry.startedAt });
  expect(report).toMatchObject({ trigger: 'manual', outcome: 'success', startedBy: w.call('getState').user, counts: result.applied });
  expect(report.changes).toHaveLength(Math.min(result.applied.create, 200));
  expect(report.omitted.create).toBe(Math.max(0, result.applied.create - 200));
  const roster = new Map(w.roster().map((r) => [r.Email, r]));
  for (const c of report.changes) {
    expect(c.kind).toBe('create');
    expect(roster.has(c.email)).toBe(true);
    expect(c.reasons.join(' ')).toMatch(/\w/);
  }
  const someone = report.changes[3];
  const found = w.call('getSyncReport', { startedAt: entry.startedAt, query: someone.email.toUpperCase() });
  expect(found.changes.map((c: { email: string }) => c.email)).toEqual([someone.email]);
  expect(found.listed).toBe(report.changes.length);
});

test('a scheduled sync is reported as started by the schedule, with what it changed and why', () => {
  const w = world();
  w.call('syncNow', {});
  const mover = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && !u.archived)!;
  w.rt.directory.moveUser(mover.primaryEmail, '/');
  w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] }, cooldownMinutes: 0 });
  for (let h = 0; h < 3 && w.history().length < 2; h++) w.rt.advanceHours(1);
  const entry = w.call('getState').history.find((e: { trigger: string }) => e.trigger === 'scheduled');
  const report = w.call('getSyncReport', { startedAt: entry.startedAt });
  expect(report).toMatchObject({ trigger: 'scheduled', startedBy: 'the schedule' });
  expect(report.changes).toEqual([expect.objectContaining({ kind: 'deactivate', email: mover.primaryEmail.toLowerCase(), reasons: [expect.stringContaining('left every mapped OU and group')] })]);
});

test('Sync this user has a report too; only the last 30 reports are kept, older ones say so', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  const first = w.call('syncNow', {});
  expect(first.state).toBe('done');
  const firstStart = w.call('getState').history[0].startedAt;
  const user = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && !u.archived)!;
  for (let i = 0; i < 30; i++) {
    w.rt.directory.moveUser(user.primaryEmail, i % 2 ? '/Students' : '/');
    later(w, 1);
    w.call('syncUser', { email: user.primaryEmail });
  }
  const last = w.call('getState').history[0];
  expect(last.trigger).toBe('user');
  expect(w.call('getSyncReport', { startedAt: last.startedAt })).toMatchObject({ trigger: 'user', startedBy: w.call('getState').user, changes: [expect.objectContaining({ email: user.primaryEmail.toLowerCase() })] });
  const gone = w.envelope('getSyncReport', { startedAt: firstStart });
  expect(gone).toMatchObject({ ok: false, error: { id: 'reportNotKept' } });
});

test('the optional report email: off by default; when on, a scheduled sync that changed something emails what changed and why, a sync that changed nothing emails nobody', () => {
  const hourly = { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] };
  for (const reportEmail of [undefined, true]) {
    const w = world();
    expect(w.settings().reportEmail).toBe(false);
    w.save({ schedule: hourly, cooldownMinutes: 0, admins: [`it@${DEMO_DOMAIN}`], ...(reportEmail === undefined ? {} : { reportEmail }) });
    w.call('syncNow', {});
    const mover = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && !u.archived)!;
    w.rt.directory.moveUser(mover.primaryEmail, '/');
    for (let h = 0; h < 3 && !w.call('getState').history.some((e: { trigger: string }) => e.trigger === 'scheduled'); h++) w.rt.advanceHours(1);
    const scheduled = w.call('getState').history.find((e: { trigger: string }) => e.trigger === 'scheduled');
    expect(scheduled).toMatchObject({ outcome: 'success', counts: expect.objectContaining({ deactivate: 1 }) });
    if (reportEmail === undefined) {
      expect(w.rt.outbox).toEqual([]);
      continue;
    }
    expect(w.rt.outbox).toHaveLength(1);
    const mail = w.rt.outbox[0];
    expect(mail.to.split(',').sort()).toEqual([`admin@${DEMO_DOMAIN}`, `it@${DEMO_DOMAIN}`].sort());
    expect(mail.subject).toBe('Roster Sync: scheduled sync changed 1 account (1 deactivated)');
    expect(mail.body).toContain('Deactivated (1):');
    expect(mail.body).toContain(`${mover.primaryEmail.toLowerCase()}>: left every mapped OU and group`);
    expect(mail.body).toContain(w.rt.spreadsheet().url());
    // The next scheduled sync changes nothing: no email. A manual Sync now never emails a report.
    w.rt.advanceHours(2);
    expect(w.call('getState').history.filter((e: { trigger: string }) => e.trigger === 'scheduled').length).toBeGreaterThan(1);
    w.rt.directory.moveUser(mover.primaryEmail, '/Students');
    w.call('syncNow', {});
    expect(w.rt.outbox).toHaveLength(1);
  }
});
