// A sync world for the SCIM destination tests: the core's in-memory services
// (directory, config, state, history), the real synchronous UrlFetchApp
// installed as the global Apps Script gives scripts, and a new ScimRoster per
// simulated execution, exactly as buildServices would make one. And the built
// bundle's world whose destination is a SCIM test server (appWorld).
import { Settings } from '../../src/core/settings';
import { SyncResult, runSync } from '../../src/core/sync';
import { ScimSettings, defaultScimSettings } from '../../src/destinations/scim/scimConfig';
import { ScimRoster } from '../../src/destinations/scim/scimRoster';
import { SyncHttp, closeHttpWorker, createUrlFetchApp } from '../../emulator/fakes/urlFetchHttp';
import { TestWorld, makeWorld } from '../fakes/memory';
import { ScimTestServer, startScimServer } from '../../emulator/scim/harness';
import type { Switches } from '../../emulator/scim/server';
import { World, world } from '../e2e/harness';

export const TOKEN = 'test-token-0123456789abcdef';

export interface ScimWorld extends Omit<TestWorld, 'roster'> {
  http: SyncHttp;
  /** Every Utilities.sleep the code asked for (tests do not really wait). */
  sleeps: number[];
  scim: ScimSettings;
  token: string;
  /** The roster of the last simulated execution. */
  roster: ScimRoster;
  newRoster(): ScimRoster;
  /** One sync from start to finish (continuing parts), each part a fresh execution. */
  sync(): SyncResult;
  /** HTTP requests sent since the last call. */
  takeRequests(): { total: number; byMethod: Record<string, number>; log: { method: string; url: string; code: number }[] };
}

export function scimWorld(server: ScimTestServer, scim: Partial<ScimSettings> = {}, settings: Partial<Settings> = {}): ScimWorld {
  const base = makeWorld();
  const http = new SyncHttp({ timeoutMs: 20_000 });
  const sleeps: number[] = [];
  const g = globalThis as Record<string, unknown>;
  g.UrlFetchApp = createUrlFetchApp(http);
  // Utilities.sleep moves the simulated clock the roster reads, so a wait it asks for is measured on that clock alone.
  g.Utilities = {
    sleep: (ms: number) => {
      sleeps.push(ms);
      base.clock.now += ms;
    },
  };
  const d = base.directory;
  for (const ou of ['/Students', '/Teachers', '/Staff']) d.addOu(ou);
  base.setSettings({
    rules: [
      { id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' },
      { id: 'teachers', type: 'ou', orgUnitPath: '/Teachers', includeSubOrgUnits: true, role: 'teacher' },
    ],
    cooldownMinutes: 0,
    graceDays: 7,
    threshold: { kind: 'count', value: 1000, windowHours: 24 },
    ...settings,
  });
  const world = base as unknown as ScimWorld;
  world.http = http;
  world.sleeps = sleeps;
  world.token = TOKEN;
  world.scim = { ...defaultScimSettings(), baseUrl: server.baseUrl, ...scim };
  world.newRoster = () => {
    const settingsNow = JSON.parse(base.config.get('settings')!) as Settings;
    // No fetchAll/sleep options: the roster uses the UrlFetchApp and Utilities globals, as in Apps Script; its clock is the world's.
    world.roster = new ScimRoster({ settings: world.scim, token: world.token, roles: settingsNow.roles, state: base.svc.state, now: () => base.clock.now });
    base.svc.roster = world.roster;
    return world.roster;
  };
  world.sync = () => {
    world.newRoster();
    let result = runSync(base.svc, { trigger: 'manual', mode: 'start' });
    for (let i = 0; result.state === 'in-progress' && i < 50; i++) {
      world.newRoster();
      result = runSync(base.svc, { trigger: 'manual', mode: 'continue' });
    }
    base.clock.now += 60_000;
    return result;
  };
  world.takeRequests = () => {
    const out = { total: http.stats.requests, byMethod: { ...http.stats.byMethod }, log: http.stats.log.map(({ method, url, code }) => ({ method, url, code })) };
    http.resetStats();
    return out;
  };
  world.newRoster();
  return world;
}

/** Adds a Google user in an OU of the world's directory. */
export function person(world: ScimWorld, n: number, ou = '/Students', extra: { suspended?: boolean } = {}) {
  return world.directory.addUser(idFor(n), emailFor(n), `First${n} Last${n}`, ou, extra);
}

export function emailFor(n: number): string {
  return `user${n}@school.example`;
}

export function idFor(n: number): string {
  return `1${String(n).padStart(20, '0')}`;
}

export const writesOf = (log: { method: string }[]) => log.filter((r) => r.method !== 'GET');

/** The app at `server` emptied of users and groups, accepting `token` and behaving as `switches` say. */
export async function resetApp(server: ScimTestServer, token: string, switches: Partial<Switches> = {}): Promise<void> {
  await server.clear();
  await server.set({ token, ...switches });
}

export interface AppWorldOptions {
  /** The token the sync account pastes; null pastes none. */
  token: string | null;
  /** How the simulated runtime is made (the bundle, the directory, the rules). */
  world?: Parameters<typeof world>[0];
  /** SCIM settings beyond the app's base URL and roles sent as the `roles` attribute. */
  scim?: Record<string, unknown>;
  /** Other settings saved with them. */
  settings?: Record<string, unknown>;
  /** The base URL the settings form sends beside the token (else the saved one is used). */
  tokenFor?: string;
}

/**
 * The built bundle in the simulated runtime (test/e2e/harness), linked, its destination the app at
 * `server` (roles as the `roles` attribute unless `scim` says otherwise), the token pasted by the sync account.
 */
export function appWorld(server: ScimTestServer, options: AppWorldOptions): World {
  const w = world({ urlFetch: new SyncHttp(), ...options.world });
  w.save({ destination: 'scim', scim: { baseUrl: server.baseUrl, roleMapping: 'roles', ...options.scim }, ...options.settings });
  if (options.token !== null) w.call('saveScimToken', options.tokenFor ? { token: options.token, baseUrl: options.tokenFor } : { token: options.token });
  return w;
}

/**
 * A SCIM test server for the test file that calls this (started before its tests, stopped after them,
 * with the worker that carries UrlFetchApp's requests), accepting `token` (any, without one).
 */
export function scimServerForFile(token?: string): ScimTestServer {
  let server: ScimTestServer | undefined;
  beforeAll(async () => {
    server = await startScimServer(token ? { token } : {});
  });
  afterAll(async () => {
    await server?.stop();
    await closeHttpWorker();
  });
  const started = (): ScimTestServer => {
    if (!server) throw new Error('the SCIM test server has not started');
    return server;
  };
  return {
    get baseUrl() {
      return started().baseUrl;
    },
    get port() {
      return started().port;
    },
    set: (switches) => started().set(switches),
    state: () => started().state(),
    seed: (users, groups) => started().seed(users, groups),
    restore: (store) => started().restore(store),
    mutate: (userName, patch) => started().mutate(userName, patch),
    clearLog: () => started().clearLog(),
    clear: () => started().clear(),
    stop: () => started().stop(),
  };
}
