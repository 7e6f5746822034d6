// Property tests: random domains and random sequences of directory edits.
import fc from 'fast-check';
import { runSync } from '../../src/core/sync';
import { loadSettings } from '../../src/core/config';
import { readAll } from '../../src/core/snapshot';
import { makePlan } from '../../src/core/plan';
import { Account, Change } from '../../src/core/model';
import { TestWorld, makeWorld } from '../fakes/memory';
import { RULES } from './fixture';
import { DESTINATIONS } from '../../src/destinations';

const DAY = 24 * 3600 * 1000;
const OUS = ['/Students', '/Students/2025', '/Students/2026', '/Staff', '/Staff/Teachers', '/Staff/Admin', '/Staff/Support', '/Alumni'];

type Edit =
  | { op: 'move'; user: number; ou: number }
  | { op: 'suspend'; user: number; on: boolean }
  | { op: 'rename'; user: number }
  | { op: 'remove'; user: number }
  | { op: 'add'; ou: number }
  | { op: 'coach'; user: number; on: boolean }
  | { op: 'wait'; days: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('move' as const), user: fc.nat(40), ou: fc.nat(OUS.length - 1) }),
  fc.record({ op: fc.constant('suspend' as const), user: fc.nat(40), on: fc.boolean() }),
  fc.record({ op: fc.constant('rename' as const), user: fc.nat(40) }),
  fc.record({ op: fc.constant('remove' as const), user: fc.nat(40) }),
  fc.record({ op: fc.constant('add' as const), ou: fc.nat(OUS.length - 1) }),
  fc.record({ op: fc.constant('coach' as const), user: fc.nat(40), on: fc.boolean() }),
  fc.record({ op: fc.constant('wait' as const), days: fc.integer({ min: 1, max: 40 }) }),
);

function domain(w: TestWorld, size: number, ous: number[]) {
  for (const ou of OUS) w.directory.addOu(ou);
  for (let i = 0; i < size; i++) w.directory.addUser(String(100000000000000000000n + BigInt(i)), `u${i}@school.example`, `User ${i}`, OUS[ous[i % ous.length]]);
  w.directory.groups.set('coaches@school.example', { email: 'coaches@school.example', userIds: [], groupEmails: ['assistant-coaches@school.example'] });
  w.directory.groups.set('assistant-coaches@school.example', { email: 'assistant-coaches@school.example', userIds: [], groupEmails: ['coaches@school.example'] });
  w.setSettings({ rules: RULES, threshold: { kind: 'count', value: 1_000_000, windowHours: 24 }, cooldownMinutes: 0, graceDays: 30 });
}

let nextId = 500;
function perform(w: TestWorld, e: Edit) {
  const users = w.directory.users;
  const u = users.length ? users[('user' in e ? e.user : 0) % users.length] : undefined;
  switch (e.op) {
    case 'move':
      if (u) u.orgUnitPath = OUS[e.ou];
      break;
    case 'suspend':
      if (u) u.suspended = e.on;
      break;
    case 'rename':
      if (u) u.email = `r${nextId++}-${u.email}`;
      break;
    case 'remove':
      if (u) w.directory.users = users.filter((x) => x !== u);
      break;
    case 'add':
      w.directory.addUser(String(300000000000000000000n + BigInt(nextId)), `n${nextId}@school.example`, `New ${nextId++}`, OUS[e.ou]);
      break;
    case 'coach': {
      const g = w.directory.groups.get('assistant-coaches@school.example')!;
      if (u) g.userIds = e.on ? [...new Set([...g.userIds, u.id])] : g.userIds.filter((id) => id !== u.id);
      break;
    }
    case 'wait':
      w.clock.now += e.days * DAY;
      break;
  }
}

function planNow(w: TestWorld): Change[] {
  const settings = loadSettings(w.config, DESTINATIONS);
  return makePlan({ settings, snapshot: readAll(settings, w.directory).snapshot, accounts: w.roster.readAll().accounts, now: new Date(w.clock.now).toISOString() }).changes;
}

const active = (w: TestWorld) =>
  [...w.roster.accounts.values()]
    .filter((a) => a.status === 'active')
    .map((a: Account) => JSON.stringify([a.id, a.email, a.name, a.roles, a.orgUnitPath]))
    .sort();

test('syncing twice plans nothing; any edit sequence ends where a sync from scratch does; no deletion before the grace period', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 25 }), fc.array(fc.nat(OUS.length - 1), { minLength: 1, maxLength: 8 }), fc.array(edit, { maxLength: 25 }), (size, ous, edits) => {
      const w = makeWorld();
      domain(w, size, ous);
      expect(runSync(w.svc, { trigger: 'manual', mode: 'start' }).state).toBe('done');
      for (const e of edits) {
        perform(w, e);
        const applied = w.roster.applied.length;
        expect(runSync(w.svc, { trigger: 'manual', mode: 'start' }).state).toBe('done');
        for (const c of w.roster.applied.slice(applied)) {
          if (c.kind !== 'delete') continue;
          expect(c.before!.outOfScopeSince).not.toBe('');
          expect(w.clock.now - Date.parse(c.before!.outOfScopeSince)).toBeGreaterThanOrEqual(30 * DAY);
        }
        expect(planNow(w)).toEqual([]);
      }
      const fresh = makeWorld(w.clock.now);
      fresh.directory.users = w.directory.users.map((u) => ({ ...u }));
      fresh.directory.orgUnits = w.directory.orgUnits;
      fresh.directory.groups = w.directory.groups;
      fresh.setSettings(loadSettings(w.config, DESTINATIONS));
      runSync(fresh.svc, { trigger: 'manual', mode: 'start' });
      // Disabled accounts in their grace period and suspended ones depend on history; active ones must agree.
      expect(active(w)).toEqual(active(fresh));
      for (const a of w.roster.accounts.values()) {
        if (a.status !== 'suspended') continue;
        const u = w.directory.users.find((x) => x.id === a.id);
        expect(u?.suspended).toBe(true);
      }
    }),
    { numRuns: 150 },
  );
});
