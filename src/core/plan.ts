// Desired (the directory through the rules) vs observed (the roster) → a plan.
// Pure and linear: maps by id and email, no nested scans.
import { Account, AccountStatus, Change, ChangeKind, DirectorySnapshot, DirectoryUser, HeldChange, Plan, countChanges } from './model';
import { Match, RuleIndex, expandGroup } from './rules';
import { Settings } from './settings';
import { msg } from './messages';
import { AttributeMapping, Derived, deriveAttributes } from './attributes';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface PlanInput {
  settings: Settings;
  snapshot: DirectorySnapshot;
  accounts: Account[];
  now: string;
  /** Deactivations and deletions applied within the threshold's rolling window, not confirmed by an admin. */
  recentDestructive?: number;
  /**
   * Accounts carrying a local decision (a status set by hand, permissions, a manual account) as last
   * seen, by id: one whose row a person deleted is recreated with its decision, not as a new account.
   */
  remembered?: Map<string, Account>;
  /**
   * Hold both sides when a synced account's id belongs to no Google user while a Google user has its
   * email (an ID retyped by hand, or a user re-created in Google): on by default; off for a destination
   * that names that conflict itself with the admin's choice (a SCIM app's ledger).
   */
  holdIdConflicts?: boolean;
  /**
   * The whole roster, when `accounts` is only the part a sync looks at (an incremental sync): the
   * threshold is a share of every synced account, not of the few this sync reviews.
   */
  thresholdAccounts?: Account[];
}

/** What the rules say about one directory user. */
export interface Verdict {
  user: DirectoryUser;
  match: Match;
  /** Why the user is out of scope; null when in scope. */
  outOfScope: string | null;
  /** 'active' or 'suspended' for in-scope users. */
  target: 'active' | 'suspended';
  /** The mapped attributes (Settings → Attributes) of an in-scope user; absent when nothing is mapped. */
  derived?: Derived;
  /** The selected app groups the user belongs to (nested membership counts); absent when none is selected. */
  appGroups?: AppGroupVerdict;
}

export interface AppGroupVerdict {
  /** Emails of the groups the user is in now. */
  member: string[];
  /** Emails of selected groups the directory could not answer for: their membership is left as it is. */
  unknown: Set<string>;
  /** Every selected group email in settings order (current emails). */
  order: string[];
}

/** Who is in each selected app group (nested groups flattened), and the groups the directory lacks. */
export class AppGroupIndex {
  private readonly members: { email: string; users: Set<string> }[] = [];
  readonly unknown = new Set<string>();
  readonly order: string[] = [];

  constructor(settings: Settings, snapshot: DirectorySnapshot) {
    const byEmail = new Map(snapshot.groups.map((g) => [g.email.toLowerCase(), g]));
    const found = new Map((snapshot.appGroups ?? []).map((g) => [g.key, g]));
    for (const key of settings.appGroups ?? []) {
      const group = found.get(key);
      if (!group || !byEmail.has(key)) {
        this.unknown.add(key);
        this.order.push(key);
        continue;
      }
      this.order.push(group.email);
      this.members.push({ email: group.email, users: expandGroup(key, byEmail) });
    }
  }

  verdict(userId: string): AppGroupVerdict {
    return { member: this.members.filter((g) => g.users.has(userId)).map((g) => g.email), unknown: this.unknown, order: this.order };
  }
}

/** The groups an account should list: the user's groups, plus those the directory could not answer for as the account has them. */
function groupsFor(account: Account | null, v: AppGroupVerdict): string[] {
  const keep = new Set([...v.member, ...(account?.groups ?? []).filter((g) => v.unknown.has(g))]);
  return v.order.filter((g) => keep.has(g));
}

export function judge(user: DirectoryUser, match: Match, settings: Settings, excluded: Set<string>): Verdict {
  const gSuspended = user.suspended || user.archived;
  let outOfScope: string | null = null;
  if (excluded.has(user.email.toLowerCase())) outOfScope = 'on the exclude list';
  else if (match.matchedRules.length === 0) outOfScope = `left every mapped OU and group (now in ${user.orgUnitPath})`;
  else if (gSuspended && (user.archived ? settings.archivedUsers : settings.suspendedUsers) === 'deprovision') {
    outOfScope = `${suspendWord(user)} in Google (policy: deprovision ${suspendWord(user)} users)`;
  }
  return { user, match, outOfScope, target: gSuspended ? 'suspended' : 'active' };
}

