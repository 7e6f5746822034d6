// The local demo: the built bundle in the simulated Apps Script runtime against
// the demo school district, the sidebar served on localhost next to a live view
// of the roster sheet, and controls that change the directory or break things.
//   npm start            → http://127.0.0.1:8080/ (PORT=… to change)
//   npm start -- --fresh → the same, unlinked: the first-open screens, and a second demo admin
//   npm start -- --scim  → a local SCIM 2.0 app as the destination
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { SimRuntime, googleError } from './runtime';
import { DEMO_DOMAIN, DEMO_SCHEMA, demoDistrict, rollover } from './domain';
import type { FakeDirectoryState } from './fakes/directoryState';
import { SyncHttp, closeHttpWorker } from './fakes/urlFetchHttp';
import { startScimServer } from './scim/harness';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

export interface EmulatorOptions {
  port?: number;
  /** A directory to serve instead of the demo district. */
  directory?: FakeDirectoryState;
  /** Link the demo admin and map the usual OUs and groups before the first page load (default true). */
  preconfigure?: boolean;
  scriptPath?: string;
  /** Extra globals for every execution (e.g. ROSTER_SYNC_BUDGET_MS to see multi-part syncs). */
  globals?: Record<string, unknown>;
  /** Also start a local SCIM 2.0 app and make it the destination, so users can be seen arriving there. */
  scim?: boolean;
  /** Also map the demo's attributes and app groups (DEMO_ATTRIBUTES, DEMO_APP_GROUPS), as `npm start` does. */
  attributes?: boolean;
  /**
   * The simulated clock moves on with real time between requests (as a person expects of a demo),
   * and a preconfigured demo sets the cooldown to 0 so Sync now can be pressed again at once.
   */
  realTime?: boolean;
}

export interface Emulator {
  url: string;
  runtime: SimRuntime;
  close(): Promise<void>;
}

/** The guided path of the demo page, in order; each step is ticked once the person has done it. */
export const STORY_STEPS = ['link', 'map', 'preview', 'sync', 'accounts', 'day', 'finalize'] as const;
type StoryStep = (typeof STORY_STEPS)[number];

/** The server function (or demo control) that completes each step. */
const STEP_OF: Record<string, StoryStep> = {
  useMyAccountForSync: 'link', saveSettings: 'map', previewSync: 'preview', syncNow: 'sync', getAccounts: 'accounts', 'scheduled-sync': 'day', runFinalizeChecks: 'finalize',
};

