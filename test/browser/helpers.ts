// Browser test helpers: Debian's Chromium driven by playwright-core against the local emulator.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Locator, Page, chromium } from 'playwright-core';
import { Emulator, EmulatorOptions, startEmulator as start } from '../../emulator/serve';
import { DEMO_DOMAIN } from '../../emulator/domain';

export type { Emulator };

/**
 * Where the browser tests save their screenshots: the README's docs/screenshots when asked
 * (`npm run screenshots`), else a scratch folder, so a test run leaves the work tree as it was.
 */
export const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS ? join(__dirname, '..', '..', 'docs', 'screenshots') : join(__dirname, '..', '..', '.cache', 'screenshots');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/** A fresh emulator on an ephemeral port: by default linked to the demo admin with the demo mappings. */
export function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return start({ port: 0, ...options });
}

/** Calls a server function the way the sidebar does and unwraps its envelope. */
export async function rpc<T = any>(emu: Emulator, fn: string, arg?: unknown): Promise<T> {
  const response = await fetch(new URL(`rpc/${fn}`, emu.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ args: arg === undefined ? [] : [arg] }) });
  const body = (await response.json()) as { result?: { ok: boolean; data?: T; error?: { text: string } }; error?: unknown };
  if (!body.result) throw new Error(`${fn}: ${JSON.stringify(body.error)}`);
  if (!body.result.ok) throw new Error(`${fn}: ${body.result.error?.text}`);
  return body.result.data as T;
}

/** Saves settings through the server API (for tests whose subject is not the settings screen). */
export async function configure(emu: Emulator, patch: Record<string, unknown>): Promise<void> {
  const state = await rpc(emu, 'getState');
  await rpc(emu, 'saveSettings', { ...(state.settings ?? state.defaults), ...patch, confirmLowerProtection: true });
}

export const EVERYONE = [{ id: 'everyone', type: 'ou', orgUnitPath: '/', includeSubOrgUnits: true, role: 'student' }];

export interface Sidebar {
  page: Page;
  /** Messages of every alert/confirm/prompt the page opened (there must be none). */
  dialogs: string[];
  /** Uncaught page errors. */
  errors: string[];
  /** Most server calls the page ever had in flight at once (google.script.run allows 10). */
  maxInFlight: number;
  /** Every google.script.run call the page made, in order, with its request and response bodies (see rpcTraffic). */
  rpcLog: { fn: string; request: string; response: string }[];
  pending: Promise<void>[];
}

/** The page's server calls so far, once every answer has been read. */
export async function rpcTraffic(sidebar: Sidebar): Promise<Sidebar['rpcLog']> {
  await Promise.all(sidebar.pending);
  return sidebar.rpcLog;
}

/** Records a page's uncaught errors and the messages of the dialogs it opens (each dismissed at once). */
function watch(page: Page): { dialogs: string[]; errors: string[] } {
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { dialogs, errors };
}

export async function openSidebar(browser: Browser, emu: Emulator, ready = '#tabs'): Promise<Sidebar> {
  const page = await browser.newPage({ viewport: { width: 300, height: 900 } });
  const sidebar: Sidebar = { page, ...watch(page), maxInFlight: 0, rpcLog: [], pending: [] };
  let inFlight = 0;
  const isRpc = (r: { url(): string }) => new URL(r.url()).pathname.startsWith('/rpc/');
  page.on('request', (r) => {
    if (isRpc(r)) sidebar.maxInFlight = Math.max(sidebar.maxInFlight, ++inFlight);
  });
  const done = (r: { url(): string }) => {
    if (isRpc(r)) inFlight--;
  };
  page.on('response', (r) => {
    if (!isRpc(r)) return;
    const fn = new URL(r.url()).pathname.slice('/rpc/'.length);
    const request = r.request().postData() ?? '';
    const entry = { fn, request, response: '' };
    sidebar.rpcLog.push(entry);
    sidebar.pending.push(r.text().then((t) => void (entry.response = t), () => void (entry.response = '(unread)')));
  });
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  await page.goto(new URL('sidebar', emu.url).href);
  await page.locator(ready).waitFor({ state: 'visible' });
  return sidebar;
}

export interface SidebarSuite {
  /** This test's emulator. */
  readonly emu: Emulator;
  /** The sidebar this test opened last. */
  readonly ui: Sidebar;
  /** Starts this test's emulator (closing one it had). */
  start(options?: EmulatorOptions): Promise<Emulator>;
  /** Opens the sidebar on this test's emulator, once `ready` shows. */
  open(ready?: string): Promise<Sidebar>;
  /** A page of another size (the demo page), its errors and dialogs watched like a sidebar's. */
  newPage(viewport: { width: number; height: number }): Promise<Page>;
}

/**
 * The setup every browser test file shares: one Chromium for the file; for each test, an emulator
 * (started by `start`, or before every test with `startEach`) and the pages it opened, closed after the
 * test once each is checked: no uncaught error, no dialog, never more than 10 server calls in flight.
 */
