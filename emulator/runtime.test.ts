// Tests of the simulated Apps Script runtime itself: the fakes must behave
// like Google's services, or end-to-end tests built on them prove nothing.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEMO_DOMAIN, demoDistrict, generateDomain, rollover } from './domain';
import { FakeDirectoryState, GoogleErrors, SimRuntime, SimRuntimeOptions } from './runtime';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A runtime whose "bundle" is the given script text (plus optional HTML files). */
function sim(code: string, opts: Partial<SimRuntimeOptions> = {}, html: Record<string, string> = {}): SimRuntime {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simrt-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'Code.js'), code);
  for (const [name, text] of Object.entries(html)) fs.writeFileSync(path.join(dir, `${name}.html`), text);
  return new SimRuntime({ scriptPath: path.join(dir, 'Code.js'), htmlDir: dir, directory: opts.directory ?? demoDistrict(), ...opts });
}

// One script with all the probes the tests call; each test uses a fresh runtime.
const PROBES = `
function listUsers(opts) { return AdminDirectory.Users.list(opts); }
function listMembers(group, opts) { return AdminDirectory.Members.list(group, opts || {}); }
function listGroups(opts) { return AdminDirectory.Groups.list(opts); }
function listOus(opts) { return AdminDirectory.Orgunits.list('my_customer', opts); }
function hasMember(g, m) { return AdminDirectory.Members.hasMember(g, m).isMember; }
function getUser(k) { return AdminDirectory.Users.get(k); }
function caught(fn, args) {
  try { globalThis[fn].apply(null, args || []); return null; }
  catch (e) { return { isError: e instanceof Error, name: e.name, message: e.message, details: e.details || null }; }
}
function allUserIds(fields) {
  var ids = [], token, pages = 0;
  do {
    var page = AdminDirectory.Users.list({ customer: 'my_customer', maxResults: 100, pageToken: token, fields: fields });
    (page.users || []).forEach(function (u) { ids.push(u.id); });
    token = page.nextPageToken; pages++;
  } while (token && pages < 50);
  return { ids: ids, pages: pages };
}
function setProp(k, v) { PropertiesService.getScriptProperties().setProperty(k, v); return true; }
function getProp(k) { return PropertiesService.getScriptProperties().getProperty(k); }
function docProps() { return PropertiesService.getDocumentProperties(); }
function hourly(handler) { return ScriptApp.newTrigger(handler || 'onTick').timeBased().everyHours(1).create().getUniqueId(); }
function everyFive() { return ScriptApp.newTrigger('onTick').timeBased().everyMinutes(5).create().getUniqueId(); }
function triggers() { return ScriptApp.getProjectTriggers().map(function (t) { return [t.getHandlerFunction(), t.getEventType()]; }); }
function onTick(e) {
  var ss = SpreadsheetApp.getActiveSpreadsheet();
  var ui; try { SpreadsheetApp.getUi(); ui = 'ui'; } catch (err) { ui = err.message; }
  var n = Number(PropertiesService.getUserProperties().getProperty('ticks') || 0) + 1;
  PropertiesService.getUserProperties().setProperty('ticks', String(n));
  return { authMode: e.authMode, uid: e.triggerUid, minute: e.minute, hasDoc: ss !== null, ui: ui, user: Session.getActiveUser().getEmail(), effective: Session.getEffectiveUser().getEmail() };
}
function write(values, format) {
  var sheet = SpreadsheetApp.getActiveSpreadsheet().getSheets()[0];
  var range = sheet.getRange(1, 1, values.length, values[0].length);
  if (format) range.setNumberFormat(format);
  range.setValues(values);
  return { values: range.getValues(), display: range.getDisplayValues() };
}
function writeRange(r, c, nr, nc, values) { SpreadsheetApp.getActiveSpreadsheet().getSheets()[0].getRange(r, c, nr, nc).setValues(values); }
function lockAndThrow() { LockService.getScriptLock().waitLock(1000); throw new Error('boom'); }
function tryScriptLock(ms) { var l = LockService.getScriptLock(); var ok = l.tryLock(ms); return { ok: ok, has: l.hasLock(), now: Date.now() }; }
function waitScriptLock(ms) { LockService.getScriptLock().waitLock(ms); return true; }
function lockThenSpin() { LockService.getScriptLock().waitLock(10); for (;;) { try { AdminDirectory.Users.list({ customer: 'my_customer' }); } catch (e) { /* swallowed: the runtime still ends it */ } } }
var counter = 0;
function bump() { counter++; return counter; }
function clock() { return { now: Date.now(), made: new Date().getTime(), isDate: new Date() instanceof Date, str: typeof Date() }; }
function nap(ms) { var t0 = Date.now(); Utilities.sleep(ms); return Date.now() - t0; }
function withDate() { return { when: new Date(0), n: 1 }; }
function plain() { return { a: [1, 'x', null], b: { c: true } }; }
function secret_() { return 'private'; }
function usersPage(token) { var r = AdminDirectory.Users.list({ customer: 'my_customer', maxResults: 100, pageToken: token || undefined }); return r.nextPageToken || null; }
function usersPageError(token) { try { usersPage(token); return null; } catch (e) { return e.message; } }
function logs() { console.log('hello %s', 'console'); Logger.log('value: %s', 42); console.error('bad'); return true; }
function fmt(ms, tz, pattern) { return Utilities.formatDate(new Date(ms), tz, pattern); }
function cachePut(k, v, s) { CacheService.getScriptCache().put(k, v, s); return true; }
function cacheGet(k) { return CacheService.getScriptCache().get(k); }
function page(name, title) { var t = HtmlService.createTemplateFromFile(name); t.title = title; return t.evaluate().getContent(); }
function sidebar(width) { SpreadsheetApp.getUi().showSidebar(HtmlService.createHtmlOutput('<b>hi</b>').setTitle('Side').setWidth(width)); return true; }
function mail(to) { MailApp.sendEmail(to, 'Subject', 'Body'); return MailApp.getRemainingDailyQuota(); }
function slowTick() { Utilities.sleep(2000); return 'done'; }
function fetchIt(url) { return UrlFetchApp.fetch(url).getContentText(); }
`;

