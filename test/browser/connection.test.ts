// Settings → Destination → Test connection in a real browser (Debian's Chromium) against the demo with
// a local SCIM app that behaves as a profile of the test server: the result is a short table, and the
// app receives no write.
import { Browser } from 'playwright-core';
import { PROFILES } from '../../emulator/scim/profiles';
import { Emulator, Sidebar, launchBrowser, openSidebar, openTab, screenshotOf, textOf, startEmulator } from './helpers';

jest.setTimeout(60_000);

let browser: Browser;
let emu: Emulator | undefined;
let ui: Sidebar | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  if (ui) {
    expect(ui.errors).toEqual([]);
    expect(ui.dialogs).toEqual([]);
    await ui.page.close();
    ui = undefined;
  }
  await emu?.close();
  emu = undefined;
});

/** The table's rows as [check, status word, result text]. */
async function tableRows(sidebar: Sidebar): Promise<string[][]> {
  return sidebar.page.locator('#connectionOut table tbody tr').evaluateAll((rows) =>
    rows.map((r) => [r.getAttribute('data-row') ?? '', r.querySelector('.badge')?.textContent?.trim() ?? '', r.querySelector('td')?.textContent ?? '']));
}

test('a token that may manage users but not groups, with roles as SCIM groups: the table says the chosen mapping will not work and how to fix it, and nothing is written', async () => {
  emu = await startEmulator({ scim: true, scimProfile: PROFILES.usersOnlyToken });
  await emu.scim!.clearLog();
  ui = await openSidebar(browser, emu);
  const { page } = ui;
  await openTab(page, 'Settings');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await textOf(page.locator('#connectionOut'), 'cannot be synced with these settings yet');
  const rows = await tableRows(ui);
  expect(rows.map((r) => r[0])).toEqual([
    'Reachable, token accepted', 'Advertised', 'Filter (userName eq)', 'Paging', 'Bulk', 'Groups', 'Rate limit',
    'Apps Script web requests today', 'Groups (roles as groups)', 'Roles (roles attribute)',
  ]);
  const byItem = new Map(rows.map((r) => [r[0], r]));
  expect(byItem.get('Reachable, token accepted')![1]).toContain('Pass');
  expect(byItem.get('Groups (roles as groups)')![1]).toContain('Fail');
  expect(byItem.get('Groups (roles as groups)')![2]).toContain('will not work (chosen)');
  expect(byItem.get('Groups (roles as groups)')![2]).toContain('Fix: Give the token permission to manage users (and groups');
  expect(byItem.get('Roles (roles attribute)')![2]).toContain('will work');
  expect(await page.locator('#connectionOut .msg.error').textContent()).toContain('permission to manage users (and groups');
  await screenshotOf(page, '#connectionOut', 'test-connection');
  // Read-only: GETs only, and the app holds no user or group.
  const state = await emu.scim!.state();
  expect(state.log.length).toBeGreaterThan(0);
  expect(state.log.filter((e) => e.method !== 'GET')).toEqual([]);
  expect(state.users).toEqual([]);
});

test('a narrow app (no Bulk, pages of at most 100, no totalResults) with roles as the roles attribute: the table passes and names what the app does not honour', async () => {
  emu = await startEmulator({ scim: true, scimProfile: PROFILES.narrow });
  ui = await openSidebar(browser, emu);
  const { page } = ui;
  await openTab(page, 'Settings');
  await page.getByLabel('The users’ roles attribute').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await textOf(page.locator('#settingsMsg'), 'Settings saved');
  await emu.scim!.clearLog();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await textOf(page.locator('#connectionOut'), 'can be synced with these settings');
  const byItem = new Map((await tableRows(ui)).map((r) => [r[0], r]));
  expect(byItem.get('Bulk')![2]).toContain('not offered');
  expect(byItem.get('Paging')![1]).toContain('Warning');
  expect(byItem.get('Paging')![2]).toContain('no totalResults');
  expect(byItem.get('Roles (roles attribute)')![2]).toContain('will work (chosen)');
  const state = await emu.scim!.state();
  expect(state.log.filter((e) => e.method !== 'GET')).toEqual([]);
});
