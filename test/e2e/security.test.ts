// Security suite on the built bundle in the simulated Apps Script runtime: who may
// call the server functions, what hostile input does, what reaches the sheet, where
// secrets go, which scopes the manifest asks for, and how settings are namespaced.
// Figures go to .cache/reliability/security.json (rendered by scripts/reliability.ts).
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { later, world as harnessWorld, World } from './harness';
import { DEMO_DOMAIN, generateDomain } from '../../emulator/domain';
import { DEMO_RULES } from '../../emulator/serve';
import { FormulaCell } from '../../emulator/fakes/sheetData';
import { CATALOG } from '../../src/core/messages';
import { Recorder } from '../../scripts/reliability';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const rec = new Recorder('security');
afterAll(() => rec.finish());

const world = (options: Parameters<typeof harnessWorld>[0] = {}) => harnessWorld({ scriptPath: rec.bundle, ...options });

const NOT_ALLOWED = CATALOG.notAllowed.text;
const ADMIN = `admin@${DEMO_DOMAIN}`;
const IT = `it@${DEMO_DOMAIN}`;

// ---------- the bundle's public surface ----------

/** Every global function of the pushed script (what google.script.run can reach), found by loading it. */
function globalFunctions(): string[] {
  const context = vm.createContext({});
  vm.runInContext(fs.readFileSync(rec.bundle, 'utf8'), context);
  return Object.keys(context).filter((k) => typeof context[k] === 'function');
}

/** Entry points Apps Script itself calls (menus, simple triggers, the time-driven trigger). */
const ENTRY_POINTS = ['onOpen', 'onInstall', 'showSidebar', 'runScheduledSync'];
/** Read-only calls the first-open screen makes for anyone who opens the sidebar; they must reveal no configuration. */
const PUBLIC: Record<string, string[]> = {
  getState: ['user', 'canConfigure', 'linked', 'message'],
  getSetupStatus: ['user', 'linked', 'installer', 'syncAccount', 'canReadDirectory', 'problem', 'canConfigure'],
  askAdminMessage: ['to', 'subject', 'body', 'mailto'],
};

const SERVER = globalFunctions().filter((f) => !ENTRY_POINTS.includes(f));

// ---------- state comparison ----------

/** Everything a call could change: properties (script, users, document), every sheet, triggers, mail. */
function stateOf(w: World, users: string[]): string {
  const rt = w.rt;
  const sheets: Record<string, unknown> = {};
  for (const [id, ss] of rt.spreadsheets.byId) {
    for (const sheet of ss.sheets) {
      const rows: unknown[] = [];
      const [lastRow, lastCol] = [sheet.lastRow(), sheet.lastCol()];
      for (let r = 0; r < lastRow; r++) {
        const row: unknown[] = [];
        for (let c = 0; c < lastCol; c++) {
          const v = sheet.get(r, c);
          row.push(v instanceof FormulaCell ? { formula: v.formula } : v);
        }
        rows.push(row);
      }
      sheets[`${id}/${sheet.name}`] = { rows, protections: sheet.protections.length, hidden: sheet.hidden };
    }
  }
  return JSON.stringify({
    script: rt.scriptProperties(),
    users: users.map((u) => rt.userProperties(u)),
    document: rt.documentProperties(),
    sheets,
    triggers: rt.triggers.list.map((t) => [t.uid, t.handler, t.owner]),
    mail: rt.outbox.length,
  });
}

/** Sheet cells holding what no validated input may leave there: control characters, or over 5,000 characters. */
/** The add-on's own hidden stores: JSON it wrote itself, in chunks of up to 45,000 characters a cell. */
const MACHINE_STORES = new Set(['Roster Sync state', 'Roster Sync reports']);

function badCells(w: World): string[] {
  const bad: string[] = [];
  for (const [, ss] of w.rt.spreadsheets.byId) {
    for (const sheet of ss.sheets) {
      const maxLength = MACHINE_STORES.has(sheet.name) ? 45_000 : 5000;
      sheet.rows.forEach((row, r) => (row ?? []).forEach((cell, c) => {
        if (typeof cell === 'string' && (cell.length > maxLength || /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(cell))) bad.push(`${sheet.name}!R${r + 1}C${c + 1}`);
      }));
    }
  }
  return bad;
}

