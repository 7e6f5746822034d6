// The SCIM destination's pure part: settings validation, token handling,
// attribute mapping, PATCH operations, chunking, Bulk sizing, Retry-After.
import { Account } from '../../src/core/model';
import { CATALOG, MessageId, UserError, msg } from '../../src/core/messages';
import * as input from '../../src/core/input';
import {
  BulkOperation,
  bulkBody,
  bindLegacyScimToken,
  bulkChunks,
  canonicalBaseUrl,
  checkScimDestination,
  chunk,
  currentUser,
  defaultScimSettings,
  desiredUser,
  emailOf,
  manualIdFor,
  maskToken,
  memberPatchBodies,
  parseServiceProviderConfig,
  readScimToken,
  replaceUserBody,
  retryAfterMs,
  scimTokenFor,
  scimTokenView,
  storeScimToken,
  urlAllowed,
  userPatchOps,
  utf8Bytes,
  validateScimSettings,
} from '../../src/destinations/scim/scimConfig';
import { mapBulkResults } from '../../src/destinations/scim/scimRoster';
import { MemoryKV } from '../fakes/memory';

const ROLES = ['student', 'teacher', 'admin'];
const settings = (patch: Record<string, unknown> = {}) => validateScimSettings({ baseUrl: 'https://app.example.com/scim/v2/', ...patch }, ROLES);

const account = (patch: Partial<Account> = {}): Account => ({
  id: '100000000000000000001',
  email: 'ana.lopez@school.example',
  name: 'Ana María López',
  roles: ['student'],
  status: 'active',
  permissions: [],
  source: 'synced',
  orgUnitPath: '/Students',
  lastSynced: '',
  syncedStatus: 'active',
  outOfScopeSince: '',
  ...patch,
});

const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof UserError ? e.detail.text : String(e);
  }
  return null;
};

describe('settings', () => {
  test('defaults and normalisation', () => {
    expect(settings()).toEqual({ ...defaultScimSettings(), baseUrl: 'https://app.example.com/scim/v2' });
  });

  test.each([
    [{ baseUrl: '' }, 'Setting scim.baseUrl must be the SCIM base URL of the app'],
    [{ baseUrl: 'http://app.example.com/scim' }, 'must start with https://'],
    [{ baseUrl: 'https://app.example.com/scim/v2/Users' }, 'without /Users'],
    [{ baseUrl: 'https://app.example.com/scim?x=1' }, 'without spaces, query'],
    [{ baseUrl: 'https://user:pw@app.example.com/scim' }, 'must be an https:// address'],
    [{ roleMapping: 'teams' }, 'scim.roleMapping must be one of roles, groups'],
    [{ roleGroups: { janitor: 'Staff' } }, 'scim.roleGroups.janitor must be one of the roles'],
    [{ roleGroups: { teacher: 'student' } }, 'maps two roles to the group "student"'],
    [{ attributes: { userName: 'upn' } }, 'scim.attributes.userName must be one of email, emailLocalPart, googleId'],
    [{ maxMembersPerPatch: 0 }, 'scim.maxMembersPerPatch must be a whole number from 1 to 1000'],
  ])('%j is refused', (patch, expected) => {
    expect(problem(() => settings(patch))).toContain(expected);
  });

  test('a deployment\'s urlFetchWhitelist is honoured (leading *. matches subdomains)', () => {
    const allow = ['https://*.example-app.com/', 'https://scim.other.example/v2/'];
    expect(urlAllowed('https://school1.example-app.com/scim/v2', allow)).toBe(true);
    expect(urlAllowed('https://scim.other.example/v2', allow)).toBe(true);
    expect(urlAllowed('https://scim.other.example/v1', allow)).toBe(false);
    expect(urlAllowed('https://evil.example/scim', allow)).toBe(false);
    expect(urlAllowed('https://a.b.example-app.com/scim', allow)).toBe(true);
    expect(urlAllowed('https://example-app.com.evil.example/scim', allow)).toBe(false);
    expect(problem(() => validateScimSettings({ baseUrl: 'https://evil.example/scim' }, ROLES, 'scim', allow))).toContain('urlFetchWhitelist');
    expect(validateScimSettings({ baseUrl: 'https://a.example-app.com/scim' }, ROLES, 'scim', allow).baseUrl).toBe('https://a.example-app.com/scim');
  });

  test('http is allowed only for this machine (tests, the emulator)', () => {
    expect(settings({ baseUrl: 'http://127.0.0.1:8080/scim/v2' }).baseUrl).toBe('http://127.0.0.1:8080/scim/v2');
    expect(settings({ baseUrl: 'http://localhost/scim' }).baseUrl).toBe('http://localhost/scim');
  });
});

