// The demo page (emulator/demo.html) in Chromium: the guided path, the controls' banners with undo,
// the rows the last sync changed, and a second demo admin.
import { Frame, Page } from 'playwright-core';
import { configure, rpc, sidebarSuite, textOf } from './helpers';

jest.setTimeout(90_000);

const suite = sidebarSuite();

async function openDemo(): Promise<{ page: Page; sidebar: Frame }> {
  const page = await suite.newPage({ width: 1300, height: 900 });
  await page.goto(suite.emu.url);
  await page.locator('#story li').first().waitFor();
  const frame = page.frame({ url: /\/sidebar$/ });
  if (!frame) throw new Error('no sidebar frame');
  await frame.locator('#who').filter({ hasText: 'Signed in as' }).waitFor();
  return { page, sidebar: frame };
}

/** Waits for the page's next poll of the sheets to be rendered. */
async function nextRefresh(p: Page): Promise<void> {
  await p.waitForResponse((r) => r.url().endsWith('/api/sheets'));
  await p.waitForTimeout(50);
}

const stepsDone = (p: Page) => p.locator('#story li.done').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.step));

test('the guided path: link → map → preview → sync → accounts → a day passes → finalize, each ticked once done', async () => {
  await suite.start({ preconfigure: false });
  const { page: p, sidebar } = await openDemo();
  expect(await p.locator('#story li').count()).toBe(7);
  expect(await stepsDone(p)).toEqual([]);
  expect(await p.locator('#story li.next').getAttribute('data-step')).toBe('link');

  await sidebar.getByRole('button', { name: 'I am a Workspace admin — use my account for syncing' }).click();
  await sidebar.locator('#tabs').waitFor();
  await p.locator('#story li.done[data-step="link"]').waitFor();
  expect(await p.locator('#story li.next').getAttribute('data-step')).toBe('map');

  await configure(suite.emu, { rules: [{ id: 'students', type: 'ou', orgUnitPath: '/Students', includeSubOrgUnits: true, role: 'student' }] });
  await rpc(suite.emu, 'previewSync');
  let r = await rpc(suite.emu, 'syncNow', {});
  while (r.state === 'in-progress') r = await rpc(suite.emu, 'continueSync');
  await rpc(suite.emu, 'getAccounts', {});
  await p.locator('#story li.done[data-step="accounts"]').waitFor();
  expect(await p.locator('#story li.next').getAttribute('data-step')).toBe('day');
  await p.getByRole('button', { name: 'Let a day pass (scheduled syncs run)' }).click();
  await textOf(p.locator('#banners'), /A day passed: \d+ heartbeats? ran\./);
  await rpc(suite.emu, 'runFinalizeChecks');
  await p.locator('#story li.done[data-step="finalize"]').waitFor();
  expect(await stepsDone(p)).toEqual(['link', 'map', 'preview', 'sync', 'accounts', 'day', 'finalize']);
  expect(await p.locator('#story li.next').count()).toBe(0);
});

test('each demo control shows its result in a banner that stays until dismissed, and its undo puts the world back', async () => {
  await suite.start();
  const rt = suite.emu.runtime;
  const { page: p } = await openDemo();
  const banners = p.locator('#banners .banner');
  const controls: { button: string; says: string; effect: () => Promise<void> | void; undone: () => Promise<void> | void }[] = [
    {
      button: 'Directory outage', says: 'The Google directory is down',
      effect: async () => expect((await rpc(suite.emu, 'previewSync').catch((e: Error) => e.message)) as string).toMatch(/did not answer/),
      undone: async () => expect((await rpc(suite.emu, 'previewSync')).total).toBeGreaterThan(0),
    },
    {
      button: 'Disable API access', says: 'API access is disabled',
      effect: async () => expect((await rpc(suite.emu, 'runFinalizeChecks')).checks[1].status).toBe('fail'),
      undone: async () => expect((await rpc(suite.emu, 'runFinalizeChecks')).checks[1].status).toBe('pass'),
    },
    {
      button: 'Revoke the admin rights', says: 'lost its admin rights',
      effect: async () => expect((await rpc(suite.emu, 'runFinalizeChecks')).checks[2].status).toBe('fail'),
      undone: async () => expect((await rpc(suite.emu, 'runFinalizeChecks')).checks[2].status).toBe('pass'),
    },
    {
      button: 'Protect the Roster sheet', says: 'The Roster sheet is protected',
      effect: () => expect(rt.sheetData(rt.activeSpreadsheetId, 'Roster').protections).toHaveLength(1),
      undone: () => expect(rt.sheetData(rt.activeSpreadsheetId, 'Roster').protections).toHaveLength(0),
    },
    {
      button: 'Rename OU /Staff/Teachers', says: 'OU /Staff/Teachers is now /Staff/Faculty',
      effect: async () => expect((await rpc(suite.emu, 'listOrgUnits', { query: 'Faculty' })).units.map((u: { path: string }) => u.path)).toContain('/Staff/Faculty'),
      undone: async () => expect((await rpc(suite.emu, 'listOrgUnits', { query: 'Faculty' })).units).toEqual([]),
    },
    {
      button: 'Remove the schedule trigger', says: 'The hourly schedule trigger is gone',
      effect: () => expect(rt.triggers.list).toHaveLength(0),
      undone: () => expect(rt.triggers.list.map((t) => t.handler)).toEqual(['runScheduledSync']),
    },
  ];
  for (const c of controls) {
    await p.getByRole('button', { name: c.button, exact: true }).click();
    const shown = banners.filter({ hasText: c.says });
    await shown.waitFor();
    await c.effect();
    await nextRefresh(p);
    await nextRefresh(p);
    expect(await shown.count()).toBe(1); // still there after the page refreshed twice
    await shown.getByRole('button', { name: 'Undo' }).click();
    const undone = banners.filter({ hasText: 'Undone:' }).first();
    await undone.waitFor();
    await c.undone();
    expect(await shown.getByRole('button', { name: 'Undo' }).count()).toBe(0);
    await undone.getByRole('button', { name: 'Dismiss' }).click();
    expect(await banners.count()).toBe(0);
  }
});

test('the roster view highlights the rows the last sync changed; a second demo admin can sign in', async () => {
  await suite.start();
  await configure(suite.emu, { cooldownMinutes: 0 });
  let r = await rpc(suite.emu, 'syncNow', {});
  while (r.state === 'in-progress') r = await rpc(suite.emu, 'continueSync');
  const mover = suite.emu.runtime.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && !u.archived)!;
  suite.emu.runtime.directory.moveUser(mover.primaryEmail, '/');
  r = await rpc(suite.emu, 'syncNow', {});
  expect(r.applied.deactivate).toBe(1);
  const { page: p } = await openDemo();
  const changed = p.locator('#roster tr.changed');
  await changed.first().waitFor();
  expect(await changed.count()).toBe(1);
  expect(await changed.textContent()).toContain(mover.primaryEmail.toLowerCase());
  await textOf(p.locator('#changedNote'), 'Highlighted: the row the last sync changed.');

  const select = p.getByLabel('Signed in as');
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(options).toHaveLength(2);
  await select.selectOption(options[1]);
  await p.waitForResponse((res) => res.url().endsWith('/sidebar'));
  const frame = p.frame({ url: /\/sidebar$/ })!;
  await frame.locator('#who').filter({ hasText: `Signed in as ${options[1]}` }).waitFor();
  // Not an admin of Roster Sync yet: refused, as in Google.
  await textOf(frame.locator('#setupBody'), 'You do not have permission to change Roster Sync.');
});