/** Cells anywhere that hold a formula (none may: every value is written as text). */
function formulaCells(w: World): number {
  let n = 0;
  for (const [, ss] of w.rt.spreadsheets.byId) {
    for (const sheet of ss.sheets) {
      for (const row of sheet.rows) for (const cell of row ?? []) if (cell instanceof FormulaCell) n++;
    }
  }
  return n;
}

/** A synced demo district with a second admin, cooldown at its maximum (a Sync now is refused, so it changes nothing). */
function synced(): World {
  const w = world();
  w.call('syncNow', {});
  w.save({ admins: [IT], cooldownMinutes: 1440 });
  return w;
}

function firstAccountId(w: World): string {
  return w.roster().find((r) => r.Source === 'synced')!.ID;
}

/** A valid argument for each function, so a refusal cannot be put down to validation. */
function validArgs(w: World, fn: string, caller: string): unknown[] {
  const settings = w.call('getState').settings;
  const valid: Record<string, unknown> = {
    saveSettings: { ...settings, admins: [...settings.admins, caller || 'nobody@springfield-schools.example'] },
    syncNow: { allowDestructive: 100000 },
    listOrgUnits: { parent: '/' },
    listGroups: { query: 'a' },
    getAccounts: {},
    updateAccounts: { ids: [firstAccountId(w)], status: 'deleted', exclude: true },
    addAccount: { name: 'Mallory', email: 'mallory@evil.example', role: 'admin' },
    explainUser: { email: ADMIN },
    syncUser: { email: ADMIN },
    useMyAccountForSync: { confirmChange: true },
    saveScimToken: { token: 'tok_attacker_0123456789abcdef' },
    askAdminMessage: { adminEmail: IT },
  };
  return fn in valid ? [valid[fn]] : [];
}

// ---------- who may call ----------

rec.test('authorization', 'every server function refuses a caller who is not the installer or a listed admin, and nothing changes', () => {
  const w = synced();
  const teacher = w.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Staff/Teachers/') && !u.suspended)!.primaryEmail;
  const otherAdmin = w.rt.directory.allUsers().find((u) => u.orgUnitPath === '/Staff/Support')!.primaryEmail;
  w.rt.directory.setAdmin(otherAdmin, true); // a Workspace super admin, but not an admin of Roster Sync
  const callers: { label: string; ctx: { user: string; effectiveUser?: string } }[] = [
    { label: 'a teacher of the domain', ctx: { user: teacher } },
    { label: 'a Workspace super admin not listed in Settings', ctx: { user: otherAdmin } },
    { label: 'a user Google does not name (empty active user)', ctx: { user: '', effectiveUser: ADMIN } },
    // Another customer's user with whom the spreadsheet was shared meets this roster's configuration.
    { label: 'a user of another domain', ctx: { user: 'mallory@evil.example' } },
  ];
  const users = [ADMIN, IT, teacher, otherAdmin, 'mallory@evil.example'];
  expect(SERVER.length).toBeGreaterThanOrEqual(17);
  rec.count('serverFunctions', SERVER.length);
  for (const { ctx } of callers) {
    for (const fn of SERVER) {
      const args = validArgs(w, fn, ctx.user);
      const before = stateOf(w, users);
      const r = w.rt.runFromBrowser(fn, args, ctx) as Json;
      expect(stateOf(w, users)).toBe(before);
      if (fn in PUBLIC) {
        expect(r.ok).toBe(true);
        expect(Object.keys(r.data).every((k) => PUBLIC[fn].includes(k))).toBe(true);
        const text = JSON.stringify(r.data);
        for (const secret of ['students', '/Staff/Teachers', 'settings', 'history', 'rules']) expect(text).not.toContain(`"${secret}"`);
        if (fn === 'getState') expect(r.data).toMatchObject({ canConfigure: false, message: { text: NOT_ALLOWED } });
        if (fn === 'getSetupStatus') expect(r.data.canConfigure).toBe(false);
      } else {
        expect({ fn, r }).toEqual({ fn, r: { ok: false, error: { id: 'notAllowed', text: NOT_ALLOWED, fix: CATALOG.notAllowed.fix } } });
      }
      rec.count('unauthorizedRefused');
    }
    // The heartbeat called from the browser by someone who is not the sync account does nothing.
    const before = stateOf(w, users);
    const beat = w.rt.runFromBrowser('runScheduledSync', [{ triggerUid: w.rt.triggers.list[0].uid, authMode: 'FULL' }], ctx) as Json;
    expect(beat.state).toBe('idle');
    expect(stateOf(w, users)).toBe(before);
    rec.count('unauthorizedRefused');
  }
  // A listed admin who is not the sync account: runScheduledSync from the browser still does nothing.
  const before = stateOf(w, users);
  expect((w.rt.runFromBrowser('runScheduledSync', [], { user: IT }) as Json).state).toBe('idle');
  expect(stateOf(w, users)).toBe(before);
  expect(w.rt.triggers.list).toHaveLength(1);
  // Private helpers (names ending in _) cannot be called at all.
  expect(() => w.rt.runFromBrowser('serve_', [])).toThrow('is not a function');
  rec.note(`public read-only functions (first-open screen): ${Object.keys(PUBLIC).join(', ')}; getSetupStatus tells any user who can open the spreadsheet the installer's and the sync account's email`);
});