function suspendWord(user: DirectoryUser): string {
  return user.archived ? 'archived' : 'suspended';
}

export function makePlan({ settings, snapshot, accounts, now, recentDestructive = 0, remembered = new Map(), thresholdAccounts, holdIdConflicts = true }: PlanInput): Plan {
  const index = new RuleIndex(settings, snapshot);
  const excluded = new Set(settings.exclude);
  const byId = new Map<string, Account>();
  const manualByEmail = new Map<string, Account>();
  const syncedByEmail = new Map<string, Account>();
  for (const a of accounts) {
    byId.set(a.id, a);
    if (a.source === 'manual' && a.status !== 'deleted') manualByEmail.set(a.email.toLowerCase(), a);
    if (a.source === 'synced' && a.status !== 'deleted') syncedByEmail.set(a.email.toLowerCase(), a);
  }
  const directoryIds = new Set(snapshot.users.map((u) => u.id));
  // Synced accounts whose id no Google user has while a Google user has their email: held, both sides.
  const conflicted = new Set<string>();
  const changes: Change[] = [];
  const held: HeldChange[] = [];
  const seen = new Set<string>();
  const holdWhy = index.problems.length ? msg('ruleHeld', { problems: index.problems.map((p) => p.message).join(' ') }).text : '';
  // Roles a broken rule gives (with the roles they imply): while it is broken, nobody loses them.
  const brokenRoles = new Set<string>();
  for (const rule of settings.rules) {
    if (!index.brokenRuleIds.has(rule.id)) continue;
    brokenRoles.add(rule.role);
    if (Object.prototype.hasOwnProperty.call(settings.impliedRoles, rule.role)) for (const r of settings.impliedRoles[rule.role]) brokenRoles.add(r);
  }
  const push = (change: Change | null) => {
    if (!change) return;
    const destructive = change.kind === 'deactivate' || change.kind === 'delete' || (change.after?.outOfScopeSince && !change.before?.outOfScopeSince);
    const losesBrokenRole = !!change.before && !!change.after && change.before.roles.some((r) => brokenRoles.has(r) && !change.after!.roles.includes(r));
    if (holdWhy && (destructive || losesBrokenRole)) held.push({ change, why: holdWhy });
    else changes.push(change);
  };
  let inScopeUsers = 0;
  const mappings = settings.attributes ?? [];
  const attributeProblems: Plan['attributeProblems'] = [];
  const appGroups = settings.appGroups?.length ? new AppGroupIndex(settings, snapshot) : null;
  // Matched by a rule but suspended or archived in Google, with no account: nothing is created for them.
  let suspendedUnsynced = 0;

  for (const user of snapshot.users) {
    const verdict = judge(user, index.match(user), settings, excluded);
    if (!verdict.outOfScope) inScopeUsers++;
    if (mappings.length && !verdict.outOfScope) {
      verdict.derived = deriveAttributes(user, mappings, now);
      for (const p of verdict.derived.problems) attributeProblems.push({ accountId: user.id, email: user.email, ...p });
    }
    if (appGroups && !verdict.outOfScope) verdict.appGroups = appGroups.verdict(user.id);
    const existing = byId.get(user.id);
    if (existing && existing.source === 'synced') {
      seen.add(existing.id);
      push(verdict.outOfScope ? leaveScope(existing, verdict.outOfScope, now, settings.graceDays) : reconcile(existing, verdict, settings, now));
      continue;
    }
    if (verdict.outOfScope) continue;
    const manual = manualByEmail.get(user.email.toLowerCase());
    const orphan = syncedByEmail.get(user.email.toLowerCase());
    if (manual && !byId.has(user.id)) {
      seen.add(manual.id);
      push(reconcile(manual, verdict, settings, now));
    } else if (holdIdConflicts && !existing && orphan && orphan.id !== user.id && !directoryIds.has(orphan.id)) {
      conflicted.add(orphan.id);
      const why = msg('idConflict', { email: user.email, id: orphan.id, googleId: user.id });
      held.push({ change: create(verdict, settings, now), why: `${why.text} ${why.fix}` });
    } else if (!existing && verdict.target === 'active') {
      const decided = remembered.get(user.id);
      push(decided && decided.source === 'synced' && decided.status !== 'deleted' ? recreate(verdict, decided, now) : create(verdict, settings, now));
    } else if (!existing) {
      suspendedUnsynced++;
    }
  }
  for (const account of accounts) {
    if (account.source !== 'synced' || seen.has(account.id)) continue;
    const gone = leaveScope(account, 'no longer in the Google directory', now, settings.graceDays);
    if (gone && conflicted.has(account.id)) {
      const why = msg('idConflict', { email: account.email, id: account.id, googleId: snapshot.users.find((u) => u.email.toLowerCase() === account.email.toLowerCase())?.id ?? '' });
      held.push({ change: gone, why: `${why.text} ${why.fix}` });
    } else push(gone);
  }
  // Manual accounts whose row a person deleted come back as they were (deleting is a status, not a row).
  const emails = new Set(accounts.map((a) => a.email.toLowerCase()));
  for (const account of remembered.values()) {
    if (account.source !== 'manual' || byId.has(account.id) || account.status === 'deleted' || emails.has(account.email.toLowerCase())) continue;
    if (snapshot.users.some((u) => u.email.toLowerCase() === account.email.toLowerCase())) continue;
    changes.push(change('create', null, { ...account }, ['its row was deleted from the roster sheet; the manual account is restored as it was (set its status to deleted to remove it)']));
  }

  // A destination that names conflicts itself (a SCIM app) also keeps its own emails apart.
  const writable = holdIdConflicts ? holdTakenEmails(changes, held, thresholdAccounts ?? accounts) : changes;
  const counts = countChanges(writable);
  return {
    createdAt: now,
    changes: writable,
    held,
    counts,
    ruleProblems: index.problems,
    blockedByThreshold: massChangeCheck(writable, thresholdAccounts ?? accounts, settings, recentDestructive),
    inScopeUsers: inScopeUsers - suspendedUnsynced,
    suspendedUnsynced,
    directoryUsers: snapshot.users.length,
    attributeProblems,
  };
}

