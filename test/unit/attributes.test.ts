// The attribute mapping's pure parts: reading fields as the Directory API shapes them, patterns, transforms.
import { compilePattern, customSchemasOf, deriveAttributes, directoryFields, extractFields, fieldSelectors, patternScope, schoolYearEnd, validateAttributes } from '../../src/core/attributes';
import { DirectoryUser } from '../../src/core/model';

const user = (orgUnitPath: string, fields: Record<string, string> = {}): DirectoryUser => ({ id: '1', email: 'ana.lee@school.example', name: 'Ana Lee', orgUnitPath, suspended: false, archived: false, fields });

test('fields are read as the users resource holds them: typed lists (primary first, custom types), the primary organization, custom schemas', () => {
  const raw = {
    name: { givenName: 'Ana', familyName: 'Lee' },
    externalIds: [{ type: 'account', value: 'A-1' }, { type: 'organization', value: 'S-42' }, { type: 'custom', customType: 'lms', value: 'L-7' }],
    phones: [{ type: 'work', value: '+1 555 0100' }, { type: 'work', value: '+1 555 0199', primary: true }],
    organizations: [{ title: 'Old title' }, { primary: true, title: 'Teacher', department: 'Science' }],
    relations: [{ type: 'spouse', value: 'x@y' }, { type: 'manager', value: 'Boss@School.Example' }],
    customSchemas: { Rostering: { homeroom: '10-B', clubs: [{ value: 'Chess' }, { value: 'Band' }] } },
  };
  const sources = ['name.givenName', 'externalIds.organization', 'externalIds.lms', 'phones.work', 'organizations.title', 'organizations.department', 'relations.manager', 'customSchemas.Rostering.homeroom', 'customSchemas.Rostering.clubs', 'locations.buildingId'];
  expect(extractFields(raw, sources)).toEqual({
    'name.givenName': 'Ana',
    'externalIds.organization': 'S-42',
    'externalIds.lms': 'L-7',
    'phones.work': '+1 555 0199',
    'organizations.title': 'Teacher',
    'organizations.department': 'Science',
    'relations.manager': 'Boss@School.Example',
    'customSchemas.Rostering.homeroom': '10-B',
    'customSchemas.Rostering.clubs': 'Chess, Band',
    'locations.buildingId': '',
  });
});

test('only mapped fields are asked for; custom schemas only when one is mapped', () => {
  const sources = directoryFields(validateAttributes([
    { name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade' },
    { name: 'Login', source: 'primaryEmail', transform: 'localPart' },
    { name: 'District', source: 'constant', value: 'Springfield' },
  ]));
  expect(sources).toEqual([]);
  expect(fieldSelectors(['organizations.title', 'organizations.department', 'customSchemas.Rostering.homeroom', 'name.givenName'])).toEqual(['customSchemas/Rostering', 'name/givenName', 'organizations(primary,title,department,costCenter,description,name)']);
  expect(customSchemasOf(['customSchemas.B.x', 'customSchemas.A.y', 'customSchemas.A.z', 'phones.work'])).toEqual(['A', 'B']);
});

test('a pattern gives its named parts, matches sub-OUs, and speaks only of the OUs under its fixed start', () => {
  expect(compilePattern('/Students/{school}/Grade {grade}').parts).toEqual(['school', 'grade']);
  expect(patternScope('/Students/{school}/Grade {grade}')).toBe('/Students');
  expect(patternScope('/{campus}/Students')).toBe('/');
  const mapping = validateAttributes([
    { name: 'School', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'school' },
    { name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade' },
  ]);
  const now = '2026-09-01T00:00:00Z';
  expect(deriveAttributes(user('/Students/Lincoln High/Grade 10/Section A'), mapping, now).values).toEqual({
    School: { value: 'Lincoln High', from: 'OU /Students/Lincoln High/Grade 10/Section A' },
    Grade: { value: '10', from: 'OU /Students/Lincoln High/Grade 10/Section A' },
  });
  expect(deriveAttributes(user('/Staff/Teachers'), mapping, now)).toEqual({ values: { School: { value: '', from: 'OU /Staff/Teachers (outside /Students)' }, Grade: { value: '', from: 'OU /Staff/Teachers (outside /Students)' } }, problems: [] });
  expect(deriveAttributes(user('/Students/Lincoln High'), mapping, now).problems.map((p) => p.attribute)).toEqual(['School', 'Grade']);
  // A pattern's literal text is not a regular expression.
  expect(deriveAttributes(user('/StudentsX/A/Grade 1'), mapping, now).problems).toEqual([]);
});

test('a graduation year gives the grade it implies on the rollover day; a year in no grade is a problem', () => {
  expect(schoolYearEnd('2026-06-30T12:00:00Z', '07-01')).toBe(2026);
  expect(schoolYearEnd('2026-07-01T00:00:00Z', '07-01')).toBe(2027);
  const mapping = validateAttributes([{ name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{year}', part: 'year', transform: 'gradeFromYear' }]);
  const grade = (ou: string, now: string) => deriveAttributes(user(ou), mapping, now);
  expect(grade('/Students/2027', '2026-09-01T00:00:00Z').values.Grade.value).toBe('12');
  expect(grade('/Students/2027', '2026-06-15T00:00:00Z').values.Grade.value).toBe('11');
  expect(grade('/Students/2040', '2026-09-01T00:00:00Z').problems[0].problem).toContain('class of 2040, which is in no grade this school year');
  expect(grade('/Students/Seniors', '2026-09-01T00:00:00Z').problems[0].problem).toContain('not a graduation year');
});

test('the mapping table is checked row by row with the field named', () => {
  const bad = (rows: unknown[]) => {
    try {
      validateAttributes(rows, ['Email']);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  expect(bad([{ name: 'Grade', source: 'organizations.title', pattern: '/Students/{grade}', part: 'grade' }])).toMatch(/attributes\[0\]\.pattern is only for the source orgUnitPath/);
  expect(bad([{ name: 'Grade', source: 'orgUnitPath', pattern: '/Students/Grade' }])).toMatch(/attributes\[0\]\.pattern names no part/);
  expect(bad([{ name: 'A', source: 'phones.work' }, { name: 'a', source: 'phones.work' }])).toMatch(/attributes\[1\]\.name is used by another attribute/);
  expect(bad([{ name: 'email', source: 'phones.work' }])).toMatch(/"email" is a column Roster Sync already writes/);
  expect(bad([{ name: 'X', source: 'phones.work', scim: 'userName' }])).toMatch(/attributes\[0\]\.scim "userName" is written by Roster Sync itself/);
  expect(bad([{ name: 'X', source: 'phones.work', transform: 'eval' }])).toMatch(/attributes\[0\]\.transform must be one of/);
  expect(bad([{ name: 'X', source: 'orgUnitPath', pattern: '/S/{y}', part: 'y', transform: 'gradeFromYear', rollover: '13-01' }])).toMatch(/rollover must be a day MM-DD/);
});