// ---------- hostile input ----------

const deep = (n: number): unknown => (n ? { a: deep(n - 1) } : 'bottom');
const deepList = (n: number): unknown => (n ? [deepList(n - 1)] : []);
/** Own "__proto__" / "constructor" keys, as JSON.parse (and google.script.run) makes them. */
const PROTO = JSON.parse('{"__proto__": {"polluted": "yes", "admins": ["polluted@evil.example"], "isAdmin": true}}');
const CTOR = JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}');

const HOSTILE: [string, unknown][] = [
  ['a number', 42],
  ['a negative number', -1],
  ['a fraction', 1.5],
  ['1e308', 1e308],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty string', ''],
  ['text', 'text'],
  ['an empty list', []],
  ['a list of numbers', [1, 2, 3]],
  ['a list of objects', [{}, { a: 1 }]],
  ['an empty object', {}],
  ['a 100 KB string', 'x'.repeat(100_000)],
  ['a 1 MB string', 'y'.repeat(1_000_000)],
  ['a 10,000-item list', Array.from({ length: 10_000 }, (_, i) => `item${i}@springfield-schools.example`)],
  ['an object with 5,000 keys', Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))],
  ['an own __proto__ key', PROTO],
  ['an own constructor key', CTOR],
  ['"__proto__"', '__proto__'],
  ['"constructor"', 'constructor'],
  ['"toString"', 'toString'],
  ['["__proto__"]', ['__proto__']],
  ['["constructor"]', ['constructor']],
  ['a <script> tag', '<script>alert(1)</script>'],
  ['an <img onerror>', '"><img src=x onerror=alert(1)>'],
  ['a javascript: URL', 'javascript:alert(document.cookie)'],
  ['=HYPERLINK', '=HYPERLINK("http://evil.example","x")'],
  ['=IMPORTXML', '=IMPORTXML("http://evil.example","//a")'],
  ['+ formula', '+1+1'],
  ['- formula', '-1+1'],
  ['@ formula', '@SUM(1)'],
  ['a NUL character', 'a\u0000b'],
  ['a header injection', 'x@evil.example\nBcc: everyone@springfield-schools.example'],
  ['a bidi override', 'abc\u202Eexe.txt'],
  ['an escape sequence', '\u001b[31mred'],
  ['a lone surrogate', '\ud800'],
  ['an object 60 levels deep', deep(60)],
  ['a list 60 levels deep', deepList(60)],
  ['a 24-digit numeric string', '100000000000000000000001'],
  ['an OU path escaping upwards', '/Students/../../etc'],
  ['a SQL-ish quote', "' OR '1'='1"],
];

type Case = { fn: string; field: string | null; args: unknown[]; label: string };