/**
 * Changes that would give an account a new email another account of the roster keeps (a synced user
 * renamed to a manual account's address) are held, both accounts left as they are: a rename never
 * makes two accounts that are not deleted share one email, and nobody is merged into another's
 * account. An address freed in the same plan (two people swapping emails) is taken. `accounts`: the
 * whole roster. Returns the changes to write.
 */
function holdTakenEmails(changes: Change[], held: HeldChange[], accounts: Account[]): Change[] {
  let writable = changes;
  for (;;) {
    // The accounts not deleted, as they will be once the writable changes are made.
    const after = new Map(accounts.filter((a) => a.status !== 'deleted').map((a) => [a.id, a]));
    for (const c of writable) {
      after.delete(c.accountId);
      if (c.after && c.after.status !== 'deleted') after.set(c.after.id, c.after);
    }
    const byEmail = new Map<string, Account[]>();
    for (const a of after.values()) byEmail.set(a.email.toLowerCase(), [...(byEmail.get(a.email.toLowerCase()) ?? []), a]);
    const renamed = (c: Change) => !!c.before && !!c.after && c.after.status !== 'deleted' && c.before.email.toLowerCase() !== c.after.email.toLowerCase();
    const taken = writable.filter((c) => renamed(c) && byEmail.get(c.after!.email.toLowerCase())!.length > 1);
    if (!taken.length) return writable;
    for (const c of taken) {
      const holder = byEmail.get(c.after!.email.toLowerCase())!.find((a) => a.id !== c.after!.id)!;
      const why = msg('emailTaken', { email: c.after!.email, holder: `${holder.name || holder.email}, ${holder.source} account ${holder.id}`, previous: c.before!.email });
      held.push({ change: c, why: `${why.text} ${why.fix}` });
    }
    // Held changes leave their accounts at their old address, which may in turn be taken: look again.
    writable = writable.filter((c) => !taken.includes(c));
  }
}

