// The sync account loses its admin rights, or the Admin SDK API is turned off: the sync fails with the fix
// and changes nothing.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { rollover, DEMO_DOMAIN } from '../../../emulator/domain';
import { CATALOG } from '../../../src/core/messages';
import { faultSuite, Json, sheetDump, newest } from './helpers';

const { rec, world } = faultSuite('lostAccess');

rec.test('access', 'lost admin rights or the Admin SDK API turned off: the Finalize wording, the roster untouched', () => {
  const cases: { label: string; apply: (w: World) => void; id: keyof typeof CATALOG; check: string }[] = [
    { label: 'admin rights revoked', apply: (w) => w.rt.revokeDirectoryAccess(true), id: 'noDirectoryAccess', check: 'readUsers' },
    { label: 'super admin role removed from the sync account', apply: (w) => void w.rt.directory.setAdmin(`admin@${DEMO_DOMAIN}`, false), id: 'noDirectoryAccess', check: 'readUsers' },
    { label: 'API access off in the Admin console', apply: (w) => w.rt.disableAdminApi(true), id: 'apiDisabled', check: 'apiAccess' },
    {
      label: 'Admin SDK advanced service missing from the project',
      apply: (w) => {
        w.rt.advancedServiceMissing = true;
      },
      id: 'apiDisabled',
      check: 'apiAccess',
    },
  ];
  for (const c of cases) {
    const w = world();
    w.call('syncNow', {});
    rollover(w.rt.directory, 'alumni');
    later(w);
    c.apply(w);
    const roster = sheetDump(w, 'Roster');
    const result = w.call('syncNow', {});
    expect(result).toMatchObject({ state: 'failed', message: CATALOG[c.id].text, fix: CATALOG[c.id].fix });
    expect(w.envelope('previewSync')).toMatchObject({ ok: false, error: { text: CATALOG[c.id].text, fix: CATALOG[c.id].fix } });
    const check = w.call('runFinalizeChecks').checks.find((k: Json) => k.id === c.check);
    expect(check).toMatchObject({ status: 'fail', found: CATALOG[c.id].text, fix: CATALOG[c.id].fix });
    expect(sheetDump(w, 'Roster')).toBe(roster);
    expect(newest(w)).toMatchObject({ Outcome: 'failed', Message: CATALOG[c.id].text });
    rec.count('faultScenarios');
  }
});