function setPath(base: Json, dotted: string, value: unknown): Json {
  const copy = JSON.parse(JSON.stringify(base));
  const keys = dotted.split('.');
  let at = copy;
  for (const k of keys.slice(0, -1)) at = at[k];
  // defineProperty, so a key named __proto__ becomes an own key rather than the prototype.
  Object.defineProperty(at, keys[keys.length - 1], { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Per function: a valid base argument and the fields to replace, one at a time, by each hostile value. */
function fieldCases(w: World): Record<string, { base: Json; fields: string[] }> {
  const settings = w.call('getState').settings;
  let n = 0;
  return {
    saveSettings: {
      base: settings,
      fields: [
        ...Object.keys(settings),
        'rules.0.id', 'rules.0.type', 'rules.0.orgUnitPath', 'rules.0.includeSubOrgUnits', 'rules.0.role', 'rules.2.groupEmail',
        'schedule.mode', 'schedule.hour', 'schedule.timeZone', 'schedule.blackouts', 'threshold.kind', 'threshold.value',
        'impliedRoles.admin', 'impliedRoles.__proto__', 'impliedRoles.constructor', '__proto__', 'constructor', 'unknownSetting',
      ],
    },
    syncNow: { base: {}, fields: ['allowDestructive', '__proto__'] },
    listOrgUnits: { base: {}, fields: ['parent', 'query'] },
    listGroups: { base: {}, fields: ['query', 'pageToken'] },
    getAccounts: { base: {}, fields: ['tab', 'status', 'query', 'offset', 'limit', '__proto__'] },
    updateAccounts: { base: { ids: [firstAccountId(w)] }, fields: ['ids', 'ids.0', 'status', 'grant', 'revoke', 'exclude', '__proto__'] },
    get addAccount() {
      return { base: { name: 'Hostile Test', email: `hostile.${++n}@springfield-schools.example`, role: 'student' }, fields: ['name', 'email', 'role'] };
    },
    explainUser: { base: { email: ADMIN }, fields: ['email'] },
    syncUser: { base: { email: ADMIN }, fields: ['email'] },
    useMyAccountForSync: { base: {}, fields: ['confirmChange'] },
    askAdminMessage: { base: { adminEmail: IT }, fields: ['adminEmail'] },
    saveScimToken: { base: { token: 'tok_0123456789abcdef0123' }, fields: ['token'] },
  };
}

/** Functions whose accepted calls may legitimately change something, and what. */
const MAY_CHANGE: Record<string, 'settings' | 'roster' | 'token'> = {
  saveSettings: 'settings',
  updateAccounts: 'settings', // exclude: true adds to the exclude list
  addAccount: 'roster',
  saveScimToken: 'token',
  clearScimToken: 'token',
};

rec.test('input', 'malformed and hostile payloads to every server function: a clear error naming the field or a harmless result, nothing changed, no crash', () => {
  const w = synced();
  const users = [ADMIN, IT];
  const original = w.call('getState').settings;
  const cases: Case[] = [];
  for (const fn of SERVER) {
    for (const [label, value] of HOSTILE) cases.push({ fn, field: null, args: [value], label: `${fn}(${label})` });
    cases.push({ fn, field: null, args: [{}, HOSTILE[17][1]], label: `${fn}({}, an extra argument)` });
  }
  const byFn = fieldCases(w);
  for (const fn of Object.keys(byFn)) {
    if (!SERVER.includes(fn)) continue;
    for (const field of byFn[fn].fields) {
      for (const [label, value] of HOSTILE) cases.push({ fn, field, args: [setPath(byFn[fn].base, field, value)], label: `${fn} ${field} = ${label}` });
    }
  }
  // Settings each valid, together too large for the 500 KB property store.
  const longEmails = Array.from({ length: 5000 }, (_, i) => `person.${i}.${'a'.repeat(180)}@springfield-schools.example`);
  cases.push({ fn: 'saveSettings', field: null, args: [{ ...original, exclude: longEmails }], label: 'saveSettings with 1.2 MB of valid settings' });
  const crashes: string[] = [];
  const unnamed: string[] = [];
  const changed: string[] = [];
  for (const c of cases) {
    const before = stateOf(w, users);
    let r: Json;
    try {
      r = w.rt.runFromBrowser(c.fn, c.args);
    } catch (error) {
      crashes.push(`${c.label}: threw ${String(error).slice(0, 120)}`);
      continue;
    }
    rec.count('badInputs');
    if (!r || typeof r.ok !== 'boolean') {
      crashes.push(`${c.label}: no envelope`);
      continue;
    }
    const after = stateOf(w, users);
    if (!r.ok) {
      if (r.error.id === 'unexpected') {
        crashes.push(`${c.label}: ${r.error.text.slice(0, 160)}`);
        rec.count('unexpectedErrors');
      } else if (r.error.id === 'invalidInput' || r.error.id === 'invalidSetting') {
        const top = (c.field ?? '').split('.')[0].toLowerCase();
        const text = r.error.text.toLowerCase();
        const named = c.field === null || top === '__proto__' || top === 'constructor' ? /^(setting )?(request|settings|the scim token|[a-z][\w.[\]]*) /.test(text) : text.includes(top);
        if (!named) unnamed.push(`${c.label}: ${r.error.text.slice(0, 160)}`);
        rec.count('refusedNamingField');
      } else rec.count('refusedOther');
      if (after !== before) {
        changed.push(`${c.label} (refused: ${r.error.text.slice(0, 80)})`);
        rec.count('stateChangesByRejected');
      }
      continue;
    }
    // Accepted: harmless, or one of the changes the function exists to make.
    rec.count('acceptedHarmless');
    const kind = MAY_CHANGE[c.fn];
    if (after !== before && !kind) changed.push(`${c.label} (accepted by a read-only function)`);
    const stored = JSON.stringify(w.rt.scriptProperties()) + JSON.stringify(w.rt.sheetValues('Roster'));
    if (/polluted/.test(stored)) changed.push(`${c.label}: a prototype-pollution payload was stored`);
    for (const cell of badCells(w)) changed.push(`${c.label}: stored an unvalidated value in ${cell}`);
    rec.count('formulaCells', formulaCells(w));
    if (kind === 'settings' && after !== before) {
      // The stored settings are still readable, and a preview still runs on them.
      const state = w.call('getState');
      expect(state.settingsError).toBeUndefined();
      const preview = w.envelope('previewSync');
      if (!preview.ok && preview.error.id === 'unexpected') crashes.push(`${c.label}, then previewSync: ${preview.error.text}`);
      w.call('saveSettings', original);
    }
    if (kind === 'token') {
      expect(JSON.stringify(r)).not.toContain('tok_0123456789abcdef0123');
    }
  }
  rec.note(`${cases.length} payloads: ${HOSTILE.length} hostile values as the whole argument of each of ${SERVER.length} functions, and in each field of their arguments`);
  expect(crashes).toEqual([]);
  expect(unnamed).toEqual([]);
  const tooLarge = w.rt.runFromBrowser('saveSettings', [{ ...original, exclude: longEmails }]) as Json;
  expect(tooLarge).toMatchObject({ ok: false, error: { id: 'invalidSetting', text: expect.stringMatching(/^Setting settings is too large to store/) } });
  expect(changed).toEqual([]);
  expect(formulaCells(w)).toBe(0);
  expect(({} as Json).polluted).toBeUndefined();
});

rec.test('input', 'a role named after an Object.prototype member ("constructor") is refused, naming the field', () => {
  const w = world();
  const s = w.settings();
  const saved = w.envelope('saveSettings', { ...s, roles: [...s.roles, 'constructor'], rules: [...s.rules, { id: 'c', type: 'ou', orgUnitPath: '/Staff/Support', includeSubOrgUnits: true, role: 'constructor' }] });
  expect(saved).toMatchObject({ ok: false, error: { id: 'invalidSetting', text: 'Setting roles[3] cannot be "constructor".' } });
  expect(w.envelope('previewSync').ok).toBe(true);
});

// ---------- what reaches the sheet ----------

rec.test('escaping', 'names, emails and OU paths beginning with = + - @ are stored as text, never formulas, and read back literally', () => {
  const w = world({ link: false });
  const d = w.rt.directory;
  const names = ['=HYPERLINK("http://evil","x")', '+SUM(1,2)', '-1+2', '@evil', '=1+1', "'=quoted", '<b>bold</b>', 'TRUE', '2024-01-05', '00123'];
  d.addOrgUnit('/Students/=HYPERLINK("http://evil","ou")');
  const added = names.map((name, i) => {
    const u = d.addUser({ email: `escape${i}@${DEMO_DOMAIN}`, givenName: 'E', familyName: String(i), orgUnitPath: i % 2 ? '/Students/=HYPERLINK("http://evil","ou")' : '/Students/Lincoln High/Grade 9' });
    u.name.fullName = name;
    return u;
  });
  for (const local of ['+plus', '-minus', '=equals', '@at']) {
    try {
      added.push(d.addUser({ email: `${local}@${DEMO_DOMAIN}`, givenName: 'Odd', familyName: 'Address', orgUnitPath: '/Students/Lincoln High/Grade 9' }));
    } catch {
      // The fake directory refuses addresses Google would refuse.
    }
  }
  w.call('useMyAccountForSync', {});
  w.save({ rules: DEMO_RULES });
  expect(w.call('syncNow', {}).state).toBe('done');
  const sheet = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster');
  const header = (sheet.rows[0] ?? []).map(String);
  const [idCol, emailCol, nameCol, ouCol] = ['ID', 'Email', 'Name', 'OU'].map((h) => header.indexOf(h));
  const rowOf = new Map<string, number>();
  for (let r = 1; r < sheet.lastRow(); r++) rowOf.set(String(sheet.get(r, idCol)), r);
  for (const u of added) {
    const r = rowOf.get(u.id)!;
    expect(r).toBeDefined();
    for (const [col, want] of [
      [nameCol, u.name.fullName],
      [emailCol, u.primaryEmail],
      [ouCol, u.orgUnitPath],
    ] as [number, string][]) {
      const cell = sheet.get(r, col);
      expect(cell).not.toBeInstanceOf(FormulaCell);
      expect(typeof cell).toBe('string');
      // The literal text, or the literal text behind Sheets' quote prefix (never a formula, number, date or boolean).
      expect([want, `'${want}`]).toContain(cell);
    }
  }
  expect(formulaCells(w)).toBe(0);
  rec.count('formulaCells', formulaCells(w));
  // Read back through the server API: literal, and stable (a second sync changes nothing).
  const rows = w.call('getAccounts', { query: 'escape', limit: 100 }).rows as Json[];
  expect(rows.map((r) => r.name).sort()).toEqual([...names].sort());
  later(w);
  expect(w.call('previewSync').total).toBe(0);
  expect(w.call('syncNow', {}).message).toBe('No changes.');
  // A manual account named like a formula, added from the sidebar.
  const manual = w.call('addAccount', { name: '=IMPORTXML("http://evil","//a")', email: `formula.name@${DEMO_DOMAIN}`, role: 'teacher' });
  expect(w.call('getAccounts', { query: 'formula.name' }).rows[0].name).toBe(manual.name);
  expect(formulaCells(w)).toBe(0);
  rec.count('escapedValues', added.length * 3 + 1);
});

// ---------- secrets ----------

rec.test('secrets', "no server result, log line, mail or sheet ever contains a value from the caller's user properties", () => {
  const w = synced();
  const ssId = w.rt.activeSpreadsheetId;
  const secrets: Record<string, string> = {};
  // The SCIM token, through the server function when this build has it, and a simulated secret beside it.
  if (SERVER.includes('saveScimToken')) {
    expect(w.envelope('saveScimToken', { token: 'tok_live_SECRET_5f2a9c0e7b1d4a3c8e6f' }).ok).toBe(true);
  }
  w.rt.properties.user(ADMIN).map.set(`rs:${ssId}:secret.apiKey`, 'sk_SECRET_aa11bb22cc33dd44');
  w.rt.properties.user(IT).map.set(`rs:${ssId}:secret.apiKey`, 'sk_SECRET_it_9988776655');
  for (const user of [ADMIN, IT]) {
    for (const [key, value] of Object.entries(w.rt.userProperties(user))) {
      // The trigger's note of which spreadsheet it serves holds that spreadsheet's id, which its own URL shows anyway.
      if (value !== ssId) secrets[`${user} ${key}`] = value;
    }
  }
  expect(Object.keys(secrets).length).toBeGreaterThanOrEqual(2);

  const outputs: string[] = [];
  const call = (fn: string, args: unknown[], user: string) => outputs.push(JSON.stringify(w.rt.runFromBrowser(fn, args, { user })));
  for (const user of [ADMIN, IT]) {
    for (const fn of SERVER) {
      // Not clearing the token, and not handing the sync account over to the other admin.
      if (fn === 'clearScimToken' || fn === 'useMyAccountForSync') continue;
      call(fn, validArgs(w, fn, user), user);
      call(fn, [{}], user);
    }
  }
  // Failures that log: a directory outage on a scheduled sync (mail too), and an unreadable progress note.
  // (saveSettings({}) above saved the defaults: the rules again.)
  w.save({ rules: DEMO_RULES, schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] }, cooldownMinutes: 0 });
  w.rt.revokeDirectoryAccess(true);
  outputs.push(JSON.stringify(w.rt.advanceHours(2)));
  w.rt.revokeDirectoryAccess(false);
  w.rt.properties.script.map.set(`rs:${ssId}:progress`, '{"part":');
  call('getSyncProgress', [], ADMIN);
  later(w);
  call('syncNow', [{}], ADMIN);

  const places: Record<string, string> = {
    'server results': outputs.join('\n'),
    logs: w.rt.logText(),
    mail: JSON.stringify(w.rt.outbox),
    'script properties': JSON.stringify(w.rt.scriptProperties()),
    'document properties': JSON.stringify(w.rt.documentProperties()),
    sheets: JSON.stringify([...w.rt.spreadsheet().sheets].map((s) => s.rows)),
  };
  expect(w.rt.outbox.length).toBeGreaterThan(0);
  expect(places.logs.length).toBeGreaterThan(0);
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    for (const [what, value] of Object.entries(secrets)) if (text.includes(value)) leaks.push(`${what} in ${where}`);
  }
  rec.count('secretLeaks', leaks.length);
  rec.count('secretChecks', Object.keys(secrets).length * Object.keys(places).length);
  expect(leaks).toEqual([]);
  rec.count('serverFunctions', SERVER.length);
});