/**
 * Changes more than the policy allows at once, however they arrive: deactivations and deletions over
 * the threshold (this sync's together with those of the rolling window), a role lost by more than the
 * threshold's share of its accounts, a privileged role given to more than the grant limit.
 */
function massChangeCheck(changes: Change[], accounts: Account[], settings: Settings, recent: number): Plan['blockedByThreshold'] {
  const synced = accounts.filter((a) => a.source === 'synced' && a.status !== 'deleted');
  const { kind, value, windowHours } = settings.threshold;
  const limitOf = (n: number) => (kind === 'percent' ? Math.floor((n * value) / 100) : value);
  const found: { confirm: number; limit: number; text: string; fix: string }[] = [];

  const destructive = changes.filter((c) => c.kind === 'deactivate' || c.kind === 'delete').length;
  const limit = limitOf(synced.length);
  const threshold = kind === 'percent' ? `${value}% of ${synced.length} synced accounts` : `at most ${value} accounts`;
  if (destructive > 0 && destructive > limit) {
    found.push({ confirm: destructive, limit, ...msg('thresholdBlocked', { count: destructive, limit, threshold }) });
  } else if (destructive > 0 && windowHours > 0 && destructive + recent > limit) {
    found.push({ confirm: destructive, limit, ...msg('rollingThresholdBlocked', { count: destructive, recent, hours: windowHours, total: destructive + recent, limit, threshold }) });
  }

  // Per role, with at least one account allowed to lose it: a role held by a few accounts is not frozen.
  if (kind === 'percent') {
    for (const role of settings.roles) {
      const holders = synced.filter((a) => a.status === 'active' && a.roles.includes(role)).length;
      const lost = changes.filter((c) => losesRole(c, role)).length;
      const roleLimit = Math.max(1, Math.floor((holders * value) / 100));
      if (lost > roleLimit) found.push({ confirm: lost, limit: roleLimit, ...msg('roleThresholdBlocked', { role, count: lost, total: holders, limit: roleLimit, threshold: `${value}%` }) });
    }
  }

  // A first sync (no synced account yet) creates everyone, privileged or not: Preview shows them, nothing is taken away.
  const privileged = settings.privilegedRoles;
  const grants = synced.length ? changes.filter((c) => privileged.some((r) => gainsRole(c, r))).length : 0;
  if (grants > settings.privilegedGrantLimit) {
    found.push({ confirm: grants, limit: settings.privilegedGrantLimit, ...msg('privilegeBlocked', { roles: privileged.join(', '), count: grants, limit: settings.privilegedGrantLimit }) });
  }

  if (!found.length) return null;
  return {
    destructive: Math.max(...found.map((f) => f.confirm)),
    limit: found[0].limit,
    message: found.map((f) => f.text).join(' '),
    fix: found[0].fix,
  };
}

/** An active account that loses `role`: deactivated, deleted, or no longer given it by the rules. */
function losesRole(c: Change, role: string): boolean {
  if (!c.before || c.before.status !== 'active' || !c.before.roles.includes(role)) return false;
  return !c.after || c.after.status !== 'active' || !c.after.roles.includes(role);
}

/** An active account that gets `role` it did not have (a new account included). */
function gainsRole(c: Change, role: string): boolean {
  if (!c.after || c.after.status !== 'active' || !c.after.roles.includes(role)) return false;
  return !c.before || c.before.status !== 'active' || !c.before.roles.includes(role);
}

function rolesOf(verdict: Verdict): string[] {
  return verdict.match.roles.map((g) => g.role);
}

export function describeMatch(verdict: Verdict): string {
  return verdict.match.roles.map((g) => `${g.role} (${g.from.join('; ')})`).join(', ');
}

