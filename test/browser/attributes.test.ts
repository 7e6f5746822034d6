// Settings → Attributes and app groups in a real browser against the local emulator: the mapping
// table and the app groups are saved as typed, a refused row is named as the form labels it, and
// the next sync fills the Roster's new columns.
import { openTab, rpc, sidebarSuite, textOf } from './helpers';
import { DEMO_DOMAIN } from '../../emulator/domain';

jest.setTimeout(60_000);

const suite = sidebarSuite();

test('an attribute row and an app group are saved from Settings; a bad row is named; the sync fills the new columns', async () => {
  await suite.start();
  await suite.open();
  const { page } = suite.ui;
  await openTab(page, 'Settings');
  await page.getByRole('button', { name: 'Add attribute' }).click();
  await page.getByLabel('Attribute 1 name').fill('Grade');
  await page.getByLabel('Attribute 1 source').fill('orgUnitPath');
  await page.getByLabel('Attribute 1 OU pattern').fill('/Students/{school}/Grade {grade}');
  await page.getByLabel('Attribute 1 part (or constant value)').fill('year');
  // App groups are found with the rule picker's group search.
  await page.getByLabel('Find a group to add (its email or name starts with)').fill('robotics');
  await page.getByRole('button', { name: `Add robotics-club@${DEMO_DOMAIN}` }).click();
  expect(await page.getByLabel('App groups (one Google Group email per line)').inputValue()).toBe(`robotics-club@${DEMO_DOMAIN}`);
  await page.getByRole('button', { name: 'Save settings' }).click();
  const error = await textOf(page.locator('#settingsMsg'), 'Attribute 1 part must be one of the pattern');
  expect(error).not.toContain('attributes[0]');
  expect(await page.getByLabel('Attribute 1 part (or constant value)').getAttribute('aria-invalid')).toBe('true');
  expect((await rpc(suite.emu, 'getState')).settings.attributes).toEqual([]);

  await page.getByLabel('Attribute 1 part (or constant value)').fill('grade');
  await page.getByLabel('Attribute 1 SCIM attribute').fill('urn:ietf:params:scim:schemas:extension:hallpass:2.0:User:grade');
  await page.getByRole('button', { name: 'Add attribute' }).click();
  await page.getByLabel('Attribute 2 name').fill('District');
  await page.getByLabel('Attribute 2 source').fill('constant');
  await page.getByLabel('Attribute 2 part (or constant value)').fill('Springfield');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await textOf(page.locator('#settingsMsg'), 'Settings saved.');
  const settings = (await rpc(suite.emu, 'getState')).settings;
  expect(settings.attributes).toEqual([
    { name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade', scim: 'urn:ietf:params:scim:schemas:extension:hallpass:2.0:User:grade' },
    { name: 'District', source: 'constant', value: 'Springfield' },
  ]);
  expect(settings.appGroups).toEqual([`robotics-club@${DEMO_DOMAIN}`]);

  let result = await rpc(suite.emu, 'syncNow', {});
  while (result.state === 'in-progress') result = await rpc(suite.emu, 'continueSync');
  const [header, ...rows] = suite.emu.runtime.sheetValues('Roster') as string[][];
  expect(header.slice(11)).toEqual(['Grade', 'District', 'Groups']);
  const student = rows.find((r) => r[7] === '/Students/Lincoln High/Grade 11')!;
  expect(student.slice(11, 13)).toEqual(['11', 'Springfield']);

  // The rows show again as saved after a reload of the form.
  await page.getByRole('button', { name: 'Discard changes' }).click();
  expect(await page.getByLabel('Attribute 2 part (or constant value)').inputValue()).toBe('Springfield');
  await page.getByRole('button', { name: 'Deselected groups still in the app…' }).click();
  await textOf(page.locator('#appGroupsMsg'), 'No app group is waiting for removal.');
  // Explain lists each mapped value and where it came from.
  const email = student[1];
  await openTab(page, 'Sync');
  await page.getByLabel('User email').fill(email);
  await page.getByRole('button', { name: 'Explain', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Explain ${email}` });
  const text = await textOf(dialog, 'Attributes and where they come from');
  expect(text).toContain('Grade: 11 (from OU /Students/Lincoln High/Grade 11)');
  expect(text).toContain('District: Springfield (from a constant)');
});

test('Preview names the values that cannot be derived, per user', async () => {
  await suite.start();
  suite.emu.runtime.directory.addOrgUnit('/Students/Lincoln High/Transfers');
  const moved = suite.emu.runtime.directory.allUsers().find((u) => u.orgUnitPath === '/Students/Lincoln High/Grade 9')!;
  suite.emu.runtime.directory.moveUser(moved.primaryEmail, '/Students/Lincoln High/Transfers');
  const state = await rpc(suite.emu, 'getState');
  await rpc(suite.emu, 'saveSettings', { ...state.settings, attributes: [{ name: 'Grade', source: 'orgUnitPath', pattern: '/Students/{school}/Grade {grade}', part: 'grade' }] });
  await suite.open();
  const { page } = suite.ui;
  await page.getByRole('button', { name: 'Preview' }).click();
  const text = await textOf(page.locator('#previewOut'), '1 attribute value cannot be derived');
  expect(text).toContain('Check the OU pattern under Settings → Attributes');
  await page.locator('#previewOut').getByRole('button', { name: /^Cannot derive/ }).click();
  await textOf(page.locator('#previewOut'), `Grade: the OU /Students/Lincoln High/Transfers does not match the pattern`);
  expect(await page.locator('#previewOut').textContent()).toContain(moved.primaryEmail);
});
