// Property: for random sequences of directory edits, incremental syncs (from the admin log) followed by
// a full reconcile give the same roster as full syncs alone, and that full reconcile plans nothing.
// Two identical small districts on the built bundle: A syncs incrementally after each batch of edits,
// B fully; the same edits go to both.
import fc from 'fast-check';
import { World, world } from './harness';
import { FakeDirectoryState } from '../../emulator/fakes/directoryState';

const DOMAIN = 'prop.example';
const OUS = ['/Students/Grade 9', '/Students/Grade 10', '/Staff/Teachers/Main', '/Other', '/Staff/Office'];
const RULES = [
  { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
  { id: 'teachers', type: 'ou', orgUnitPath: '/Staff/Teachers', includeSubOrgUnits: true, role: 'teacher' },
  { id: 'admins', type: 'group', groupEmail: `admins@${DOMAIN}`, role: 'admin' },
];

function district(): FakeDirectoryState {
  const d = new FakeDirectoryState({ domain: DOMAIN, seed: 5 });
  for (const ou of OUS) d.addOrgUnit(ou);
  d.addUser({ email: `admin@${DOMAIN}`, givenName: 'Ada', familyName: 'Admin', orgUnitPath: '/Staff/Office', isAdmin: true });
  for (let i = 0; i < 16; i++) d.addUser({ email: `person${i}@${DOMAIN}`, givenName: `P${i}`, familyName: 'Person', orgUnitPath: OUS[i % OUS.length] });
  d.addGroup({ email: `admins@${DOMAIN}`, name: 'Admins' });
  d.addGroup({ email: `helpers@${DOMAIN}`, name: 'Helpers' });
  d.addMember(`admins@${DOMAIN}`, `helpers@${DOMAIN}`);
  d.addMember(`admins@${DOMAIN}`, `person3@${DOMAIN}`);
  d.addMember(`helpers@${DOMAIN}`, `person4@${DOMAIN}`);
  return d;
}

type Edit =
  | { op: 'add'; ou: number }
  | { op: 'suspend' | 'archive' | 'rename' | 'delete' | 'join' | 'leave'; user: number; group?: number; byManager?: boolean }
  | { op: 'move'; user: number; ou: number }
  | { op: 'email'; user: number; keepAlias: boolean }
  | { op: 'renameOu' };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('add' as const), ou: fc.nat(OUS.length - 1) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('suspend' as const, 'archive' as const, 'rename' as const, 'delete' as const, 'join' as const, 'leave' as const), user: fc.nat(40), group: fc.nat(1), byManager: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('move' as const), user: fc.nat(40), ou: fc.nat(OUS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('email' as const), user: fc.nat(40), keepAlias: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'renameOu' as const }) },
);

/** Applies one edit; the same edit on an identical directory gives an identical directory. */
function apply(d: FakeDirectoryState, e: Edit, serial: number): void {
  const people = d.allUsers().filter((u) => !u.isAdmin);
  if (e.op === 'add') {
    d.addUser({ email: `new${serial}@${DOMAIN}`, givenName: 'New', familyName: `N${serial}`, orgUnitPath: d.allOrgUnits().map((o) => o.orgUnitPath).filter((p) => p.split('/').length > 2)[e.ou % 4] ?? '/Other' });
    return;
  }
  if (e.op === 'renameOu') {
    const g9 = d.getOrgUnit('/Students/Grade 9');
    if (g9) d.renameOu('/Students/Grade 9', 'Year 9');
    return;
  }
  if (!people.length) return;
  const u = people[e.user % people.length];
  const group = `${['admins', 'helpers']['group' in e && e.group ? 1 : 0]}@${DOMAIN}`;
  const g = d.findGroup(group)!;
  const member = g.members.some((m) => m.type === 'USER' && m.id === u.id);
  switch (e.op) {
    case 'suspend':
      d.suspend(u.primaryEmail, !u.suspended);
      break;
    case 'archive':
      d.archive(u.primaryEmail, !u.archived);
      break;
    case 'rename':
      d.renameUser(u.primaryEmail, `R${serial}`, u.name.familyName);
      break;
    case 'delete':
      d.deleteUser(u.primaryEmail);
      break;
    case 'join':
      if (!member) d.addMember(group, u.primaryEmail, 'MEMBER', 'byManager' in e && e.byManager ? 'manager' : 'admin');
      break;
    case 'leave':
      if (member) d.removeMember(group, u.primaryEmail, 'byManager' in e && e.byManager ? 'manager' : 'admin');
      break;
    case 'move': {
      const paths = d.allOrgUnits().map((o) => o.orgUnitPath);
      d.moveUser(u.primaryEmail, paths[e.ou % paths.length]);
      break;
    }
    case 'email':
      d.renameEmail(u.primaryEmail, `moved${serial}@${DOMAIN}`, e.keepAlias);
      break;
  }
}

