// The SCIM destination inside the simulated Apps Script runtime: the real
// adapters bundled by esbuild and run in a Node vm (no URL, Buffer or
// TextEncoder there), UrlFetchApp backed by the synchronous HTTP implementation
// (emulator/fakes/urlFetchHttp.ts) through the runtime's `urlFetch` option,
// Utilities.sleep on the simulated clock, the ledger in the hidden state sheet.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { FakeDirectoryState, SimRuntime } from '../../emulator/runtime';
import { SyncHttp } from '../../emulator/fakes/urlFetchHttp';
import { scimServerForFile } from './world';

const GLOBAL = '__ScimTest';
const ADMIN = 'admin@school.example';
const TOKEN = 'runtime-token-abcdef0123456789';
const server = scimServerForFile(TOKEN);
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-rt-'));
  const entry = path.join(__dirname, 'bundleEntry.ts');
  const out = buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName: GLOBAL,
    target: 'es2020',
    platform: 'neutral',
    write: false,
    define: { ROSTER_SYNC_SETTINGS_SCOPE: '"script"' },
    logLevel: 'error',
  });
  const names = [...fs.readFileSync(entry, 'utf8').matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
  const wrappers = names.map((n) => `function ${n}() { return ${GLOBAL}.${n}.apply(this, arguments); }`).join('\n');
  fs.writeFileSync(path.join(dir, 'Code.js'), `${out.outputFiles[0].text}\n${wrappers}\n`);
});

afterAll(async () => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function directory(): FakeDirectoryState {
  const d = new FakeDirectoryState({ domain: 'school.example' });
  d.addUser({ email: ADMIN, givenName: 'School', familyName: 'Admin', orgUnitPath: '/Staff', isAdmin: true });
  for (let i = 1; i <= 6; i++) d.addUser({ email: `student${i}@school.example`, givenName: `Student${i}`, familyName: 'Pupil', orgUnitPath: '/Students' });
  for (let i = 1; i <= 2; i++) d.addUser({ email: `teacher${i}@school.example`, givenName: `Teacher${i}`, familyName: 'Staff', orgUnitPath: '/Teachers' });
  return d;
}

const RULES = [
  { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
  { id: 'teachers', type: 'ou', orgUnitPath: '/Teachers', includeSubOrgUnits: true, role: 'teacher' },
];

function runtime(http: SyncHttp) {
  return new SimRuntime({ scriptPath: path.join(dir, 'Code.js'), htmlDir: dir, directory: directory(), urlFetch: http, defaultUser: ADMIN });
}

function syncToEnd(rt: SimRuntime): any {
  let r = rt.run('sync', ['start']) as any;
  for (let i = 0; r.state === 'in-progress' && i < 20; i++) r = rt.run('sync', ['continue']) as any;
  return JSON.parse(JSON.stringify(r));
}

test('a sync through the bundle in the simulated runtime: creates users, then a second sync sends no writes', async () => {
  await server.clear();
  await server.set({ token: TOKEN });
  const http = new SyncHttp();
  const rt = runtime(http);
  rt.run('setup', [{ baseUrl: server.baseUrl, roleMapping: 'groups' }, RULES, ADMIN]);
  // The token is stored in the user's properties and only ever shown masked.
  const view = JSON.parse(JSON.stringify(rt.run('saveToken', [`Bearer ${TOKEN}`])));
  expect(view).toEqual({ saved: true, masked: `••••••••${TOKEN.slice(-4)}` });
  expect(Object.entries(rt.properties.user(ADMIN).toObject()).filter(([, v]) => v === TOKEN).map(([k]) => k)).toEqual([expect.stringMatching(/scimToken$/)]);
  expect(JSON.stringify(rt.properties.script.toObject())).not.toContain(TOKEN);

  const first = syncToEnd(rt);
  expect(first.state).toBe('done');
  expect(first.applied.create).toBe(8);
  const state = await server.state();
  expect(state.users).toHaveLength(8);
  expect(state.groups.map((g) => [g.displayName, g.members.length]).sort()).toEqual([
    ['student', 6],
    ['teacher', 2],
  ]);
  expect(rt.calls['UrlFetchApp.fetchAll']).toBeGreaterThan(0);

  http.resetStats();
  const second = syncToEnd(rt);
  expect(second.state).toBe('done');
  expect(second.message).toMatch(/^No changes/);
  expect(http.stats.log.filter((l) => l.method !== 'GET')).toEqual([]);
  // ServiceProviderConfig, one page of users, a lookup per role group (student, teacher, admin).
  expect(http.stats.requests).toBe(5);

  const accounts = JSON.parse(JSON.stringify(rt.run('accounts')));
  expect(accounts).toHaveLength(8);
  expect(accounts.every((a: any) => a.status === 'active' && a.source === 'synced' && a.orgUnitPath)).toBe(true);
  expect(JSON.parse(JSON.stringify(rt.run('check')))).toMatchObject({ status: 'pass' });
});

test('503s in the simulated runtime: Utilities.sleep waits on the simulated clock, the sync completes', async () => {
  await server.clear();
  await server.set({ token: TOKEN, fail503: 2, failOn: 'write' });
  const http = new SyncHttp();
  const rt = runtime(http);
  rt.run('setup', [{ baseUrl: server.baseUrl }, RULES, ADMIN]);
  rt.run('saveToken', [TOKEN]);
  const before = rt.nowMs();
  const r = syncToEnd(rt);
  expect(r.state).toBe('done');
  expect(r.applied.create).toBe(8);
  expect(rt.calls['Utilities.sleep']).toBe(2);
  expect(rt.nowMs() - before).toBeGreaterThanOrEqual(3000); // 1 s + 2 s of backoff, simulated
  expect((await server.state()).users).toHaveLength(8);
});

test('a revoked token in the simulated runtime: the run fails at once with the catalog message', async () => {
  await server.clear();
  await server.set({ token: TOKEN });
  const http = new SyncHttp();
  const rt = runtime(http);
  rt.run('setup', [{ baseUrl: server.baseUrl }, RULES, ADMIN]);
  rt.run('saveToken', ['revoked-token-000000000000']);
  const r = syncToEnd(rt);
  expect(r).toMatchObject({ state: 'failed', message: expect.stringContaining('The SCIM token was refused'), fix: expect.stringMatching(/^Paste a new one/) });
  expect(http.stats.requests).toBe(1);
  expect(JSON.parse(JSON.stringify(rt.run('check')))).toMatchObject({ status: 'fail' });
  const missing = runtime(new SyncHttp());
  missing.run('setup', [{ baseUrl: server.baseUrl }, RULES, ADMIN]);
  expect(JSON.parse(JSON.stringify(missing.run('check')))).toMatchObject({ status: 'fail', found: `No SCIM token is saved for ${ADMIN}.` });
});