/** The mappings a district admin would start with. */
export const DEMO_RULES = [
  { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
  { id: 'teachers', type: 'ou', orgUnitPath: '/Staff/Teachers', includeSubOrgUnits: true, role: 'teacher' },
  { id: 'admins', type: 'group', groupEmail: `admins@${DEMO_DOMAIN}`, role: 'admin' },
  { id: 'counselors', type: 'group', groupEmail: `counselors@${DEMO_DOMAIN}`, role: 'teacher' },
];

/** What the demo maps beyond name and email: every kind of source the demo district fills in. */
export const DEMO_ATTRIBUTES = [
  { name: 'Student ID', source: 'externalIds.organization', scim: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber' },
  { name: 'School', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'school', scim: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization' },
  { name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade', scim: 'urn:ietf:params:scim:schemas:extension:hallpass:2.0:User:grade' },
  { name: 'Homeroom', source: `customSchemas.${DEMO_SCHEMA}.homeroom`, scim: 'urn:ietf:params:scim:schemas:extension:hallpass:2.0:User:homeroom' },
  { name: 'Title', source: 'organizations.title', scim: 'title' },
  { name: 'Department', source: 'organizations.department', scim: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' },
  { name: 'Manager', source: 'relations.manager', scim: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager' },
];
export const DEMO_APP_GROUPS = [`all-staff@${DEMO_DOMAIN}`, `robotics-club@${DEMO_DOMAIN}`];

type Json = Record<string, unknown>;

export function createRuntime(options: EmulatorOptions = {}, urlFetch?: SyncHttp): SimRuntime {
  const runtime = new SimRuntime({
    urlFetch,
    globals: options.globals,
    scriptPath: options.scriptPath ?? path.join(DIST, 'Code.js'),
    htmlDir: DIST,
    directory: options.directory ?? demoDistrict(),
    clockStartMs: Date.UTC(2026, 8, 1, 14, 0, 0),
  });
  if (options.preconfigure !== false) {
    const state = envelope(runtime.runFromBrowser('useMyAccountForSync', [{}]));
    const extra = options.attributes ? { attributes: DEMO_ATTRIBUTES, appGroups: DEMO_APP_GROUPS } : {};
    envelope(runtime.runFromBrowser('saveSettings', [{ ...(state.settings as Json), rules: DEMO_RULES, ...(options.realTime ? { cooldownMinutes: 0 } : {}), ...extra }]));
  }
  return runtime;
}

function envelope(result: unknown): Json {
  const r = result as { ok: boolean; data?: Json; error?: { text: string } };
  if (!r?.ok) throw new Error(`demo setup failed: ${r?.error?.text ?? JSON.stringify(result)}`);
  return r.data!;
}

/** Things a person (or a browser test) can do to the demo world. */
function demoAction(runtime: SimRuntime, action: string, body: Json): Json {
  const dir = runtime.directory;
  const pick = (ou: string) => dir.allUsers().find((u) => u.orgUnitPath.startsWith(ou) && !u.suspended);
  switch (action) {
    case 'rollover':
      return { moved: rollover(dir).moves.length };
    case 'suspend-student': {
      const u = pick('/Students');
      if (u) dir.suspend(u.primaryEmail, true);
      return { suspended: u?.primaryEmail ?? null };
    }
    case 'promote-teacher': {
      const u = pick('/Staff/Teachers');
      if (u) dir.addMember(`admins@${DEMO_DOMAIN}`, u.primaryEmail);
      return { promoted: u?.primaryEmail ?? null };
    }
    case 'api-disabled':
      runtime.disableAdminApi(Boolean(body.on));
      return { apiDisabled: Boolean(body.on) };
    case 'access-revoked':
      runtime.revokeDirectoryAccess(Boolean(body.on));
      return { accessRevoked: Boolean(body.on) };
    case 'directory-outage': {
      // Every users.list page answers 503 until cleared: the next sync fails and changes nothing.
      runtime.clearFaults();
      if (body.on) runtime.inject('AdminDirectory.Users.list', () => googleError('users.list', 503, 'backendError', 'Service unavailable'));
      return { outage: Boolean(body.on) };
    }
    case 'rename-teachers-ou':
      // A mapped OU renamed in Google: the rule breaks, and its users must be kept, not deactivated.
      return { renamed: dir.renameOu('/Staff/Teachers', 'Faculty') };
    case 'remove-trigger':
      for (const t of [...runtime.triggers.list]) runtime.triggers.remove(t.uid);
      return { triggers: runtime.triggers.list.length };
    case 'protect-roster':
      runtime.protectSheet(runtime.activeSpreadsheetId, 'Roster', []);
      return { protected: true };
    case 'unprotect-roster':
      runtime.unprotectSheet(runtime.activeSpreadsheetId, 'Roster');
      return { protected: false };
    case 'restore-teachers-ou':
      return { renamed: dir.renameOu('/Staff/Faculty', 'Teachers') };
    case 'restore-trigger': {
      // The sync account saves its settings again, which reinstalls its heartbeat (as Finalize's button does).
      const owner = syncAccount(runtime);
      if (owner) envelope(runtime.runFromBrowser('reinstallTrigger', [], { user: owner }));
      return { triggers: runtime.triggers.list.length };
    }
    case 'scheduled-sync':
      return { runs: runtime.advanceHours(Number(body.hours ?? 1)) };
    default:
      throw new Error(`unknown demo action ${action}`);
  }
}

const DEMO_SCIM_TOKEN = 'demo-scim-token-0123456789';

/** The SCIM app's users, with the groups they are members of, as a table for the demo page. */
function scimTable({ users, groups }: { users: Record<string, any>[]; groups: Record<string, any>[] }): unknown[][] {
  const groupsOf = new Map<string, string[]>();
  for (const g of groups) for (const m of g.members ?? []) groupsOf.set(m.value, [...(groupsOf.get(m.value) ?? []), g.displayName]);
  const rows = users.map((u) => [u.id, u.externalId ?? '', u.userName, u.displayName ?? '', u.active === false ? 'inactive' : 'active', (u.roles ?? []).map((r: { value: string }) => r.value).join(', '), (groupsOf.get(u.id) ?? []).join(', ')]);
  return [['SCIM id', 'externalId', 'userName', 'displayName', 'active', 'roles', 'groups'], ...rows];
}

function syncAccount(runtime: SimRuntime): string {
  const state = runtime.runFromBrowser('getSetupStatus', []) as { ok: boolean; data?: { syncAccount: string } };
  return state.ok ? state.data?.syncAccount ?? '' : '';
}

/** The emails (or SCIM userNames) of the accounts the last sync changed, for the roster view to highlight. */
function lastChanged(runtime: SimRuntime, user: string, cache: { startedAt: string; emails: string[] }): string[] {
  const state = runtime.runFromBrowser('getState', [], { user }) as { ok: boolean; data?: { history?: { startedAt: string; counts: Record<string, number> }[] } };
  const last = state.ok ? state.data?.history?.[0] : undefined;
  if (!last) return [];
  if (last.startedAt !== cache.startedAt) {
    const report = runtime.runFromBrowser('getSyncReport', [{ startedAt: last.startedAt }], { user }) as { ok: boolean; data?: { changes: { email: string }[] } };
    cache.startedAt = last.startedAt;
    cache.emails = report.ok ? report.data!.changes.map((c) => c.email.toLowerCase()) : [];
  }
  return cache.emails;
}

/** The demo's admins: the one linked by default, and a second super admin for "Change sync account?". */
function demoAdmins(runtime: SimRuntime): string[] {
  const second = runtime.directory.allUsers().find((u) => u.isAdmin && !u.suspended && u.primaryEmail.toLowerCase() !== runtime.defaultUser);
  return [runtime.defaultUser, ...(second ? [second.primaryEmail.toLowerCase()] : [])];
}

function sheet(runtime: SimRuntime, name: string): unknown[][] {
  try {
    return runtime.sheetValues(name);
  } catch {
    return [];
  }
}

function sidebarHtml(runtime: SimRuntime): string {
  runtime.run('showSidebar');
  const shown = runtime.ui.sidebar;
  if (!shown) throw new Error('showSidebar did not open a sidebar');
  // Like Google's iframe, the page gets google.script.run before its own scripts run.
  const bridge = '<script src="/bridge.js"></script>';
  return /<head[^>]*>/i.test(shown.content) ? shown.content.replace(/<head[^>]*>/i, (m) => `${m}${bridge}`) : bridge + shown.content;
}

function readBody(req: http.IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
      if (data.length > 5_000_000) reject(new Error('request too large'));
    });
    req.on('end', () => {
      try {
        resolve(data ? (JSON.parse(data) as Json) : {});
      } catch (e) {
        reject(e);
      }
    });
  });
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  res.end(body);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  // The synchronous UrlFetchApp blocks this thread, so the SCIM app runs in a child process.
  const scim = options.scim ? await startScimServer({ token: DEMO_SCIM_TOKEN }) : null;
  const runtime = createRuntime(options, scim ? new SyncHttp() : undefined);
  if (scim && options.preconfigure !== false) {
    const state = envelope(runtime.runFromBrowser('getState', []));
    envelope(runtime.runFromBrowser('saveSettings', [{ ...(state.settings as Json), destination: 'scim', scim: { baseUrl: scim.baseUrl, roleMapping: 'groups' } }]));
    envelope(runtime.runFromBrowser('saveScimToken', [{ token: DEMO_SCIM_TOKEN }]));
  }
  const page = fs.readFileSync(path.join(__dirname, 'demo.html'), 'utf8');
  const bridge = fs.readFileSync(path.join(__dirname, 'bridge.js'), 'utf8');
  // The guided path: what this person has done so far (a preconfigured demo starts linked and mapped).
  const done = new Set<StoryStep>(options.preconfigure === false ? [] : ['link', 'map']);
  const changedCache = { startedAt: '', emails: [] as string[] };
  const admins = demoAdmins(runtime);
  let signedIn = runtime.defaultUser;
  let realMs = Date.now();
  const keepRealTime = () => {
    const now = Date.now();
    if (options.realTime) runtime.setClock(runtime.nowMs() + (now - realMs));
    realMs = now;
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    keepRealTime();
    try {
      if (req.method === 'GET' && url.pathname === '/') return send(res, 200, 'text/html', page);
      if (req.method === 'GET' && url.pathname === '/sidebar') return send(res, 200, 'text/html', sidebarHtml(runtime));
      if (req.method === 'GET' && url.pathname === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
      if (req.method === 'GET' && url.pathname === '/bridge.js') return send(res, 200, 'text/javascript', bridge);
      if (req.method === 'GET' && url.pathname === '/api/sheets') {
        const roster = scim ? scimTable(await scim.state()) : sheet(runtime, 'Roster');
        return send(res, 200, 'application/json', JSON.stringify({
          roster, destination: scim ? `SCIM app at ${scim.baseUrl}` : 'Sheet "Roster"', history: sheet(runtime, 'Sync history'), now: new Date(runtime.nowMs()).toISOString(), outbox: runtime.outbox.length,
          changed: lastChanged(runtime, signedIn, changedCache), story: STORY_STEPS.filter((s) => done.has(s)), admins, signedIn, realTime: Boolean(options.realTime), cooldownZero: Boolean(options.realTime) && options.preconfigure !== false,
        }));
      }
      if (req.method === 'POST' && url.pathname === '/api/demo/sign-in') {
        const user = String((await readBody(req)).user ?? '').toLowerCase();
        if (!admins.includes(user)) return send(res, 400, 'text/plain', 'not a demo admin');
        signedIn = user;
        return send(res, 200, 'application/json', JSON.stringify({ signedIn }));
      }
      const rpc = /^\/rpc\/([A-Za-z_$][\w$]*)$/.exec(url.pathname);
      if (req.method === 'POST' && rpc) {
        const body = await readBody(req);
        try {
          const result = runtime.runFromBrowser(rpc[1], Array.isArray(body.args) ? body.args : [], { user: signedIn });
          if ((result as { ok?: boolean })?.ok && STEP_OF[rpc[1]]) done.add(STEP_OF[rpc[1]]);
          return send(res, 200, 'application/json', JSON.stringify({ result: result === undefined ? null : result }));
        } catch (error) {
          return send(res, 200, 'application/json', JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
        }
      }
      const demo = /^\/api\/demo\/([a-z-]+)$/.exec(url.pathname);
      if (req.method === 'POST' && demo) {
        const result = demoAction(runtime, demo[1], await readBody(req));
        if (STEP_OF[demo[1]]) done.add(STEP_OF[demo[1]]);
        return send(res, 200, 'application/json', JSON.stringify(result));
      }
      send(res, 404, 'text/plain', 'not found');
    } catch (error) {
      send(res, 500, 'text/plain', error instanceof Error ? error.message : String(error));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    runtime,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (scim) {
        await scim.stop();
        await closeHttpWorker();
      }
    },
  };
}

if (require.main === module) {
  const scim = process.argv.includes('--scim');
  const fresh = process.argv.includes('--fresh');
  startEmulator({ port: Number(process.env.PORT ?? 8080), scim, preconfigure: !fresh, realTime: true, attributes: true }).then((e) => {
    console.log(`Roster Sync demo (${DEMO_DOMAIN}, ${e.runtime.directory.allUsers().length} people${scim ? ', destination: a local SCIM 2.0 app' : ''}${fresh ? ', not linked yet' : ''}) at ${e.url}`);
    console.log('Press Ctrl+C to stop.');
  }, (error: NodeJS.ErrnoException) => {
    const port = Number(process.env.PORT ?? 8080);
    if (error.code !== 'EADDRINUSE') throw error;
    console.error(`Port ${port} is in use; start with PORT=${port + 1} npm start`);
    process.exit(1);
  });
}