describe('AdminDirectory fake', () => {
  test('pages through users; a fields selector without nextPageToken drops the token', () => {
    const rt = sim(PROBES);
    const total = rt.directory.userCount();
    const all = rt.run('allUserIds', ['users(id),nextPageToken']) as { ids: string[]; pages: number };
    expect(all.ids).toHaveLength(total);
    expect(new Set(all.ids).size).toBe(total);
    expect(all.pages).toBe(Math.ceil(total / 100));
    expect(all.ids.every((id) => /^\d{21}$/.test(id))).toBe(true);

    const truncated = rt.run('allUserIds', ['users(id)']) as { ids: string[]; pages: number };
    expect(truncated.pages).toBe(1);
    expect(truncated.ids).toHaveLength(100);
    expect(rt.calls['AdminDirectory.Users.list']).toBe(all.pages + 1);
  });

  test('a listing paged for over 60 minutes ends with a 503 backendError, as the Directory API troubleshooting guide says', () => {
    const rt = sim(PROBES);
    const first = rt.run('usersPage', [null]) as string;
    rt.setClock(rt.nowMs() + 30 * 60_000);
    const second = rt.run('usersPage', [first]) as string;
    expect(second).toMatch(/^Q/);
    rt.setClock(rt.nowMs() + 31 * 60_000);
    expect(rt.run('usersPageError', [second])).toMatch(/Service unavailable. Please try again/);
    // A new listing starts its own hour.
    expect(rt.run('usersPage', [null])).toMatch(/^Q/);
  });

  test('custom schema fields come back only with projection=custom (the schemas in customFieldMask) or full; a mask without custom is refused', () => {
    const rt = sim(PROBES);
    const student = rt.directory.allUsers().find((u) => u.orgUnitPath === '/Students/Lincoln High/Grade 9')!;
    const one = (opts: Record<string, unknown>) => (rt.run('listUsers', [{ customer: 'my_customer', maxResults: 500, query: "orgUnitPath='/Students/Lincoln High/Grade 9'", ...opts }]) as { users: Record<string, any>[] }).users.find((u) => u.id === student.id)!;
    expect(one({}).customSchemas).toBeUndefined();
    expect(one({ projection: 'basic' }).customSchemas).toBeUndefined();
    expect(one({ projection: 'custom', customFieldMask: 'Rostering' }).customSchemas).toEqual({ Rostering: { homeroom: expect.stringMatching(/^9-[ABC]$/) } });
    expect(one({ projection: 'custom', customFieldMask: 'Other' }).customSchemas).toBeUndefined();
    expect(one({ projection: 'full' }).customSchemas.Rostering).toBeDefined();
    // Standard profile fields are there in every projection, and `fields` narrows them like any other.
    expect(one({ fields: 'users(id,externalIds(type,value))' })).toEqual({ id: student.id, externalIds: [{ type: 'organization', value: expect.stringMatching(/^S\d{6}$/) }] });
    for (const bad of [{ customFieldMask: 'Rostering' }, { projection: 'custom' }, { projection: 'basic', customFieldMask: 'Rostering' }]) {
      const error = rt.run('caught', ['listUsers', [{ customer: 'my_customer', ...bad }]]) as { message: string };
      expect(error.message).toMatch(/Custom field mask|Invalid Input/);
    }
  });

  test('fields selects nested subfields; default page is 100, maxResults is capped at 500', () => {
    const rt = sim(PROBES);
    const page = rt.run('listUsers', [{ customer: 'my_customer', maxResults: 2, fields: 'users(primaryEmail,name/fullName),nextPageToken' }]) as {
      users: Record<string, unknown>[];
      nextPageToken: string;
    };
    expect(page.users[0]).toEqual({ primaryEmail: 'admin@springfield-schools.example', name: { fullName: 'District Admin' } });
    expect(typeof page.nextPageToken).toBe('string');
    const paren = rt.run('listUsers', [{ customer: 'my_customer', maxResults: 1, fields: 'users(name(givenName))' }]) as { users: unknown[] };
    expect(paren).toEqual({ users: [{ name: { givenName: 'District' } }] });

    expect((rt.run('listUsers', [{ customer: 'my_customer' }]) as { users: unknown[] }).users).toHaveLength(100);
    const big = generateDomain({ users: 1200, seed: 3 });
    const rt2 = sim(PROBES, { directory: big });
    expect((rt2.run('listUsers', [{ customer: 'my_customer', maxResults: 1000 }]) as { users: unknown[] }).users).toHaveLength(500);
  });

  test('members.list caps at 200 and pages; groups.list reports directMembersCount as a string', () => {
    const rt = sim(PROBES);
    const group = `all-students@${DEMO_DOMAIN}`;
    const first = rt.run('listMembers', [group, { maxResults: 500 }]) as { members: { type: string; email: string }[]; nextPageToken?: string };
    expect(first.members).toHaveLength(200);
    expect(first.nextPageToken).toBeTruthy();
    const second = rt.run('listMembers', [group, { pageToken: first.nextPageToken }]) as { members: unknown[]; nextPageToken?: string };
    expect(200 + second.members.length).toBe(rt.directory.findGroup(group)!.members.length);
    expect(second.nextPageToken).toBeUndefined();

    const empty = rt.run('listMembers', [`empty-committee@${DEMO_DOMAIN}`]) as Record<string, unknown>;
    expect(empty.members).toBeUndefined(); // Google omits empty arrays

    const groups = rt.run('listGroups', [{ customer: 'my_customer', query: 'email:lincoln*' }]) as { groups: { email: string; directMembersCount: unknown }[] };
    expect(groups.groups.map((g) => g.email).sort()).toEqual([`lincoln-students@${DEMO_DOMAIN}`, `lincoln-teachers@${DEMO_DOMAIN}`]);
    expect(typeof groups.groups[0].directMembersCount).toBe('string');
  });

  test('users.list query filters by OU subtree and suspension', () => {
    const rt = sim(PROBES);
    const res = rt.run('listUsers', [{ customer: 'my_customer', maxResults: 500, query: "orgUnitPath='/Students/Lincoln High' isSuspended=false" }]) as {
      users: { orgUnitPath: string; suspended: boolean }[];
    };
    expect(res.users.length).toBeGreaterThan(100);
    expect(res.users.every((u) => u.orgUnitPath.startsWith('/Students/Lincoln High/') && !u.suspended)).toBe(true);
    const bad = rt.run('caught', ['listUsers', [{ customer: 'my_customer', query: "orgUnitPath='/Nope'" }]]) as { message: string };
    expect(bad.message).toBe('API call to directory.users.list failed with error: Invalid Input: INVALID_OU_ID');
  });

  test('orgunits.list: all vs children, root not included', () => {
    const rt = sim(PROBES);
    const all = rt.run('listOus', [{ type: 'all' }]) as { organizationUnits: { orgUnitPath: string; parentOrgUnitPath: string }[] };
    const paths = all.organizationUnits.map((o) => o.orgUnitPath);
    expect(paths).toContain('/Students/Lincoln High/Grade 12');
    expect(paths).not.toContain('/');
    const children = rt.run('listOus', [{ type: 'children', orgUnitPath: '/Students' }]) as { organizationUnits: { orgUnitPath: string }[] };
    expect(children.organizationUnits.map((o) => o.orgUnitPath).sort()).toEqual([
      '/Students/Jefferson Elementary',
      '/Students/Lincoln High',
      '/Students/Washington Middle',
    ]);
  });

  test('errors are thrown as Google does: message, details, and instanceof Error inside the script', () => {
    const rt = sim(PROBES);
    const notFound = rt.run('caught', ['listMembers', ['nobody@springfield-schools.example']]);
    expect(notFound).toEqual({
      isError: true,
      name: 'GoogleJsonResponseException',
      message: 'API call to directory.members.list failed with error: Resource Not Found: groupKey',
      details: { code: 404, message: 'Resource Not Found: groupKey', errors: [{ domain: 'global', reason: 'notFound', message: 'Resource Not Found: groupKey' }] },
    });
    const badToken = rt.run('caught', ['listUsers', [{ customer: 'my_customer', pageToken: 'stale-token' }]]) as { details: { code: number } };
    expect(badToken.details.code).toBe(400);
    const noUser = rt.run('caught', ['getUser', ['ghost@springfield-schools.example']]) as { details: { code: number; errors: { reason: string }[] } };
    expect(noUser.details.code).toBe(404);

    rt.disableAdminApi();
    const disabled = rt.run('caught', ['listOus', [{ type: 'all' }]]) as { details: { code: number; errors: { reason: string }[] } };
    expect(disabled.details.code).toBe(403);
    expect(disabled.details.errors[0].reason).toBe('domainCannotUseApis');
    rt.disableAdminApi(false);

    rt.revokeDirectoryAccess();
    const revoked = rt.run('caught', ['listGroups', [{ customer: 'my_customer' }]]) as { message: string };
    expect(revoked.message).toBe('API call to directory.groups.list failed with error: Not Authorized to access this resource/api');
    rt.revokeDirectoryAccess(false);

    // A teacher is not a super admin: Google answers 403.
    const teacher = rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Staff/Teachers'))!;
    expect(() => rt.run('listOus', [{ type: 'all' }], { user: teacher.primaryEmail })).toThrow('Not Authorized to access this resource/api');
  });

  test('errors leaving run() keep their details', () => {
    const rt = sim(PROBES);
    let thrown: unknown;
    try {
      rt.run('listMembers', ['missing@x.example']);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as { details: { code: number } }).details.code).toBe(404);
  });

  test('fault injection fails exactly the chosen call with a Google-shaped error', () => {
    const rt = sim(PROBES);
    rt.inject('AdminDirectory.Users.list', (n) => (n === 3 ? GoogleErrors.rateLimited('users.list') : undefined));
    const results = [1, 2, 3, 4].map(() => rt.run('caught', ['listUsers', [{ customer: 'my_customer', maxResults: 1 }]]));
    expect(results.map((r) => r === null)).toEqual([true, true, false, true]);
    expect(results[2]).toMatchObject({
      isError: true,
      message: 'API call to directory.users.list failed with error: Rate Limit Exceeded',
      details: { code: 403, errors: [{ reason: 'userRateLimitExceeded', domain: 'usageLimits' }] },
    });
  });

  test('hasMember follows nested groups and survives cycles', () => {
    const rt = sim(PROBES);
    const d = rt.directory;
    const teacherId = d.findGroup(`lincoln-teachers@${DEMO_DOMAIN}`)!.members[0].id;
    const teacherEmail = d.userById(teacherId)!.primaryEmail;
    expect(rt.run('hasMember', [`all-teachers@${DEMO_DOMAIN}`, teacherEmail])).toBe(true);
    expect(rt.run('hasMember', [`admins@${DEMO_DOMAIN}`, teacherEmail])).toBe(false);
    const stemOnly = d.userById(d.findGroup(`stem-club@${DEMO_DOMAIN}`)!.members[0].id)!.primaryEmail;
    expect(rt.run('hasMember', [`robotics-club@${DEMO_DOMAIN}`, stemOnly])).toBe(true);
    expect(rt.run('hasMember', [`robotics-club@${DEMO_DOMAIN}`, `admin@${DEMO_DOMAIN}`])).toBe(false);
    expect(rt.run('hasMember', [`everyone@${DEMO_DOMAIN}`, `admin@${DEMO_DOMAIN}`])).toBe(true);
  });

  test('directory mutations show up in the next execution; renamed addresses stay as aliases', () => {
    const rt = sim(PROBES);
    const d = rt.directory;
    const student = d.allUsers().find((u) => u.orgUnitPath === '/Students/Lincoln High/Grade 9')!;
    d.renameEmail(student.primaryEmail, 'new.name@springfield-schools.example');
    const got = rt.run('getUser', [student.primaryEmail]) as { primaryEmail: string; id: string };
    expect(got.id).toBe(student.id);
    d.renameGroup(`admins@${DEMO_DOMAIN}`, `district-admins@${DEMO_DOMAIN}`);
    const viaOld = rt.run('listMembers', [`admins@${DEMO_DOMAIN}`]) as { members: unknown[] };
    expect(viaOld.members.length).toBeGreaterThan(0);
    d.deleteUser('new.name@springfield-schools.example');
    expect((rt.run('caught', ['getUser', [student.id]]) as { details: { code: number } }).details.code).toBe(404);
  });
});

