// An admin's daily work in the sidebar, in a real browser (Debian's Chromium) against the local
// emulator: what the page shows and what changed on the server.
import { DEMO_DOMAIN } from '../../emulator/domain';
import { configure, openTab, rpc, rpcTraffic, screenshot, sidebarSuite, textOf } from './helpers';

jest.setTimeout(60_000);

const suite = sidebarSuite({ startEach: {} });
const open = () => suite.open();

test('the OU tree and the OU search sort numbers naturally: Grade 9 before Grade 10', async () => {
  const { page } = await open();
  await openTab(page, 'Mappings');
  const school = '/Students/Lincoln High';
  // The server's own order is by characters (Grade 10, 11, 12, 9); the tree shows people's order.
  const served = (await rpc(suite.emu, 'listOrgUnits', { parent: school })).units.map((u: { name: string }) => u.name);
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

test('a preview lists each kind of change 50 at a time: each "Show more" adds the next ones after those shown, and goes once all are', async () => {
  const plan = await rpc(suite.emu, 'previewSync');
  const creates: string[] = plan.changes.filter((c: { kind: string }) => c.kind === 'create').map((c: { email: string }) => c.email);
  expect(creates.length).toBeGreaterThan(100);
  const { page } = await open();
  await page.getByRole('button', { name: 'Preview' }).click();
  const create = page.locator('#previewOut button.kind', { hasText: 'Create' });
  await textOf(create, String(plan.counts.create));
  await create.click();
  const list = page.locator('#previewOut ul.changes:visible');
  const shown = list.locator(':scope > li > .email');
  const more = list.getByRole('button', { name: /^Show \d+ more$/ });
  for (let count = 50; ; count = Math.min(creates.length, count + 50)) {
    await shown.nth(count - 1).waitFor();
    expect(await shown.allTextContents()).toEqual(creates.slice(0, count));
    if (count === creates.length) break;
    expect(await more.allTextContents()).toEqual([`Show ${Math.min(50, creates.length - count)} more`]);
    await more.click();
  }
  expect(await more.count()).toBe(0);
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
  const added = await rpc(suite.emu, 'getAccounts', { query: 'sub@visitors.example' });
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
  expect((await rpc(suite.emu, 'getState')).settings.schedule.timeZone).toBe('America/New_York');

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
  await configure(suite.emu, { schedule: { mode: 'daily', hour: 6, timeZone: zone, blackouts: [] } });
  const { page } = await open();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await textOf(page.locator('#syncOut'), 'Sync finished', 30_000);
  const state = await rpc(suite.emu, 'getState');
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
  await configure(suite.emu, { cooldownMinutes: 0 });
  let result = await rpc(suite.emu, 'syncNow', {});
  while (result.state === 'in-progress') result = await rpc(suite.emu, 'continueSync');
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
  const disabled = (await rpc(suite.emu, 'getAccounts', { status: 'disabled', limit: 500 })).rows.map((a: { name: string }) => a.name).sort();
  expect(disabled).toEqual([...names].sort());
});

async function syncAll(): Promise<any> {
  let result = await rpc(suite.emu, 'syncNow', {});
  while (result.state === 'in-progress') result = await rpc(suite.emu, 'continueSync');
  expect(result.state).toBe('done');
  return result;
}

test('each History entry opens its sync report: what changed and why, who started it, searchable; a run that changed nothing says so without asking the server', async () => {
  await configure(suite.emu, { cooldownMinutes: 0 });
  const first = await syncAll();
  await syncAll(); // nothing left to change
  const state = await rpc(suite.emu, 'getState');
  const [quiet, full] = state.history;
  const report = await rpc(suite.emu, 'getSyncReport', { startedAt: full.startedAt });
  const someone = report.changes[7];
  const { page } = await open();
  await openTab(page, 'History');
  const dlg = page.getByRole('dialog', { name: /^Sync of / });

  // The run that changed nothing: the entry's counts say so, no server call is made.
  await page.locator('#histList li').nth(0).getByRole('button', { name: /^Report of the sync of/ }).click();
  await textOf(dlg, 'This sync changed nothing: every account was already up to date.');
  expect(await dlg.getByLabel('Search the report').isVisible()).toBe(false);
  expect((await rpcTraffic(suite.ui)).filter((c) => c.fn === 'getSyncReport')).toEqual([]);
  await page.keyboard.press('Escape');
  expect(quiet.counts).toEqual({ create: 0, update: 0, deactivate: 0, reactivate: 0, delete: 0 });

  // The first run: every account it created, with its reason and who started it.
  await page.locator('#histList li').nth(1).getByRole('button', { name: /^Report of the sync of/ }).click();
  const created = dlg.getByRole('region', { name: 'Created' });
  await textOf(created, `Created (${first.applied.create})`);
  expect(await dlg.locator('#reportWho').textContent()).toContain(`Started by ${state.user}`);
  expect(await created.locator('.changes > li').count()).toBe(Math.min(200, first.applied.create));
  if (first.applied.create > 200) expect(await created.textContent()).toContain(`${first.applied.create - 200} more not listed.`);
  const shown = created.locator('.changes > li').filter({ hasText: someone.email });
  expect(await shown.locator('.reasons').textContent()).toContain(someone.reasons[0].slice(1, 30));
  await screenshot(page, 'report');

  // Search by email: only that account remains.
  await dlg.getByLabel('Search the report').fill(someone.email.toUpperCase());
  await textOf(dlg, `1 change of ${report.changes.length} listed match`);
  expect(await created.locator('.changes > li .email').allTextContents()).toEqual([someone.email]);
  expect(await dlg.textContent()).not.toContain('more not listed');
  const searched = (await rpcTraffic(suite.ui)).filter((c) => c.fn === 'getSyncReport').map((c) => JSON.parse(c.request).args[0]);
  expect(searched[searched.length - 1]).toEqual({ startedAt: full.startedAt, query: someone.email.toUpperCase() });
  await dlg.getByRole('button', { name: 'Close' }).click();
  await dlg.waitFor({ state: 'hidden' });
});

test('an account opens its panel: roles with the rule that gave each, OU, last synced, grace period; Save applies status and permissions; Explain and Sync this user are there; it fits 300 px', async () => {
  await configure(suite.emu, { cooldownMinutes: 0, graceDays: 14 });
  await syncAll();
  const students = suite.emu.runtime.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && !u.archived);
  const [leaver, kept] = [students[0], students[1]];
  const leaverOu = leaver.orgUnitPath;
  suite.emu.runtime.directory.moveUser(leaver.primaryEmail, '/');
  expect((await rpc(suite.emu, 'explainUser', { email: leaver.primaryEmail })).inScope).toBe(false);
  await syncAll();
  const [gone] = (await rpc(suite.emu, 'getAccounts', { query: leaver.primaryEmail })).rows;
  expect(gone.outOfScopeSince).not.toBe('');

  const { page } = await open();
  await openTab(page, 'Accounts');
  const panel = page.getByRole('dialog');
  const search = page.getByLabel('Search name or email');

  // A deactivated account: the OU its user is in now, and when it will be deleted.
  await search.fill(leaver.primaryEmail);
  await page.locator('#accList li.acc').filter({ hasText: leaver.primaryEmail }).first().waitFor();
  await page.locator('#accList li.acc').first().getByRole('button', { name: /^Open / }).click();
  await textOf(panel, 'unless back in scope');
  const zone = (await rpc(suite.emu, 'getState')).settings.schedule.timeZone;
  const deleteOn = new Date(Date.parse(gone.outOfScopeSince) + 14 * 86_400_000).toISOString();
  expect(spaced(await panel.locator('#apGraceText').textContent())).toBe(
    `Deactivated on ${shownAt(gone.outOfScopeSince, zone)} · deleted on ${shownAt(deleteOn, zone)} unless back in scope (14 days of grace).`);
  await textOf(panel.locator('#apFacts'), ' now (synced from ');
  expect(await panel.locator('#apFacts').textContent()).toContain(`/ now (synced from ${leaverOu})`);
  expect(spaced(await panel.locator('#apFacts').textContent())).toContain(`Last synced${shownAt(gone.lastSynced, zone)}`);
  expect(await page.evaluate(() => { const d = document.getElementById('accDlg')!; return d.scrollWidth <= d.clientWidth && d.getBoundingClientRect().right <= 300; })).toBe(true);
  await panel.getByRole('button', { name: 'Close' }).click();
  await panel.waitFor({ state: 'hidden' });

  // An account in scope: each role with the rule that gave it; a click on the name does not tick the box.
  const explained = await rpc(suite.emu, 'explainUser', { email: kept.primaryEmail });
  await search.fill(kept.primaryEmail);
  const row = page.locator('#accList li.acc').filter({ hasText: kept.primaryEmail.toLowerCase() });
  await row.waitFor();
  await row.getByRole('button', { name: /^Open / }).click();
  await textOf(panel.locator('#apRoleList'), explained.roles[0].from[0]);
  for (const r of explained.roles) expect(await panel.locator('#apRoleList').textContent()).toContain(`${r.role}: ${r.from.join('; ')}`);
  expect(await panel.locator('#apGrace').textContent()).toBe('');
  expect(await row.getByRole('checkbox').isChecked()).toBe(false);
  expect(await panel.locator('#apFacts').textContent()).toContain(kept.orgUnitPath);
  await screenshot(page, 'account');

  await panel.getByLabel('Status').selectOption('disabled');
  await panel.getByLabel('hall-pass').check();
  await panel.getByRole('button', { name: 'Save' }).click();
  await textOf(panel.locator('#apMsg'), 'Saved');
  const [saved] = (await rpc(suite.emu, 'getAccounts', { query: kept.primaryEmail })).rows;
  expect(saved).toMatchObject({ status: 'disabled', permissions: ['hall-pass'] });
  const edits = (await rpcTraffic(suite.ui)).filter((c) => c.fn === 'updateAccounts').map((c) => JSON.parse(c.request).args[0]);
  expect(edits).toEqual([{ ids: [saved.id], status: 'disabled', grant: ['hall-pass'], revoke: [] }]);
  await textOf(row, 'Disabled');

  // Sync this user from the panel: a locally disabled account stays disabled.
  await panel.getByRole('button', { name: 'Sync this user' }).click();
  await textOf(panel.locator('#apMsg'), `for ${kept.primaryEmail.toLowerCase()}`);
  expect((await rpc(suite.emu, 'getAccounts', { query: kept.primaryEmail })).rows[0].status).toBe('disabled');

  // Explain opens over the panel.
  await panel.getByRole('button', { name: 'Explain' }).click();
  await textOf(page.locator('#explainBody'), 'Matched rules');
  expect(await page.locator('#explainTitle').textContent()).toBe(`Explain ${kept.primaryEmail.toLowerCase()}`);
});

test('Finalize groups failures by their root cause, offers a one-click fix for the trigger, and refreshes the status facts above it', async () => {
  const { page } = await open();
  const facts = page.locator('#syncFacts');
  await textOf(facts, 'Installed');
  const checks = page.locator('#finalOut li.check');
  const check = (id: string) => page.locator(`#finalOut li.check[data-check="${id}"]`);

  // API access disabled: said once, the checks that need it are "not run".
  suite.emu.runtime.disableAdminApi(true);
  await page.getByRole('button', { name: 'Finalize sync' }).click();
  await checks.first().waitFor();
  expect(await page.locator('#finalSummary').textContent()).toBe('1 check needs attention; 5 not run until it passes.');
  expect(await check('apiAccess').locator('.badge').textContent()).toBe('✗ Fail');
  for (const id of ['readUsers', 'readOrgUnits', 'readGroups', 'mappings', 'incremental']) {
    expect(await check(id).locator('.badge').textContent()).toBe('– Not run');
    expect(await check(id).textContent()).toContain('Not run: “Admin SDK API access is enabled” failed first.');
    expect(await check(id).textContent()).not.toContain('Fix:');
  }
  expect(await page.locator('#finalOut').textContent()).toContain('API access has been disabled');
  expect((await page.locator('#finalOut').textContent())!.split('API access has been disabled').length).toBe(2);
  suite.emu.runtime.disableAdminApi(false);

  // The trigger removed behind the sidebar's back: the facts said "Installed"; after Finalize they agree with it.
  for (const t of [...suite.emu.runtime.triggers.list]) suite.emu.runtime.triggers.remove(t.uid);
  expect(await facts.textContent()).toContain('Installed');
  await page.getByRole('button', { name: 'Finalize sync' }).click();
  await textOf(check('trigger'), 'The schedule trigger is not installed.');
  await textOf(facts, 'Not installed');
  expect(await facts.textContent()).not.toContain('Installed (');
  await check('trigger').getByRole('button', { name: 'Reinstall the trigger' }).click();
  await textOf(check('trigger'), '✓ Pass');
  expect(suite.emu.runtime.triggers.list.map((t) => t.handler)).toEqual(['runScheduledSync']);
  await textOf(facts, 'Installed (runs as');
  expect(await page.locator('#finalSummary').textContent()).toBe('All 10 checks passed.');
});

test('a suspended user with no account: Explain says "suspended in Google, so not synced" (not a green "in scope"), Preview counts such users apart', async () => {
  const plan = await rpc(suite.emu, 'previewSync');
  expect(plan.suspendedUnsynced).toBeGreaterThan(0);
  const suspended = suite.emu.runtime.directory.allUsers().find((u) => u.suspended && !u.archived && u.orgUnitPath.startsWith('/Students/'))!;
  const { page } = await open();
  await page.getByLabel('User email').fill(suspended.primaryEmail);
  await page.getByRole('button', { name: 'Explain', exact: true }).click();
  const body = page.locator('#explainBody');
  await textOf(body, 'so not synced');
  const verdict = body.locator('.msg').first();
  expect(await verdict.getAttribute('class')).toContain('warn');
  expect(await verdict.textContent()).toMatch(/Suspended in Google, so not synced: the rules would give student \(.+\), but no account is created for a suspended user\./);
  expect(await body.textContent()).not.toContain('In scope');
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: 'Preview' }).click();
  const line = await textOf(page.locator('#previewOut p.small').first(), 'in scope');
  expect(line).toContain(`${plan.inScopeUsers} of ${plan.directoryUsers} directory users in scope · ${plan.suspendedUnsynced} more matched but suspended or archived in Google, so not synced`);
});

