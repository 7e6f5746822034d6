// A mapped OU or group deleted or renamed in Google: its users are held, never deactivated or stripped of
// roles, and the broken rule is named.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { DEMO_DOMAIN } from '../../../emulator/domain';
import { DEMO_RULES } from '../../../emulator/serve';
import { faultSuite, Json, catalog, newest } from './helpers';

const { rec, world } = faultSuite('brokenMappings');

interface BrokenCase {
  label: string;
  rules?: unknown[];
  /** Before the first sync. */
  prepare?: (w: World) => void;
  breakIt: (w: World) => void;
  problem: RegExp;
  /** The rule as it should read once the admin points it at the new name (null: remove the rule). */
  repair: (rules: Json[]) => Json[];
}

const BROKEN: BrokenCase[] = [
  {
    label: 'OU renamed',
    breakIt: (w) => void w.rt.directory.renameOu('/Staff/Teachers', 'Faculty'),
    problem: /The organizational unit \/Staff\/Teachers in rule .* no longer exists in Google Workspace\./,
    repair: (rules) => rules.map((r) => (r.id === 'teachers' ? { ...r, orgUnitPath: '/Staff/Faculty' } : r)),
  },
  {
    label: 'OU deleted (its users moved to the parent OU)',
    rules: [...DEMO_RULES, { id: 'support', type: 'ou', orgUnitPath: '/Staff/Support', includeSubOrgUnits: true, role: 'teacher' }],
    breakIt: (w) => w.rt.directory.deleteOu('/Staff/Support'),
    problem: /The organizational unit \/Staff\/Support in rule .* no longer exists in Google Workspace\./,
    repair: (rules) => rules.filter((r) => r.id !== 'support'),
  },
  {
    label: 'group deleted',
    breakIt: (w) => w.rt.directory.deleteGroup(`admins@${DEMO_DOMAIN}`),
    problem: new RegExp(`The group admins@${DEMO_DOMAIN.replace(/\./g, '\\.')} in rule .* no longer exists in Google Workspace\\.`),
    repair: (rules) => rules.filter((r) => r.id !== 'admins'),
  },
  {
    label: 'group renamed (old address not kept as an alias)',
    // Two support staff whose only rule is this group.
    prepare: (w) => {
      for (const u of w.rt.directory.allUsers().filter((x) => x.orgUnitPath === '/Staff/Support').slice(0, 2)) w.rt.directory.addMember(`counselors@${DEMO_DOMAIN}`, u.primaryEmail);
    },
    breakIt: (w) => void w.rt.directory.renameGroup(`counselors@${DEMO_DOMAIN}`, `guidance@${DEMO_DOMAIN}`, 'Guidance', false),
    problem: new RegExp(`The group counselors@${DEMO_DOMAIN.replace(/\./g, '\\.')} in rule .* no longer exists in Google Workspace\\.`),
    repair: (rules) => rules.map((r) => (r.id === 'counselors' ? { ...r, groupEmail: `guidance@${DEMO_DOMAIN}` } : r)),
  },
];

rec.test('mappings', 'a mapped OU or group deleted or renamed: its users are held, not treated as gone; preview, History and Finalize name the broken rule and the users', () => {
  for (const c of BROKEN) {
    const w = world(c.rules ? { rules: c.rules } : {});
    w.save({ threshold: { kind: 'percent', value: 100 } });
    c.prepare?.(w);
    w.call('syncNow', {});
    const before = new Map(w.roster().map((r) => [r.ID, r]));
    c.breakIt(w);
    later(w);

    const preview = w.call('previewSync');
    expect(preview.ruleProblems).toHaveLength(1);
    expect(preview.ruleProblems[0]).toMatch(c.problem);
    expect(preview.counts.deactivate + preview.counts.delete).toBe(0);
    expect(preview.held.length).toBeGreaterThan(0);
    for (const h of preview.held) expect(h.why).toMatch(catalog('ruleHeld'));
    // Nobody loses a role the broken rule gives, either.
    for (const ch of preview.changes) expect(ch.rolesBefore.filter((r: string) => !ch.rolesAfter.includes(r))).toEqual([]);
    const heldEmails: string[] = preview.held.map((h: Json) => h.change.email);

    const result = w.call('syncNow', {});
    expect(result.state).toBe('done');
    expect(result.applied.deactivate + result.applied.delete).toBe(0);
    for (const r of w.roster()) {
      const was = before.get(r.ID)!;
      expect(r.Status).toBe(was.Status);
      expect(r['Out of scope since']).toBe(was['Out of scope since']);
      for (const role of was.Roles.split(', ').filter(Boolean)) expect(r.Roles.split(', ')).toContain(role);
    }
    const entry = newest(w);
    expect(entry.Message).toMatch(c.problem);
    expect(entry.Message).toContain(`${heldEmails.length} changes (deactivations or role removals) held while a rule is broken: ${heldEmails[0]}`);
    expect(entry.Fix).toContain('Fix the broken rule');

    const mappings = w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'mappings');
    expect(mappings.status).toBe('fail');
    expect(mappings.found).toMatch(c.problem);

    // Once the rule points at the new name (or is removed), the held users are reviewed again.
    w.save({ rules: c.repair(w.settings().rules) });
    later(w);
    const repaired = w.call('previewSync');
    expect(repaired.ruleProblems).toEqual([]);
    expect(repaired.held).toEqual([]);
    rec.count('faultScenarios');
    rec.count('heldUsers', heldEmails.length);
  }
});