describe('PropertiesService fake', () => {
  test('enforces 9 KB a value and 500 KB a store', () => {
    const rt = sim(PROBES);
    expect(rt.run('setProp', ['k', 'x'.repeat(9 * 1024)])).toBe(true);
    expect(() => rt.run('setProp', ['k', 'x'.repeat(9 * 1024 + 1)])).toThrow('Argument too large: value');
    // 9217 + 55 × 9006 bytes fit under 500 KB (512,000 bytes); the 56th value does not.
    for (let i = 0; i < 55; i++) rt.run('setProp', [`fill${i}`, 'y'.repeat(9000)]);
    expect(() => rt.run('setProp', ['one-more', 'z'.repeat(9000)])).toThrow(
      'You have exceeded the property storage quota. Please remove some properties and try again.',
    );
    expect(rt.scriptProperties()['one-more']).toBeUndefined();
    expect(rt.run('getProp', ['fill0'])).toBe('y'.repeat(9000));
  });

  test('no access in AuthMode.NONE; no document store without a document', () => {
    const rt = sim(PROBES);
    expect(() => rt.run('getProp', ['k'], { authMode: 'NONE' })).toThrow(
      'You do not have permission to call PropertiesService.getScriptProperties. Required permissions: https://www.googleapis.com/auth/script.storage',
    );
    expect(rt.run('docProps', [], { trigger: true, effectiveUser: rt.defaultUser })).toBeNull();
    expect(rt.run('docProps', [])).not.toBeNull();
  });
});