export function sidebarSuite(options: { startEach?: EmulatorOptions } = {}): SidebarSuite {
  let browser: Browser | undefined;
  let emu: Emulator | undefined;
  let sidebars: Sidebar[] = [];
  let pages: { page: Page; dialogs: string[]; errors: string[] }[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  if (options.startEach) {
    const startOptions = options.startEach;
    beforeEach(async () => {
      emu = await startEmulator(startOptions);
    });
  }
  afterEach(async () => {
    for (const ui of sidebars) expect(ui.maxInFlight).toBeLessThanOrEqual(10);
    for (const { page, dialogs, errors } of [...sidebars, ...pages]) {
      expect(errors).toEqual([]);
      expect(dialogs).toEqual([]);
      if (!page.isClosed()) await page.close();
    }
    sidebars = [];
    pages = [];
    await emu?.close();
    emu = undefined;
  });
  const started = (): Emulator => {
    if (!emu) throw new Error('this test started no emulator');
    return emu;
  };
  const launched = (): Browser => {
    if (!browser) throw new Error('the browser did not start');
    return browser;
  };
  return {
    get emu() {
      return started();
    },
    get ui() {
      const last = sidebars.at(-1);
      if (!last) throw new Error('this test opened no sidebar');
      return last;
    },
    async start(startOptions) {
      await emu?.close();
      emu = await startEmulator(startOptions);
      return emu;
    },
    async open(ready) {
      const ui = await openSidebar(launched(), started(), ready);
      sidebars.push(ui);
      return ui;
    },
    async newPage(viewport) {
      const page = await launched().newPage({ viewport });
      pages.push({ page, ...watch(page) });
      return page;
    },
  };
}

export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
  await page.locator(`[role=tab][aria-selected=true]`, { hasText: name }).first().waitFor();
}

/** Waits until the locator's text contains `text`, then returns the whole text. */
export async function textOf(locator: Locator, text: string | RegExp, timeout = 15000): Promise<string> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
  return (await locator.first().textContent()) ?? '';
}

/** Saves docs/screenshots/<name>.png of the 300 px sidebar, scrolled to the top or to `anchor`. */
export async function screenshot(page: Page, name: string, anchor?: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  if (anchor) await page.locator(anchor).evaluate((el) => el.scrollIntoView());
  else await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Saves docs/screenshots/<name>.png of one part of the 300 px sidebar, however tall it is. */
export async function screenshotOf(page: Page, selector: string, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  const scrollY = await page.evaluate(() => window.scrollY);
  const width = page.viewportSize()?.width ?? 300;
  // The full sidebar width (with its padding), from just above the element to just below it.
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, clip: { x: 0, y: Math.max(0, box.y + scrollY - 8), width, height: box.height + 16 } });
}

/** The emulator's demo control: a directory outage (users.list answers 503) on or off. */
export async function directoryOutage(emu: Emulator, on: boolean): Promise<void> {
  const response = await fetch(new URL('api/demo/directory-outage', emu.url), { method: 'POST', body: JSON.stringify({ on }) });
  expect(await response.json()).toEqual({ outage: on });
}

/** The demo district's user whose name is HTML: it must show as text everywhere. */
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
export const MARKUP_USER = `markup.test@${DEMO_DOMAIN}`;

/**
 * Every execution of the script gets a 200 ms budget (the bundle's ROSTER_SYNC_BUDGET_MS global),
 * so a full sync of the demo district takes several parts.
 */
export const SMALL_EXECUTIONS: EmulatorOptions = { globals: { ROSTER_SYNC_BUDGET_MS: 200 } };

/** The bearer token startEmulator({ scim: true }) gives its SCIM app (and saves for the sync account). */
export const DEMO_SCIM_TOKEN = 'demo-scim-token-0123456789';

/** A SCIM app's users with the groups they belong to, read over SCIM itself (paged), as the app holds them. */
export async function scimUsers(baseUrl: string, token: string): Promise<{ id: string; userName: string; externalId?: string; active?: boolean; roles: string[]; groups: string[] }[]> {
  const list = async (collection: string) => {
    const all: Record<string, any>[] = [];
    for (let start = 1; ; ) {
      const response = await fetch(`${baseUrl}/${collection}?startIndex=${start}&count=100`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/scim+json' } });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { Resources?: Record<string, any>[]; totalResults: number };
      all.push(...(page.Resources ?? []));
      if (!page.Resources?.length || all.length >= page.totalResults) return all;
      start += page.Resources.length;
    }
  };
  const groupsOf = new Map<string, string[]>();
  for (const g of await list('Groups')) for (const m of g.members ?? []) groupsOf.set(m.value, [...(groupsOf.get(m.value) ?? []), g.displayName]);
  return (await list('Users')).map((u) => ({
    id: u.id,
    userName: u.userName,
    externalId: u.externalId,
    active: u.active,
    roles: (u.roles ?? []).map((r: { value: string }) => r.value),
    groups: (groupsOf.get(u.id) ?? []).sort(),
  }));
}

/** Runs a server function as another user (as if they had opened the sidebar), unwrapping the envelope. */
export function runAs<T = any>(emu: Emulator, user: string, fn: string, arg?: unknown): T {
  const result = emu.runtime.runFromBrowser(fn, arg === undefined ? [] : [arg], { user }) as { ok: boolean; data?: T; error?: { text: string } };
  if (!result.ok) throw new Error(`${fn} as ${user}: ${result.error?.text}`);
  return result.data as T;
}

/** A second super admin of the demo district (not the account startEmulator links). */
export function otherAdmin(emu: Emulator): string {
  const me = emu.runtime.defaultUser;
  const other = emu.runtime.directory.allUsers().find((u) => u.isAdmin && !u.suspended && u.primaryEmail.toLowerCase() !== me);
  if (!other) throw new Error('the demo district has no second admin');
  return other.primaryEmail.toLowerCase();
}

/** The SCIM token kept in a user's private properties (for this spreadsheet), or undefined. */
export function storedScimToken(emu: Emulator, user: string): string | undefined {
  const props = emu.runtime.userProperties(user);
  const keys = Object.keys(props).filter((k) => /(^|:)scimToken$/.test(k));
  expect(keys.length).toBeLessThanOrEqual(1);
  return keys.length ? props[keys[0]] : undefined;
}
