// Settings migrations: every document an earlier version saved is read, upgraded one version at a
// time, and saved back only by the next save; a document from a newer version is refused.
import { KEYS, loadSettings } from '../../src/core/config';
import { SETTINGS_SCHEMA_VERSION, migrateSettings } from '../../src/core/migrations';
import { UserError } from '../../src/core/messages';
import { defaultSettings, planFingerprint, validateSettings } from '../../src/core/settings';
import { makePlan } from '../../src/core/plan';
import { readAll } from '../../src/core/snapshot';
import { MemoryKV } from '../fakes/memory';
import { DESTINATIONS } from '../../src/destinations';
import { RULES, school } from './fixture';

/** A settings document as version 1 (Roster Sync 0.1.0) saved it: every field explicit, no archivedUsers. */
function v1Document(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const { archivedUsers: _dropped, ...rest } = defaultSettings();
  return { ...rest, schemaVersion: 1, ...patch };
}

function refusal(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a refusal');
}

describe('v1 → v2: archived users get a policy of their own', () => {
  test.each([['suspend'], ['deprovision']])('a v1 document with suspendedUsers %s keeps that policy for archived users', (policy) => {
    expect(migrateSettings(v1Document({ suspendedUsers: policy }))).toMatchObject({ schemaVersion: 2, suspendedUsers: policy, archivedUsers: policy });
  });

  test('a v1 document without suspendedUsers (v1 read it as suspend) gets suspend', () => {
    const { suspendedUsers: _dropped, ...doc } = v1Document();
    expect(migrateSettings(doc)).toMatchObject({ schemaVersion: 2, archivedUsers: 'suspend' });
  });

  test('the step returns a new document and leaves the one it was given as it was', () => {
    const doc = v1Document({ suspendedUsers: 'deprovision' });
    const copy = JSON.parse(JSON.stringify(doc));
    migrateSettings(doc);
    expect(doc).toEqual(copy);
  });
});