describe('ScriptApp triggers', () => {
  test('an add-on gets one time-driven trigger per user per document, at most hourly', () => {
    const rt = sim(PROBES);
    rt.run('hourly');
    expect(() => rt.run('hourly')).toThrow('This add-on has created too many time-based triggers in this document for this Google user account');
    expect(() => rt.run('everyFive')).toThrow('Add-ons may only create time-based triggers that fire at most once per hour');
    expect(rt.run('triggers')).toEqual([['onTick', 'CLOCK']]);
    // Another user of the same document may have their own.
    const other = rt.directory.findUser(`margaret.hollis@${DEMO_DOMAIN}`)!.primaryEmail;
    expect(() => rt.run('hourly', [], { user: other })).not.toThrow();
    expect(rt.triggers.list).toHaveLength(2);
  });

  test('triggers fire as their own executions with no document, no UI and FULL auth', () => {
    const rt = sim(PROBES);
    const uid = rt.run('hourly') as string;
    const [run] = rt.fireTriggers();
    expect(run.ok).toBe(true);
    expect(run.result).toEqual({
      authMode: 'FULL',
      uid,
      minute: expect.any(Number),
      hasDoc: false,
      ui: 'Cannot call SpreadsheetApp.getUi() from this context.',
      user: '',
      effective: rt.defaultUser,
    });
  });

  test('advanceHours fires an hourly trigger once an hour at a randomized minute', () => {
    const rt = sim(PROBES);
    rt.run('hourly');
    const start = rt.nowMs();
    const runs = rt.advanceHours(5);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs.length).toBeLessThanOrEqual(5);
    expect(runs.every((r) => r.ok)).toBe(true);
    for (let i = 1; i < runs.length; i++) expect(runs[i].atMs - runs[i - 1].atMs).toBeGreaterThan(0);
    expect(new Set(runs.map((r) => new Date(r.atMs).getUTCMinutes())).size).toBeGreaterThan(1);
    expect(rt.nowMs()).toBe(start + 5 * 3_600_000);
    expect(rt.userProperties(rt.defaultUser).ticks).toBe(String(runs.length));
  });
});

test('trigger runtime per day is capped', () => {
  const rt = sim(PROBES, { triggerDailyRuntimeMs: 3000 });
  rt.run('hourly', ['slowTick']);
  const runs = [...rt.fireTriggers(), ...rt.fireTriggers(), ...rt.fireTriggers()];
  expect(runs.map((r) => r.ok)).toEqual([true, true, false]);
  expect(runs[2].error).toBe('Service using too much computer time for one day');
});