test('a Sync now refused by the cooldown says when a full sync may run and offers Sync this user right there', async () => {
  await configure(suite.emu, { cooldownMinutes: 60 });
  await syncAll();
  const mover = suite.emu.runtime.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && !u.archived)!;
  suite.emu.runtime.directory.moveUser(mover.primaryEmail, '/Staff/Teachers');
  const state = await rpc(suite.emu, 'getState');
  const zone = state.settings.schedule.timeZone;
  const { page } = await open();
  await page.getByRole('button', { name: 'Sync now' }).click();
  const out = page.locator('#syncOut');
  const refusal = spaced(await textOf(out, 'minutes ago'));
  expect(refusal).toContain(`the next one is allowed at ${shownAt(state.cooldownUntil, zone)}`);
  await out.getByLabel('Email of one user to sync now').fill(mover.primaryEmail);
  await out.getByRole('button', { name: 'Sync this user' }).click();
  await textOf(out, `Applied 1 change for ${mover.primaryEmail}.`);
  const [account] = (await rpc(suite.emu, 'getAccounts', { query: mover.primaryEmail })).rows;
  expect(account.roles).toEqual(['teacher']);
  expect((await rpc(suite.emu, 'getState')).history[0].trigger).toBe('user');
});

test('a sync that takes longer than a second shows a progress bar whatever its phase', async () => {
  await configure(suite.emu, { cooldownMinutes: 0 });
  const { page } = await open();
  let answer: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (answer = resolve));
  // The first part's answer is held back until the bar has been seen (a run of Reading the directory, not of applying).
  await page.route('**/rpc/syncNow', async (route) => {
    await held;
    await route.continue();
  });
  await page.getByRole('button', { name: 'Sync now' }).click();
  const bar = page.locator('#syncOut progress');
  await bar.waitFor({ state: 'attached', timeout: 10_000 });
  expect(await page.locator('#syncOut').textContent()).toContain('Sync in progress');
  expect(await page.locator('#syncBtn').isDisabled()).toBe(true);
  answer();
  await textOf(page.locator('#syncOut'), 'Sync finished', 30_000);
  expect(await bar.count()).toBe(0);
});

