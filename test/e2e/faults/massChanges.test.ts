// Mass changes, however they arrive: deactivations, deletions, lost and privileged roles over the threshold
// halt the sync until confirmed.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { DEMO_DOMAIN } from '../../../emulator/domain';
import { DEMO_RULES } from '../../../emulator/serve';
import { CATALOG } from '../../../src/core/messages';
import { faultSuite, catalog, sheetDump, newest } from './helpers';

const { rec, world } = faultSuite('massChanges');

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
