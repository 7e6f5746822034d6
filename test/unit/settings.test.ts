import { SETTINGS_SCHEMA_VERSION } from '../../src/core/migrations';
import { defaultSettings, validateSettings } from '../../src/core/settings';
import { UserError } from '../../src/core/messages';
import { DESTINATIONS } from '../../src/destinations';

function errorOf(raw: unknown): string {
  try {
    validateSettings(raw, DESTINATIONS);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a validation error');
}

test('defaults are valid: daily at 23:00 New York, 30 days grace, 10% threshold, admin grants teacher', () => {
  const s = validateSettings(defaultSettings(), DESTINATIONS);
  expect(s.schedule).toEqual({ mode: 'daily', hour: 23, timeZone: 'America/New_York', blackouts: [] });
  expect(s.graceDays).toBe(30);
  expect(s.threshold).toEqual({ kind: 'percent', value: 10, windowHours: 24 });
  expect(s).toMatchObject({ privilegedRoles: ['admin'], privilegedGrantLimit: 10, revision: 0 });
  expect(s.impliedRoles).toEqual({ admin: ['teacher'] });
});

test.each([
  [{ schedule: { ...defaultSettings().schedule, hour: 24 } }, 'Setting schedule.hour must be a whole number from 0 to 23.'],
  [{ schedule: { ...defaultSettings().schedule, timeZone: 'Mars/Olympus' } }, 'Setting schedule.timeZone must be a time zone name'],
  [{ rules: [{ id: 'a', type: 'ou', orgUnitPath: 'Students', role: 'student' }] }, 'Setting rules[0].orgUnitPath must be an organizational unit path'],
  [{ rules: [{ id: 'a', type: 'group', groupEmail: 'not-an-email', role: 'student' }] }, 'Setting rules[0].groupEmail must be an email address'],
  [{ rules: [{ id: 'a', type: 'ou', orgUnitPath: '/S', role: 'janitor' }] }, 'Setting rules[0].role must be one of the roles student, teacher, admin.'],
  [{ rules: [{ id: 'a', type: 'ou', orgUnitPath: '/S', role: 'student' }, { id: 'a', type: 'ou', orgUnitPath: '/T', role: 'student' }] }, 'Setting rules[1].id is used by another rule.'],
  [{ exclude: ['ok@school.example', '<script>'] }, 'Setting exclude[1] must be an email address'],
  [{ threshold: { kind: 'percent', value: 101 } }, 'Setting threshold.value must be a whole number from 0 to 100.'],
  [{ graceDays: -1 }, 'Setting graceDays must be a whole number from 0 to 3650.'],
  [{ schemaVersion: 9 }, 'Setting schemaVersion is 9'],
  ['[]', 'Setting settings must be an object.'],
])('%j is refused naming the field', (patch, expected) => {
  const raw = typeof patch === 'string' ? JSON.parse(patch) : { ...defaultSettings(), ...patch };
  expect(errorOf(raw)).toContain(expected);
});

test('emails are stored lower-case and de-duplicated', () => {
  const s = validateSettings({ ...defaultSettings(), exclude: ['A@School.example', 'a@school.example'] }, DESTINATIONS);
  expect(s.exclude).toEqual(['a@school.example']);
});

test('a document saved before revisions, rolling windows and privileged roles still loads, with their defaults', () => {
  const old = { schemaVersion: SETTINGS_SCHEMA_VERSION, rules: [], threshold: { kind: 'percent', value: 15 }, graceDays: 7 };
  const s = validateSettings(old, DESTINATIONS);
  expect(s).toMatchObject({ revision: 0, threshold: { kind: 'percent', value: 15, windowHours: 24 }, privilegedRoles: ['admin'], privilegedGrantLimit: 10, graceDays: 7 });
  // Roles of its own without "admin": nothing is privileged until an admin says so.
  expect(validateSettings({ ...old, roles: ['pupil', 'staff'], impliedRoles: {} }, DESTINATIONS).privilegedRoles).toEqual([]);
});

test.each([
  [{ threshold: { kind: 'percent', value: 10, windowHours: 169 } }, 'Setting threshold.windowHours must be a whole number from 0 to 168.'],
  [{ privilegedRoles: ['janitor'] }, 'Setting privilegedRoles[0] must be one of the roles student, teacher, admin.'],
  [{ privilegedGrantLimit: -1 }, 'Setting privilegedGrantLimit must be a whole number from 0 to 1000000.'],
  [{ revision: 'two' }, 'Setting revision must be a whole number from 0 to 2000000000.'],
])('%j is refused naming the field', (patch, message) => {
  expect(errorOf({ ...defaultSettings(), ...patch })).toContain(message);
});
