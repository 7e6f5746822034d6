// Apps that refuse value-filtered PATCH paths on Groups (`{"op":"remove","path":"members[value eq \"…\"]"}`
// answers 400 invalidPath): the built bundle falls back to a removal the app takes (a value array, else
// the whole member list replaced), remembers it for the app, and the next no-change sync sends no write;
// for role groups and app groups (selected Google Groups) alike.
import { SyncHttp } from '../../emulator/fakes/urlFetchHttp';
import { PROFILES } from '../../emulator/scim/profiles';
import { DEMO_DOMAIN, demoDistrict } from '../../emulator/domain';
import { World, later, world } from '../e2e/harness';
import { scimServerForFile } from './world';

const TOKEN = 'group-removal-token-0123456789abcdef';
const at = (local: string) => `${local}@${DEMO_DOMAIN}`;
const server = scimServerForFile(TOKEN);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function syncToEnd(w: World): Json {
  let r = w.call('syncNow', {});
  for (let i = 0; r.state === 'in-progress' && i < 50; i++) r = w.call('continueSync');
  return r;
}

const groupPatches = async () => (await server.state()).log.filter((e: Json) => e.method === 'PATCH' && e.path.includes('/Groups/'));
const writes = async () => (await server.state()).log.filter((e: Json) => e.method !== 'GET');

/** The form each profile takes, as the server logs it ("op path"). */
const CASES: [keyof typeof PROFILES, string][] = [
  ['noValuePathGroups', 'remove members'],
  ['replaceMembersOnly', 'replace members'],
];