function create(verdict: Verdict, _settings: Settings | null, now: string): Change {
  const { user } = verdict;
  const after: Account = {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: rolesOf(verdict),
    status: 'active',
    permissions: [],
    source: 'synced',
    orgUnitPath: user.orgUnitPath,
    lastSynced: now,
    syncedStatus: 'active',
    outOfScopeSince: '',
  };
  const reasons = [`in ${user.orgUnitPath}: ${describeMatch(verdict)}`];
  if (verdict.appGroups) {
    after.groups = groupsFor(null, verdict.appGroups);
    if (after.groups.length) reasons.push(`in the Google Groups ${after.groups.join(', ')}`);
  }
  if (verdict.derived) {
    after.attributes = Object.fromEntries(Object.entries(verdict.derived.values).map(([k, v]) => [k, v.value]));
    const shown = Object.entries(verdict.derived.values).filter(([, v]) => v.value !== '');
    if (shown.length) reasons.push(shown.map(([k, v]) => `${k} ${v.value} (from ${v.from})`).join(', '));
  }
  return change('create', null, after, reasons);
}

/**
 * Reasons for the mapped attributes that differ from what the account holds, and the values to write.
 * A value that cannot be derived keeps the account's value (the plan reports it); attributes no longer
 * mapped are kept as they are.
 */
function attributeChanges(account: Account, derived: Derived): { attributes: Record<string, string>; reasons: string[] } | null {
  const held = account.attributes ?? {};
  const reasons: string[] = [];
  const attributes = { ...held };
  for (const [name, { value, from }] of Object.entries(derived.values)) {
    const old = held[name] ?? '';
    if (old === value) continue;
    attributes[name] = value;
    if (!old) reasons.push(`${name} set to ${value} (from ${from})`);
    else if (!value) reasons.push(`${name} ${old} cleared (${from} is empty)`);
    else reasons.push(`${name} ${old} → ${value} (from ${from})`);
  }
  return reasons.length ? { attributes, reasons } : null;
}

/** The mapped attributes of one user, with where each came from (Explain). */
export function describeAttributes(derived: Derived | undefined, mappings: AttributeMapping[]): { name: string; value: string; from: string; problem: string }[] {
  if (!derived) return [];
  const problems = new Map(derived.problems.map((p) => [p.attribute, p.problem]));
  return mappings.map((m) => ({ name: m.name, value: derived.values[m.name]?.value ?? '', from: derived.values[m.name]?.from ?? '', problem: problems.get(m.name) ?? '' }));
}

/** An in-scope user whose row a person deleted: the account again, with the local decision it carried. */
function recreate(verdict: Verdict, decided: Account, now: string): Change {
  const fresh = create(verdict, null, now);
  const after: Account = { ...fresh.after!, status: decided.status, syncedStatus: decided.syncedStatus || 'active', permissions: [...decided.permissions] };
  const kept = [decided.status !== decided.syncedStatus ? `status ${decided.status}` : '', decided.permissions.length ? `permissions ${decided.permissions.join(', ')}` : ''].filter(Boolean).join(', ');
  return change('create', null, after, [`its row was deleted from the roster sheet; recreated with its local decision (${kept || 'as it was'})`, ...fresh.reasons]);
}