test('first open: an admin is first recommended a dedicated read-only sync account with its exact privileges; someone who cannot read the directory gets the "ask an admin" form, not a red error', async () => {
  await suite.start({ preconfigure: false });
  await suite.open('#setup');
  const setup = suite.ui.page.locator('#setupBody');
  await textOf(setup, 'Recommended: a dedicated read-only sync account');
  expect(await suite.ui.page.locator('#syncPrivileges li').allTextContents()).toEqual(['Organizational Units → Read', 'Users → Read', 'Groups → Read']);
  const text = (await setup.textContent())!;
  expect(text.indexOf('Recommended: a dedicated read-only sync account')).toBeLessThan(text.indexOf('use my account for syncing'));
  expect(text).toContain('Account → Admin roles → Create new role');
  expect(await setup.getByRole('button', { name: 'I am a Workspace admin — use my account for syncing' }).isVisible()).toBe(true);
  expect(suite.ui.errors).toEqual([]);
  await suite.ui.page.close();

  // Someone who cannot read the directory: the form to ask an admin, the reason only on request.
  suite.emu.runtime.revokeDirectoryAccess(true);
  await suite.open('#setup');
  const page = suite.ui.page;
  await textOf(page.locator('#setupBody'), 'Ask an admin');
  expect(await page.locator('#setupBody .msg.error, #setupBody [role=alert], #notice .msg').count()).toBe(0);
  expect(await page.locator('#setupBody').textContent()).toContain('cannot read the Google Workspace directory, so a Workspace admin links Roster Sync');
  expect(await page.getByRole('button', { name: /use my account/ }).count()).toBe(0);
  const why = page.locator('#setupBody details');
  expect(await why.locator('p').first().isVisible()).toBe(false);
  await why.locator('summary').click();
  expect(await why.textContent()).toContain('This account cannot access the Google Workspace Directory.');
  await page.getByLabel('Workspace admin’s email').fill(`it@${DEMO_DOMAIN}`);
  await page.getByRole('button', { name: 'Write the request' }).click();
  await textOf(page.locator('#setupBody'), 'is ready');
});

