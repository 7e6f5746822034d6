// The sidebar in a real browser (Debian's Chromium) against the local emulator (the built bundle in the
// simulated Apps Script runtime), used the way an admin would: every test starts its own emulator (a
// fresh demo district) and asserts what changed on the server, not just what the page shows.
import { DEMO_SCIM_TOKEN, EVERYONE, HOSTILE_NAME, MARKUP_USER, SMALL_EXECUTIONS, configure, directoryOutage, openTab, otherAdmin, rpc, rpcTraffic, runAs, scimUsers, screenshot, screenshotOf, sidebarSuite, storedScimToken, textOf } from './helpers';
import { holdSyncLease } from '../e2e/harness';

jest.setTimeout(60_000);

const suite = sidebarSuite();
const open = () => suite.open();

/** A full sync through the API (each part a new call), for tests whose subject is what comes after. */
async function syncAll(): Promise<void> {
  let result = await rpc(suite.emu, 'syncNow', {});
  while (result.state === 'in-progress') result = await rpc(suite.emu, 'continueSync');
  expect(result.state).toBe('done');
}

async function accounts(query: Record<string, unknown> = {}) {
  return rpc<{ total: number; rows: { id: string; email: string; name: string; status: string; source: string; roles: string[] }[] }>(suite.emu, 'getAccounts', { limit: 500, ...query });
}

test('first open: a Workspace admin links Roster Sync with their own account', async () => {
  await suite.start({ preconfigure: false });
  await suite.open('#setup');
  const { page } = suite.ui;
  await textOf(page.locator('#setup'), 'not linked to the Google Workspace directory yet');
  expect(await page.locator('#tabs').isHidden()).toBe(true);
  await page.getByRole('button', { name: 'I am a Workspace admin — use my account for syncing' }).click();
  await page.locator('#tabs').waitFor({ state: 'visible' });
  expect(await page.locator('#setup').isHidden()).toBe(true);
  const state = await rpc(suite.emu, 'getState');
  expect(state).toMatchObject({ canConfigure: true, installer: state.user, syncAccount: state.user, trigger: { installed: true } });
  await textOf(page.locator('#syncFacts'), `Installed (runs as ${state.user})`);
  // The default schedule, shown in its own time zone whatever the browser's (this one runs in UTC).
  await textOf(page.locator('#syncFacts'), /Next run[^]*11:00\sPM \(America\/New_York\)/);
  // Only the unlinked first-open screen asks getSetupStatus (can this user read the directory?).
  expect((await rpcTraffic(suite.ui)).filter((c) => c.fn === 'getSetupStatus')).toHaveLength(1);
});

test('opened by someone who may not configure it: the refusal only, straight from getState', async () => {
  await suite.start({ preconfigure: false });
  const installer = otherAdmin(suite.emu);
  runAs(suite.emu, installer, 'useMyAccountForSync', {});
  await suite.open('#setup');
  const text = await textOf(suite.ui.page.locator('#setupBody'), 'You do not have permission to change Roster Sync.');
  expect(text).toContain('Fix: Ask the admin who installed Roster Sync');
  expect(await suite.ui.page.locator('#tabs').isHidden()).toBe(true);
  expect(await suite.ui.page.getByRole('button', { name: /use my account/ }).count()).toBe(0);
  // getState already said "linked": no getSetupStatus call (and no directory read) for this user.
  expect((await rpcTraffic(suite.ui)).map((c) => c.fn)).toEqual(['getState']);
});

