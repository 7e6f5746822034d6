// An admin's daily work in the sidebar, in a real browser (Debian's Chromium) against the local
// emulator: what the page shows and what changed on the server.
import { Browser } from 'playwright-core';
import { Emulator, Sidebar, configure, launchBrowser, openSidebar, openTab, rpc, startEmulator, textOf } from './helpers';

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
beforeEach(async () => {
  emu = await startEmulator();
});
afterEach(async () => {
  if (ui) {
    expect(ui.errors).toEqual([]);
    expect(ui.dialogs).toEqual([]);
    expect(ui.maxInFlight).toBeLessThanOrEqual(10);
    await ui.page.close();
    ui = undefined;
  }
  await emu?.close();
  emu = undefined;
});

async function open(): Promise<Sidebar> {
  ui = await openSidebar(browser, emu!);
  return ui;
}

test('the OU tree and the OU search sort numbers naturally: Grade 9 before Grade 10', async () => {
  const { page } = await open();
  await openTab(page, 'Mappings');
  const school = '/Students/Lincoln High';
  // The server's own order is by characters (Grade 10, 11, 12, 9); the tree shows people's order.
  const served = (await rpc(emu!, 'listOrgUnits', { parent: school })).units.map((u: { name: string }) => u.name);
  expect(served).toEqual(['Grade 10', 'Grade 11', 'Grade 12', 'Grade 9']);
  await page.getByRole('button', { name: 'Show sub-OUs of /Students' }).click();
  await page.getByRole('button', { name: `Show sub-OUs of ${school}` }).click();
  const grades = page.locator(`#ouTree [data-path^="${school}/"]`);
  await grades.first().waitFor();
  expect(await grades.allTextContents()).toEqual(['Grade 9', 'Grade 10', 'Grade 11', 'Grade 12']);

  await page.getByLabel('Find an organizational unit').fill('Lincoln High/Grade');
  const found = page.locator('#ouTree .pick');
  await textOf(found.first(), 'Grade 9');
  expect(await found.allTextContents()).toEqual(['Grade 9', 'Grade 10', 'Grade 11', 'Grade 12'].map((g) => `${school}/${g}`));
});

test('+ Add account starts with the role of the tab it is opened from', async () => {
  const { page } = await open();
  await openTab(page, 'Accounts');
  const addButton = page.getByRole('button', { name: '+ Add account' });
  const dialog = page.getByRole('dialog', { name: 'Add account' });
  const role = dialog.getByLabel('Role');

  await page.getByRole('tab', { name: /^Teachers/ }).click();
  await addButton.click();
  await dialog.waitFor();
  expect(await role.inputValue()).toBe('teacher');
  await dialog.getByLabel('Name').fill('Substitute Teacher');
  await dialog.getByLabel('Email').fill('sub@visitors.example');
  await dialog.getByRole('button', { name: 'Add account' }).click();
  await textOf(page.locator('#accMsg'), 'Added Substitute Teacher (sub@visitors.example) as teacher');
  const added = await rpc(emu!, 'getAccounts', { query: 'sub@visitors.example' });
  expect(added.rows).toEqual([expect.objectContaining({ roles: ['teacher'], source: 'manual' })]);

  // The admin tab: admin, with what it implies.
  await page.getByRole('tab', { name: /^Admins/ }).click();
  await addButton.click();
  expect(await role.inputValue()).toBe('admin');
  await textOf(page.locator('#addImplied'), 'admin also grants teacher');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });

  // All roles at once: no role to guess, the first one.
  await page.getByRole('tab', { name: /^All/ }).click();
  await addButton.click();
  expect(await role.inputValue()).toBe('student');
  await page.keyboard.press('Escape');
});