test('Settings → Policy: the report email after scheduled syncs is off by default and saved when turned on', async () => {
  const { page } = await open();
  await openTab(page, 'Settings');
  const box = page.getByLabel('Email a report after scheduled syncs');
  expect(await box.isChecked()).toBe(false);
  await box.check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await textOf(page.locator('#settingsMsg'), 'Saved');
  expect((await rpc(suite.emu, 'getState')).settings.reportEmail).toBe(true);
});

test('a sync report lists what was held while a rule was broken, and how many more were not listed', async () => {
  await configure(suite.emu, { cooldownMinutes: 0 });
  await syncAll();
  // The teachers' OU renamed in Google: its rule is broken, and every teacher it gave a role is held, not stripped.
  suite.emu.runtime.directory.renameOu('/Staff/Teachers', 'Faculty');
  await syncAll();
  const entry = (await rpc(suite.emu, 'getState')).history[0];
  const report = await rpc(suite.emu, 'getSyncReport', { startedAt: entry.startedAt });
  expect(report.heldTotal).toBeGreaterThan(0);
  const { page } = await open();
  await openTab(page, 'History');
  await page.locator('#histList li').nth(0).getByRole('button', { name: /^Report of the sync of/ }).click();
  const held = page.getByRole('dialog').getByRole('region', { name: 'Held' });
  await textOf(held, `Held (${report.heldTotal})`);
  expect(await held.locator('.changes > li').count()).toBe(report.held.length);
  expect(await held.locator('.changes > li').first().textContent()).toContain(report.held[0].email);
  expect(await held.textContent()).toContain('no longer exists in Google Workspace');
  if (report.heldTotal > report.held.length) expect(await held.textContent()).toContain(`${report.heldTotal - report.held.length} more not listed.`);
});