describe('once linked', () => {
  beforeEach(async () => {
    await suite.start();
  });

  test('replaces the demo mappings with an OU picked from the tree, counts matches, previews a reason and syncs the roster', async () => {
    const { page } = await open();
    const demo = await rpc(suite.emu, 'previewSync');
    await openTab(page, 'Mappings');
    const ruleCards = page.locator('#ruleList li.rule');
    expect(await ruleCards.count()).toBe(Object.keys(demo.ruleMatches).length);
    await page.getByRole('button', { name: 'Count matches' }).click();
    for (const [id, n] of Object.entries(demo.ruleMatches)) await textOf(page.locator(`#ruleList [data-rule="${id}"] .match`), `Matches ${n} user`);
    await screenshot(page, 'mappings');
    while ((await ruleCards.count()) > 0) {
      const before = await ruleCards.count();
      await ruleCards.first().getByRole('button', { name: /^Remove rule/ }).click();
      await page.waitForFunction((n) => document.querySelectorAll('#ruleList li.rule').length < n, before);
    }
    expect((await rpc(suite.emu, 'getState')).settings.rules).toEqual([]);

    const top = await rpc(suite.emu, 'listOrgUnits', { parent: '/' });
    const parent = top.units.find((u: { hasChildren: boolean }) => u.hasChildren);
    const child = (await rpc(suite.emu, 'listOrgUnits', { parent: parent.path })).units[0];
    await page.getByRole('button', { name: `Show sub-OUs of ${parent.path}` }).click();
    await page.locator('#ouTree .pick').filter({ hasText: child.name }).first().click();
    await textOf(page.locator('#ouChosen'), `Chosen OU: ${child.path}`);
    await page.locator('#ruleRole').selectOption('student');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await textOf(page.locator('#ruleList'), child.path);

    const rules = (await rpc(suite.emu, 'getState')).settings.rules;
    expect(rules).toEqual([{ id: expect.stringMatching(/^r[0-9a-z]+$/), type: 'ou', orgUnitPath: child.path, includeSubOrgUnits: true, role: 'student' }]);

    await page.getByRole('button', { name: 'Count matches' }).click();
    const plan = await rpc(suite.emu, 'previewSync');
    const matches = plan.ruleMatches[rules[0].id];
    expect(matches).toBeGreaterThan(0);
    await textOf(page.locator('#ruleList .match'), `Matches ${matches} user`);

    await openTab(page, 'Sync');
    await page.getByRole('button', { name: 'Preview' }).click();
    const create = page.locator('#previewOut button.kind', { hasText: 'Create' });
    await textOf(create, String(plan.counts.create));
    await create.click();
    await page.locator('#previewOut .changes li').first().waitFor();
    expect(await create.getAttribute('aria-expanded')).toBe('true');
    const reason = await page.locator('#previewOut .changes .reasons li').first().textContent();
    expect(reason).toContain(child.path);
    await screenshot(page, 'preview');

    expect((await accounts()).total).toBe(0);
    await page.getByRole('button', { name: 'Sync now' }).click();
    await textOf(page.locator('#syncOut'), `${plan.counts.create} created`, 30_000);
    const roster = await accounts();
    expect(roster.total).toBe(plan.counts.create);
    expect(roster.rows.every((a) => a.roles.includes('student') && a.source === 'synced')).toBe(true);
    await textOf(page.locator('#syncFacts'), 'Success');
    await screenshot(page, 'sync');
    await openTab(page, 'Accounts');
    await textOf(page.getByRole('tab', { name: /^All/ }), `All (${plan.counts.create})`);

    // A second full sync within the cooldown is refused with the cooldown message.
    await openTab(page, 'Sync');
    await page.getByRole('button', { name: 'Sync now' }).click();
    const refusal = await textOf(page.locator('#syncOut'), 'minutes ago');
    expect(refusal).toContain('Fix: Wait for the cooldown');
    expect(refusal).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  test('bulk actions: grant a permission, disable two accounts that stay disabled after a sync, delete and exclude one', async () => {
    await configure(suite.emu, { cooldownMinutes: 0 }); // the demo mappings
    await syncAll();
    const total = (await accounts()).total;
    const { page } = await open();
    await openTab(page, 'Accounts');
    const rows = page.locator('#accList li.acc');
    await rows.first().waitFor();
    // Paged: never more than 50 rows at once.
    expect(await rows.count()).toBe(Math.min(50, total));
    await textOf(page.locator('#pageInfo'), `1–${Math.min(50, total)} of ${total}`);
    if (total > 50) {
      await page.getByRole('button', { name: 'Next ›' }).click();
      await textOf(page.locator('#pageInfo'), `51–${Math.min(100, total)} of ${total}`);
      await page.getByRole('button', { name: '‹ Previous' }).click();
      await textOf(page.locator('#pageInfo'), `1–50 of ${total}`);
    }
    const picked = [await rows.nth(0).getAttribute('data-email'), await rows.nth(1).getAttribute('data-email')];
    const select = async () => {
      await rows.nth(0).getByRole('checkbox').check();
      await rows.nth(1).getByRole('checkbox').check();
      await textOf(page.locator('#bulkLabel'), '2 selected');
    };

    await select();
    await page.getByLabel('Permission', { exact: true }).selectOption('reports');
    await page.getByRole('button', { name: 'Grant', exact: true }).click();
    await textOf(page.locator('#accMsg'), 'Granted reports: 2 accounts');
    await textOf(rows.nth(1).locator('.meta'), 'reports');

    await select();
    await page.locator('#bulkStatus').selectOption('disabled');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await textOf(page.locator('#accMsg'), 'Set to Disabled: 2 accounts');
    await textOf(rows.nth(0).locator('.badge'), 'Disabled');
    await screenshot(page, 'accounts');

    // Deleting a synced account warns that it comes back, and offers "Delete and exclude".
    const third = (await rows.nth(2).getAttribute('data-email'))!;
    await rows.nth(2).getByRole('checkbox').check();
    await page.locator('#bulkStatus').selectOption('deleted');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete 1 account?' });
    expect(await textOf(confirm, 'will come back on the next sync unless the user is excluded')).toBeTruthy();
    await confirm.getByRole('button', { name: 'Delete and exclude' }).click();
    await textOf(page.locator('#accMsg'), 'Deleted and excluded: 1 account');
    expect((await rpc(suite.emu, 'getState')).settings.exclude).toContain(third);

    await openTab(page, 'Sync');
    await page.getByRole('button', { name: 'Sync now' }).click();
    await textOf(page.locator('#syncOut'), 'Sync finished', 30_000);
    await openTab(page, 'Accounts');
    await page.locator('#accStatus').selectOption('disabled');
    await textOf(page.locator('#pageInfo'), 'of 2');
    expect(await page.locator('#accList li.acc').evaluateAll((els) => els.map((e) => e.getAttribute('data-email')))).toEqual(picked);
    const after = await accounts();
    expect(after.rows.filter((a) => a.status === 'disabled').map((a) => a.email)).toEqual(picked);
    expect(after.rows.find((a) => a.email === third)?.status).toBe('deleted');
    expect(after.rows.filter((a) => picked.includes(a.email)).every((a) => (a as unknown as { permissions: string[] }).permissions.includes('reports'))).toBe(true);
  });

  test('adds a manual account in an accessible dialog and shows the duplicate-email error', async () => {
    await configure(suite.emu, { rules: EVERYONE });
    await syncAll();
    const existing = (await accounts()).rows[0].email;
    const { page } = await open();
    await openTab(page, 'Accounts');
    const addButton = page.getByRole('button', { name: '+ Add account' });
    await addButton.click();
    const dialog = page.getByRole('dialog', { name: 'Add account' });
    await dialog.waitFor();
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('addName');
    // Focus stays inside the dialog: Shift+Tab from the first field goes to its last button.
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('addName');

    // The server's validation names the field; the sidebar marks it.
    await dialog.getByRole('button', { name: 'Add account' }).click();
    await textOf(page.locator('#addMsg'), 'Name is required.');
    expect(await page.locator('#addMsg').textContent()).toContain('Name is required.');
    expect(await page.locator('#addName').getAttribute('aria-invalid')).toBe('true');

    await dialog.getByLabel('Name').fill('Visiting Coach');
    await dialog.getByLabel('Email').fill('coach@visitors.example');
    await dialog.getByLabel('Role').selectOption('admin');
    await textOf(page.locator('#addImplied'), 'admin also grants teacher');
    await dialog.getByRole('button', { name: 'Add account' }).click();
    await textOf(page.locator('#accMsg'), 'Added Visiting Coach (coach@visitors.example)');
    expect(await dialog.isVisible()).toBe(false);
    const added = (await accounts({ query: 'coach@visitors.example' })).rows;
    expect(added).toEqual([expect.objectContaining({ name: 'Visiting Coach', source: 'manual', status: 'active', roles: ['teacher', 'admin'] })]);

    await addButton.click();
    await dialog.getByLabel('Name').fill('Someone Else');
    await dialog.getByLabel('Email').fill(existing);
    await dialog.getByRole('button', { name: 'Add account' }).click();
    const error = page.locator('#addMsg [role=alert]');
    await textOf(error, 'An account with this email already exists.');
    expect(await error.textContent()).toContain('Fix: Search the roster for that email');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.activeElement?.id === 'addBtn');
    expect((await accounts({ query: existing })).total).toBe(1);
  });

  test('a failed sync is explained on the Sync tab and in History with its fix', async () => {
    await configure(suite.emu, { rules: EVERYONE, cooldownMinutes: 0 });
    await directoryOutage(suite.emu, true);
    const { page } = await open();
    await page.getByRole('button', { name: 'Sync now' }).click();
    const alert = page.locator('#syncOut [role=alert]');
    const text = await textOf(alert, 'Fix:', 30_000);
    expect(text).toMatch(/Directory/);
    expect(text).not.toMatch(/\bat \S+ \(|\.(ts|js):\d+|Exception/);
    expect((await accounts()).total).toBe(0);

    await openTab(page, 'History');
    const latest = page.locator('#histList li').first();
    await textOf(latest, 'Failed');
    expect(await latest.textContent()).toContain('Manual');
    expect(await latest.textContent()).toContain('Fix:');

    await directoryOutage(suite.emu, false);
    await openTab(page, 'Sync');
    await page.getByRole('button', { name: 'Sync now' }).click();
    await textOf(page.locator('#syncOut'), 'Sync finished', 30_000);
    await openTab(page, 'History');
    await textOf(page.locator('#histList li').first(), 'Success');
    // The two syncs, and below them the settings saved before (History records those too).
    const syncs = page.locator('#histList li').filter({ hasNotText: 'Settings changed' });
    expect(await syncs.count()).toBe(2);
    expect(await syncs.nth(1).textContent()).toContain('Failed');
    expect(await page.locator('#histList li').filter({ hasText: 'Settings changed' }).first().textContent()).toContain('Settings saved by');
    await screenshot(page, 'history');
  });

  test('a roster emptied by hand is refused with its fix; "Start a new roster", confirmed, lets the next sync build a new one', async () => {
    await configure(suite.emu, { cooldownMinutes: 0 });
    await syncAll();
    const created = (await accounts()).total;
    suite.emu.runtime.sheetData(suite.emu.runtime.activeSpreadsheetId, 'Roster').rows.splice(1); // a person clears the data rows
    const { page } = await open();
    await page.getByRole('button', { name: 'Sync now' }).click();
    const alert = await textOf(page.locator('#syncOut [role=alert]'), 'Fix:', 30_000);
    expect(alert).toContain(`held ${created} synced accounts after the last sync and now holds none`);
    expect(alert).toContain('Start a new roster');
    await openTab(page, 'Settings');
    await page.getByRole('button', { name: 'Start a new roster' }).click();
    await textOf(page.locator('#newRosterMsg'), 'are not carried over');
    expect((await rpc(suite.emu, 'syncNow', {})).state).toBe('failed'); // nothing started until confirmed
    await page.getByRole('button', { name: 'Yes, start a new roster' }).click();
    await textOf(page.locator('#newRosterMsg'), 'A new roster was started');
    await syncAll();
    expect((await accounts()).total).toBe(created);
  });

  test('Sync changes applies what changed in Google since the last sync, and History says which syncs were incremental and which full', async () => {
    await syncAll();
    const rt = suite.emu.runtime;
    const domain = rt.directory.domain;
    const added = rt.directory.addUser({ email: `brand.new@${domain}`, givenName: 'Brand', familyName: 'New', orgUnitPath: '/Students/Lincoln High/Grade 9' });
    rt.setClock(rt.nowMs() + 5 * 60_000); // Google has logged it (a couple of minutes)
    const { page } = await open();
    await page.getByRole('button', { name: 'Sync changes' }).click();
    const text = await textOf(page.locator('#syncOut'), 'Sync finished', 30_000);
    expect(text).toMatch(/Incremental: 1 changes in the admin log since .*, 1 users re-read\. 1 created\./);
    expect((await accounts({ query: added.primaryEmail })).rows).toEqual([expect.objectContaining({ id: added.id, roles: ['student'], status: 'active' })]);
    await openTab(page, 'History');
    await textOf(page.locator('#histList li').first(), 'Incremental');
    expect(await page.locator('#histList li').first().textContent()).toContain('Manual · Incremental');
    expect(await page.locator('#histList li').nth(1).textContent()).toContain('Manual · Full');
  });

  test('a name full of HTML is shown as literal text everywhere', async () => {
    const email = MARKUP_USER; // a demo district user named <img src=x onerror=alert(1)>
    await configure(suite.emu, { rules: EVERYONE });
    await syncAll();
    const hostile = (await accounts({ query: email })).rows[0];
    expect(hostile.name).toContain(HOSTILE_NAME);
    const { page, dialogs } = await open();
    await openTab(page, 'Accounts');
    await page.getByLabel('Search name or email').fill('onerror=alert');
    const row = page.locator('#accList li.acc').filter({ hasText: hostile.email });
    await row.waitFor();
    expect(await row.locator('.name').textContent()).toBe(hostile.name);
    await row.getByRole('button', { name: `Explain ${hostile.email}` }).click();
    const dialog = page.getByRole('dialog', { name: `Explain ${hostile.email}` });
    await textOf(dialog, 'Matched rules');
    expect(await dialog.textContent()).toContain(hostile.name);
    expect(await page.locator('img').count()).toBe(0);
    await page.waitForTimeout(200);
    expect(dialogs).toEqual([]);
  });

  test('explains a user (rules, roles and where they come from, next change) and syncs just that user', async () => {
    await configure(suite.emu, { rules: EVERYONE });
    const target = (await rpc(suite.emu, 'previewSync')).changes.find((c: { kind: string }) => c.kind === 'create');
    const { page } = await open();
    await page.getByLabel('User email').fill(target.email);
    await page.getByRole('button', { name: 'Explain', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Explain ${target.email}` });
    const text = await textOf(dialog, 'The next sync would');
    expect(text).toContain('In scope');
    expect(text).toContain('OU / (and sub-OUs) → student');
    expect(text).toContain('No account in the roster yet.');
    expect(await dialog.locator('.changes .badge').first().textContent()).toBe('Create');
    await dialog.getByRole('button', { name: 'Sync this user' }).click();
    await textOf(page.locator('#explainMsg'), `Applied 1 change for ${target.email}`);
    expect((await accounts()).rows.map((a) => a.email)).toEqual([target.email]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.activeElement?.id === 'explainEmail');
    // History records it as a single-user sync; it is not the last full sync.
    expect(await page.locator('#syncFacts').textContent()).toContain('Last syncNever');
    await openTab(page, 'History');
    const entry = await textOf(page.locator('#histList li').first(), 'Single user');
    expect(entry).toContain('1 created');
    expect((await rpc(suite.emu, 'getState')).history[0]).toMatchObject({ trigger: 'user', message: `Synced one user (${target.email}): 1 created.` });
  });

  test('a sync beyond the deletion threshold halts, and "Apply anyway" applies it once', async () => {
    await configure(suite.emu, { rules: EVERYONE, cooldownMinutes: 0 });
    await syncAll();
    const before = (await accounts({ status: 'active' })).total;
    const leaf = (await rpc(suite.emu, 'listOrgUnits', { query: '/' })).units.find((u: { hasChildren: boolean }) => !u.hasChildren);
    await configure(suite.emu, { rules: [{ id: 'narrow', type: 'ou', orgUnitPath: leaf.path, includeSubOrgUnits: false, role: 'student' }] });
    const { page } = await open();
    await page.getByRole('button', { name: 'Preview' }).click();
    await textOf(page.locator('#previewOut'), 'Nothing was changed');
    expect(await page.locator('#previewOut').getByRole('button', { name: /^Apply anyway/ }).count()).toBe(1);

    await page.getByRole('button', { name: 'Sync now' }).click();
    await textOf(page.locator('#syncOut'), 'Nothing was changed', 30_000);
    expect((await accounts({ status: 'active' })).total).toBe(before);
    await page.locator('#syncOut').getByRole('button', { name: /^Apply anyway/ }).click();
    await textOf(page.locator('#syncOut'), 'deactivated', 30_000);
    expect((await accounts({ status: 'active' })).total).toBeLessThan(before / 2);
  });

  test('settings: a bad field is named next to the form; schedule and policy save', async () => {
    const { page } = await open();
    // Roving focus on the tab bar.
    await page.getByRole('tab', { name: 'Sync' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('t-accounts');
    await page.keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('t-history');
    await page.keyboard.press('ArrowLeft');
    expect(await page.getByRole('tabpanel', { name: 'Settings' }).isVisible()).toBe(true);

    // The destination starts as this spreadsheet; the SCIM fields appear only for SCIM.
    expect(await page.getByLabel('This spreadsheet (sheet Roster)').isChecked()).toBe(true);
    expect(await page.locator('#scimPart').isHidden()).toBe(true);
    expect(await page.locator('#sModeDaily').isChecked()).toBe(true);
    expect(await page.locator('#sHour').inputValue()).toBe('23');
    expect(await page.locator('#sTz').inputValue()).toBe('America/New_York');
    await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Save settings' }).click();
    // Named as the form labels it, not by its path in the settings document.
    const error = await textOf(page.locator('#settingsMsg'), 'Time zone must be a time zone name such as America/New_York.');
    expect(error).not.toContain('schedule.timeZone');
    expect(error).toContain('Fix:');
    expect(await page.locator('#sTz').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('sTz');

    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByLabel('Hour (0–23)').selectOption('6');
    await page.getByRole('button', { name: 'Add blackout' }).click();
    await page.getByLabel('Blackout 1 first day').fill('2026-12-20');
    await page.getByLabel('Blackout 1 last day').fill('2027-01-03');
    await page.getByLabel('Grace days').fill('14');
    await page.getByLabel('Deletion threshold').fill('25');
    await page.getByLabel('Threshold unit').selectOption('count');
    await page.getByLabel('Exclude (one email per line)').fill('Visitor@Springfield.example\nguest@springfield.example');
    await page.getByLabel('Suspended users').selectOption('deprovision');
    await page.getByLabel('Archived users').selectOption('suspend');
    await page.getByLabel('Cooldown (minutes)').fill('0');
    await page.getByLabel('Notify on failure').uncheck();
    expect(await page.getByLabel('Between daily syncs, apply changes hourly').isChecked()).toBe(true);
    await page.getByLabel('Between daily syncs, apply changes hourly').uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    // 25 accounts instead of 10% lowers the protection against mass changes: saved only once confirmed.
    await textOf(page.locator('#settingsMsg'), 'This save lowers the protection against mass changes: the deletion threshold from 10% to 25 accounts.');
    expect((await rpc(suite.emu, 'getState')).settings.threshold).toMatchObject({ kind: 'percent', value: 10 });
    await page.getByRole('button', { name: 'Confirm and save' }).click();
    await textOf(page.locator('#settingsMsg'), 'Settings saved');
    expect(await page.locator('#sTz').getAttribute('aria-invalid')).toBeNull();
    const saved = (await rpc(suite.emu, 'getState')).settings;
    expect(saved).toMatchObject({
      schedule: { mode: 'daily', hour: 6, timeZone: 'Europe/Paris', blackouts: [{ start: '2026-12-20', end: '2027-01-03' }] },
      graceDays: 14,
      threshold: { kind: 'count', value: 25 },
      exclude: ['visitor@springfield.example', 'guest@springfield.example'],
      suspendedUsers: 'deprovision',
      archivedUsers: 'suspend',
      cooldownMinutes: 0,
      notifyOnFailure: false,
      incremental: false,
    });
    await textOf(page.locator('#schedFacts'), 'Installed');
    await screenshot(page, 'settings', '#schedFs');
    expect((await rpc(suite.emu, 'getState')).settings).toMatchObject({ destination: 'sheet', scim: null });

    await page.getByLabel('Every hour').check();
    expect(await page.locator('#sHour').isDisabled()).toBe(true);
  });

  test('Finalize sync lists every check with an icon, a word, what was found and the fix', async () => {
    await configure(suite.emu, { rules: EVERYONE });
    await syncAll();
    const { page } = await open();
    await page.getByRole('button', { name: 'Finalize sync' }).click();
    const checks = page.locator('#finalOut li.check');
    await checks.first().waitFor();
    const expected = (await rpc(suite.emu, 'runFinalizeChecks')).checks;
    expect(await checks.count()).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      const badge = checks.nth(i).locator('.badge');
      expect(await badge.textContent()).toMatch(/^[✓✗⚠] (Pass|Fail|Warning)$/);
      expect(await badge.locator('[aria-hidden=true]').count()).toBe(1);
      expect(await checks.nth(i).textContent()).toContain(expected[i].title);
      if (expected[i].status !== 'pass') expect(await checks.nth(i).textContent()).toContain('Fix:');
    }
    expect(await checks.filter({ hasText: 'Pass' }).count()).toBeGreaterThan(0);
    await screenshot(page, 'finalize', '#finalBtn');
  });

  test('a request that fails in transport shows a readable message, never silence', async () => {
    await configure(suite.emu, { rules: EVERYONE });
    const { page } = await open();
    await page.route('**/rpc/getAccounts', (route) => route.abort());
    await openTab(page, 'Accounts');
    const text = await textOf(page.locator('#accMsg [role=alert]'), 'could not be completed');
    expect(text).toContain('Fix:');
  });

  test('a group rule from the group search; rules can be edited and removed', async () => {
    await configure(suite.emu, { rules: [] });
    const group = (await rpc(suite.emu, 'listGroups', { query: '' })).groups[0];
    const { page } = await open();
    await openTab(page, 'Mappings');
    await page.getByLabel('Group membership').check();
    await page.getByLabel('Find a group (its email or name starts with)').fill(group.email.slice(0, 3));
    await page.locator('#groupList .pick', { hasText: group.email }).click();
    await textOf(page.locator('#groupChosen'), `Chosen group: ${group.email}`);
    await page.locator('#ruleRole').selectOption('admin');
    await textOf(page.locator('#ruleRoleHint'), 'admin also grants teacher');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await textOf(page.locator('#ruleList'), `Group ${group.email}`);
    let rules = (await rpc(suite.emu, 'getState')).settings.rules;
    expect(rules).toEqual([{ id: expect.stringMatching(/^r[0-9a-z]+$/), type: 'group', groupEmail: group.email, role: 'admin' }]);
    expect(await page.locator('#ruleList').textContent()).toContain('admin also grants teacher');

    await page.getByRole('button', { name: `Edit rule Group ${group.email}` }).click();
    await textOf(page.locator('#ruleFormTitle'), 'Edit rule');
    await page.locator('#ruleRole').selectOption('teacher');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await textOf(page.locator('#ruleFormMsg'), 'Saved the rule');
    rules = (await rpc(suite.emu, 'getState')).settings.rules;
    expect(rules).toEqual([expect.objectContaining({ id: rules[0].id, type: 'group', groupEmail: group.email, role: 'teacher' })]);

    await page.getByRole('button', { name: `Remove rule Group ${group.email}` }).click();
    await textOf(page.locator('#ruleList'), 'No rules yet');
    expect((await rpc(suite.emu, 'getState')).settings.rules).toEqual([]);
  });

  test('Sync now while another execution holds the roster\'s sync lease says a sync is already running', async () => {
    const release = holdSyncLease(suite.emu.runtime);
    try {
      const { page } = await open();
      await page.getByRole('button', { name: 'Sync now' }).click();
      const text = await textOf(page.locator('#syncOut'), 'A sync is already running', 30_000);
      expect(text).toContain('Fix: Wait for it to finish');
      expect(text.match(/already running/g)).toHaveLength(1);
      await page.waitForFunction(() => !(document.getElementById('syncBtn') as HTMLButtonElement).disabled);
      expect((await accounts()).total).toBe(0);
      expect((await rpc(suite.emu, 'getState')).history.filter((e: { trigger: string }) => e.trigger !== 'settings')).toEqual([]);
    } finally {
      release();
    }
  });

  test('only the sync account can save the SCIM token: another admin is told so, and the server refuses', async () => {
    const me = (await rpc(suite.emu, 'getState')).user;
    const syncAccount = otherAdmin(suite.emu);
    await configure(suite.emu, { admins: [syncAccount] });
    runAs(suite.emu, syncAccount, 'useMyAccountForSync', { confirmChange: true });
    const { page } = await open();
    await openTab(page, 'Settings');
    await page.getByLabel('An app through SCIM 2.0').check();
    await textOf(page.locator('#hToken'), `Only the sync account (${syncAccount}) can save it`);
    expect(await page.locator('#hToken').textContent()).toContain(`You are signed in as ${me}`);
    const token = page.getByLabel('Paste the app’s token');
    expect(await token.getAttribute('type')).toBe('password');
    expect(await token.getAttribute('autocomplete')).toBe('off');
    await token.fill('someone-elses-token-abcdef123456');
    await page.getByRole('button', { name: 'Save token' }).click();
    const refusal = await textOf(page.locator('#tokenMsg [role=alert]'), `can only be saved by the sync account (${syncAccount})`);
    expect(refusal).toContain('Fix:');
    expect(await token.inputValue()).toBe('');
    expect(storedScimToken(suite.emu, me)).toBeUndefined();
    expect(await page.content()).not.toContain('someone-elses-token');
  });

  test('the emulator bridge behaves like google.script.run', async () => {
    const { page } = await open();
    const result = await page.evaluate(async () => {
      const run = (window as any).google.script.run;
      const chained = run.withSuccessHandler(() => undefined);
      const ok = await new Promise<unknown[]>((resolve) =>
        run.withFailureHandler((e: Error) => resolve(['failed', e.message])).withUserObject({ tag: 7 }).withSuccessHandler((r: any, user: any) => resolve([r.ok, r.data.user, user.tag])).getState(),
      );
      const privateName = await new Promise<unknown[]>((resolve) =>
        run.withSuccessHandler(() => resolve(['called'])).withFailureHandler((e: unknown, user: string) => resolve([e instanceof Error, (e as Error).message, user])).withUserObject('u').secret_(),
      );
      const unknown = await new Promise<unknown[]>((resolve) =>
        run.withSuccessHandler(() => resolve(['called'])).withFailureHandler((e: unknown) => resolve([e instanceof Error, (e as Error).message])).noSuchFunction(),
      );
      let sync = 'handler ran asynchronously';
      run.withSuccessHandler(() => undefined).getState();
      run.withFailureHandler(() => { sync = 'handler ran synchronously'; }).nope_();
      return { distinct: chained !== run && typeof chained.getState === 'function', ok, privateName, unknown, sync, then: typeof run.then };
    });
    const state = await rpc(suite.emu, 'getState');
    expect(result).toEqual({
      distinct: true,
      ok: [true, state.user, 7],
      privateName: [true, expect.stringContaining('secret_'), 'u'],
      unknown: [true, expect.stringContaining('noSuchFunction')],
      sync: 'handler ran asynchronously',
      then: 'undefined',
    });
  });
});

test('Sync now runs part after part (a new call each) and shows the progress until it is done', async () => {
  await suite.start(SMALL_EXECUTIONS);
  await configure(suite.emu, { rules: EVERYONE });
  const { page } = await open();
  const calls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/rpc/')) calls.push(r.url().split('/rpc/')[1]);
  });
  // Slow the later parts down so the run lasts well over a second, when the sidebar starts showing its progress.
  await page.route('**/rpc/continueSync', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 800));
    await route.continue();
  });
  await page.getByRole('button', { name: 'Sync now' }).click();
  // The box says "Starting…" until the first part or progress poll reports a phase. Read the box and
  // the button in one go: the sync may well have finished by the time a second look is taken.
  const seen = await page.waitForFunction(
    () => {
      const text = document.getElementById('syncOut')?.textContent ?? '';
      const disabled = (document.getElementById('syncBtn') as HTMLButtonElement).disabled;
      return /Sync in progress \(part \d+\)(Reading the directory|Planning|Applying changes)/.test(text) ? { text, disabled } : null;
    },
    undefined,
    { timeout: 30_000 },
  );
  const progress = (await seen.jsonValue()) as { text: string; disabled: boolean };
  expect(progress.text).toMatch(/Reading the directory: \d+ users? read|Planning the changes|Applying changes: \d+ of \d+/);
  expect(progress.disabled).toBe(true);
  await textOf(page.locator('#syncOut'), 'Sync finished', 60_000);
  expect(calls.filter((c) => c === 'syncNow')).toHaveLength(1);
  expect(calls.filter((c) => c === 'continueSync').length).toBeGreaterThan(0);
  const last = (await rpc(suite.emu, 'getState')).history[0];
  expect(last.parts).toBeGreaterThan(1);
  await openTab(page, 'History');
  await textOf(page.locator('#histList li').first(), `${last.parts} parts`);
  expect((await accounts()).total).toBeGreaterThan(0);
});

describe('SCIM destination', () => {
  beforeEach(async () => {
    await suite.start({ scim: true });
  });

  test('switch to a SCIM app in Settings, map roles to groups, save the token: a sync puts users in their groups, and the token never reaches the page', async () => {
    const initial = await rpc(suite.emu, 'getState');
    const { baseUrl } = initial.settings.scim;
    expect(initial.secrets.scim).toEqual({ saved: true, masked: '••••••••6789' });
    expect(storedScimToken(suite.emu, initial.user)).toBe(DEMO_SCIM_TOKEN);
    // Start as a new install would: roster in the sheet, no SCIM settings (the demo token stays saved).
    await configure(suite.emu, { destination: 'sheet', scim: null });
    await open();
    const { page } = suite.ui;
    await openTab(page, 'Settings');
    expect(await page.getByLabel('This spreadsheet (sheet Roster)').isChecked()).toBe(true);
    await page.getByLabel('An app through SCIM 2.0').check();
    expect(await page.locator('#scimPart').isVisible()).toBe(true);
    expect(await page.locator('#roleGroups').isHidden()).toBe(true);

    // A plain-http address outside this machine: the server names the field, and the page marks it.
    await page.getByLabel('SCIM base URL').fill('http://app.example.com/scim/v2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const error = await textOf(page.locator('#settingsMsg'), 'SCIM base URL must start with https://');
    expect(error).not.toContain('scim.baseUrl');
    expect(await page.locator('#dBase').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#dBase + .ferr').textContent()).toContain('SCIM base URL must start with https://');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('dBase');
    expect((await rpc(suite.emu, 'getState')).settings.destination).toBe('sheet');

    await page.getByLabel('SCIM base URL').fill(baseUrl);
    await page.getByLabel('SCIM Groups, one per role').check();
    expect(await page.locator('#roleGroups').isVisible()).toBe(true);
    await textOf(page.locator('#hMap'), 'one SCIM Group per role');
    await page.getByLabel('Group for teacher').fill('Teachers');
    await page.getByLabel('Group for student').fill('Students');
    await page.getByLabel('externalId', { exact: true }).selectOption('email');
    await page.getByLabel('Max members per PATCH').fill('25');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await textOf(page.locator('#settingsMsg'), 'Settings saved');
    expect(await page.locator('.ferr').count()).toBe(0);
    const saved = (await rpc(suite.emu, 'getState')).settings;
    expect(saved).toMatchObject({
      destination: 'scim',
      scim: {
        baseUrl,
        roleMapping: 'groups',
        roleGroups: { teacher: 'Teachers', student: 'Students' },
        attributes: { userName: 'email', externalId: 'email', name: 'full', emails: 'work', active: 'active' },
        maxMembersPerPatch: 25,
      },
    });

    // The token: only its masked view is shown; remove it, then paste it again.
    await textOf(page.locator('#tokenStatus'), 'Token saved: ••••••••6789');
    await page.getByRole('button', { name: 'Remove token' }).click();
    await textOf(page.locator('#tokenStatus'), 'No token saved.');
    expect((await rpc(suite.emu, 'getState')).secrets.scim).toEqual({ saved: false, masked: '' });
    expect(storedScimToken(suite.emu, initial.user)).toBeUndefined();
    await page.getByLabel('Paste the app’s token').fill(DEMO_SCIM_TOKEN);
    await page.getByRole('button', { name: 'Save token' }).click();
    await textOf(page.locator('#tokenStatus'), 'Token saved: ••••••••6789');
    await textOf(page.locator('#tokenMsg'), 'Token saved.');
    expect(await page.getByLabel('Replace it with a new token').inputValue()).toBe('');
    expect(storedScimToken(suite.emu, initial.user)).toBe(DEMO_SCIM_TOKEN);
    await screenshotOf(page, '#destFs', 'destination');

    await openTab(page, 'Sync');
    await textOf(page.locator('#syncFacts'), `SCIM app (${new URL(baseUrl).host})`);
    expect(await scimUsers(baseUrl, DEMO_SCIM_TOKEN)).toEqual([]);
    const plan = await rpc(suite.emu, 'previewSync');
    expect(plan.counts.create).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Sync now' }).click();
    await textOf(page.locator('#syncOut'), 'Sync finished', 45_000);
    const users = await scimUsers(baseUrl, DEMO_SCIM_TOKEN);
    expect(users).toHaveLength(plan.counts.create);
    const group: Record<string, string> = { teacher: 'Teachers', student: 'Students', admin: 'admin' };
    const byUserName = new Map(users.map((u) => [u.userName, u]));
    for (const change of plan.changes as { kind: string; email: string; rolesAfter: string[] }[]) {
      const user = byUserName.get(change.email.toLowerCase());
      expect(user).toMatchObject({ externalId: change.email.toLowerCase(), active: true, roles: [] });
      expect(user!.groups).toEqual(change.rolesAfter.map((r) => group[r]).sort());
    }
    expect(users.some((u) => u.groups.includes('Teachers'))).toBe(true);
    expect(users.some((u) => u.groups.includes('Students'))).toBe(true);

    // The token crossed to the server once (saveScimToken) and never came back.
    const traffic = await rpcTraffic(suite.ui);
    expect(traffic.filter((c) => c.request.includes(DEMO_SCIM_TOKEN)).map((c) => c.fn)).toEqual(['saveScimToken']);
    for (const c of traffic) expect(c.response).not.toContain('demo-scim-token');
    expect(await page.content()).not.toContain('demo-scim-token');
    const values = await page.evaluate(() => Array.from(document.querySelectorAll('input, textarea, select')).map((el) => (el as HTMLInputElement).value).join('\n'));
    expect(values).not.toContain('demo-scim-token');
    expect(suite.emu.runtime.logText()).not.toContain(DEMO_SCIM_TOKEN);
  });

  test('a base URL changed since the token was saved: Settings and the Sync tab say the token is not sent there; pasted again for that address, the warning goes', async () => {
    const { scim } = (await rpc(suite.emu, 'getState')).settings;
    const moved = `${scim.baseUrl}/elsewhere`;
    await configure(suite.emu, { scim: { ...scim, baseUrl: moved } });
    const { page } = await open();
    await textOf(page.locator('#syncFacts'), 'the token was saved for another address (see Settings)');
    await openTab(page, 'Settings');
    const warning = await textOf(page.locator('#tokenProblem'), `was saved for ${scim.baseUrl}, but the SCIM base URL is now ${moved}`);
    expect(warning).toContain('paste the app’s token again'.replace('’', "'"));
    await page.getByLabel('Replace it with a new token').fill(DEMO_SCIM_TOKEN);
    await page.getByRole('button', { name: 'Save token' }).click();
    await textOf(page.locator('#tokenMsg'), 'Token saved.');
    await page.waitForFunction(() => !document.querySelector('#tokenProblem')?.textContent);
    expect((await rpc(suite.emu, 'getState')).destinationProblems).toEqual([]);
  });

  test('a Google user re-created with a deleted user\'s address: Explain offers the choice, and "Give the old app account to this user" keeps that app account for them', async () => {
    await configure(suite.emu, { cooldownMinutes: 0 });
    await syncAll();
    const { baseUrl } = (await rpc(suite.emu, 'getState')).settings.scim;
    const directory = suite.emu.runtime.directory;
    const old = directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students'))!;
    const before = (await scimUsers(baseUrl, DEMO_SCIM_TOKEN)).find((u) => u.userName === old.primaryEmail)!;
    directory.deleteUser(old.primaryEmail);
    directory.addUser({ email: old.primaryEmail, givenName: 'Recycled', familyName: 'Address', orgUnitPath: old.orgUnitPath });
    suite.emu.runtime.setClock(suite.emu.runtime.nowMs() + 60_000);
    await syncAll();
    const { page } = await open();
    await page.getByLabel('User email').fill(old.primaryEmail);
    await page.getByRole('button', { name: 'Explain', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Explain ${old.primaryEmail}` });
    await textOf(dialog, `an earlier Google user with the address ${old.primaryEmail} (account ${old.id}`);
    await dialog.getByRole('button', { name: 'Give the old app account to this user' }).click();
    await textOf(page.locator('#explainMsg'), `for ${old.primaryEmail}`);
    const after = (await scimUsers(baseUrl, DEMO_SCIM_TOKEN)).find((u) => u.userName === old.primaryEmail)!;
    expect(after).toMatchObject({ id: before.id, active: true });
    expect(after.externalId).not.toBe(old.id);
  });

  test('Finalize sync: the destination check passes for the SCIM app, and fails with a fix once the token is removed', async () => {
    const { page } = await open();
    const destination = page.locator('#finalOut li.check', { hasText: 'The roster destination can be read and written' });
    await page.getByRole('button', { name: 'Finalize sync' }).click();
    await destination.waitFor();
    expect(await destination.locator('.badge').textContent()).toBe('✓ Pass');
    expect(await destination.textContent()).toContain('answered and accepted the token');

    await rpc(suite.emu, 'clearScimToken');
    await page.getByRole('button', { name: 'Finalize sync' }).click();
    await textOf(destination.locator('.badge'), 'Fail');
    expect(await destination.textContent()).toContain('Fix:');
  });
});