// ---------- scopes ----------

const SCOPE_PREFIX = 'https://www.googleapis.com/auth/';

/** What in the bundle needs which scope. */
const SCOPE_USES: [string, RegExp][] = [
  ['admin.directory.user.readonly', /\.Users\.(list|get)\(/],
  ['admin.directory.orgunit.readonly', /\.Orgunits\.list\(/],
  ['admin.directory.group.readonly', /\.(Groups|Members)\.(list|get|hasMember)\(/],
  ['spreadsheets', /SpreadsheetApp\.(getActiveSpreadsheet|openById)\(/],
  ['script.container.ui', /\.getUi\(\)/],
  ['script.scriptapp', /ScriptApp\.newTrigger\(/],
  ['script.send_mail', /MailApp\.sendEmail\(/],
  ['script.external_request', /UrlFetchApp\.(fetch|fetchAll)\(/],
  ['userinfo.email', /Session\.get(Active|Effective)User\(\)/],
];

rec.test('scopes', "appsscript.json's oauthScopes match the README's OAuth scopes table exactly, and each is used by the bundle", () => {
  const root = path.join(__dirname, '../..');
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'appsscript.json'), 'utf8'));
  const pushed = JSON.parse(fs.readFileSync(path.join(path.dirname(rec.bundle), 'appsscript.json'), 'utf8'));
  expect(pushed.oauthScopes).toEqual(manifest.oauthScopes);
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### OAuth scopes'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| scope |')));
  const documented = [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  const declared = (manifest.oauthScopes as string[]).map((s) => (s.startsWith(SCOPE_PREFIX) ? s.slice(SCOPE_PREFIX.length) : s));
  expect(documented.length).toBeGreaterThan(0);
  expect([...documented].sort()).toEqual([...declared].sort());
  expect(new Set(declared).size).toBe(declared.length);
  // Each declared scope is needed by something the bundle calls, and everything it calls is covered.
  const code = fs.readFileSync(rec.bundle, 'utf8');
  for (const [scope, use] of SCOPE_USES) expect({ scope, used: use.test(code), declared: declared.includes(scope) }).toEqual({ scope, used: declared.includes(scope), declared: declared.includes(scope) });
  expect(declared.filter((s) => !SCOPE_USES.some(([scope]) => scope === s))).toEqual([]);
  rec.count('scopes', declared.length);
});

// ---------- namespacing ----------

rec.test('namespacing', 'settings are namespaced per roster spreadsheet (rs:<spreadsheetId>:): invisible to another spreadsheet, the same for every domain of the customer, and another customer never gets a namespace of its own', () => {
  // One runtime, two spreadsheets.
  const w = world();
  const first = w.rt.activeSpreadsheetId;
  const prefix = `rs:${first}:`;
  for (const k of Object.keys(w.rt.scriptProperties())) expect(k.startsWith(prefix)).toBe(true);
  const second = w.rt.spreadsheets.create('Another roster', ADMIN).id;
  w.rt.activeSpreadsheetId = second;
  expect(w.call('getState')).toMatchObject({ canConfigure: false, linked: false });
  expect(w.call('getSetupStatus')).toMatchObject({ linked: false, installer: '' });
  w.call('useMyAccountForSync', {});
  expect(w.call('getState').settings.rules).toEqual([]);
  w.save({ rules: [DEMO_RULES[0]], cooldownMinutes: 5 });
  for (const k of Object.keys(w.rt.scriptProperties())) expect(k.startsWith(prefix) || k.startsWith(`rs:${second}:`)).toBe(true);
  w.rt.activeSpreadsheetId = first;
  expect(w.call('getState').settings).toMatchObject({ rules: DEMO_RULES, cooldownMinutes: 15 });
  // Secrets are per spreadsheet too.
  if (SERVER.includes('saveScimToken')) {
    w.call('saveScimToken', { token: 'tok_first_spreadsheet_0123456789' });
    expect(w.call('getState').secrets.scim.saved).toBe(true);
    w.rt.activeSpreadsheetId = second;
    expect(w.call('getState').secrets.scim.saved).toBe(false);
    w.rt.activeSpreadsheetId = first;
  }

  // An admin whose address is in one of the customer's secondary domains, listed under Admins,
  // configures the same roster (a namespace per email domain would show them an unlinked one).
  const secondary = 'it.director@staff.springfield-schools.example';
  w.save({ admins: [secondary] });
  expect(w.call('getState', undefined, secondary)).toMatchObject({ canConfigure: true, installer: ADMIN, settings: { rules: DEMO_RULES } });
  w.call('saveSettings', { ...w.settings(), cooldownMinutes: 20 }, secondary);
  expect(w.settings().cooldownMinutes).toBe(20);

  // Another customer's admin with whom the spreadsheet was shared: refused, and cannot link a
  // configuration of their own that would sync their directory into this roster.
  const outsider = 'admin@other-district.example';
  const before = JSON.stringify(w.rt.scriptProperties());
  expect(w.call('getState', undefined, outsider)).toMatchObject({ canConfigure: false, message: { text: NOT_ALLOWED } });
  expect(w.envelope('useMyAccountForSync', { confirmChange: true }, outsider)).toMatchObject({ ok: false, error: { id: 'notAllowed' } });
  expect(JSON.stringify(w.rt.scriptProperties())).toBe(before);

  // The document-scope build keeps settings in the spreadsheet's own document properties.
  const doc = harnessWorld({ scriptPath: rec.documentBundle });
  expect(Object.keys(doc.rt.scriptProperties())).toEqual([]);
  const docKeys = Object.keys(doc.rt.documentProperties());
  expect(docKeys.length).toBeGreaterThan(0);
  for (const k of docKeys) expect(k.startsWith('rs:')).toBe(true);
  doc.rt.activeSpreadsheetId = doc.rt.spreadsheets.create('Another roster', ADMIN).id;
  expect(doc.call('getState')).toMatchObject({ canConfigure: false, linked: false });
  rec.count('namespaces', 5);
});