describe('the token', () => {
  test('stored in the user store, shown masked, "Bearer " and spaces trimmed', () => {
    const secrets = new MemoryKV();
    expect(scimTokenView(secrets)).toEqual({ saved: false, masked: '' });
    const view = storeScimToken(secrets, '  Bearer abcdefghijklmnop1234  ');
    expect(readScimToken(secrets)).toBe('abcdefghijklmnop1234');
    expect(view).toEqual({ saved: true, masked: '••••••••1234' });
    expect(maskToken('short')).toBe('••••••••');
  });

  test('bound to the base URL it was saved for: scheme, host, port and path; case of scheme and host, default ports and trailing slashes aside', () => {
    expect(canonicalBaseUrl('HTTPS://App.Example.com:443/scim/v2/')).toBe('https://app.example.com/scim/v2');
    expect(canonicalBaseUrl('http://127.0.0.1:80/scim')).toBe('http://127.0.0.1/scim');
    const secrets = new MemoryKV();
    storeScimToken(secrets, 'abcdefghijklmnop1234', 'https://app.example.com/scim/v2');
    const tokenFor = (url: string) => scimTokenFor(secrets, url, 'it@school.example');
    expect(tokenFor('https://APP.example.com:443/scim/v2/')).toEqual({ token: 'abcdefghijklmnop1234' });
    for (const url of ['http://app.example.com/scim/v2', 'https://app.example.com:8443/scim/v2', 'https://app.example.com/scim/V2', 'https://app.example.com/scim/v2/x', 'https://evil.example.com/scim/v2', 'https://app.example.com.evil.example/scim/v2']) {
      expect(tokenFor(url)).toEqual({ problem: expect.objectContaining({ id: 'scimTokenOtherUrl' }) });
    }
    // Pasted with no address: sent nowhere until pasted again for one.
    storeScimToken(secrets, 'abcdefghijklmnop1234');
    expect(tokenFor('https://app.example.com/scim/v2')).toEqual({ problem: expect.objectContaining({ id: 'scimTokenOtherUrl' }) });
    // Saved by an earlier version (no address recorded): bound once, to the address saved then.
    secrets.remove('scimTokenUrl');
    bindLegacyScimToken(secrets, 'https://app.example.com/scim/v2');
    bindLegacyScimToken(secrets, 'https://evil.example.com/scim/v2');
    expect(tokenFor('https://app.example.com/scim/v2')).toEqual({ token: 'abcdefghijklmnop1234' });
    expect(tokenFor('https://evil.example.com/scim/v2')).toEqual({ problem: expect.objectContaining({ id: 'scimTokenOtherUrl' }) });
  });

  test.each([
    ['empty', ''],
    ['with a space', 'has space inside'],
    ['not text', 42],
    ['too long', 'x'.repeat(4097)],
  ])('%s is refused', (_, raw) => {
    expect(problem(() => storeScimToken(new MemoryKV(), raw))).toMatch(/^The SCIM token /);
  });
});

describe('attribute mapping', () => {
  test('the default mapping', () => {
    expect(desiredUser(account(), settings())).toEqual({
      userName: 'ana.lopez@school.example',
      externalId: '100000000000000000001',
      displayName: 'Ana María López',
      name: { formatted: 'Ana María López', givenName: 'Ana María', familyName: 'López' },
      emails: [{ value: 'ana.lopez@school.example', type: 'work', primary: true }],
      active: true,
      roles: ['student'],
    });
  });

  test('other choices', () => {
    const s = settings({ roleMapping: 'groups', attributes: { userName: 'emailLocalPart', externalId: 'email', name: 'displayName', emails: 'none', active: 'active' } });
    expect(desiredUser(account({ status: 'suspended' }), s)).toEqual({ userName: 'ana.lopez', externalId: 'ana.lopez@school.example', displayName: 'Ana María López', active: false });
    const byId = settings({ attributes: { userName: 'googleId', externalId: 'none', name: 'none', emails: 'none', active: 'none' } });
    expect(desiredUser(account(), byId)).toEqual({ userName: '100000000000000000001', roles: ['student'] });
  });

  test('a manual account is keyed by email and gets no externalId', () => {
    const u = desiredUser(account({ id: 'manual-abc', source: 'manual' }), settings({ attributes: { userName: 'googleId' } }));
    expect(u.userName).toBe('ana.lopez@school.example');
    expect(u.externalId).toBeUndefined();
  });

  test('reading an app user: roles limited to known roles in settings order; email from the primary email', () => {
    const raw = { id: 'x', userName: 'Ana.Lopez@School.example', roles: [{ value: 'Teacher' }, { value: 'librarian' }, { value: 'student' }], emails: [{ value: 'other@x.example' }, { value: 'ana.lopez@school.example', primary: true }] };
    expect(currentUser(raw, settings(), ROLES).roles).toEqual(['student', 'teacher']);
    expect(emailOf(raw)).toBe('ana.lopez@school.example');
    expect(emailOf({ userName: 'Someone@Example.com' })).toBe('someone@example.com');
    expect(emailOf({ userName: 'someone' })).toBe('');
  });
});