describe.each(CASES)('an app with the profile %s', (profile, form) => {
  async function noChangeSendsNothing(w: World) {
    await server.clearLog();
    later(w);
    expect(syncToEnd(w)).toMatchObject({ state: 'done', message: 'No changes.' });
    expect(await writes()).toEqual([]);
  }

  test('role groups: a demoted admin leaves the admin group; the form that works is remembered, and a no-change sync sends no write', async () => {
    await server.clear();
    await server.set({ token: TOKEN, ...PROFILES[profile] });
    const dir = demoDistrict();
    const w = world({ urlFetch: new SyncHttp(), directory: dir });
    w.save({ destination: 'scim', scim: { baseUrl: server.baseUrl, roleMapping: 'groups' } });
    w.call('saveScimToken', { token: TOKEN });
    expect(syncToEnd(w).state).toBe('done');
    const admins = dir.findGroup(at('admins'))!;
    const counselors = dir.findGroup(at('counselors'))!;
    const both = dir.allUsers().filter((u) => !u.suspended && !u.archived && dir.isMemberDeep(admins, u.id) && dir.isMemberDeep(counselors, u.id));
    expect(both.length).toBeGreaterThanOrEqual(1);
    const admin = both[0];
    const adminGroupMembers = async () => {
      const state = await server.state();
      const id = state.users.find((u: Json) => u.userName === admin.primaryEmail)!.id;
      const group = state.groups.find((g: Json) => g.displayName === 'admin')!;
      return { id, members: (group.members ?? []).map((m: Json) => m.value) };
    };
    const before = await adminGroupMembers();
    expect(before.members).toContain(before.id);

    dir.removeMember(at('admins'), admin.primaryEmail);
    await server.clearLog();
    later(w);
    const demoted = syncToEnd(w);
    expect(demoted).toMatchObject({ state: 'done' });
    expect(w.history().at(-1)).toMatchObject({ Outcome: 'success' });
    const after = await adminGroupMembers();
    expect(after.members).not.toContain(after.id);
    expect(after.members).toHaveLength(before.members.length - 1);
    const patches = await groupPatches();
    expect(patches.at(-1)).toMatchObject({ status: 200, patchOps: [[form]] });
    expect(patches.filter((p: Json) => p.status === 400).length).toBeGreaterThanOrEqual(1);

    await noChangeSendsNothing(w);
  });

  test('one sync that adds and removes members of the same group in several PATCHes: everyone ends where the directory says, the added member kept whatever form the removal takes', async () => {
    await server.clear();
    await server.set({ token: TOKEN, ...PROFILES[profile] });
    const dir = demoDistrict();
    const w = world({ urlFetch: new SyncHttp(), directory: dir });
    // One member per PATCH: the add and the removal go in separate requests.
    w.save({ destination: 'scim', scim: { baseUrl: server.baseUrl, roleMapping: 'groups', maxMembersPerPatch: 1 } });
    w.call('saveScimToken', { token: TOKEN });
    expect(syncToEnd(w).state).toBe('done');
    const admins = dir.findGroup(at('admins'))!;
    const counselors = dir.findGroup(at('counselors'))!;
    const leaving = dir.allUsers().find((u) => !u.suspended && !u.archived && dir.isMemberDeep(admins, u.id) && dir.isMemberDeep(counselors, u.id))!;
    const joining = dir.allUsers().find((u) => !u.suspended && !u.archived && u.orgUnitPath.startsWith('/Staff/Teachers') && !dir.isMemberDeep(admins, u.id))!;
    dir.removeMember(at('admins'), leaving.primaryEmail);
    dir.addMember(at('admins'), joining.primaryEmail);
    await server.clearLog();
    later(w);
    expect(syncToEnd(w).state).toBe('done');
    const state = await server.state();
    const idOf = (email: string) => state.users.find((u: Json) => u.userName === email)!.id;
    const members = (state.groups.find((g: Json) => g.displayName === 'admin')!.members ?? []).map((m: Json) => m.value);
    expect(members).toContain(idOf(joining.primaryEmail));
    expect(members).not.toContain(idOf(leaving.primaryEmail));
    const want = dir.allUsers().filter((u) => state.users.some((x: Json) => x.userName === u.primaryEmail) && dir.isMemberDeep(admins, u.id)).map((u) => idOf(u.primaryEmail));
    expect([...members].sort()).toEqual([...want].sort());
    await noChangeSendsNothing(w);
  });

  test('app groups: a member who leaves a nested Google Group leaves the app group; the next removal goes in the remembered form at once', async () => {
    await server.clear();
    await server.set({ token: TOKEN, ...PROFILES[profile] });
    const w = world({ urlFetch: new SyncHttp() });
    const d = w.rt.directory;
    w.save({ destination: 'scim', scim: { baseUrl: server.baseUrl, roleMapping: 'roles' }, appGroups: [at('all-staff')] });
    w.call('saveScimToken', { token: TOKEN });
    expect(syncToEnd(w).state).toBe('done');
    const staff = d.findGroup(at('all-staff'))!;
    const appGroup = async () => (await server.state()).groups.find((g: Json) => g.externalId === staff.id)!;
    const idOf = async (email: string) => (await server.state()).users.find((u: Json) => u.userName === email)!.id;
    const teachers = d.findGroup(at('jefferson-teachers'))!.members.map((m) => d.userById(m.id)!).filter((u) => !u.suspended && !u.archived);
    expect(teachers.length).toBeGreaterThanOrEqual(2);
    const leaves = async (email: string) => {
      d.removeMember(at('jefferson-teachers'), email);
      await server.clearLog();
      later(w);
      expect(syncToEnd(w).state).toBe('done');
      expect((await appGroup()).members.map((m: Json) => m.value)).not.toContain(await idOf(email));
      return groupPatches();
    };
    // Still a teacher by OU, so still synced; only the app group membership changes.
    const first = await leaves(teachers[0].primaryEmail);
    expect(first.filter((p: Json) => p.status === 400).length).toBeGreaterThanOrEqual(1);
    expect(first.at(-1)).toMatchObject({ status: 200, patchOps: [[form]] });
    const second = await leaves(teachers[1].primaryEmail);
    expect(second.map((p: Json) => [p.status, p.patchOps])).toEqual([[200, [[form]]]]);

    await noChangeSendsNothing(w);
  });
});
