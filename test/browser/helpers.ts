// Browser test helpers: Debian's Chromium driven by playwright-core against the local emulator.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Locator, Page, chromium } from 'playwright-core';
import { Emulator, EmulatorOptions, startEmulator as start } from '../../emulator/serve';

export type { Emulator };

export const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'screenshots');

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
  await rpc(emu, 'saveSettings', { ...(state.settings ?? state.defaults), ...patch });
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
}

export async function openSidebar(browser: Browser, emu: Emulator, ready = '#tabs'): Promise<Sidebar> {
  const page = await browser.newPage({ viewport: { width: 300, height: 900 } });
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const sidebar: Sidebar = { page, dialogs, errors, maxInFlight: 0 };
  let inFlight = 0;
  const isRpc = (r: { url(): string }) => new URL(r.url()).pathname.startsWith('/rpc/');
  page.on('request', (r) => {
    if (isRpc(r)) sidebar.maxInFlight = Math.max(sidebar.maxInFlight, ++inFlight);
  });
  const done = (r: { url(): string }) => {
    if (isRpc(r)) inFlight--;
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  await page.goto(new URL('sidebar', emu.url).href);
  await page.locator(ready).waitFor({ state: 'visible' });
  return sidebar;
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

/** The emulator's demo control: a directory outage (users.list answers 503) on or off. */
export async function directoryOutage(emu: Emulator, on: boolean): Promise<void> {
  const response = await fetch(new URL('api/demo/directory-outage', emu.url), { method: 'POST', body: JSON.stringify({ on }) });
  expect(await response.json()).toEqual({ outage: on });
}

export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

/** Adds a directory user whose name is HTML, so tests do not depend on the demo data having one. */
export function addHostileUser(emu: Emulator, orgUnitPath: string): string {
  const email = `hostile.name@${emu.runtime.directory.domain}`;
  emu.runtime.directory.addUser({ email, givenName: HOSTILE_NAME, familyName: 'Test', orgUnitPath });
  return email;
}

/**
 * Gives every execution of the script a 200 ms budget (the bundle's ROSTER_SYNC_BUDGET_MS global), so
 * a full sync of the demo district takes several parts. The runtime reads its `globals` option at each
 * execution; startEmulator does not pass one through, hence the cast.
 */
export function smallExecutions(emu: Emulator): void {
  (emu.runtime as unknown as { options: { globals?: Record<string, unknown> } }).options.globals = { ROSTER_SYNC_BUDGET_MS: 200 };
}
