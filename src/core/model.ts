// The data Roster Sync reasons about. Everything here is plain JSON so it can
// cross google.script.run, live in properties or sheets, and be diffed in tests.

export type Role = string;
export const DEFAULT_ROLES: Role[] = ['student', 'teacher', 'admin'];

export type AccountStatus = 'active' | 'disabled' | 'suspended' | 'deleted';
export const ACCOUNT_STATUSES: AccountStatus[] = ['active', 'disabled', 'suspended', 'deleted'];
export type AccountSource = 'synced' | 'manual';

/** One account of the roster (the destination's view). */
export interface Account {
  /** Google user id for synced accounts; "manual-…" for accounts created by hand. */
  id: string;
  email: string;
  name: string;
  roles: Role[];
  status: AccountStatus;
  permissions: string[];
  source: AccountSource;
  orgUnitPath: string;
  /** ISO time of the last sync that wrote this account ('' if never). */
  lastSynced: string;
  /**
   * The status Roster Sync itself last set. When `status` differs, the status was
   * decided locally (an admin disabled or deleted the account) and sync respects it.
   */
  syncedStatus: AccountStatus | '';
  /** ISO time the user left scope; starts the grace period before deletion. */
  outOfScopeSince: string;
  /** Mapped attributes by name (Settings → Attributes), as the destination holds them; absent when none. */
  attributes?: Record<string, string>;
  /** Emails of the selected Google Groups (Settings → App groups) the account belongs to; absent when none is selected. */
  groups?: string[];
}

/** A Google Group chosen to be pushed to the app as a group of its own. */
export interface AppGroup {
  /** The Google group id: the group stays the same app group through renames. */
  id: string;
  /** Its primary email now. */
  email: string;
  name: string;
  /** The email as the settings name it (an alias once the group's email changed). */
  key: string;
}

/** A user as read from the Workspace directory (only the fields sync needs). */
export interface DirectoryUser {
  id: string;
  email: string;
  name: string;
  orgUnitPath: string;
  suspended: boolean;
  archived: boolean;
  /** The raw Directory fields the attribute mapping names (see core/attributes.ts), absent when nothing is mapped. */
  fields?: Record<string, string>;
}

export interface OrgUnit {
  orgUnitPath: string;
  name: string;
  parentOrgUnitPath: string;
}

export interface DirectoryGroup {
  email: string;
  name: string;
  directMembersCount: number;
}

/** A group's direct members: users by id, nested groups by email. */
export interface GroupMembers {
  email: string;
  userIds: string[];
  groupEmails: string[];
}

/** Everything one sync reads from the directory; plans are made only from a complete one. */
export interface DirectorySnapshot {
  users: DirectoryUser[];
  orgUnits: OrgUnit[];
  /** Direct membership of every group a rule names, and of every group nested in one. */
  groups: GroupMembers[];
  /** Group rule emails the directory answered 404 for. */
  missingGroups: string[];
  /** The selected app groups found in the directory (their members are among `groups`); absent when none is selected. */
  appGroups?: AppGroup[];
  /** Selected app group emails the directory answered 404 for. */
  missingAppGroups?: string[];
}

export type ChangeKind = 'create' | 'update' | 'deactivate' | 'reactivate' | 'delete';
export const CHANGE_KINDS: ChangeKind[] = ['create', 'update', 'deactivate', 'reactivate', 'delete'];

/** One entry of a plan: what happens to one account, and why, in words an admin reads. */
export interface Change {
  kind: ChangeKind;
  /** The key of the account in the roster before the change (a manual id when adopting). */
  accountId: string;
  email: string;
  name: string;
  reasons: string[];
  before: Account | null;
  /** The account as it will be written; null for a delete. */
  after: Account | null;
}

export interface HeldChange {
  change: Change;
  why: string;
}

export interface RuleProblem {
  ruleId: string;
  message: string;
}

/** A plan is data: a person can read it before anything changes. */
export interface Plan {
  createdAt: string;
  changes: Change[];
  /** Changes not applied this time (e.g. deactivations while a rule is broken). */
  held: HeldChange[];
  counts: Record<ChangeKind, number>;
  ruleProblems: RuleProblem[];
  /**
   * Set when the plan changes more than the policy allows at once (deactivations and deletions, also over
   * the rolling window; a role lost by too many of its accounts; a privileged role given to too many):
   * `destructive` is the number an admin confirms once to apply it anyway.
   */
  blockedByThreshold: null | { destructive: number; limit: number; message: string; fix: string };
  /** Users the rules match who are synced (or kept suspended); not those below. */
  inScopeUsers: number;
  /** Users the rules match who are suspended or archived in Google and have no account: not synced. */
  suspendedUnsynced: number;
  directoryUsers: number;
  /** Mapped values that could not be derived, per user; the old value is kept, never replaced by garbage. */
  attributeProblems: { accountId: string; email: string; attribute: string; problem: string }[];
}

export type SyncTrigger = 'manual' | 'scheduled' | 'user';
/** warning: done, with changes held back; changed: a settings save (trigger "settings"), not a sync. */
export type SyncOutcome = 'success' | 'warning' | 'failed' | 'halted' | 'partial' | 'discarded' | 'changed';
/** A full sync reads the whole directory; an incremental one re-reads only what the admin log says changed. */
export type SyncKind = 'full' | 'incremental';

export interface HistoryEntry {
  startedAt: string;
  finishedAt: string;
  trigger: SyncTrigger | 'settings';
  outcome: SyncOutcome;
  counts: Record<ChangeKind, number>;
  durationMs: number;
  parts: number;
  message: string;
  /** The fix text for a failure, from the message catalog. */
  fix: string;
  /** Full or incremental ('' for single-user syncs and entries written before incremental syncs existed). */
  kind?: SyncKind | '';
}

export function emptyCounts(): Record<ChangeKind, number> {
  return { create: 0, update: 0, deactivate: 0, reactivate: 0, delete: 0 };
}

export function countChanges(changes: Change[]): Record<ChangeKind, number> {
  const counts = emptyCounts();
  for (const c of changes) counts[c.kind]++;
  return counts;
}

/** "3 created, 1 deactivated", or "No changes". */
export function summarize(counts: Record<ChangeKind, number>): string {
  const parts = (Object.keys(counts) as ChangeKind[]).filter((k) => counts[k]).map((k) => `${counts[k]} ${PAST[k]}`);
  return parts.length ? parts.join(', ') : 'No changes';
}

const PAST: Record<ChangeKind, string> = { create: 'created', update: 'updated', deactivate: 'deactivated', reactivate: 'reactivated', delete: 'deleted' };