describe('SpreadsheetApp fake', () => {
  const ID = '118300000000000000001';

  test('plain writes are converted like Sheets: long ids lose digits, = makes formulas, TRUE is boolean', () => {
    const rt = sim(PROBES);
    const out = rt.run('write', [[[ID, '=1+1', '=cmd|calc', 'TRUE', '007', 'plain', '2024-01-05']]]) as { values: unknown[][]; display: string[][] };
    const [id, sum, evil, bool, zip, text, date] = out.values[0];
    expect(typeof id).toBe('number');
    expect(String(id)).not.toBe(ID);
    expect(out.display[0][0]).toBe('1.183E+20');
    expect(sum).toBe(2);
    expect(evil).toBe('#NAME?');
    expect(bool).toBe(true);
    expect(zip).toBe(7);
    expect(text).toBe('plain');
    expect(Object.prototype.toString.call(date)).toBe('[object Date]');
    expect(out.display[0][6]).toBe('1/5/2024');
  });

  test("with number format '@' values stay text", () => {
    const rt = sim(PROBES);
    const out = rt.run('write', [[[ID, '=1+1', 'TRUE', '007']], '@']) as { values: unknown[][] };
    expect(out.values[0]).toEqual([ID, '=1+1', 'TRUE', '007']);
    expect(rt.sheetValues('Sheet1')[0]).toEqual([ID, '=1+1', 'TRUE', '007']);
  });

  test('setValues needs exact dimensions and a range inside the sheet', () => {
    const rt = sim(PROBES);
    expect(() => rt.run('writeRange', [1, 1, 2, 2, [[1, 2]]])).toThrow(
      'The number of rows in the data does not match the number of rows in the range. The data has 1 but the range has 2.',
    );
    expect(() => rt.run('writeRange', [1, 1, 1, 2, [[1, 2, 3]]])).toThrow(
      'The number of columns in the data does not match the number of columns in the range. The data has 3 but the range has 2.',
    );
    expect(() => rt.run('writeRange', [1000, 1, 2, 1, [[1], [2]]])).toThrow('The coordinates of the range are outside the dimensions of the sheet.');
    expect(rt.calls['Range.setValues']).toBe(2);
  });

  test('a cell holds at most 50,000 characters', () => {
    const rt = sim(PROBES);
    expect(() => rt.run('writeRange', [1, 1, 1, 1, [['x'.repeat(50_001)]]])).toThrow(
      'Your input contains more than the maximum of 50000 characters in a single cell.',
    );
    expect(() => rt.run('writeRange', [1, 1, 1, 1, [['x'.repeat(50_000)]]])).not.toThrow();
  });

  test('a sheet protected against the user rejects writes', () => {
    const rt = sim(PROBES);
    rt.protectSheet(rt.activeSpreadsheetId, 'Sheet1', ['someone-else@springfield-schools.example']);
    expect(() => rt.run('writeRange', [1, 1, 1, 1, [['x']]])).toThrow(
      'You are trying to edit a protected cell or object. Please contact the spreadsheet owner to remove protection if you need to edit.',
    );
    expect(rt.sheetValues('Sheet1')).toEqual([]);
  });

  test('the sidebar renders 300px wide; a wider layout is refused', () => {
    const rt = sim(PROBES);
    expect(rt.run('sidebar', [300])).toBe(true);
    expect(rt.ui.sidebar).toMatchObject({ kind: 'sidebar', title: 'Side', content: '<b>hi</b>' });
    expect(() => rt.run('sidebar', [400])).toThrow('exceeds the 300px');
  });
});

describe('LockService fake', () => {
  test('a lock held by an execution that throws is released when it ends', () => {
    const rt = sim(PROBES);
    expect(() => rt.run('lockAndThrow')).toThrow('boom');
    expect(rt.locks.held.size).toBe(0);
    expect(rt.run('tryScriptLock', [0])).toMatchObject({ ok: true, has: true });
  });

  test('another execution holding the lock: tryLock waits then fails, waitLock throws Google’s error', () => {
    const rt = sim(PROBES);
    const release = rt.holdLock('script');
    const before = rt.nowMs();
    const res = rt.run('tryScriptLock', [5000]) as { ok: boolean; now: number };
    expect(res.ok).toBe(false);
    expect(res.now - before).toBeGreaterThanOrEqual(5000);
    expect(() => rt.run('waitScriptLock', [1000])).toThrow('Lock timeout: another process was holding the lock for too long.');
    release();
    expect((rt.run('tryScriptLock', [0]) as { ok: boolean }).ok).toBe(true);
  });

  test('a lock the other execution releases within the timeout is acquired', () => {
    const rt = sim(PROBES);
    rt.holdLock('script', { untilMs: rt.nowMs() + 2000 });
    expect((rt.run('tryScriptLock', [10_000]) as { ok: boolean }).ok).toBe(true);
  });
});