/** An in-scope user with an account: bring fields and status in line, respecting local decisions. */
export function reconcile(account: Account, verdict: Verdict, settings: Settings, now: string): Change | null {
  const { user } = verdict;
  const after: Account = { ...account };
  const reasons: string[] = [];
  if (account.source === 'manual') {
    after.id = user.id;
    after.source = 'synced';
    // A manual account disabled by hand stays disabled; otherwise sync takes over its status.
    after.syncedStatus = account.status === 'disabled' ? 'active' : account.status;
    reasons.push(`manual account adopted: ${user.email} is a Google user now in scope`);
  }
  if (account.orgUnitPath !== user.orgUnitPath) {
    reasons.push(account.orgUnitPath ? `moved from ${account.orgUnitPath} to ${user.orgUnitPath}` : `in ${user.orgUnitPath}`);
    after.orgUnitPath = user.orgUnitPath;
  }
  if (account.email !== user.email) {
    reasons.push(`email changed from ${account.email} to ${user.email}`);
    after.email = user.email;
  }
  if (account.name !== user.name) {
    reasons.push(`name changed from "${account.name}" to "${user.name}"`);
    after.name = user.name;
  }
  const roles = rolesOf(verdict);
  if (roles.join(',') !== account.roles.join(',')) {
    reasons.push(`roles now ${roles.join(', ')} (were ${account.roles.join(', ') || 'none'}): ${describeMatch(verdict)}`);
    after.roles = roles;
  }
  if (verdict.appGroups) {
    const groups = groupsFor(account, verdict.appGroups);
    const had = account.groups ?? [];
    if (groups.join(',') !== had.join(',')) {
      const joined = groups.filter((g) => !had.includes(g));
      const left = had.filter((g) => !groups.includes(g));
      reasons.push([joined.length ? `joined the Google Groups ${joined.join(', ')}` : '', left.length ? `left ${left.join(', ')}` : ''].filter(Boolean).join('; ') || `Google Groups now ${groups.join(', ')}`);
      after.groups = groups;
    }
  }
  const attributes = verdict.derived ? attributeChanges(account, verdict.derived) : null;
  if (attributes) {
    reasons.push(...attributes.reasons);
    after.attributes = attributes.attributes;
  }
  if (account.outOfScopeSince) {
    reasons.push(`back in scope: ${describeMatch(verdict)}`);
    after.outOfScopeSince = '';
  }
  const status = nextStatus(after, verdict);
  if (status) {
    after.status = status.status;
    after.syncedStatus = status.status;
    reasons.push(status.reason);
  }
  if (!reasons.length) return null;
  after.lastSynced = now;
  return change(changeKindFor(account.status, after.status), account, after, reasons);
}

/** The status sync sets, or null to leave it (already right, or decided locally). */
function nextStatus(account: Account, verdict: Verdict): { status: AccountStatus; reason: string } | null {
  const local = account.syncedStatus !== account.status;
  if (account.status === 'deleted') {
    return { status: verdict.target, reason: 'deleted in the roster, but the user is still in scope in Google; restored (add the user to the exclude list to keep the account deleted)' };
  }
  if (local) return null;
  if (verdict.target === 'suspended') {
    if (account.status === 'suspended') return null;
    return { status: 'suspended', reason: `${suspendWord(verdict.user)} in Google` };
  }
  if (account.status === 'active') return null;
  if (account.status === 'suspended') return { status: 'active', reason: 'unsuspended in Google' };
  return { status: 'active', reason: 'reactivated: the user is in scope again' };
}

/** The kind of a change that moves an account from one status to another. */
export function changeKindFor(before: AccountStatus, after: AccountStatus): ChangeKind {
  if (before === after) return 'update';
  if (after === 'active') return 'reactivate';
  if (before === 'active') return 'deactivate';
  return 'update';
}

/** A synced account whose user left scope: deactivate now, delete after the grace period. */
export function leaveScope(account: Account, why: string, now: string, graceDays: number): Change | null {
  if (account.status === 'deleted') return null;
  if (account.outOfScopeSince) {
    const since = Date.parse(account.outOfScopeSince);
    const days = Math.floor((Date.parse(now) - since) / DAY_MS);
    // Not in the sync that set it (a part resumed after a cut-off replans from the same time): a grace
    // period of 0 days deletes on the next sync, never in the one that deactivated.
    if (Number.isNaN(since) || days < graceDays || Date.parse(now) <= since) return null;
    return change('delete', account, null, [`${why}; out of scope since ${account.outOfScopeSince.slice(0, 10)}, the ${graceDays}-day grace period has ended`]);
  }
  const after: Account = { ...account, outOfScopeSince: now, lastSynced: now };
  const locallyDisabled = account.status !== account.syncedStatus && account.status === 'disabled';
  if (locallyDisabled) {
    return change('update', account, after, [`${why}; already disabled locally; deletion after ${graceDays} days`]);
  }
  after.status = 'disabled';
  after.syncedStatus = 'disabled';
  return change('deactivate', account, after, [`${why}; deactivated now, deleted after ${graceDays} days unless the user returns`]);
}

function change(kind: ChangeKind, before: Account | null, after: Account | null, reasons: string[]): Change {
  const ref = (after ?? before)!;
  return { kind, accountId: before ? before.id : ref.id, email: ref.email, name: ref.name, reasons, before, after };
}
