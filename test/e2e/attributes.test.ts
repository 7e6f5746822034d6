// Attribute mapping on the built bundle: values from every kind of source reach the Roster's
// columns, changes are updates with their reasons, what cannot be derived is reported and never
// written, and the directory is asked only for the fields the mapping names.
import { later, world, World } from './harness';
import { DEMO_DOMAIN, DEMO_SCHEMA, generateDomain, rollover, scaleRules } from '../../emulator/domain';
import { DEMO_APP_GROUPS, DEMO_ATTRIBUTES } from '../../emulator/serve';

const SCHOOL_ATTRIBUTES = [
  { name: 'Student ID', source: 'externalIds.organization' },
  { name: 'Homeroom', source: `customSchemas.${DEMO_SCHEMA}.homeroom` },
  { name: 'School', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'school' },
  { name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade' },
  { name: 'Title', source: 'organizations.title' },
  { name: 'Department', source: 'organizations.department' },
  { name: 'Manager', source: 'relations.manager', transform: 'lower' },
  { name: 'Phone', source: 'phones.work' },
  { name: 'Given', source: 'name.givenName' },
  { name: 'Login', source: 'primaryEmail', transform: 'localPart' },
  { name: 'District', source: 'constant', value: 'Springfield' },
];

type Row = Record<string, string>;
const rowOf = (w: World, email: string): Row => w.roster().find((r) => r.Email === email)!;

/** Records the arguments of every users.list and users.get call the script makes. */
function recordUserReads(w: World): { list: Record<string, unknown>[]; get: Record<string, unknown>[] } {
  const seen = { list: [] as Record<string, unknown>[], get: [] as Record<string, unknown>[] };
  w.rt.inject('AdminDirectory.Users.list', (_n, args) => void seen.list.push({ ...(args[0] as object) }));
  w.rt.inject('AdminDirectory.Users.get', (_n, args) => void seen.get.push({ ...((args[1] as object) ?? {}) }));
  return seen;
}

function firstStudent(w: World, ou: string) {
  return w.rt.directory.allUsers().find((u) => u.orgUnitPath === ou && !u.suspended)!;
}

test('attributes from every kind of source reach the Roster columns, each with where it came from', () => {
  const w = world();
  w.save({ attributes: SCHOOL_ATTRIBUTES });
  const student = firstStudent(w, '/Students/Lincoln High/Grade 10');
  const teacher = w.rt.directory.allUsers().find((u) => u.orgUnitPath === '/Staff/Teachers/Washington Middle' && !u.suspended)!;
  const principal = w.rt.directory.findUser(teacher.profile!.relations![0].value)!;

  const preview = w.call('previewSync');
  const created = preview.changes.find((c: { email: string }) => c.email === student.primaryEmail);
  expect(created.reasons.join(' ')).toContain('Grade 10 (from OU /Students/Lincoln High/Grade 10)');
  expect(created.reasons.join(' ')).toContain(`Homeroom 10-`);
  expect(w.call('syncNow', {}).state).toBe('done');

  const header = w.rt.sheetValues('Roster')[0];
  expect(header.slice(11)).toEqual(SCHOOL_ATTRIBUTES.map((a) => a.name));
  expect(rowOf(w, student.primaryEmail)).toMatchObject({
    'Student ID': student.profile!.externalIds![0].value,
    Homeroom: (student.profile!.customSchemas![DEMO_SCHEMA] as { homeroom: string }).homeroom,
    School: 'Lincoln High',
    Grade: '10',
    Title: '',
    Given: student.name.givenName,
    Login: student.primaryEmail.split('@')[0],
    District: 'Springfield',
  });
  expect(rowOf(w, teacher.primaryEmail)).toMatchObject({
    'Student ID': teacher.profile!.externalIds![0].value,
    School: '',
    Title: 'Teacher',
    Department: teacher.profile!.organizations![0].department,
    Manager: principal.primaryEmail,
  });
  // A leading + would make Sheets read a formula: the cell carries Sheets' quote prefix, which it does not show.
  expect(rowOf(w, teacher.primaryEmail).Phone).toBe(`'${teacher.profile!.phones![0].value}`);
  // A teacher is outside the OUs the student pattern speaks of: no grade, and nothing to report.
  expect(rowOf(w, teacher.primaryEmail).Grade).toBe('');
  expect(preview.attributeProblems).toEqual([]);

  const explained = w.call('explainUser', { email: student.primaryEmail });
  expect(explained.attributes).toContainEqual({ name: 'Grade', value: '10', from: 'OU /Students/Lincoln High/Grade 10', problem: '' });
  expect(explained.attributes).toContainEqual(expect.objectContaining({ name: 'Homeroom', from: `custom field ${DEMO_SCHEMA}.homeroom` }));

  later(w);
  const writes = w.writes('Roster');
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(w.writes('Roster')).toBe(writes);
});

test('a rollover changes grade and school as updates with their reasons', () => {
  const w = world();
  w.save({ attributes: SCHOOL_ATTRIBUTES.filter((a) => a.source === 'orgUnitPath'), threshold: { kind: 'count', value: 1000 } });
  w.call('syncNow', {});
  const ids = new Map(w.roster().map((r) => [r.Email, r.ID]));
  const moved = rollover(w.rt.directory, 'alumni');
  later(w);
  const preview = w.call('previewSync');
  const reasonsOf = (email: string) => preview.changes.find((c: { email: string }) => c.email === email)?.reasons ?? [];
  const promoted = moved.moves.find((m) => m.from === '/Students/Lincoln High/Grade 9')!;
  expect(reasonsOf(promoted.email)).toContain('Grade 9 → 10 (from OU /Students/Lincoln High/Grade 10)');
  const changedSchool = moved.moves.find((m) => m.from === '/Students/Washington Middle/Grade 8')!;
  expect(changedSchool.to).toBe('/Students/Lincoln High/Grade 9');
  expect(reasonsOf(changedSchool.email)).toContain('School Washington Middle → Lincoln High (from OU /Students/Lincoln High/Grade 9)');
  expect(preview.changes.find((c: { email: string }) => c.email === changedSchool.email).kind).toBe('update');

  expect(w.call('syncNow', { allowDestructive: 1000 }).state).toBe('done');
  expect(rowOf(w, changedSchool.email)).toMatchObject({ ID: ids.get(changedSchool.email), School: 'Lincoln High', Grade: '9' });
  expect(rowOf(w, promoted.email)).toMatchObject({ ID: ids.get(promoted.email), Grade: '10' });
});

test('a person sorting the roster before each write of a rollover: every school and grade lands on its own account\'s row', () => {
  const w = world();
  const ouAttributes = SCHOOL_ATTRIBUTES.filter((a) => a.source === 'orgUnitPath');
  w.save({ attributes: ouAttributes, threshold: { kind: 'count', value: 1000 } });
  w.call('syncNow', {});
  rollover(w.rt.directory, 'alumni');
  later(w);
  const sheet = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
  let sorts = 0;
  let armed = false;
  sheet.beforeCall = (method) => {
    if (armed && sorts < 6) {
      armed = false;
      sheet.personSorts(2, sorts % 2 ? 1 : 2, sorts % 3 === 0);
      sorts++;
    }
    if (method === 'Range.setValues' || method === 'Range.getValues') armed = true;
  };
  w.call('syncNow', { allowDestructive: 1000 });
  sheet.beforeCall = null;
  expect(sorts).toBeGreaterThan(2);
  later(w);
  expect(w.call('syncNow', { allowDestructive: 1000 }).state).toBe('done');
  // Each row's School and Grade are those of its own user's OU, read from the directory, not the add-on.
  const rows = w.roster().filter((r) => r.Status === 'active' && r.OU.startsWith('/Students/'));
  expect(rows.length).toBeGreaterThan(100);
  for (const r of rows) {
    const ou = w.rt.directory.userById(r.ID)!.orgUnitPath;
    const m = /^\/Students\/([^/]+)\/Grade (\d+)$/.exec(ou);
    expect([r.Email, r.OU, r.School, r.Grade]).toEqual([r.Email, ou, m ? m[1] : r.School, m ? m[2] : r.Grade]);
  }
  expect(new Set(w.roster().map((r) => r.ID)).size).toBe(w.roster().length);
});

test('a value that cannot be derived is reported per user and the account keeps its last good value', () => {
  const w = world();
  w.save({ attributes: SCHOOL_ATTRIBUTES.filter((a) => a.source === 'orgUnitPath') });
  w.call('syncNow', {});
  const student = firstStudent(w, '/Students/Jefferson Elementary/Grade 3');
  w.rt.directory.addOrgUnit('/Students/Jefferson Elementary/Transfers');
  w.rt.directory.moveUser(student.primaryEmail, '/Students/Jefferson Elementary/Transfers');
  later(w);
  const preview = w.call('previewSync');
  expect(preview.attributeProblems).toEqual([
    expect.objectContaining({ email: student.primaryEmail, attribute: 'School', problem: 'the OU /Students/Jefferson Elementary/Transfers does not match the pattern /Students/{school}/Grade {grade}' }),
    expect.objectContaining({ email: student.primaryEmail, attribute: 'Grade' }),
  ]);
  expect(preview.attributeProblemCount).toBe(2);
  w.call('syncNow', {});
  expect(rowOf(w, student.primaryEmail)).toMatchObject({ OU: '/Students/Jefferson Elementary/Transfers', School: 'Jefferson Elementary', Grade: '3' });
  expect(w.call('explainUser', { email: student.primaryEmail }).attributes).toContainEqual(expect.objectContaining({ name: 'Grade', value: '', problem: expect.stringContaining('does not match') }));
});

test('a manager who is not an email cannot be derived, and the sync says so in History', () => {
  const w = world();
  const teacher = w.rt.directory.allUsers().find((u) => u.orgUnitPath === '/Staff/Teachers/Lincoln High' && !u.suspended)!;
  w.rt.directory.setProfile(teacher.primaryEmail, { relations: [{ type: 'manager', value: 'Dr. Principal' }] });
  w.save({ attributes: [{ name: 'Manager', source: 'relations.manager' }] });
  expect(w.call('previewSync').attributeProblems).toEqual([expect.objectContaining({ email: teacher.primaryEmail, attribute: 'Manager', problem: 'the manager "Dr. Principal" is not an email address' })]);
  w.call('syncNow', {});
  expect(rowOf(w, teacher.primaryEmail).Manager).toBe('');
  expect(w.history().at(-1)!.Message).toContain(`1 mapped attribute value(s) could not be derived (first: ${teacher.primaryEmail}, Manager: the manager "Dr. Principal" is not an email address)`);
});

test('a graduation year in the OU gives the grade it implies on the rollover day the admin sets', () => {
  const w = world();
  const d = w.rt.directory;
  d.addOrgUnit('/Students/Lincoln High/2028');
  const student = firstStudent(w, '/Students/Lincoln High/Grade 11');
  d.moveUser(student.primaryEmail, '/Students/Lincoln High/2028');
  const pattern = '/Students/{school}/{year}';
  w.save({ attributes: [{ name: 'Class of', source: 'orgUnitPath', pattern, part: 'year' }, { name: 'Grade', source: 'orgUnitPath', pattern, part: 'year', transform: 'gradeFromYear', rollover: '07-01' }] });
  w.call('syncNow', {});
  // 2026-09-01: the school year ends in 2027, so the class of 2028 is in grade 11.
  expect(rowOf(w, student.primaryEmail)).toMatchObject({ 'Class of': '2028', Grade: '11' });
  const other = firstStudent(w, '/Students/Lincoln High/Grade 9');
  expect(w.call('explainUser', { email: other.primaryEmail }).attributes).toContainEqual(expect.objectContaining({ name: 'Grade', problem: expect.stringContaining('"Grade 9", not a graduation year') }));
});

test('directory reads ask only for the fields mapped; without attributes they are what they were', () => {
  const plain = world();
  const before = recordUserReads(plain);
  plain.call('syncNow', {});
  expect(before.list.length).toBeGreaterThan(0);
  for (const args of before.list) {
    expect(args.fields).toBe('nextPageToken,users(id,primaryEmail,name/fullName,orgUnitPath,suspended,archived)');
    expect(args.projection).toBeUndefined();
    expect(args.customFieldMask).toBeUndefined();
  }

  const mapped = world();
  mapped.save({ attributes: SCHOOL_ATTRIBUTES });
  const reads = recordUserReads(mapped);
  mapped.call('syncNow', {});
  mapped.call('explainUser', { email: `admin@${DEMO_DOMAIN}` });
  for (const args of reads.list) {
    expect(String(args.fields)).toMatch(/^nextPageToken,users\(/);
    expect(String(args.fields)).toContain('customSchemas/Rostering');
    expect(String(args.fields)).toContain('externalIds(');
    expect(args).toMatchObject({ projection: 'custom', customFieldMask: DEMO_SCHEMA, maxResults: 500 });
  }
  expect(reads.get[reads.get.length - 1]).toMatchObject({ projection: 'custom', customFieldMask: DEMO_SCHEMA });

  const noCustom = world();
  noCustom.save({ attributes: [{ name: 'Title', source: 'organizations.title' }] });
  const titleReads = recordUserReads(noCustom);
  noCustom.call('syncNow', {});
  for (const args of titleReads.list) {
    expect(args.fields).toBe('nextPageToken,users(id,primaryEmail,name/fullName,orgUnitPath,suspended,archived,organizations(primary,title,department,costCenter,description,name))');
    expect(args.projection).toBeUndefined();
  }
});

test('mapped attributes cost no directory call: the same pages of 500 users, OUs and group members as without', () => {
  const sync = (attributes: unknown[]) => {
    const w = world({ directory: generateDomain({ users: 3000, domain: 'scale.example' }), rules: scaleRules('scale.example') });
    w.save({ attributes });
    w.rt.resetCounters();
    expect(w.call('syncNow', {}).state).toBe('done');
    return { w, calls: Object.fromEntries(Object.entries(w.rt.calls).filter(([k]) => k.startsWith('AdminDirectory.'))) };
  };
  const without = sync([]).calls;
  expect(without['AdminDirectory.Users.list']).toBe(6);
  const mapped = sync(SCHOOL_ATTRIBUTES);
  expect(mapped.calls).toEqual(without);
  // …and the values did arrive.
  const grades = new Set(mapped.w.roster().map((r) => r.Grade));
  expect([...grades].sort()).toEqual(['', '10', '11', '12', '9']);
});

test('an upgrade from a roster without the new columns: columns appended after a person\'s own, which keep their content', () => {
  const w = world();
  w.call('syncNow', {});
  const rows = w.rt.sheetValues('Roster');
  // A person added a "Notes" column right of the roster and wrote in it.
  const sheet = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
  // The roster has only the columns it uses: the person inserts one, then types in it.
  sheet.maxCols = Math.max(sheet.maxCols, 12);
  sheet.set(0, 11, 'Notes');
  sheet.set(1, 11, 'call home');
  sheet.set(4, 11, 'new bus route');
  const notedEmails = [rows[1][1], rows[4][1]] as string[];
  w.save({ attributes: SCHOOL_ATTRIBUTES.filter((a) => a.source === 'orgUnitPath') });
  later(w);
  // Preview writes nothing, not even the new header cells.
  const writes = w.writes('Roster');
  expect(w.call('previewSync').counts.update).toBeGreaterThan(0);
  expect(w.writes('Roster')).toBe(writes);
  expect(w.rt.sheetValues('Roster')[0].slice(11)).toEqual(['Notes']);
  const result = w.call('syncNow', {});
  expect(result.state).toBe('done');
  expect(result.applied.create).toBe(0);
  const header = w.rt.sheetValues('Roster')[0];
  expect(header.slice(11, 14)).toEqual(['Notes', 'School', 'Grade']);
  expect(rowOf(w, notedEmails[0]).Notes).toBe('call home');
  expect(rowOf(w, notedEmails[1]).Notes).toBe('new bus route');
  const student = firstStudent(w, '/Students/Lincoln High/Grade 12');
  expect(rowOf(w, student.primaryEmail)).toMatchObject({ School: 'Lincoln High', Grade: '12' });
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
});

test('an attribute mapped after a person added a column lands right of it; rollovers write around the person\'s column, never over it', () => {
  const w = world();
  const [school, grade] = SCHOOL_ATTRIBUTES.filter((a) => a.source === 'orgUnitPath');
  w.save({ attributes: [school], threshold: { kind: 'count', value: 1000 } });
  w.call('syncNow', {});
  const sheet = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
  const rows = w.rt.sheetValues('Roster') as string[][];
  sheet.maxCols = Math.max(sheet.maxCols, 13);
  sheet.set(0, 12, 'Notes');
  for (let r = 1; r < rows.length; r++) sheet.set(r, 12, `note ${rows[r][0]}`);
  w.save({ attributes: [school, grade] });
  later(w);
  w.call('syncNow', {});
  expect(w.rt.sheetValues('Roster')[0].slice(11)).toEqual(['School', 'Notes', 'Grade']);
  rollover(w.rt.directory, 'alumni');
  later(w);
  expect(w.call('syncNow', { allowDestructive: 1000 }).state).toBe('done');
  for (const row of w.roster()) expect(row.Notes).toBe(`note ${row.ID}`);
  const student = firstStudent(w, '/Students/Lincoln High/Grade 10');
  expect(rowOf(w, student.primaryEmail)).toMatchObject({ School: 'Lincoln High', Grade: '10', Notes: `note ${student.id}` });
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
});

test('a sync in many parts keeps the mapped fields through the saved snapshot', () => {
  const w = world({ globals: { ROSTER_SYNC_BUDGET_MS: 200 } });
  w.save({ attributes: SCHOOL_ATTRIBUTES });
  let result = w.call('syncNow', {});
  let parts = 1;
  for (; result.state === 'in-progress'; parts++) result = w.call('continueSync');
  expect(result.state).toBe('done');
  expect(parts).toBeGreaterThan(3);
  const student = firstStudent(w, '/Students/Washington Middle/Grade 8');
  expect(rowOf(w, student.primaryEmail)).toMatchObject({ 'Student ID': student.profile!.externalIds![0].value, Homeroom: (student.profile!.customSchemas![DEMO_SCHEMA] as { homeroom: string }).homeroom, Grade: '8' });
  const teacher = w.rt.directory.allUsers().find((u) => u.orgUnitPath === '/Staff/Teachers/Jefferson Elementary' && !u.suspended && !u.archived)!;
  expect(rowOf(w, teacher.primaryEmail)).toMatchObject({ Title: 'Teacher', Manager: teacher.profile!.relations![0].value });
});

test('a large domain read in parallel rounds (the Directory REST API) reads the mapped fields and the app groups too', () => {
  const w = world();
  w.save({ attributes: SCHOOL_ATTRIBUTES, appGroups: [`robotics-club@${DEMO_DOMAIN}`] });
  // As if an earlier sync had counted a large domain: this one reads it in parallel rounds.
  w.rt.properties.script.map.set(`rs:${w.rt.activeSpreadsheetId}:directoryUsers`, '100000');
  const urls: string[] = [];
  // The fake records each fetchAll with the URLs it was asked for.
  w.rt.inject('UrlFetchApp.fetchAll', (_n, args) => void urls.push(...(args[0] as string[])));
  w.rt.resetCounters();
  expect(w.call('syncNow', {}).state).toBe('done');
  expect(w.rt.calls['UrlFetchApp.fetchAll']).toBeGreaterThan(0);
  const userListings = urls.filter((u) => u.includes('/users?'));
  expect(userListings.length).toBeGreaterThan(26);
  for (const url of userListings) {
    const q = new URL(url).searchParams;
    expect(q.get('fields')).toMatch(/^nextPageToken,users\(.*externalIds\(/);
    expect([q.get('projection'), q.get('customFieldMask')]).toEqual(['custom', DEMO_SCHEMA]);
  }
  const student = firstStudent(w, '/Students/Jefferson Elementary/Grade 4');
  expect(rowOf(w, student.primaryEmail)).toMatchObject({ 'Student ID': student.profile!.externalIds![0].value, School: 'Jefferson Elementary', Grade: '4' });
  const member = w.rt.directory.findGroup(`robotics-club@${DEMO_DOMAIN}`)!.members.find((m) => m.type === 'USER')!;
  expect(w.roster().find((r) => r.ID === member.id)!.Groups).toBe(`robotics-club@${DEMO_DOMAIN}`);
});

test('attribute settings are checked: a pattern part that is not in the pattern, a name the roster already uses', () => {
  const w = world();
  expect(() => w.save({ attributes: [{ name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'year' }] })).toThrow(/attributes\[0\]\.part must be one of the pattern's parts: school, grade/);
  expect(() => w.save({ attributes: [{ name: 'Email', source: 'organizations.title' }] })).toThrow(/"Email" is a column Roster Sync already writes/);
  expect(() => w.save({ attributes: [{ name: 'X', source: 'customSchemas.Bad Name.field' }] })).toThrow(/attributes\[0\]\.source must be/);
  expect(w.settings().attributes).toEqual([]);
});

test('the demo district fills in every mapped attribute of the demo: no student without ID, school, grade and homeroom, no teacher without title, department and manager', () => {
  const w = world();
  w.save({ attributes: DEMO_ATTRIBUTES, appGroups: DEMO_APP_GROUPS });
  const preview = w.call('previewSync');
  expect(preview.attributeProblems).toEqual([]);
  w.call('syncNow', {});
  const rows = w.roster();
  const students = rows.filter((r) => r.OU.startsWith('/Students/'));
  const teachers = rows.filter((r) => r.OU.startsWith('/Staff/Teachers/'));
  expect(students.length).toBeGreaterThan(250);
  for (const r of students) for (const k of ['Student ID', 'School', 'Grade', 'Homeroom']) expect([r.Email, k, r[k]]).not.toEqual([r.Email, k, '']);
  for (const r of teachers) for (const k of ['Title', 'Department', 'Manager', 'Groups']) expect([r.Email, k, r[k]]).not.toEqual([r.Email, k, '']);
  // A directory value is text in the sheet, never a formula.
  expect(rowOf(w, `markup.test@${DEMO_DOMAIN}`)['Student ID']).toBe(`'=HYPERLINK("http://x.example","S1")`);
});