describe('executions', () => {
  test('the execution time limit ends a run even if the script swallows the error, and frees its locks', () => {
    const rt = sim(PROBES, { executionLimitMs: 60_000 });
    const start = rt.nowMs();
    expect(() => rt.run('lockThenSpin')).toThrow('Exceeded maximum execution time');
    expect(rt.nowMs() - start).toBe(60_000);
    expect(rt.locks.held.size).toBe(0);
    expect(rt.lastExecution()).toMatchObject({ fn: 'lockThenSpin', ok: false, error: 'Exceeded maximum execution time' });
    // ~149 calls fit in 60 s at 400 ms; the rest failed fast after the limit until the runtime stopped the script.
    expect(rt.calls['AdminDirectory.Users.list']).toBeGreaterThanOrEqual(149);
    expect(rt.calls['AdminDirectory.Users.list']).toBeLessThan(149 + 200);
  });

  test('each execution gets a fresh global scope', () => {
    const rt = sim(PROBES);
    expect(rt.run('bump')).toBe(1);
    expect(rt.run('bump')).toBe(1);
    expect(rt.executions).toBe(2);
  });

  test('Date inside the script reads the simulated clock; sleep advances it', () => {
    const rt = sim(PROBES, { clockStartMs: Date.UTC(2030, 0, 1) });
    expect(rt.run('clock')).toEqual({ now: Date.UTC(2030, 0, 1), made: Date.UTC(2030, 0, 1), isDate: true, str: 'string' });
    expect(rt.run('nap', [90_000])).toBe(90_000);
    expect(rt.nowMs()).toBeGreaterThanOrEqual(Date.UTC(2030, 0, 1) + 90_000);
  });

  test('google.script.run semantics: Dates make the result null, private functions are unreachable', () => {
    const rt = sim(PROBES);
    expect(rt.runFromBrowser('withDate')).toBeNull();
    expect(Object.prototype.toString.call((rt.run('withDate') as { when: unknown }).when)).toBe('[object Date]');
    expect(rt.runFromBrowser('plain')).toEqual({ a: [1, 'x', null], b: { c: true } });
    expect(() => rt.runFromBrowser('secret_')).toThrow('google.script.run.secret_ is not a function');
    expect(rt.run('secret_')).toBe('private');
    expect(() => rt.run('noSuchFunction')).toThrow('Script function not found: noSuchFunction');
  });

  test('console and Logger output is captured', () => {
    const rt = sim(PROBES);
    rt.run('logs');
    expect(rt.logs.map((l) => [l.level, l.text])).toEqual([
      ['info', 'hello console'],
      ['logger', 'value: 42'],
      ['error', 'bad'],
    ]);
  });

  test('UrlFetchApp is an extension point', () => {
    const rt = sim(PROBES);
    expect(() => rt.run('fetchIt', ['http://127.0.0.1/'])).toThrow('UrlFetchApp is not available in this simulation');
    const rt2 = sim(PROBES, {
      urlFetch: { fetch: (url) => ({ getResponseCode: () => 200, getContentText: () => `got ${url}`, getHeaders: () => ({}) }) },
    });
    expect(rt2.run('fetchIt', ['http://127.0.0.1/x'])).toBe('got http://127.0.0.1/x');
    expect(rt2.calls['UrlFetchApp.fetch']).toBe(1);
  });
});

describe('other services', () => {
  test('Utilities.formatDate follows Java patterns in the given zone', () => {
    const rt = sim(PROBES);
    const ms = Date.UTC(2026, 8, 1, 13, 5, 9);
    expect(rt.run('fmt', [ms, 'America/Chicago', 'yyyy-MM-dd HH mm'])).toBe('2026-09-01 08 05');
    expect(rt.run('fmt', [ms, 'UTC', "yyyy-MM-dd'T'HH:mm:ssXXX"])).toBe('2026-09-01T13:05:09Z');
    expect(rt.run('fmt', [ms, 'Asia/Kolkata', "yyyy-MM-dd'T'HH:mm:ssXXX"])).toBe('2026-09-01T18:35:09+05:30');
    expect(rt.run('fmt', [ms, 'GMT', 'EEE, d MMM yyyy h:mm a'])).toBe('Tue, 1 Sep 2026 1:05 PM');
  });

  test('CacheService expiry follows the simulated clock and caps at 6 hours', () => {
    const rt = sim(PROBES);
    rt.run('cachePut', ['a', 'v', 60]);
    rt.run('cachePut', ['b', 'w', 100_000]);
    expect(rt.run('cacheGet', ['a'])).toBe('v');
    rt.advance(61_000);
    expect(rt.run('cacheGet', ['a'])).toBeNull();
    expect(rt.run('cacheGet', ['b'])).toBe('w');
    rt.advance(6 * 3_600_000);
    expect(rt.run('cacheGet', ['b'])).toBeNull();
    expect(() => rt.run('cachePut', ['c', 'x'.repeat(100 * 1024 + 1)])).toThrow('Argument too large: value');
  });

  test('HtmlService templates escape <?= ?> and can call script functions', () => {
    const rt = sim(PROBES + 'function include(n) { return "<i>" + n + "</i>"; }', {}, { Page: '<h1><?= title ?></h1><?!= include("x") ?><? for (var i = 0; i < 2; i++) { ?>.<? } ?>' });
    expect(rt.run('page', ['Page', '<script>alert(1)</script>'])).toBe('<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1><i>x</i>..');
    expect(() => rt.run('page', ['Missing', ''])).toThrow('No HTML file named Missing was found.');
  });

  test('MailApp records the outbox and enforces the daily quota', () => {
    const rt = sim(PROBES, { mailDailyQuota: 2 });
    expect(rt.run('mail', ['a@x.example'])).toBe(1);
    expect(rt.run('mail', ['b@x.example'])).toBe(0);
    expect(() => rt.run('mail', ['c@x.example'])).toThrow('Service invoked too many times for one day: email.');
    expect(rt.outbox.map((m) => m.to)).toEqual(['a@x.example', 'b@x.example']);
  });
});