test('errors name the field as the form labels it, never by its settings path', async () => {
  const { page } = await open();
  await openTab(page, 'Settings');
  const message = page.locator('#settingsMsg');
  const save = page.getByRole('button', { name: 'Save settings' });

  await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
  await save.click();
  await textOf(message, 'Time zone must be a time zone name such as America/New_York.');
  expect(await page.locator('#sTz').getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('.ferr').textContent()).toContain('Time zone must be a time zone name');
  expect(await page.locator('#p-settings').textContent()).not.toContain('schedule.timeZone');
  await page.getByLabel('Time zone').fill('America/Chicago');

  // A list entry is named by its list and the value typed.
  await page.getByLabel('Exclude (one email per line)').fill('guest@springfield.example\nnot-an-email');
  await save.click();
  await textOf(message, 'Exclude “not-an-email” must be an email address such as name@school.edu.');
  expect(await page.locator('#pExclude').getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#p-settings').textContent()).not.toContain('exclude[1]');
  await page.getByLabel('Exclude (one email per line)').fill('');

  // A blackout row as its fields are labelled.
  await page.getByRole('button', { name: 'Add blackout' }).click();
  await page.getByLabel('Blackout 1 first day').fill('2026-12-20');
  await page.getByLabel('Blackout 1 last day').fill('2026-12-01');
  await save.click();
  await textOf(message, 'Blackout 1 ends before it starts.');
  expect(await page.locator('#p-settings').textContent()).not.toContain('schedule.blackouts');
  expect((await rpc(emu!, 'getState')).settings.schedule.timeZone).toBe('America/New_York');

  // The add-account form: "Email", as labelled.
  await openTab(page, 'Accounts');
  await page.getByRole('button', { name: '+ Add account' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add account' });
  await dialog.getByLabel('Name').fill('Visiting Coach');
  await dialog.getByLabel('Email').fill('coach-at-nowhere');
  await dialog.getByRole('button', { name: 'Add account' }).click();
  const error = await textOf(page.locator('#addMsg'), 'Email must be an email address such as name@school.edu.');
  expect(error).toMatch(/^\W*Error: Email must/);
  expect(await page.locator('#addEmail').getAttribute('aria-invalid')).toBe('true');
  await page.keyboard.press('Escape');
});

/** A time as the sidebar shows it in `zone`, spaces normalized (ICU puts a narrow space before AM/PM). */
function shownAt(iso: string, zone: string): string {
  const text = new Date(iso).toLocaleString('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: zone });
  return spaced(`${text} (${zone})`);
}
const spaced = (s: string | null) => (s ?? '').replace(/\s+/g, ' ');

test('every time the sidebar shows is in the schedule\'s time zone and names it (History and Last sync included)', async () => {
  const zone = 'Asia/Tokyo'; // the browser runs in UTC: a time shown in the browser's zone would differ by 9 hours
  await configure(emu!, { schedule: { mode: 'daily', hour: 6, timeZone: zone, blackouts: [] } });
  const { page } = await open();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await textOf(page.locator('#syncOut'), 'Sync finished', 30_000);
  const state = await rpc(emu!, 'getState');
  const last = state.history[0];
  await textOf(page.locator('#syncFacts'), 'Cooldown');
  const facts = spaced(await page.locator('#syncFacts').textContent());
  expect(facts).toContain(`Last sync✓ Success ${shownAt(last.finishedAt, zone)}`);
  expect(facts).toContain(`Next run${shownAt(state.nextRun, zone)}`);
  expect(facts).toContain(`Next manual sync after ${shownAt(state.cooldownUntil, zone)}`);

  // A server message with a time in it (the cooldown refusal).
  await page.getByRole('button', { name: 'Sync now' }).click();
  const refusal = spaced(await textOf(page.locator('#syncOut'), 'minutes ago'));
  expect(refusal).toContain(`the next one is allowed at ${shownAt(state.cooldownUntil, zone)}`);

  await page.getByRole('button', { name: 'Preview' }).click();
  const previewLine = page.locator('#previewOut p.small').first();
  await textOf(previewLine, `(${zone})`);

  await openTab(page, 'History');
  expect(spaced(await page.locator('#histList li').first().textContent())).toContain(shownAt(last.startedAt, zone));

  // Nowhere a time without its zone.
  const body = spaced(await page.locator('body').textContent());
  const times = [...body.matchAll(/\d{1,2}:\d{2} [AP]M(?! \(Asia\/Tokyo\))/g)].map((m) => body.slice(Math.max(0, m.index! - 30), m.index! + 30));
  expect(times).toEqual([]);
  expect(body.match(/\d{1,2}:\d{2} [AP]M \(Asia\/Tokyo\)/g)!.length).toBeGreaterThanOrEqual(5);
});

test('a bulk selection never acts out of sight: another list starts empty, other pages are counted, confirmations name the accounts', async () => {
  await configure(emu!, { cooldownMinutes: 0 });
  let result = await rpc(emu!, 'syncNow', {});
  while (result.state === 'in-progress') result = await rpc(emu!, 'continueSync');
  expect(result.state).toBe('done');
  const { page } = await open();
  await openTab(page, 'Accounts');
  const rows = page.locator('#accList li.acc');
  await rows.first().waitFor();
  const label = page.locator('#bulkLabel');
  const note = page.locator('#selNote');
  const nameOf = async (i: number) => (await rows.nth(i).locator('.name').textContent())!;

  // Selected on page 1, then page 2 shows how many are out of sight, with a way to clear them.
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  expect(await note.isVisible()).toBe(true);
  expect(await page.locator('#selElsewhere').textContent()).toBe('');
  await page.getByRole('button', { name: 'Next ›' }).click();
  await textOf(page.locator('#pageInfo'), '51–');
  await textOf(note, '2 of them on other pages');
  await rows.nth(0).getByRole('checkbox').check();
  await textOf(label, '(3 selected)');
  await textOf(note, '2 of them on other pages');
  await page.getByRole('button', { name: 'Clear selection' }).click();
  await textOf(label, '(0 selected)');
  expect(await rows.nth(0).getByRole('checkbox').isChecked()).toBe(false);
  expect(await note.isHidden()).toBe(true);
  await page.getByRole('button', { name: '‹ Previous' }).click();
  await textOf(page.locator('#pageInfo'), '1–50');
  expect(await rows.nth(0).getByRole('checkbox').isChecked()).toBe(false);

  // Another role tab is another list: what was selected in All is not carried into it.
  await rows.nth(0).getByRole('checkbox').check();
  await textOf(label, '(1 selected)');
  await page.getByRole('tab', { name: /^Teachers/ }).click();
  await textOf(label, '(0 selected)');
  expect(await page.getByRole('button', { name: 'Set', exact: true }).isDisabled()).toBe(true);
  await page.getByRole('tab', { name: /^All/ }).click();
  await rows.first().waitFor();
  expect(await rows.nth(0).getByRole('checkbox').isChecked()).toBe(false);
  // A status filter too.
  await rows.nth(0).getByRole('checkbox').check();
  await page.locator('#accStatus').selectOption('active');
  await textOf(label, '(0 selected)');
  await page.locator('#accStatus').selectOption('any');
  await textOf(page.locator('#pageInfo'), '1–50');

  // The delete confirmation names the first accounts and how many more.
  const names = [await nameOf(0), await nameOf(1), await nameOf(2), await nameOf(3)];
  for (let i = 0; i < 4; i++) await rows.nth(i).getByRole('checkbox').check();
  await page.locator('#bulkStatus').selectOption('deleted');
  await page.getByRole('button', { name: 'Set', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete 4 accounts?' });
  await textOf(confirm, 'and 1 more');
  expect(await page.locator('#delWho').textContent()).toBe(`${names[0]}, ${names[1]}, ${names[2]} and 1 more.`);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'hidden' });

  // So does the message of what was done.
  await page.locator('#bulkStatus').selectOption('disabled');
  await page.getByRole('button', { name: 'Set', exact: true }).click();
  const done = await textOf(page.locator('#accMsg'), 'Set to Disabled: 4 accounts');
  expect(done).toContain(`Set to Disabled: 4 accounts (${names[0]}, ${names[1]}, ${names[2]} and 1 more).`);
  const disabled = (await rpc(emu!, 'getAccounts', { status: 'disabled', limit: 500 })).rows.map((a: { name: string }) => a.name).sort();
  expect(disabled).toEqual([...names].sort());
});
