// Mapped attributes reach a real SCIM app (scimmy on loopback) through the built bundle: the core
// User schema, the Enterprise User extension (RFC 7643 §4.3, manager as the manager's SCIM id)
// and a custom extension the admin names by URN.
import { DEMO_SCHEMA, rollover } from '../../emulator/domain';
import { later } from '../e2e/harness';
import { appWorld, resetApp, scimServerForFile } from './world';

const TOKEN = 'attributes-token-0123456789abcdef';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const HALLPASS = 'urn:ietf:params:scim:schemas:extension:hallpass:2.0:User';
const PATTERN = '/Students/{school}/Grade {grade}';
const ATTRIBUTES = [
  { name: 'Employee number', source: 'externalIds.organization', scim: `${ENTERPRISE}:employeeNumber` },
  { name: 'Title', source: 'organizations.title', scim: 'title' },
  { name: 'Department', source: 'organizations.department', scim: `${ENTERPRISE}:department` },
  { name: 'Cost center', source: 'organizations.costCenter', scim: `${ENTERPRISE}:costCenter` },
  { name: 'Organization', source: 'constant', value: 'Springfield Public Schools', scim: `${ENTERPRISE}:organization` },
  { name: 'Manager', source: 'relations.manager', scim: `${ENTERPRISE}:manager` },
  { name: 'Homeroom', source: `customSchemas.${DEMO_SCHEMA}.homeroom`, scim: `${HALLPASS}:homeroom` },
  { name: 'School', source: 'orgUnitPath', pattern: PATTERN, part: 'school', scim: `${HALLPASS}:school` },
  { name: 'Grade', source: 'orgUnitPath', pattern: PATTERN, part: 'grade', scim: `${HALLPASS}:grade` },
  // Kept by Roster Sync only: no SCIM target.
  { name: 'Login', source: 'primaryEmail', transform: 'localPart' },
];

const server = scimServerForFile(TOKEN);

async function scimSetup() {
  await resetApp(server, TOKEN);
  return appWorld(server, { token: TOKEN, settings: { attributes: ATTRIBUTES, threshold: { kind: 'count', value: 1000 } } });
}

const appUser = async (email: string) => (await server.state()).users.find((u) => u.userName === email)!;

test('attributes reach the SCIM app in the core schema, the Enterprise User extension and a custom extension; a second sync writes nothing', async () => {
  const w = await scimSetup();
  expect(w.call('syncNow', {}).state).toBe('done');
  const dir = w.rt.directory;
  const teacher = dir.allUsers().find((u) => u.orgUnitPath === '/Staff/Teachers/Lincoln High' && !u.suspended)!;
  const principal = dir.findUser(teacher.profile!.relations![0].value)!;
  const student = dir.allUsers().find((u) => u.orgUnitPath === '/Students/Washington Middle/Grade 7' && !u.suspended)!;

  const t = await appUser(teacher.primaryEmail);
  expect(t.title).toBe('Teacher');
  expect(t[ENTERPRISE]).toEqual({
    employeeNumber: teacher.profile!.externalIds![0].value,
    department: teacher.profile!.organizations![0].department,
    costCenter: 'Lincoln High',
    organization: 'Springfield Public Schools',
    manager: { value: (await appUser(principal.primaryEmail)).id },
  });
  expect(t[HALLPASS]).toBeUndefined();
  const s = await appUser(student.primaryEmail);
  expect(s[HALLPASS]).toEqual({ homeroom: (student.profile!.customSchemas![DEMO_SCHEMA] as { homeroom: string }).homeroom, school: 'Washington Middle', grade: '7' });
  expect(s[ENTERPRISE]).toMatchObject({ employeeNumber: student.profile!.externalIds![0].value, organization: 'Springfield Public Schools' });
  expect(s.title).toBeUndefined();

  await server.clearLog();
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect((await server.state()).log.filter((r) => r.method !== 'GET')).toEqual([]);
});

