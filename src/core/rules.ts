// Which rules match a user, and which roles follow. Every role keeps the rules
// that gave it, so a result can always be explained.
import { DirectorySnapshot, DirectoryUser, Role, RuleProblem } from './model';
import { Rule, Settings, describeRule } from './settings';
import { msg } from './messages';

export interface RoleGrant {
  role: Role;
  /** Human descriptions of the rules (or implications) that gave the role. */
  from: string[];
}

export interface Match {
  matchedRules: Rule[];
  roles: RoleGrant[];
}

/** Precomputed lookups for one snapshot: group rule → every user id it reaches (nested). */
export class RuleIndex {
  private readonly groupUsers = new Map<string, Set<string>>();
  readonly problems: RuleProblem[] = [];
  readonly brokenRuleIds = new Set<string>();

  constructor(readonly settings: Settings, snapshot: DirectorySnapshot) {
    const ous = new Set(snapshot.orgUnits.map((o) => o.orgUnitPath.toLowerCase()));
    ous.add('/');
    const members = new Map(snapshot.groups.map((g) => [g.email.toLowerCase(), g]));
    const missing = new Set(snapshot.missingGroups.map((e) => e.toLowerCase()));
    for (const rule of settings.rules) {
      if (rule.type === 'ou' && !ous.has(rule.orgUnitPath.toLowerCase())) {
        this.broken(rule, msg('ouMissing', { path: rule.orgUnitPath, rule: describeRule(rule) }).text);
      } else if (rule.type === 'group') {
        const key = rule.groupEmail.toLowerCase();
        if (missing.has(key) || !members.has(key)) {
          this.broken(rule, msg('groupMissing', { email: rule.groupEmail, rule: describeRule(rule) }).text);
        } else if (!this.groupUsers.has(key)) {
          this.groupUsers.set(key, expandGroup(key, members));
        }
      }
    }
  }

  private broken(rule: Rule, message: string): void {
    this.brokenRuleIds.add(rule.id);
    this.problems.push({ ruleId: rule.id, message });
  }

  match(user: DirectoryUser): Match {
    const matchedRules: Rule[] = [];
    const path = user.orgUnitPath.toLowerCase();
    for (const rule of this.settings.rules) {
      if (this.brokenRuleIds.has(rule.id)) continue;
      if (rule.type === 'ou' ? ouMatches(rule.orgUnitPath.toLowerCase(), rule.includeSubOrgUnits, path) : this.groupUsers.get(rule.groupEmail.toLowerCase())?.has(user.id)) {
        matchedRules.push(rule);
      }
    }
    return { matchedRules, roles: grantRoles(matchedRules, this.settings) };
  }

  /** How many users of the snapshot each rule matches now (for the sidebar). */
  countMatches(users: DirectoryUser[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const rule of this.settings.rules) counts[rule.id] = 0;
    for (const user of users) for (const rule of this.match(user).matchedRules) counts[rule.id]++;
    return counts;
  }
}

/** Whether an OU rule (broken or not) reaches users in this OU: such a user may be in scope. */
export function reachedByOuRule(settings: Settings, orgUnitPath: string): boolean {
  const path = orgUnitPath.toLowerCase();
  return settings.rules.some((rule) => rule.type === 'ou' && ouMatches(rule.orgUnitPath.toLowerCase(), rule.includeSubOrgUnits, path));
}

function ouMatches(rulePath: string, includeSub: boolean, userPath: string): boolean {
  if (userPath === rulePath) return true;
  if (!includeSub) return false;
  return rulePath === '/' || userPath.startsWith(rulePath + '/');
}

/** Every user reachable from a group through nested groups; a cycle is visited once. */
export function expandGroup(root: string, members: Map<string, { userIds: string[]; groupEmails: string[] }>): Set<string> {
  const users = new Set<string>();
  const seen = new Set<string>([root]);
  const stack = [root];
  while (stack.length) {
    const group = members.get(stack.pop()!);
    if (!group) continue;
    for (const id of group.userIds) users.add(id);
    for (const nested of group.groupEmails) {
      const key = nested.toLowerCase();
      if (!seen.has(key)) {
        seen.add(key);
        stack.push(key);
      }
    }
  }
  return users;
}

/** The union of the rules' roles plus implied roles (admin → teacher), each with where it came from. */
export function grantRoles(rules: Rule[], settings: Settings): RoleGrant[] {
  const grants = new Map<Role, string[]>();
  const add = (role: Role, from: string) => {
    const list = grants.get(role) ?? [];
    if (!list.includes(from)) list.push(from);
    grants.set(role, list);
  };
  for (const rule of rules) add(rule.role, describeRule(rule));
  for (const [role] of [...grants]) {
    for (const implied of settings.impliedRoles[role] ?? []) add(implied, `${role} also grants ${implied}`);
  }
  return settings.roles.filter((r) => grants.has(r)).map((role) => ({ role, from: grants.get(role)! }));
}
