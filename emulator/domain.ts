// Deterministic directories for the demo, end-to-end tests and benchmarks:
// demoDistrict() is a realistic school district (~360 people); generateDomain()
// scales to 100,000+ users; the helpers below mutate a directory the way
// admins do between syncs (rollover, suspensions, renames, OU moves).
import { DirUser, FakeDirectoryState, NewUser, seededRandom } from './fakes/directoryState';

export { FakeDirectoryState } from './fakes/directoryState';

export const DEMO_DOMAIN = 'springfield-schools.example';

const GIVEN = [
  'Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Elijah', 'Sophia', 'Mateo', 'Isabella', 'Lucas', 'Mia', 'Levi', 'Amelia', 'Ezra',
  'Harper', 'Asher', 'Evelyn', 'James', 'Abigail', 'Leo', 'Emily', 'Aiden', 'Ella', 'Kai', 'Aaliyah', 'Diego', 'Priya', 'Wei',
  'Fatima', 'Omar', 'Yuki', 'Hiroshi', 'Ngozi', 'Kwame', 'Ananya', 'Arjun', 'Sofia', 'Santiago', 'Chloe', 'Malik', 'Zara',
  'Dmitri', 'Ingrid', 'Lars', 'Aisha', 'Tomás', 'Renée', 'Björn', 'Siobhan', 'Nikolai', 'Grace', 'Owen', 'Luna', 'Caleb',
];
const FAMILY = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez',
  'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White',
  'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Nguyen', 'Patel', 'Kim', 'Chen', 'Okafor', 'Mensah',
  'Kowalski', 'Novak', 'Rossi', 'Schmidt', 'Yamamoto', 'Haddad', 'Ivanova', 'Larsen', 'Dubois', 'Fernández', 'Walsh', 'Singh',
];

/** Address-safe local part: accents folded, apostrophes and spaces dropped. */
export function emailLocal(given: string, family: string): string {
  const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9-]/g, '');
  return `${fold(given)}.${fold(family)}`;
}

interface School {
  name: string;
  grades: number[];
  studentsPerGrade: number;
  teachers: number;
  slug: string;
}

export const DEMO_SCHOOLS: School[] = [
  { name: 'Lincoln High', slug: 'lincoln', grades: [9, 10, 11, 12], studentsPerGrade: 35, teachers: 20 },
  { name: 'Washington Middle', slug: 'washington', grades: [6, 7, 8], studentsPerGrade: 30, teachers: 14 },
  { name: 'Jefferson Elementary', slug: 'jefferson', grades: [1, 2, 3, 4, 5], studentsPerGrade: 14, teachers: 12 },
];

/** School year whose seniors graduate in June of `year` (grade 12 → class of `year`). */
const CLASS_YEAR_BASE = 2027;

class Namer {
  private readonly used = new Set<string>();
  constructor(private readonly rng: () => number, private readonly domain: string) {}

  pick(): { given: string; family: string } {
    return { given: GIVEN[Math.floor(this.rng() * GIVEN.length)], family: FAMILY[Math.floor(this.rng() * FAMILY.length)] };
  }

  email(given: string, family: string, suffix = ''): string {
    const base = emailLocal(given, family) + suffix;
    let local = base;
    for (let n = 2; this.used.has(local); n++) local = `${base}${n}`;
    this.used.add(local);
    return `${local}@${this.domain}`;
  }
}

/**
 * The demo school district. Highlights tests rely on:
 * - admin@ (super admin, /Staff/Administration) is the sync account;
 * - "Seamus O'Brien" (apostrophe), "José Muñoz" and "Zoë Brontë" (accents);
 * - 4 suspended users, 1 archived user;
 * - all-teachers@ nests lincoln-/washington-/jefferson-teachers@;
 * - robotics-club@ ↔ stem-club@ nest each other (a cycle);
 * - everyone@ has the whole domain as a CUSTOMER member;
 * - all-students@ has > 200 members (several members.list pages).
 */
