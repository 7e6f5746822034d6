// Finalize sync on the built bundle: each check made to fail in turn, with the catalog's message and fix.
import { world, World } from './harness';
import { CATALOG } from '../../src/core/messages';
import { DEMO_DOMAIN } from '../../emulator/domain';

type Check = { id: string; title: string; status: string; found: string; fix: string; action?: string };

function checks(w: World, ctx: { authMode?: 'LIMITED' } = {}): Record<string, Check> {
  const r = w.rt.runFromBrowser('runFinalizeChecks', [], ctx) as { ok: boolean; data: { checks: Check[] } };
  expect(r.ok).toBe(true);
  return Object.fromEntries(r.data.checks.map((c) => [c.id, c]));
}

const ORDER = ['installed', 'apiAccess', 'readUsers', 'readOrgUnits', 'readGroups', 'mappings', 'trigger', 'destination', 'settings'];

test('a linked, scheduled, synced setup passes every check, in order', () => {
  const w = world();
  w.call('syncNow', {});
  const r = w.call('runFinalizeChecks').checks as Check[];
  expect(r.map((c) => c.id)).toEqual(ORDER);
  // The demo has a rule for counselors@ and admins@; both have members, so no warning either.
  expect(r.filter((c) => c.status !== 'pass')).toEqual([]);
});

test('not authorized for the scopes', () => {
  const w = world();
  const c = checks(w, { authMode: 'LIMITED' }).installed;
  expect(c).toMatchObject({ status: 'fail', found: CATALOG.notInstalled.text });
  expect(c.fix).toContain('accept the permissions');
});

test('Admin SDK API access turned off in the Admin console', () => {
  const w = world();
  w.rt.disableAdminApi(true);
  const c = checks(w);
  expect(c.apiAccess).toMatchObject({ status: 'fail', found: CATALOG.apiDisabled.text, fix: CATALOG.apiDisabled.fix });
  expect(c.trigger.status).toBe('pass'); // one failing check does not hide the others
});

test('with API access disabled the failure is said once: the checks that need the API are not run, the others still are', () => {
  const w = world();
  w.rt.disableAdminApi(true);
  const c = checks(w);
  expect(c.apiAccess).toMatchObject({ status: 'fail', found: CATALOG.apiDisabled.text, fix: CATALOG.apiDisabled.fix });
  for (const id of ['readUsers', 'readOrgUnits', 'readGroups', 'mappings']) {
    expect(c[id]).toMatchObject({ status: 'notRun', found: 'Not run: “Admin SDK API access is enabled” failed first.', fix: '' });
  }
  expect(Object.values(c).filter((x) => x.found === CATALOG.apiDisabled.text)).toHaveLength(1);
  expect(c.trigger.status).toBe('pass');
  expect(c.installed.status).toBe('pass');
});

test('the sync account lost its admin rights', () => {
  const w = world();
  w.rt.revokeDirectoryAccess(true);
  const c = checks(w);
  for (const id of ['readUsers', 'readOrgUnits', 'readGroups']) expect(c[id]).toMatchObject({ status: 'fail', found: CATALOG.noDirectoryAccess.text, fix: CATALOG.noDirectoryAccess.fix });
  expect(c.apiAccess.status).toBe('pass');
});

test('a mapped OU and a mapped group that no longer exist, and a rule that matches nobody', () => {
  let w = world();
  w.rt.directory.renameOu('/Staff/Teachers', 'Faculty');
  w.rt.directory.deleteGroup(`counselors@${DEMO_DOMAIN}`);
  let c = checks(w).mappings;
  expect(c.status).toBe('fail');
  expect(c.found).toContain('The organizational unit /Staff/Teachers in rule "OU /Staff/Teachers (and sub-OUs) → teacher" no longer exists in Google Workspace.');
  expect(c.found).toContain(`The group counselors@${DEMO_DOMAIN} in rule "group counselors@${DEMO_DOMAIN} → teacher" no longer exists in Google Workspace.`);
  expect(c.fix).toBe(CATALOG.ouMissing.fix);

  w = world();
  w.save({ rules: [...w.settings().rules, { id: 'committee', type: 'group', groupEmail: `empty-committee@${DEMO_DOMAIN}`, role: 'teacher' }] });
  c = checks(w).mappings;
  expect(c).toMatchObject({ status: 'warning', fix: CATALOG.ruleMatchesNobody.fix });
  expect(c.found).toContain(`group empty-committee@${DEMO_DOMAIN} → teacher" matches no user right now.`);
});

