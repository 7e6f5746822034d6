// Selected Google Groups pushed to a real SCIM app (scimmy on loopback) as SCIM Groups, through
// the built bundle: members are the in-scope users among the group's nested members, changes are
// PATCH add/remove, and a group renamed in Google stays the same SCIM Group.
import { DEMO_DOMAIN } from '../../emulator/domain';
import { later } from '../e2e/harness';
import { appWorld, resetApp, scimServerForFile } from './world';

const TOKEN = 'app-groups-token-0123456789abcdef';
const at = (local: string) => `${local}@${DEMO_DOMAIN}`;

const server = scimServerForFile(TOKEN);

test('selected Google Groups become SCIM Groups with the in-scope nested members; renames keep the group; membership changes are PATCHes', async () => {
  await resetApp(server, TOKEN);
  const selected = [at('all-staff'), at('robotics-club')];
  const w = appWorld(server, { token: TOKEN, settings: { appGroups: selected } });
  expect(w.call('syncNow', {}).state).toBe('done');
  const d = w.rt.directory;

  /** What each selected group should hold, computed from the directory: in-scope users (those synced) among its nested members. */
  const expectMembers = async () => {
    const state = await server.state();
    const idOf = new Map(state.users.map((u) => [u.userName, u.id]));
    for (const email of selected) {
      const g = d.findGroup(email)!;
      const app = state.groups.find((x) => x.externalId === g.id)!;
      expect(app).toBeDefined();
      expect(app.displayName).toBe(g.name);
      const want = d.allUsers().filter((u) => idOf.has(u.primaryEmail) && d.isMemberDeep(g, u.id)).map((u) => idOf.get(u.primaryEmail)).sort();
      expect((app.members ?? []).map((m: { value: string }) => m.value).sort()).toEqual(want);
      expect(want.length).toBeGreaterThan(3);
    }
    return state;
  };
  const first = await expectMembers();
  // all-staff nests all-teachers, which nests each school's teachers: a Jefferson teacher is a member.
  const jeffersonTeacher = d.findGroup(at('jefferson-teachers'))!.members.map((m) => d.userById(m.id)!).find((u) => !u.suspended && !u.archived)!;
  const staffGroup = first.groups.find((g) => g.externalId === d.findGroup(at('all-staff'))!.id)!;
  expect(staffGroup.members.map((m: { value: string }) => m.value)).toContain(first.users.find((u) => u.userName === jeffersonTeacher.primaryEmail)!.id);

  // A second sync with no change writes nothing.
  await server.clearLog();
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect((await server.state()).log.filter((r) => r.method !== 'GET')).toEqual([]);

  // Renamed in Google (name and email; the old email stays an alias): the same SCIM Group, renamed.
  d.renameGroup(at('robotics-club'), at('robotics-team'), 'Robotics Team');
  selected[1] = at('robotics-team');
  // Someone leaves a nested group, someone joins.
  d.removeMember(at('jefferson-teachers'), jeffersonTeacher.primaryEmail);
  const student = d.allUsers().find((u) => u.orgUnitPath === '/Students/Washington Middle/Grade 6' && !u.suspended)!;
  d.addMember(at('stem-club'), student.primaryEmail);
  await server.clearLog();
  later(w);
  expect(w.call('explainUser', { email: student.primaryEmail }).changes[0].reasons).toContain(`joined the Google Groups ${at('robotics-team')}`);
  expect(w.call('syncNow', {}).state).toBe('done');
  const after = await expectMembers();
  const robotics = after.groups.find((g) => g.externalId === d.findGroup(at('robotics-team'))!.id)!;
  expect(robotics.id).toBe(first.groups.find((g) => g.externalId === robotics.externalId)!.id);
  expect(after.groups.length).toBe(first.groups.length);
  const writes = after.log.filter((r) => r.method !== 'GET');
  expect(writes.filter((r) => !(r.method === 'PATCH' || (r.method === 'POST' && r.path.endsWith('/Bulk'))))).toEqual([]);
  expect(writes.flatMap((r) => r.patchOps ?? []).flat()).toEqual(expect.arrayContaining(['add members', 'replace displayName']));
  expect(writes.flatMap((r) => r.patchOps ?? []).flat().some((op) => op.startsWith('remove members['))).toBe(true);

  // Deselected: the group stays in the app (removing it is the admin's call), and nobody is taken out of it.
  w.save({ appGroups: [at('all-staff')] });
  await server.clearLog();
  later(w);
  w.call('syncNow', {});
  const kept = (await server.state()).groups.find((g) => g.id === robotics.id)!;
  expect(kept.members.length).toBe(robotics.members.length);
  expect(w.history().at(-1)!.Message).toContain('The app group(s) "Robotics Team" are no longer selected');

  // Removed from the app only when the admin confirms.
  expect(w.call('removeDeselectedAppGroups', {})).toEqual({ groups: [{ id: robotics.id, name: 'Robotics Team', removed: false, problem: '' }] });
  expect((await server.state()).groups.some((g) => g.id === robotics.id)).toBe(true);
  expect(w.call('removeDeselectedAppGroups', { remove: true })).toEqual({ groups: [{ id: robotics.id, name: 'Robotics Team', removed: true, problem: '' }] });
  const left = (await server.state()).groups;
  expect(left.some((g) => g.id === robotics.id)).toBe(false);
  expect(left.some((g) => g.externalId === d.findGroup(at('all-staff'))!.id)).toBe(true);
  expect(w.call('removeDeselectedAppGroups', {})).toEqual({ groups: [] });

  // With every group deselected, History still names those left in the app, and nothing is removed.
  w.save({ appGroups: [] });
  later(w);
  await server.clearLog();
  w.call('syncNow', {});
  expect(w.history().at(-1)!.Message).toContain('The app group(s) "All Staff" are no longer selected');
  expect((await server.state()).log.filter((r) => r.method !== 'GET')).toEqual([]);
  expect((await server.state()).groups.some((g) => g.externalId === d.findGroup(at('all-staff'))!.id)).toBe(true);
});