export function demoDistrict(seed = 2026): FakeDirectoryState {
  const state = new FakeDirectoryState({ domain: DEMO_DOMAIN, customerId: 'C01spring', seed });
  const rng = seededRandom(seed);
  const namer = new Namer(rng, DEMO_DOMAIN);
  const add = (given: string, family: string, ou: string, extra: Partial<NewUser> = {}, suffix = '') =>
    state.addUser({ email: namer.email(given, family, suffix), givenName: given, familyName: family, orgUnitPath: ou, ...extra });

  for (const ou of ['/Staff/Administration', '/Staff/Support', '/Alumni', '/Service Accounts']) state.addOrgUnit(ou);
  const admin = state.addUser({ email: `admin@${DEMO_DOMAIN}`, givenName: 'District', familyName: 'Admin', orgUnitPath: '/Staff/Administration', isAdmin: true });
  const superintendent = add('Margaret', 'Hollis', '/Staff/Administration', { isAdmin: true });

  const teachersBySchool = new Map<string, DirUser[]>();
  const studentsBySchool = new Map<string, DirUser[]>();
  for (const school of DEMO_SCHOOLS) {
    state.addOrgUnit(`/Staff/Teachers/${school.name}`);
    const teachers: DirUser[] = [];
    for (let i = 0; i < school.teachers; i++) {
      const { given, family } = namer.pick();
      teachers.push(add(given, family, `/Staff/Teachers/${school.name}`));
    }
    teachersBySchool.set(school.slug, teachers);
    const students: DirUser[] = [];
    for (const grade of school.grades) {
      const ou = `/Students/${school.name}/Grade ${grade}`;
      state.addOrgUnit(ou);
      const classOf = String(CLASS_YEAR_BASE + (12 - grade)).slice(2);
      for (let i = 0; i < school.studentsPerGrade; i++) {
        const { given, family } = namer.pick();
        students.push(add(given, family, ou, {}, classOf));
      }
    }
    studentsBySchool.set(school.slug, students);
  }

  // People whose names exercise escaping and Unicode handling.
  const seamus = add('Seamus', "O'Brien", '/Staff/Teachers/Lincoln High');
  teachersBySchool.get('lincoln')!.push(seamus);
  const jose = add('José', 'Muñoz', '/Students/Washington Middle/Grade 7', {}, '33');
  studentsBySchool.get('washington')!.push(jose);
  const zoe = add('Zoë', 'Brontë', '/Students/Lincoln High/Grade 11', {}, '28');
  studentsBySchool.get('lincoln')!.push(zoe);

  const administration: DirUser[] = [admin, superintendent];
  for (let i = 0; i < 6; i++) {
    const { given, family } = namer.pick();
    administration.push(add(given, family, '/Staff/Administration'));
  }
  const support: DirUser[] = [];
  for (let i = 0; i < 10; i++) {
    const { given, family } = namer.pick();
    support.push(add(given, family, '/Staff/Support'));
  }
  state.addUser({ email: `roster-bot@${DEMO_DOMAIN}`, givenName: 'Roster', familyName: 'Bot', orgUnitPath: '/Service Accounts' });
  // Directory data is not trusted markup: this name must show as text in the sidebar and the sheet.
  state.addUser({ email: `markup.test@${DEMO_DOMAIN}`, givenName: '<img src=x', familyName: 'onerror=alert(1)>', orgUnitPath: '/Students/Lincoln High/Grade 10' });
  // Its profile is hostile too: a value that would be a formula in a sheet, markup in the sidebar.
  state.setProfile(`markup.test@${DEMO_DOMAIN}`, { externalIds: [{ type: 'organization', value: '=HYPERLINK("http://x.example","S1")' }], customSchemas: { [DEMO_SCHEMA]: { homeroom: '<b>10-A</b>' } } });

  // Leavers: suspended accounts and one archived teacher.
  state.suspend(studentsBySchool.get('lincoln')![3].primaryEmail);
  state.suspend(studentsBySchool.get('washington')![10].primaryEmail);
  state.suspend(studentsBySchool.get('jefferson')![5].primaryEmail);
  state.suspend(teachersBySchool.get('washington')![2].primaryEmail);
  state.archive(teachersBySchool.get('jefferson')![4].primaryEmail);

  addProfiles(state, { administration, support, teachersBySchool, studentsBySchool });

  const group = (local: string, name: string, members: (DirUser | string)[]) => {
    state.addGroup({ email: `${local}@${DEMO_DOMAIN}`, name });
    for (const m of members) state.addMember(`${local}@${DEMO_DOMAIN}`, typeof m === 'string' ? m : m.primaryEmail);
  };
  for (const school of DEMO_SCHOOLS) group(`${school.slug}-teachers`, `${school.name} Teachers`, teachersBySchool.get(school.slug)!);
  group('all-teachers', 'All Teachers', DEMO_SCHOOLS.map((s) => `${s.slug}-teachers@${DEMO_DOMAIN}`));
  state.addMember(`all-teachers@${DEMO_DOMAIN}`, superintendent.primaryEmail, 'OWNER');
  group('admins', 'District Administrators', administration);
  const counselors = [administration[3], administration[4], teachersBySchool.get('lincoln')![0], teachersBySchool.get('washington')![0]];
  group('counselors', 'Counselors', counselors);
  group('support-staff', 'Support Staff', support);
  group('all-staff', 'All Staff', [`all-teachers@${DEMO_DOMAIN}`, `admins@${DEMO_DOMAIN}`, `support-staff@${DEMO_DOMAIN}`]);
  for (const school of DEMO_SCHOOLS) group(`${school.slug}-students`, `${school.name} Students`, studentsBySchool.get(school.slug)!);
  group('all-students', 'All Students', DEMO_SCHOOLS.flatMap((s) => studentsBySchool.get(s.slug)!));
  // A nesting cycle: robotics-club@ contains stem-club@, which contains robotics-club@.
  const lincolnStudents = studentsBySchool.get('lincoln')!;
  group('robotics-club', 'Robotics Club', [...lincolnStudents.slice(0, 8), teachersBySchool.get('lincoln')![1]]);
  group('stem-club', 'STEM Club', [...lincolnStudents.slice(20, 26), `robotics-club@${DEMO_DOMAIN}`]);
  state.addMember(`robotics-club@${DEMO_DOMAIN}`, `stem-club@${DEMO_DOMAIN}`);
  group('everyone', 'Everyone at Springfield', ['CUSTOMER']);
  group('empty-committee', 'Committee With No Members', []);
  return state;
}