describe('PATCH operations: only what changed', () => {
  const s = settings();
  const synced = (a: Account) => ({ ...currentUser({ id: 'x', ...bodyOf(a) }, s, ROLES) });
  const bodyOf = (a: Account) => {
    const d = desiredUser(a, s);
    return { ...d, roles: d.roles!.map((value) => ({ value })) };
  };

  test('nothing when the app already holds it', () => {
    expect(userPatchOps(synced(account()), desiredUser(account(), s))).toEqual([]);
  });

  test('a role swap adds and removes values, leaving the app\'s own roles alone', () => {
    const current = currentUser({ id: 'x', ...bodyOf(account()), roles: [{ value: 'student' }, { value: 'librarian' }] }, s, ROLES);
    expect(userPatchOps(current, desiredUser(account({ roles: ['teacher'] }), s))).toEqual([
      { op: 'add', path: 'roles', value: [{ value: 'teacher' }] },
      { op: 'remove', path: 'roles[value eq "student"]' },
    ]);
  });

  test('status, email and name', () => {
    const ops = userPatchOps(synced(account()), desiredUser(account({ status: 'disabled', email: 'ana.l@school.example', name: 'Ana López' }), s));
    expect(ops).toEqual([
      { op: 'replace', path: 'userName', value: 'ana.l@school.example' },
      { op: 'replace', path: 'displayName', value: 'Ana López' },
      { op: 'replace', path: 'name', value: { formatted: 'Ana López', givenName: 'Ana', familyName: 'López' } },
      { op: 'replace', path: 'emails', value: [{ value: 'ana.l@school.example', type: 'work', primary: true }] },
      { op: 'replace', path: 'active', value: false },
    ]);
  });

  test('a role value with quotes is escaped in the filter', () => {
    const current = { userName: 'u', roles: ['a"b'] };
    expect(userPatchOps(current, { userName: 'u', roles: [] })).toEqual([{ op: 'remove', path: 'roles[value eq "a\\"b"]' }]);
  });

  test('PUT without PATCH: the app\'s other attributes and roles are kept', () => {
    const raw = { id: 'x', meta: { version: '1' }, schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], title: 'Librarian', ...bodyOf(account()), roles: [{ value: 'student' }, { value: 'librarian' }] };
    const body = replaceUserBody(raw, currentUser(raw, s, ROLES), desiredUser(account({ roles: ['teacher'], status: 'disabled' }), s));
    expect(body).toMatchObject({ title: 'Librarian', active: false, roles: [{ value: 'librarian' }, { value: 'teacher' }] });
    expect(body).not.toHaveProperty('id');
    expect(body).not.toHaveProperty('meta');
  });
});

