// Who may take which SCIM userName: collisions, held userNames, orderings and swaps.
import { AppUsers, IdentityClaim, IdentityIndex, planIdentities, temporaryUserName } from '../../src/destinations/scim/identity';

function appOf(users: Record<string, string>, owners: Record<string, string> = {}): AppUsers {
  return {
    holderOf: new Map(Object.entries(users).map(([sid, name]) => [name.toLowerCase(), sid])),
    owner: (sid) => (owners[sid] ? { accountId: owners[sid], email: `${owners[sid]}@x.example` } : null),
    activeByEmail: new Map(),
  };
}
const claim = (id: string, scimId: string | null, userName: string | null): IdentityClaim => ({ accountIds: [id, id], email: `${id}@x.example`, scimId, userName, activeEmail: null });

test('two claims of one free userName: neither is sent; the holder of a userName keeps it', () => {
  const free = planIdentities([claim('a', null, 'Jane.Q'), claim('b', null, 'jane.q')], appOf({}));
  expect([...free.blocked.entries()].map(([i, b]) => [i, b.kind])).toEqual([[0, 'collision'], [1, 'collision']]);
  const held = planIdentities([claim('a', 's1', 'jane.q'), claim('b', null, 'jane.q')], appOf({ s1: 'jane.q' }, { s1: 'a' }));
  expect([...held.blocked.keys()]).toEqual([1]);
  expect(held.blocked.get(1)).toMatchObject({ kind: 'taken', holder: 'a@x.example' });
});

test('a userName held by an account outside the batch is not taken; one an unlinked app user holds is left to the 409 lookup', () => {
  const p = planIdentities([claim('b', null, 'x'), claim('c', null, 'y')], appOf({ s1: 'x', s2: 'y' }, { s1: 'a' }));
  expect([...p.blocked.keys()]).toEqual([0]);
  expect(p.wait.size + p.stage.size).toBe(0);
});

test('a chain waits one round, a swap and a three-way cycle step aside through temporary userNames', () => {
  // a takes b's userName, b takes a free one: b first, then a.
  const chain = planIdentities([claim('a', 's1', 'b'), claim('b', 's2', 'c')], appOf({ s1: 'a', s2: 'b' }, { s1: 'a', s2: 'b' }));
  expect([[...chain.wait], [...chain.stage], chain.blocked.size]).toEqual([[0], [], 0]);
  // Swap: both step aside, both then take their new userName.
  const swap = planIdentities([claim('a', 's1', 'b'), claim('b', 's2', 'a')], appOf({ s1: 'a', s2: 'b' }, { s1: 'a', s2: 'b' }));
  expect([[...swap.wait].sort(), [...swap.stage].sort(), swap.blocked.size]).toEqual([[0, 1], [0, 1], 0]);
  const cycle = planIdentities([claim('a', 's1', 'b'), claim('b', 's2', 'c'), claim('c', 's3', 'a')], appOf({ s1: 'a', s2: 'b', s3: 'c' }, { s1: 'a', s2: 'b', s3: 'c' }));
  expect([...cycle.stage].sort()).toEqual([0, 1, 2]);
  // A deletion frees its userName: the taker waits for it.
  const del = planIdentities([claim('a', 's1', null), claim('b', null, 'a')], appOf({ s1: 'a' }, { s1: 'a' }));
  expect([[...del.wait], del.blocked.size]).toEqual([[1], 0]);
});

test('an email another person\'s active app account shows is not given to a second one', () => {
  const app = { ...appOf({ s1: 'coach' }, { s1: 'manual-1' }), activeByEmail: new Map([['coach@x.example', ['s1']]]) };
  const p = planIdentities([{ ...claim('x', 's2', 'x1'), activeEmail: 'Coach@x.example' }], app);
  expect(p.blocked.get(0)).toMatchObject({ kind: 'emailTaken', holder: 'manual-1@x.example' });
});

test('temporary userNames keep the shape of the final one', () => {
  expect(temporaryUserName('jane@school.example', 'ab12cd')).toBe('jane.renaming-ab12cd@school.example');
  expect(temporaryUserName('jane.q', 'ab12cd')).toBe('jane.q.renaming-ab12cd');
});

test('the index follows each app user as it is renamed, deactivated or deleted', () => {
  const users = new Map<string, any>([
    ['s1', { userName: 'Jane@x.example', emails: [{ value: 'jane@x.example', primary: true }] }],
    ['s2', { userName: 'joe@x.example', emails: [{ value: 'joe@x.example', primary: true }], active: false }],
  ]);
  const emailOf = (raw: any) => String(raw.emails?.[0]?.value ?? '').toLowerCase();
  const index = new IdentityIndex(users, emailOf);
  expect([...index.holderOf]).toEqual([['jane@x.example', 's1'], ['joe@x.example', 's2']]);
  expect([...index.activeByEmail.keys()]).toEqual(['jane@x.example']); // an inactive user shows no active email
  index.refresh('s1', { userName: 'jane.q@x.example', emails: [{ value: 'jane.q@x.example', primary: true }] });
  expect(index.holderOf.has('jane@x.example')).toBe(false);
  expect(index.holderOf.get('jane.q@x.example')).toBe('s1');
  expect([...index.activeByEmail.keys()]).toEqual(['jane.q@x.example']);
  index.refresh('s1', null);
  expect([index.holderOf.size, index.activeByEmail.size]).toEqual([1, 0]);
});