/** The custom schema of the demo district (Admin console → Directory → Users → Manage custom attributes). */
export const DEMO_SCHEMA = 'Rostering';
const SUBJECTS = ['Mathematics', 'English', 'Science', 'History', 'Art', 'Music', 'Physical Education', 'World Languages'];

/**
 * The demo district's profile fields, so the attribute mapping has something to show: student IDs
 * (externalIds of type organization), homerooms (custom schema Rostering.homeroom), staff titles,
 * departments, cost centers, work phones, desks and managers (relations of type manager hold the
 * manager's email). Deterministic: no random numbers, so the rest of the district is unchanged.
 */
function addProfiles(state: FakeDirectoryState, people: { administration: DirUser[]; support: DirUser[]; teachersBySchool: Map<string, DirUser[]>; studentsBySchool: Map<string, DirUser[]> }): void {
  const [admin, superintendent, ...office] = people.administration;
  const principals = new Map(DEMO_SCHOOLS.map((school, i) => [school.slug, office[i]]));
  const staff = (u: DirUser, n: number, title: string, department: string, costCenter: string, manager?: DirUser) =>
    state.setProfile(u.primaryEmail, {
      externalIds: [{ type: 'organization', value: `E${1000 + n}` }],
      organizations: [{ primary: true, name: 'Springfield Public Schools', title, department, costCenter, type: 'work' }],
      phones: [{ type: 'work', value: `+1 555 0100 ${String(n).padStart(3, '0')}` }],
      ...(manager ? { relations: [{ type: 'manager', value: manager.primaryEmail }] } : {}),
    });
  let n = 0;
  staff(admin, n++, 'Systems Administrator', 'Technology', 'District Office', superintendent);
  staff(superintendent, n++, 'Superintendent', 'Administration', 'District Office');
  for (const [i, u] of office.entries()) {
    const school = DEMO_SCHOOLS[i];
    staff(u, n++, school ? `Principal, ${school.name}` : 'Administrator', 'Administration', school ? school.name : 'District Office', superintendent);
  }
  for (const u of people.support) staff(u, n++, 'Support Specialist', 'Operations', 'District Office', superintendent);
  for (const school of DEMO_SCHOOLS) {
    for (const [i, u] of people.teachersBySchool.get(school.slug)!.entries()) {
      staff(u, n++, 'Teacher', SUBJECTS[i % SUBJECTS.length], school.name, principals.get(school.slug));
      state.setProfile(u.primaryEmail, { locations: [{ type: 'desk', buildingId: school.slug, floorName: String(1 + (i % 2)), area: 'desk', deskCode: `R${101 + i}` }] });
    }
  }
  let studentNumber = 0;
  for (const school of DEMO_SCHOOLS) {
    for (const u of people.studentsBySchool.get(school.slug)!) {
      const grade = /Grade (\d+)/.exec(u.orgUnitPath)?.[1] ?? '';
      state.setProfile(u.primaryEmail, {
        externalIds: [{ type: 'organization', value: `S${String(240001 + studentNumber).padStart(6, '0')}` }],
        customSchemas: { [DEMO_SCHEMA]: { homeroom: `${grade}-${'ABC'[studentNumber % 3]}` } },
      });
      studentNumber++;
    }
  }
}