describe('group membership and Bulk sizing', () => {
  test('member changes in chunks of at most N members, never a rewrite of the member list', () => {
    const deltas = Array.from({ length: 250 }, (_, i) => ({ userId: `u${i}`, op: i % 5 === 0 ? ('remove' as const) : ('add' as const) }));
    const bodies = memberPatchBodies(deltas, 100);
    expect(bodies.map((b) => b.userIds.length)).toEqual([100, 100, 50]);
    const ops = (bodies[0].body as any).Operations;
    expect(ops[0]).toEqual({ op: 'add', path: 'members', value: expect.any(Array) });
    expect(ops[0].value).toHaveLength(80);
    expect(ops.slice(1)).toHaveLength(20);
    expect(ops[1]).toEqual({ op: 'remove', path: 'members[value eq "u0"]' });
    expect(ops.some((o: any) => o.op === 'replace')).toBe(false);
  });

  test('Bulk requests stay within maxOperations and maxPayloadSize; an oversized operation goes alone', () => {
    const op = (i: number, size = 100): BulkOperation => ({ method: 'POST', path: '/Users', bulkId: `op${i}`, data: { userName: 'x'.repeat(size) } });
    const ops = [...Array.from({ length: 25 }, (_, i) => op(i)), op(99, 5000)];
    const { bulks, single } = bulkChunks(ops, 10, 2000);
    expect(single.map((o) => o.bulkId)).toEqual(['op99']);
    for (const b of bulks) {
      expect(b.length).toBeLessThanOrEqual(10);
      expect(utf8Bytes(JSON.stringify(bulkBody(b)))).toBeLessThanOrEqual(2000);
    }
    expect(bulks.flat()).toHaveLength(25);
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(utf8Bytes('é€😀')).toBe(Buffer.byteLength('é€😀'));
  });

  test('Bulk results are matched to operations by bulkId, then method and location', () => {
    const ops: BulkOperation[] = [
      { method: 'PATCH', path: '/Users/a' },
      { method: 'POST', path: '/Users', bulkId: 'op1' },
      { method: 'DELETE', path: '/Users/b' },
    ];
    const results = [
      { method: 'POST', bulkId: 'op1', status: '201', location: 'https://x/Users/new1' },
      { method: 'DELETE', location: 'https://x/Users/b', status: '404', response: { detail: 'gone' } },
      { method: 'PATCH', location: 'https://x/Users/a', status: '200' },
    ];
    expect(mapBulkResults(ops, results).map((r) => [r!.status, r!.location])).toEqual([
      [200, 'https://x/Users/a'],
      [201, 'https://x/Users/new1'],
      [404, 'https://x/Users/b'],
    ]);
  });
});

describe('server facts', () => {
  test('ServiceProviderConfig', () => {
    expect(parseServiceProviderConfig({ patch: { supported: true }, bulk: { supported: true, maxOperations: 50, maxPayloadSize: 2048 }, filter: { supported: true, maxResults: 100 } })).toEqual({
      patch: true,
      bulk: { supported: true, maxOperations: 50, maxPayloadSize: 2048 },
      filter: { supported: true, maxResults: 100 },
    });
    expect(parseServiceProviderConfig('<html>')).toBeNull();
    expect(parseServiceProviderConfig({ hello: 1 })).toBeNull();
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Mon, 23 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  test('ids for app users Roster Sync did not create are valid manual account ids', () => {
    for (const sid of ['2819c223-7f76-453a-919d-413861904646', 'x'.repeat(80), '__', '42']) {
      expect(input.accountId(manualIdFor(sid), 'id')).toBe(manualIdFor(sid));
    }
  });
});

describe('messages and the Finalize check', () => {
  test('every SCIM message has text and a fix, in the catalog\'s shape', () => {
    const ids = Object.keys(CATALOG).filter((id) => id.startsWith('scim')) as MessageId[];
    expect(ids).toHaveLength(28);
    for (const id of ids) {
      expect(CATALOG[id].text.length).toBeGreaterThan(10);
      expect(CATALOG[id].fix.length).toBeGreaterThan(10);
      expect(msg(id).id).toBe(id);
    }
    expect(msg('scimUnauthorized', { host: 'app.example.com' }).fix).toMatch(/^Paste a new one/);
  });

  test('checkScimDestination', () => {
    expect(checkScimDestination({ probe: () => ({ host: 'app.example.com', patch: true, bulk: false, filter: true, users: 12 }) })).toEqual({
      status: 'pass',
      found: 'The SCIM app at app.example.com answered and accepted the token (PATCH: yes, Bulk: no, filter: yes). It holds 12 users.',
      fix: '',
    });
    const refused = checkScimDestination({
      probe: () => {
        throw new UserError(msg('scimUnauthorized', { host: 'app.example.com' }));
      },
    });
    expect(refused).toMatchObject({ status: 'fail', found: expect.stringContaining('refused'), fix: expect.stringMatching(/^Paste a new one/) });
    expect(checkScimDestination(null)).toMatchObject({ status: 'fail', found: expect.stringContaining('not set up') });
  });
});