test('a rollover and a new title arrive as PATCHes of only what changed, each with its reason; a value changed in the app is set back', async () => {
  const w = await scimSetup();
  w.call('syncNow', {});
  const dir = w.rt.directory;
  const teacher = dir.allUsers().find((u) => u.orgUnitPath === '/Staff/Teachers/Washington Middle' && !u.suspended)!;
  dir.setProfile(teacher.primaryEmail, { organizations: [{ ...teacher.profile!.organizations![0], title: 'Head of Science', department: 'Science' }] });
  const moved = rollover(dir, 'alumni');
  const feeder = moved.moves.find((m) => m.from === '/Students/Washington Middle/Grade 8')!;
  await server.mutate(feeder.email, { title: 'set by hand in the app' });
  const untouched = moved.moves.find((m) => m.from === '/Students/Jefferson Elementary/Grade 2')!;
  await server.mutate(untouched.email, { [HALLPASS]: { homeroom: (await appUser(untouched.email))[HALLPASS].homeroom, school: 'Jefferson Elementary', grade: '9' } });
  later(w);

  // Preview lists the first 200 changes of each kind; Explain gives one user's in full.
  const reasons = (email: string) => w.call('explainUser', { email }).changes[0]?.reasons ?? [];
  expect(reasons(feeder.email)).toContain('School Washington Middle → Lincoln High (from OU /Students/Lincoln High/Grade 9)');
  expect(reasons(teacher.primaryEmail)).toContain('Title Teacher → Head of Science (from organizations title)');
  // The app holds grade 9 for this student; Google says grade 3 after the rollover.
  expect(reasons(untouched.email)).toContain('Grade 9 → 3 (from OU /Students/Jefferson Elementary/Grade 3)');

  await server.clearLog();
  expect(w.call('syncNow', { allowDestructive: 1000 }).state).toBe('done');
  const log = (await server.state()).log;
  const teacherId = (await appUser(teacher.primaryEmail)).id;
  const ops = log.filter((r) => r.patchOps).flatMap((r) => r.patchOps!).flat();
  expect(ops).toEqual(expect.arrayContaining(['replace title', `replace ${ENTERPRISE}:department`, `replace ${HALLPASS}:school`, `replace ${HALLPASS}:grade`]));
  expect(log.some((r) => r.method === 'POST' && r.path === '/Users')).toBe(false);
  expect(await appUser(teacher.primaryEmail)).toMatchObject({ id: teacherId, title: 'Head of Science', [ENTERPRISE]: expect.objectContaining({ department: 'Science' }) });
  expect((await appUser(feeder.email))[HALLPASS]).toMatchObject({ school: 'Lincoln High', grade: '9' });
  // The title is mapped, and Google gives this student none: the value set by hand in the app is removed.
  expect(ops).toContain('remove title');
  expect((await appUser(feeder.email)).title).toBeUndefined();
  expect((await appUser(untouched.email))[HALLPASS]).toMatchObject({ grade: '3' });
});

test('an attribute the app does not keep (it drops what it does not know) is named in History, and is not sent again and again', async () => {
  await resetApp(server, TOKEN);
  const LOCKER = 'urn:ietf:params:scim:schemas:extension:lockers:2.0:User:locker';
  const w = appWorld(server, { token: TOKEN, settings: { rules: [{ id: 'admins', type: 'group', groupEmail: 'admins@springfield-schools.example', role: 'admin' }], attributes: [{ name: 'Locker', source: 'constant', value: '12', scim: LOCKER }] } });
  expect(w.call('syncNow', {}).state).toBe('done');
  const users = (await server.state()).users;
  expect(users.length).toBe(8);
  expect(users.every((u) => !JSON.stringify(u).includes('lockers'))).toBe(true);

  // The next sync sees the app holds nothing there: it says so, and sends nothing.
  await server.clearLog();
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: expect.stringMatching(/^No changes\. The SCIM app at 127\.0\.0\.1:\d+ did not keep Locker/) });
  expect(w.history().at(-1)!.Message).toContain(`did not keep Locker (${LOCKER})`);
  expect((await server.state()).log.filter((r) => r.method !== 'GET')).toEqual([]);
});