export interface GenerateOptions {
  users: number;
  /** Number of groups (besides the nesting chain). Default: users / 500, at least 5. */
  groups?: number;
  /** Length of a chain of nested groups (nest-1 ⊃ nest-2 ⊃ …). Default 3. */
  nestedDepth?: number;
  /** Fraction of users suspended. Default 0.02. */
  suspendedRate?: number;
  seed?: number;
  domain?: string;
  /** 'given.family' (default) or 'family.given', the two common district conventions. */
  emailStyle?: 'given.family' | 'family.given';
}

/**
 * A synthetic directory of any size (100,000 users in well under a few
 * seconds): students across schools and grades, staff, groups with members,
 * a chain of nested groups, and admin@<domain> as super admin.
 */
export function generateDomain(options: GenerateOptions): FakeDirectoryState {
  const domain = options.domain ?? 'scale.example';
  const seed = options.seed ?? 7;
  const rng = seededRandom(seed);
  const state = new FakeDirectoryState({ domain, customerId: 'C0scale', seed });
  const suspendedRate = options.suspendedRate ?? 0.02;
  state.addUser({ email: `admin@${domain}`, givenName: 'Scale', familyName: 'Admin', orgUnitPath: '/Staff/Administration', isAdmin: true });
  const schools = Math.max(1, Math.ceil(options.users / 2000));
  const ous: string[] = [];
  for (let s = 1; s <= schools; s++) {
    for (let g = 9; g <= 12; g++) ous.push(`/Students/School ${s}/Grade ${g}`);
    ous.push(`/Staff/Teachers/School ${s}`);
  }
  for (const ou of ous) state.addOrgUnit(ou);
  const ids: string[] = [];
  for (let i = 1; i < options.users; i++) {
    const given = GIVEN[Math.floor(rng() * GIVEN.length)];
    const family = FAMILY[Math.floor(rng() * FAMILY.length)];
    const local = options.emailStyle === 'family.given' ? emailLocal(family, given) : emailLocal(given, family);
    const u = state.addUser({
      email: `${local}.${i}@${domain}`,
      givenName: given,
      familyName: family,
      orgUnitPath: ous[Math.floor(rng() * ous.length)],
      suspended: rng() < suspendedRate,
    });
    ids.push(u.id);
  }
  const groupCount = options.groups ?? Math.max(5, Math.floor(options.users / 500));
  for (let g = 1; g <= groupCount; g++) {
    const email = `group-${g}@${domain}`;
    state.addGroup({ email, name: `Group ${g}` });
    const size = Math.min(ids.length, 10 + Math.floor(rng() * 290));
    const start = Math.floor(rng() * Math.max(1, ids.length - size));
    for (let k = 0; k < size; k++) state.addMember(email, ids[start + k]);
  }
  const depth = options.nestedDepth ?? 3;
  for (let d = 1; d <= depth; d++) {
    const email = `nest-${d}@${domain}`;
    state.addGroup({ email, name: `Nest level ${d}` });
    if (d > 1) state.addMember(`nest-${d - 1}@${domain}`, email);
    for (let k = 0; k < 5 && k < ids.length; k++) state.addMember(email, ids[(d * 97 + k * 13) % ids.length]);
  }
  return state;
}