describe('demo domain', () => {
  test('demoDistrict is deterministic and realistic', () => {
    const a = demoDistrict();
    const b = demoDistrict();
    expect(a.allUsers().map((u) => u.id)).toEqual(b.allUsers().map((u) => u.id));
    expect(a.userCount()).toBeGreaterThanOrEqual(300);
    expect(a.userCount()).toBeLessThanOrEqual(400);
    const names = a.allUsers().map((u) => u.name.fullName);
    expect(names).toContain("Seamus O'Brien");
    expect(names).toContain('José Muñoz');
    expect(a.allUsers().filter((u) => u.suspended)).toHaveLength(4);
    expect(a.allUsers().filter((u) => u.archived)).toHaveLength(1);
    expect(a.hasOrgUnit('/Students/Lincoln High/Grade 9')).toBe(true);
    expect(a.hasOrgUnit('/Staff/Teachers/Washington Middle')).toBe(true);
  });

  test('rollover promotes every student and graduates seniors to /Alumni', () => {
    const d = demoDistrict();
    const senior = d.allUsers().find((u) => u.orgUnitPath === '/Students/Lincoln High/Grade 12')!;
    const eighth = d.allUsers().find((u) => u.orgUnitPath === '/Students/Washington Middle/Grade 8')!;
    const fifth = d.allUsers().find((u) => u.orgUnitPath === '/Students/Jefferson Elementary/Grade 5')!;
    const seniors = d.allUsers().filter((u) => u.orgUnitPath === '/Students/Lincoln High/Grade 12').length;
    const result = rollover(d);
    expect(result.graduated).toHaveLength(seniors);
    expect(result.moves.find((m) => m.email === senior.primaryEmail)).toEqual({
      email: senior.primaryEmail,
      from: '/Students/Lincoln High/Grade 12',
      to: '/Alumni',
      graduated: true,
    });
    expect(d.findUser(senior.id)!.orgUnitPath).toBe('/Alumni');
    expect(d.findUser(eighth.id)!.orgUnitPath).toBe('/Students/Lincoln High/Grade 9');
    expect(d.findUser(fifth.id)!.orgUnitPath).toBe('/Students/Washington Middle/Grade 6');
    expect(d.allUsers().filter((u) => u.orgUnitPath === '/Students/Jefferson Elementary/Grade 1')).toHaveLength(0);
  });

  test('moveOu carries descendant OUs and their users', () => {
    const d = demoDistrict();
    const user = d.allUsers().find((u) => u.orgUnitPath === '/Students/Lincoln High/Grade 10')!;
    d.addOrgUnit('/Archive');
    d.moveOu('/Students/Lincoln High', '/Archive');
    expect(d.findUser(user.id)!.orgUnitPath).toBe('/Archive/Lincoln High/Grade 10');
    expect(d.getOrgUnit('/Archive/Lincoln High/Grade 10')!.parentOrgUnitPath).toBe('/Archive/Lincoln High');
    expect(d.hasOrgUnit('/Students/Lincoln High')).toBe(false);
  });

  test('generateDomain scales to 100,000 users quickly', () => {
    const t0 = Date.now();
    const d: FakeDirectoryState = generateDomain({ users: 100_000, seed: 1 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(d.userCount()).toBe(100_000);
    expect(d.findGroup('nest-1@scale.example')!.members.some((m) => m.type === 'GROUP')).toBe(true);
  });
});

// ---- the Directory REST API through UrlFetchApp, derived membership, the calibrated model ----------

const REST_PROBES = `
function rest(paths, token) {
  var t = token === undefined ? ScriptApp.getOAuthToken() : token;
  var reqs = paths.map(function (p) { return { url: 'https://admin.googleapis.com/admin/directory/v1/' + p, headers: { Authorization: 'Bearer ' + t }, muteHttpExceptions: true }; });
  return UrlFetchApp.fetchAll(reqs).map(function (r) { return { code: r.getResponseCode(), body: JSON.parse(r.getContentText()) }; });
}
function restThrows(path) {
  try { UrlFetchApp.fetch('https://admin.googleapis.com/admin/directory/v1/' + path, { headers: { Authorization: 'Bearer ' + ScriptApp.getOAuthToken() } }); return null; }
  catch (e) { return e.message; }
}
function derived(group, token) { return AdminDirectory.Members.list(group, { includeDerivedMembership: true, maxResults: 200, pageToken: token || undefined }); }
function writeThenRead(n) {
  var sheet = SpreadsheetApp.getActiveSpreadsheet().getSheets()[0];
  var values = []; for (var i = 0; i < n; i++) values.push(['x', 'y']);
  var t0 = Date.now();
  sheet.getRange(1, 1, n, 2).setValues(values);
  var t1 = Date.now();
  sheet.getRange(1, 1, 1, 1).getValues();
  var t2 = Date.now();
  sheet.getRange(1, 1, 1, 1).getValues();
  return { write: t1 - t0, firstRead: t2 - t1, secondRead: Date.now() - t2 };
}
function spin(n) { var x = 0; for (var i = 0; i < n * 20000; i++) x += i % 7; Utilities.sleep(0); return x; }
`;

describe('Directory REST API through UrlFetchApp (the fake directory behind admin.googleapis.com)', () => {
  const encode = (s: string) => encodeURIComponent(s);

  test('answers with the script token only; a wrong token is a 401 UNAUTHENTICATED; errors are HTTP codes with Google’s JSON body', () => {
    const rt = sim(REST_PROBES);
    const [ok] = rt.run('rest', [['users?customer=my_customer&maxResults=500&query=' + encode('email:a*')]]) as { code: number; body: { users: { primaryEmail: string }[] } }[];
    expect(ok.code).toBe(200);
    expect(ok.body.users.length).toBeGreaterThan(0);
    expect(ok.body.users.every((u) => u.primaryEmail.startsWith('a'))).toBe(true);
    const [denied] = rt.run('rest', [['users?customer=my_customer'], 'ya29.not-the-token']) as { code: number; body: { error: { status: string } } }[];
    expect(denied).toMatchObject({ code: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } });
    const [missing] = rt.run('rest', [[`groups/${encode('nobody@' + DEMO_DOMAIN)}/members`]]) as { code: number; body: { error: { errors: { reason: string }[] } } }[];
    expect(missing).toMatchObject({ code: 404, body: { error: { errors: [{ reason: 'notFound' }] } } });
    // Without muteHttpExceptions UrlFetchApp throws on an error status, as Google's does.
    expect(rt.run('restThrows', [`users/${encode('nobody@' + DEMO_DOMAIN)}`])).toMatch(/^Request failed for https:\/\/admin\.googleapis\.com returned code 404/);
  });

  test('every request counts as its Directory method and is open to the same faults; a fetchAll round costs one round', () => {
    const rt = sim(REST_PROBES, { latency: { perMethod: { 'UrlFetchApp.fetchAll': 400 }, defaultMs: 0, perCellMs: 0, startupMs: 0 } });
    rt.inject('AdminDirectory.Users.list', (n) => (n === 2 ? GoogleErrors.unavailable('users.list') : undefined));
    const before = rt.nowMs();
    const answers = rt.run('rest', [['users?customer=my_customer', 'users?customer=my_customer', 'customer/my_customer/orgunits?type=all']]) as { code: number }[];
    expect(answers.map((a) => a.code)).toEqual([200, 503, 200]);
    expect(rt.calls).toMatchObject({ 'AdminDirectory.Users.list': 2, 'AdminDirectory.Orgunits.list': 1, 'UrlFetchApp.fetchAll': 1 });
    expect(rt.nowMs() - before).toBe(400); // the three requests ran in parallel, in one round
  });
});

test('the Directory API allows 2,400 queries a minute per user: the next one is a 403 userRateLimitExceeded, until the minute has passed', () => {
  const rt = sim(REST_PROBES, { latency: { perMethod: { 'UrlFetchApp.fetchAll': 400 }, defaultMs: 0, perCellMs: 0, startupMs: 0 } });
  const round = Array.from({ length: 600 }, () => 'customer/my_customer/orgunits?type=all');
  for (let i = 0; i < 4; i++) expect((rt.run('rest', [round]) as { code: number }[]).every((a) => a.code === 200)).toBe(true);
  const [over] = rt.run('rest', [['customer/my_customer/orgunits?type=all']]) as { code: number; body: { error: { errors: { reason: string }[] } } }[];
  expect(over).toMatchObject({ code: 403, body: { error: { errors: [{ reason: 'userRateLimitExceeded' }] } } });
  rt.setClock(rt.nowMs() + 60_000);
  expect((rt.run('rest', [['customer/my_customer/orgunits?type=all']]) as { code: number }[])[0].code).toBe(200);
});

test('members.list with includeDerivedMembership lists the users of nested groups once each (cycles included), in pages of 200', () => {
  const rt = sim(REST_PROBES);
  const group = `all-staff@${DEMO_DOMAIN}`; // all-teachers (itself of three school groups), admins, support-staff
  const ids: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = rt.run('derived', [group, token]) as { members?: { id: string; type: string }[]; nextPageToken?: string };
    expect((page.members ?? []).length).toBeLessThanOrEqual(200);
    ids.push(...(page.members ?? []).filter((m) => m.type === 'USER').map((m) => m.id));
    token = page.nextPageToken;
    pages++;
  } while (token);
  const expected = rt.directory.allUsers().filter((u) => rt.directory.isMemberDeep(rt.directory.findGroup(group)!, u.id)).map((u) => u.id);
  expect(ids.sort()).toEqual(expected.sort());
  expect(new Set(ids).size).toBe(ids.length);
  const cycle = rt.run('derived', [`robotics-club@${DEMO_DOMAIN}`]) as { members: { id: string; type: string }[] };
  const users = cycle.members.filter((m) => m.type === 'USER').map((m) => m.id);
  expect(new Set(users).size).toBe(users.length); // stem-club and robotics-club nest each other: each user once
});