test('the schedule trigger was removed', () => {
  const w = world();
  for (const t of [...w.rt.triggers.list]) w.rt.triggers.remove(t.uid);
  expect(checks(w).trigger).toMatchObject({ status: 'fail', found: CATALOG.triggerMissing.text, fix: CATALOG.triggerMissing.fix });
});

test('a missing trigger is one action for the sync account (reinstallTrigger), and refused to anyone else', () => {
  const w = world();
  const syncAccount = w.call('getState').user;
  for (const t of [...w.rt.triggers.list]) w.rt.triggers.remove(t.uid);
  expect(checks(w).trigger.action).toBe('reinstallTrigger');

  // Another admin of Roster Sync: a trigger they installed would run as them and do nothing.
  const other = w.rt.directory.allUsers().find((u) => u.isAdmin && !u.suspended && u.primaryEmail.toLowerCase() !== syncAccount)!.primaryEmail.toLowerCase();
  w.save({ admins: [other] });
  for (const t of [...w.rt.triggers.list]) w.rt.triggers.remove(t.uid);
  const asOther = w.rt.runFromBrowser('runFinalizeChecks', [], { user: other }) as { ok: boolean; data: { checks: Check[] } };
  expect(asOther.data.checks.find((x) => x.id === 'trigger')!.action).toBeUndefined();
  expect(w.envelope('reinstallTrigger', undefined, other)).toMatchObject({ ok: false, error: { id: 'triggerNotYours' } });
  expect(w.rt.triggers.list).toHaveLength(0);

  const state = w.call('reinstallTrigger');
  expect(state.trigger.installed).toBe(true);
  expect(w.rt.triggers.list.map((t) => t.handler)).toEqual(['runScheduledSync']);
  expect(checks(w).trigger).toMatchObject({ status: 'pass' });
  w.call('reinstallTrigger');
  expect(w.rt.triggers.list).toHaveLength(1); // once, however often it is pressed
});

test('the roster sheet is protected against the add-on', () => {
  const w = world();
  w.call('syncNow', {});
  w.rt.protectSheet(w.rt.activeSpreadsheetId, 'Roster', []);
  const c = checks(w).destination;
  expect(c.status).toBe('fail');
  expect(c.found).toMatch(/^The roster sheet "Roster" cannot be written: it is protected/);
  expect(c.fix).toBe(CATALOG.rosterProtected.fix);
});

test('unreadable settings, and a last sync that failed', () => {
  let w = world();
  const key = Object.keys(w.rt.scriptProperties()).find((k) => k.endsWith(':settings'))!;
  w.rt.properties.script.map.set(key, '{"rules": [');
  expect(checks(w).settings).toMatchObject({ status: 'fail', found: 'The saved settings cannot be read: the stored value is not valid JSON.', fix: CATALOG.corruptSettings.fix });

  w = world();
  w.rt.inject('AdminDirectory.Users.list', () => Object.assign(new Error('API call to directory.users.list failed with error: Backend Error'), { details: { code: 503, errors: [{ reason: 'backendError' }] } }));
  expect(w.call('syncNow', {}).state).toBe('failed');
  w.rt.clearFaults();
  const c = checks(w).settings;
  expect(c.status).toBe('fail');
  expect(c.found).toMatch(/^The last sync \(.+\) failed: /);
  expect(c.found).not.toContain('ended');
  expect(c.fix).toBe(CATALOG.directoryUnavailable.fix);
});