/** The roster without the times each sync wrote (the two worlds sync at slightly different simulated times). */
function untimed(w: World): Record<string, string>[] {
  return w
    .roster()
    .map((r): Record<string, string> => ({ ...r, 'Last synced': '', 'Out of scope since': r['Out of scope since'] ? 'set' : '' }))
    .sort((x, y) => x.ID.localeCompare(y.ID));
}

function setUp(): World {
  const w = world({ directory: district(), rules: RULES });
  w.save({ threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done' });
  return w;
}

/** Both worlds a few minutes later: Google has logged the edits made before (a lag of 2 to 3 minutes). */
function minutesLater(...worlds: World[]): void {
  for (const w of worlds) w.rt.setClock(w.rt.nowMs() + 5 * 60_000);
}

/** The same batch of edits in both directories, numbered on from `serial`, then both a few minutes later; the last number used. */
function editBoth(a: World, b: World, batch: Edit[], serial: number): number {
  for (const edit of batch) {
    serial++;
    apply(a.rt.directory, edit, serial);
    apply(b.rt.directory, edit, serial);
  }
  minutesLater(a, b);
  return serial;
}

const kinds = { incremental: 0, full: 0 };

test('random directory edits: incremental syncs then a full reconcile give the roster full syncs alone give, and the reconcile plans nothing', () => {
  fc.assert(
    fc.property(fc.array(fc.array(editArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }), (batches) => {
      const a = setUp();
      const b = setUp();
      let serial = 0;
      for (const batch of batches) {
        serial = editBoth(a, b, batch, serial);
        const inc = a.call('syncChanges');
        expect(inc.state).toBe('done');
        kinds[inc.kind as 'incremental' | 'full']++;
        expect(b.call('syncNow', {}).state).toBe('done');
        expect(untimed(a)).toEqual(untimed(b));
      }
      minutesLater(a, b);
      expect(a.call('previewSync').total).toBe(0);
      const reconcile = a.call('syncNow', {});
      expect(reconcile).toMatchObject({ state: 'done', kind: 'full', applied: { create: 0, update: 0, deactivate: 0, reactivate: 0, delete: 0 } });
      expect(reconcile.message).not.toContain('had not caught');
      expect(untimed(a)).toEqual(untimed(b));
    }),
    { numRuns: 60, seed: 17 },
  );
  // The property is about incremental syncs: most runs were incremental ones (a renamed OU falls back to a full one).
  expect(kinds.incremental).toBeGreaterThan(kinds.full);
});

/**
 * What a full sync decides about each account. An account out of scope keeps the email, name and OU it
 * had when it left (a sync does not update an account it is deactivating), so those depend on when its
 * user left, not only on the directory now: they are compared for accounts in scope only.
 */
function decided(w: World): Record<string, string>[] {
  return untimed(w).map((r) => (r['Out of scope since'] ? { ...r, Email: '', Name: '', OU: '' } : r));
}

test('random directory edits with a log that drops events: the full reconcile still decides every account as full syncs alone do, and counts what it corrected', () => {
  fc.assert(
    fc.property(fc.array(fc.array(editArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), (batches) => {
      const a = setUp();
      const b = setUp();
      a.rt.directory.audit.dropRate = 0.3;
      let serial = 0;
      for (const batch of batches) {
        serial = editBoth(a, b, batch, serial);
        expect(a.call('syncChanges').state).toBe('done');
        expect(b.call('syncNow', {}).state).toBe('done');
      }
      minutesLater(a, b);
      const differing = a.call('previewSync').total;
      const reconcile = a.call('syncNow', {});
      expect(reconcile).toMatchObject({ state: 'done', kind: 'full' });
      const corrected = Object.values(reconcile.applied as Record<string, number>).reduce((n, x) => n + x, 0);
      expect(corrected).toBe(differing);
      // Every difference it found is one the incremental syncs missed (no grace deletions or roster edits here).
      if (corrected) expect(reconcile.message).toContain(`found ${corrected} differences that the incremental syncs since`);
      else expect(reconcile.message).not.toContain('had not caught');
      expect(decided(a)).toEqual(decided(b));
      expect(a.call('previewSync').total).toBe(0);
    }),
    { numRuns: 30, seed: 23 },
  );
});