describe('calibrated latency model', () => {
  test('a read after writes pays the flush of the cells written; the next read does not', () => {
    const rt = sim(REST_PROBES, { latency: { perMethod: { 'Range.*': 0, 'Range.getValues': 10, 'Range.setValues': 10, 'Sheet.*': 0, 'Spreadsheet.*': 0, 'SpreadsheetApp.*': 0 }, defaultMs: 0, perCellMs: 0, startupMs: 0, flushMs: 500, flushPerCellMs: 0.1 } });
    const t = rt.run('writeThenRead', [1000]) as { write: number; firstRead: number; secondRead: number };
    expect(t).toEqual({ write: 10, firstRead: 10 + 500 + 2000 * 0.1, secondRead: 10 });
  });

  test('script CPU is charged to the simulated clock at cpuFactor × the Node CPU it used', () => {
    const free = sim(REST_PROBES, { latency: { perMethod: {}, defaultMs: 0, perCellMs: 0, startupMs: 0 } });
    free.run('spin', [50]);
    expect(free.lastExecution()!.endMs - free.lastExecution()!.startMs).toBe(0);
    const charged = sim(REST_PROBES, { latency: { perMethod: {}, defaultMs: 0, perCellMs: 0, startupMs: 0, cpuFactor: 5 } });
    charged.run('spin', [50]);
    const e = charged.lastExecution()!;
    expect(e.cpuMs).toBeGreaterThan(0);
    expect(e.endMs - e.startMs).toBeGreaterThanOrEqual(Math.floor(e.cpuMs * 5) - 1);
  });

  test('exactHourlyTriggers: an hourly trigger fires exactly 60 minutes after its previous firing', () => {
    const rt = sim(PROBES, { exactHourlyTriggers: true });
    rt.run('hourly');
    const runs = rt.advanceHours(6);
    expect(runs.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < runs.length; i++) expect(runs[i].atMs - runs[i - 1].atMs).toBe(3_600_000);
  });
});