/**
 * Class groups as a district's SIS sync makes them: per school, `perSchool` class groups (a teacher
 * of the school and about `size` of its students each), nested in the school's mapped group
 * classes-school-<n>@. Returns the mapped groups' emails (one group rule each).
 */
export function addClassGroups(state: FakeDirectoryState, options: { perSchool: number; size?: number; seed?: number }): string[] {
  const rng = seededRandom(options.seed ?? 99);
  const size = options.size ?? 28;
  const bySchool = new Map<string, { students: string[]; teachers: string[] }>();
  for (const u of state.allUsers()) {
    const m = /^\/(Students|Staff\/Teachers)\/(School \d+)/.exec(u.orgUnitPath);
    if (!m) continue;
    const school = bySchool.get(m[2]) ?? { students: [], teachers: [] };
    (m[1] === 'Students' ? school.students : school.teachers).push(u.id);
    bySchool.set(m[2], school);
  }
  const mapped: string[] = [];
  for (const [name, school] of bySchool) {
    const n = name.split(' ')[1];
    const parent = `classes-school-${n}@${state.domain}`;
    state.addGroup({ email: parent, name: `${name} classes` });
    mapped.push(parent);
    for (let k = 1; k <= options.perSchool; k++) {
      const email = `class-${n}-${k}@${state.domain}`;
      state.addGroup({ email, name: `${name} class ${k}` });
      state.addMember(parent, email);
      if (school.teachers.length) state.addMember(email, school.teachers[Math.floor(rng() * school.teachers.length)]);
      const start = Math.floor(rng() * Math.max(1, school.students.length - size));
      for (let i = 0; i < size && start + i < school.students.length; i++) state.addMember(email, school.students[start + i]);
    }
  }
  return mapped;
}

// ---- mutations between syncs ---------------------------------------------------------------

export interface RolloverMove {
  email: string;
  from: string;
  /** The new OU; '/Alumni' for graduates (or the old OU when they are suspended in place). */
  to: string;
  graduated: boolean;
}

export interface RolloverResult {
  /** Every student touched, in directory order. */
  moves: RolloverMove[];
  promoted: number;
  graduated: string[];
}

/**
 * End of school year: every student moves one grade up, into the same
 * school if it has the next grade, else into the school that does (feeder
 * schools). Students with no next grade graduate to /Alumni, or are
 * suspended in place when graduates is 'suspend'.
 */
export function rollover(state: FakeDirectoryState, graduates: 'alumni' | 'suspend' = 'alumni'): RolloverResult {
  const gradeOus = new Map<number, string[]>();
  for (const ou of state.allOrgUnits()) {
    const m = /^\/Students\/(.+)\/Grade (\d+)$/.exec(ou.orgUnitPath);
    if (m) gradeOus.set(Number(m[2]), [...(gradeOus.get(Number(m[2])) ?? []), ou.orgUnitPath]);
  }
  const plan: { email: string; from: string; to: string | null }[] = [];
  for (const u of state.allUsers()) {
    const m = /^\/Students\/(.+)\/Grade (\d+)$/.exec(u.orgUnitPath);
    if (!m) continue;
    const next = Number(m[2]) + 1;
    const same = `/Students/${m[1]}/Grade ${next}`;
    const to = state.hasOrgUnit(same) ? same : gradeOus.get(next)?.[0] ?? null;
    plan.push({ email: u.primaryEmail, from: u.orgUnitPath, to });
  }
  const result: RolloverResult = { moves: [], promoted: 0, graduated: [] };
  if (graduates === 'alumni') state.addOrgUnit('/Alumni');
  for (const { email, from, to } of plan) {
    if (to) {
      state.moveUser(email, to);
      result.promoted++;
      result.moves.push({ email, from, to, graduated: false });
    } else {
      if (graduates === 'alumni') state.moveUser(email, '/Alumni');
      else state.suspend(email);
      result.graduated.push(email);
      result.moves.push({ email, from, to: graduates === 'alumni' ? '/Alumni' : from, graduated: true });
    }
  }
  return result;
}