test('the chain brings a document of every earlier version up to the current one, which validates', () => {
  expect(SETTINGS_SCHEMA_VERSION).toBe(2);
  for (let version = 1; version <= SETTINGS_SCHEMA_VERSION; version++) {
    const migrated = migrateSettings({ ...v1Document(), schemaVersion: version }) as Record<string, unknown>;
    expect(migrated.schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
    expect(validateSettings(migrated, DESTINATIONS).schemaVersion).toBe(SETTINGS_SCHEMA_VERSION);
  }
});

test('a current document, or one without a version (written by hand), passes through unchanged', () => {
  const current = { ...defaultSettings(), archivedUsers: 'deprovision' };
  expect(migrateSettings(current)).toBe(current);
  const unversioned = { rules: [] };
  expect(migrateSettings(unversioned)).toBe(unversioned);
  expect(validateSettings(unversioned, DESTINATIONS).archivedUsers).toBe('suspend');
});

test('without archivedUsers, a current document applies its suspended-users policy to archived users', () => {
  expect(validateSettings({ suspendedUsers: 'deprovision' }, DESTINATIONS).archivedUsers).toBe('deprovision');
  expect(validateSettings({ suspendedUsers: 'deprovision', archivedUsers: 'suspend' }, DESTINATIONS).archivedUsers).toBe('suspend');
});

test('a document from a newer version is refused with the catalog message, not upgraded or trimmed', () => {
  const newer = { ...defaultSettings(), schemaVersion: SETTINGS_SCHEMA_VERSION + 1, futureField: { kept: true } };
  const e = refusal(() => migrateSettings(newer));
  expect(e.detail).toMatchObject({ id: 'settingsTooNew' });
  expect(e.detail.text).toBe(`The saved settings were written by a newer version of Roster Sync (settings version ${SETTINGS_SCHEMA_VERSION + 1}; this version reads versions up to ${SETTINGS_SCHEMA_VERSION}).`);
});

test('loadSettings upgrades a stored v1 document on read and writes nothing back', () => {
  const config = new MemoryKV();
  const stored = JSON.stringify(v1Document({ suspendedUsers: 'deprovision', graceDays: 12 }));
  config.set(KEYS.settings, stored);
  expect(loadSettings(config, DESTINATIONS)).toMatchObject({ schemaVersion: SETTINGS_SCHEMA_VERSION, graceDays: 12, suspendedUsers: 'deprovision', archivedUsers: 'deprovision' });
  expect(config.get(KEYS.settings)).toBe(stored);
});

test('loadSettings refuses a newer stored document as settingsTooNew, not as corrupt, and leaves it as it was', () => {
  const config = new MemoryKV();
  const stored = JSON.stringify({ ...defaultSettings(), schemaVersion: 7 });
  config.set(KEYS.settings, stored);
  expect(refusal(() => loadSettings(config, DESTINATIONS)).detail.id).toBe('settingsTooNew');
  expect(config.get(KEYS.settings)).toBe(stored);
});

describe('the archived-users policy decides the plan', () => {
  function changeFor(w: ReturnType<typeof school>, email: string) {
    const settings = loadSettings(w.config, DESTINATIONS);
    const { snapshot } = readAll(settings, w.directory);
    const plan = makePlan({ settings, snapshot, accounts: w.roster.readAll().accounts, now: new Date(w.clock.now).toISOString() });
    w.roster.apply(plan.changes);
    return plan.changes.filter((c) => c.email === email).map((c) => ({ kind: c.kind, reasons: c.reasons, status: c.after?.status }));
  }

  test('archived users deprovisioned while suspended ones are only suspended', () => {
    const w = school();
    w.setSettings({ rules: RULES, suspendedUsers: 'suspend', archivedUsers: 'deprovision' });
    changeFor(w, '');
    w.directory.user('dee@school.example').archived = true;
    w.directory.user('cy@school.example').suspended = true;
    expect(changeFor(w, 'dee@school.example')).toEqual([{ kind: 'deactivate', reasons: [expect.stringContaining('archived in Google (policy: deprovision archived users)')], status: 'disabled' }]);
    expect(w.roster.byEmail('cy@school.example')!.status).toBe('suspended');
  });

  test('suspended users deprovisioned while archived ones are only suspended', () => {
    const w = school();
    w.setSettings({ rules: RULES, suspendedUsers: 'deprovision', archivedUsers: 'suspend' });
    changeFor(w, '');
    w.directory.user('dee@school.example').archived = true;
    w.directory.user('cy@school.example').suspended = true;
    expect(changeFor(w, 'dee@school.example')).toEqual([{ kind: 'deactivate', reasons: ['archived in Google'], status: 'suspended' }]);
    expect(w.roster.byEmail('cy@school.example')!.status).toBe('disabled');
  });
});

describe('the plan fingerprint across the upgrade (a sync part-way when it lands carries on)', () => {
  test('a migrated v1 document keeps the fingerprint version 1 computed', () => {
    for (const policy of ['suspend', 'deprovision'] as const) {
      const v1 = v1Document({ suspendedUsers: policy, graceDays: 12 });
      // Version 1's formula, for the Roster sheet destination.
      const v1Fingerprint = JSON.stringify([v1.rules, v1.roles, v1.impliedRoles, v1.graceDays, v1.exclude, v1.suspendedUsers, v1.destination, '']);
      expect(planFingerprint(validateSettings(migrateSettings(v1), DESTINATIONS), DESTINATIONS)).toBe(v1Fingerprint);
    }
  });

  test('an archived-users policy of its own changes the fingerprint', () => {
    const same = validateSettings({ suspendedUsers: 'suspend', archivedUsers: 'suspend' }, DESTINATIONS);
    const own = validateSettings({ suspendedUsers: 'suspend', archivedUsers: 'deprovision' }, DESTINATIONS);
    expect(planFingerprint(own, DESTINATIONS)).not.toBe(planFingerprint(same, DESTINATIONS));
  });
});