export const suspend = (state: FakeDirectoryState, email: string, suspended = true) => state.suspend(email, suspended);
export const renameEmail = (state: FakeDirectoryState, oldEmail: string, newEmail: string, keepAlias = true) =>
  state.renameEmail(oldEmail, newEmail, keepAlias);
export const moveUser = (state: FakeDirectoryState, email: string, orgUnitPath: string) => state.moveUser(email, orgUnitPath);
export const moveOu = (state: FakeDirectoryState, path: string, newParentPath: string) => state.moveOu(path, newParentPath);
export const renameOu = (state: FakeDirectoryState, path: string, newName: string) => state.renameOu(path, newName);
export const deleteOu = (state: FakeDirectoryState, path: string, moveUsersTo?: string) => state.deleteOu(path, moveUsersTo);
export const renameGroup = (state: FakeDirectoryState, email: string, newEmail: string, newName?: string) =>
  state.renameGroup(email, newEmail, newName);
export const deleteGroup = (state: FakeDirectoryState, email: string) => state.deleteGroup(email);
export const deleteUser = (state: FakeDirectoryState, email: string) => state.deleteUser(email);

/**
 * The rules the benchmark and the scale tests sync a generated domain with: two OU rules and three
 * group rules, one of them the head of the nested chain generateDomain builds.
 */
export function scaleRules(domain: string): { id: string; type: 'ou' | 'group'; orgUnitPath?: string; includeSubOrgUnits?: boolean; groupEmail?: string; role: string }[] {
  return [
    { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
    { id: 'teachers', type: 'ou', orgUnitPath: '/Staff/Teachers', includeSubOrgUnits: true, role: 'teacher' },
    { id: 'nest', type: 'group', groupEmail: `nest-1@${domain}`, role: 'admin' },
    { id: 'coaches', type: 'group', groupEmail: `group-1@${domain}`, role: 'teacher' },
    { id: 'mentors', type: 'group', groupEmail: `group-2@${domain}`, role: 'teacher' },
  ];
}

/**
 * The fewest directory calls a full sync can make: ceil(users / 500) users.list pages, one
 * orgunits.list, and for every group a rule names (each once) ceil(derived members / 200)
 * members.list pages (at least one): with includeDerivedMembership a group lists the users of the
 * groups nested in it (each once) besides its direct members, so nested groups need no listing.
 */
export function directoryLowerBound(dir: FakeDirectoryState, ruleGroupEmails: string[]): { users: number; members: number; orgunits: number; total: number } {
  const users = Math.max(1, Math.ceil(dir.allUsers().length / 500));
  let members = 0;
  for (const email of new Set(ruleGroupEmails.map((e) => e.toLowerCase()))) members += Math.max(1, Math.ceil(derivedMemberCount(dir, email) / 200));
  return { users, members, orgunits: 1, total: users + members + 1 };
}

/** What members.list with includeDerivedMembership lists: the direct members, and the users of nested groups, each once. */
export function derivedMemberCount(dir: FakeDirectoryState, email: string): number {
  const root = dir.findGroup(email);
  if (!root) return 0;
  const users = new Set<string>();
  let direct = 0;
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length) {
    const g = stack.pop()!;
    if (seen.has(g.id)) continue;
    seen.add(g.id);
    for (const m of g.members) {
      if (m.type === 'USER') users.add(m.id);
      else if (g === root) direct++;
      if (m.type === 'GROUP') {
        const inner = dir.groupById(m.id);
        if (inner) stack.push(inner);
      }
    }
  }
  return users.size + direct;
}
