// The server API the sidebar calls through google.script.run. Each function
// checks the caller, validates its input, and returns plain JSON (ISO strings,
// never Dates). src/main.ts only wires these to Apps Script globals.
import { ACCOUNT_STATUSES, Account, CHANGE_KINDS, Change, ChangeKind, DirectoryUser, HistoryEntry, Plan, emptyCounts } from './model';
import { ApplyResult, Destination, SecretContext, SecretView, Services } from './ports';
import { KEYS, assertStoredSettingsNotNewer, readNumber, readSettings, storeSettings } from './config';
import { migrateSettings } from './migrations';
import { UserError, msg, toMessage } from './messages';
import { Settings, defaultSettings, describeRule, destinationSettingsOf, isOrgUnitPath, validateSettings } from './settings';
import * as input from './input';
import { readAll, readUserSnapshot } from './snapshot';
import { changeKindFor, describeAttributes, describeMatch, judge, makePlan } from './plan';
import { deriveAttributes, directoryFields } from './attributes';
import { RuleIndex } from './rules';
import { PROGRESS_KEY, ProgressNote, describePhase, loadDecisions, loadJob, lookUpUnseen, noteDecisions, readInParallel, readRoster, recentDestructive, recordSettingsChange, recordUserSync, runSync, SyncResult, underSyncLock, useAppGroups } from './sync';
import { describeSettingsChange, loweredProtection } from './settingsChanges';
import { ensureTrigger, SCHEDULE_HANDLER } from './triggers';
import { nextRunMs } from './schedule';
import { CheckResult, runChecks } from './finalize';
import { REPORTS_KEPT, REPORT_DAYS, loadReport, searchReport } from './reports';

const PREVIEW_PER_KIND = 200;

// ---------- who may configure ----------

/** The caller's email when they may configure Roster Sync; a UserError otherwise. */
export function assertCanConfigure(svc: Services): string {
  const email = svc.session.activeUserEmail();
  if (!email) throw new UserError(msg('notAllowed'));
  const installer = svc.config.get(KEYS.installer);
  if (!installer) throw new UserError(msg('notLinked'));
  if (email === installer) return email;
  let admins: string[] = [];
  try {
    admins = readSettings(svc).admins;
  } catch {
    // Unreadable settings: only the installer may repair them.
  }
  if (!admins.includes(email)) throw new UserError(msg('notAllowed'));
  return email;
}

// ---------- install and link ----------

/** What the first-open screen needs: is Roster Sync linked, and can this user read the directory? */
export function getSetupStatus(svc: Services) {
  const user = svc.session.activeUserEmail();
  const installer = svc.config.get(KEYS.installer);
  let canReadDirectory = false;
  let problem: { text: string; fix: string } | null = null;
  try {
    svc.directory.listOrgUnits();
    canReadDirectory = true;
  } catch (error) {
    const m = toMessage(error);
    problem = { text: m.text, fix: m.fix };
  }
  return { user, linked: !!installer, installer: installer ?? '', syncAccount: svc.config.get(KEYS.syncAccount) ?? '', canReadDirectory, problem, canConfigure: canConfigure(svc) };
}

/**
 * "I am a Workspace admin — use my account for syncing": the caller becomes the sync account
 * (and the installer, on first use). Changing an existing sync account needs `confirmChange`.
 */
export function useMyAccountForSync(svc: Services, raw: unknown) {
  const email = svc.session.activeUserEmail();
  if (!email) throw new UserError(msg('notAllowed'));
  const confirmChange = input.bool(input.args(raw).confirmChange, 'confirmChange');
  const installer = svc.config.get(KEYS.installer);
  if (installer) assertCanConfigure(svc);
  svc.directory.listOrgUnits(); // throws the catalog's directory message when this account cannot read it
  const previous = svc.config.get(KEYS.syncAccount);
  if (previous && previous !== email && !confirmChange) {
    throw new UserError(msg('invalidInput', { field: 'confirmChange', problem: `must be true: scheduled syncs run as ${previous} now, and that account stops being used` }));
  }
  if (!installer) svc.config.set(KEYS.installer, email);
  svc.config.set(KEYS.syncAccount, email);
  ensureTrigger(svc);
  return getState(svc);
}

/** A ready message for a user who cannot read the directory to send to a Workspace admin (no Gmail scope: copy or mailto). */
export function askAdminMessage(svc: Services, raw: unknown) {
  const adminEmail = input.email(input.args(raw).adminEmail, 'adminEmail');
  const user = svc.session.activeUserEmail() || 'A colleague';
  const subject = 'Please set up Roster Sync for our Google Workspace';
  const body = [
    'Hello,',
    `${user} would like to keep our account roster in step with the Google Workspace directory using the Roster Sync add-on for Google Sheets.`,
    'What is needed from a Workspace admin:',
    '1. Install Roster Sync from the Google Workspace Marketplace (Admin console → Apps → Google Workspace Marketplace apps), for the domain or the admins\' OU.',
    '2. Use a super admin account, or give a dedicated sync account a custom admin role with only: Organizational Units → Read, Users → Read, Groups → Read, and Reports (so that changes reach the roster within the hour, not only at the nightly sync).',
    '3. Open the roster spreadsheet below with that account, choose Extensions → Roster Sync → Open Roster Sync, then "I am a Workspace admin — use my account for syncing".',
    `Roster spreadsheet: ${svc.rosterUrl()}`,
    'Thank you!',
  ].join('\n\n');
  const mailto = `mailto:${encodeURIComponent(adminEmail)}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}`;
  return { to: adminEmail, subject, body, mailto };
}

function canConfigure(svc: Services): boolean {
  try {
    assertCanConfigure(svc);
    return true;
  } catch {
    return false;
  }
}

// ---------- state and settings ----------

export interface StateView {
  user: string;
  canConfigure: boolean;
  /** When canConfigure is false: whether Roster Sync is linked at all (else the first-open screen applies). */
  linked?: boolean;
  message?: { text: string; fix: string };
  installer?: string;
  syncAccount?: string;
  settings?: Settings;
  settingsError?: { text: string; fix: string };
  defaults?: Settings;
  running?: { part: number; phase: string; description: string; startedAt: string } | null;
  history?: HistoryEntry[];
  trigger?: { installed: boolean; count: number; owner: string };
  nextRun?: string | null;
  cooldownUntil?: string | null;
  rosterUrl?: string;
  destination?: string;
  /** For each destination with a secret (e.g. `scim`, its bearer token): whether this user saved one, masked; never the secret itself. */
  secrets?: Record<string, SecretView>;
  /** What stops syncs to the chosen destination now (a token saved for another address, a lost record), for every admin. */
  destinationProblems?: { id: string; text: string; fix: string }[];
}

export function getState(svc: Services): StateView {
  const user = svc.session.activeUserEmail();
  try {
    assertCanConfigure(svc);
  } catch (error) {
    const m = toMessage(error);
    return { user, canConfigure: false, linked: !!svc.config.get(KEYS.installer), message: { text: m.text, fix: m.fix } };
  }
  let settings: Settings | undefined;
  let settingsError: StateView['settingsError'];
  try {
    settings = readSettings(svc);
  } catch (error) {
    const m = toMessage(error);
    settingsError = { text: m.text, fix: m.fix };
  }
  const job = loadJob(svc.state);
  const triggers = svc.triggers.list().filter((t) => t.handler === SCHEDULE_HANDLER);
  const now = svc.clock.nowMs();
  const next = settings ? nextRunMs(settings.schedule, now, svc.clock.local) : null;
  const last = readNumber(svc.config, KEYS.lastFullSync);
  const cooldownEnd = settings && last !== null ? last + settings.cooldownMinutes * 60_000 : null;
  return {
    user,
    canConfigure: true,
    installer: svc.config.get(KEYS.installer) ?? '',
    syncAccount: svc.config.get(KEYS.syncAccount) ?? '',
    settings,
    settingsError,
    defaults: defaultSettings(),
    running: job ? { part: job.part, phase: job.phase, description: describePhase(job), startedAt: new Date(job.startedAt).toISOString() } : null,
    history: svc.history.list(20),
    trigger: { installed: triggers.length > 0, count: triggers.length, owner: svc.config.get(KEYS.syncAccount) ?? '' },
    nextRun: next === null ? null : new Date(next).toISOString(),
    cooldownUntil: cooldownEnd !== null && cooldownEnd > now ? new Date(cooldownEnd).toISOString() : null,
    rosterUrl: svc.rosterUrl(),
    destination: destinationLabel(svc, settings),
    secrets: secretViews(svc),
    destinationProblems: destinationProblems(svc, settings),
  };
}

function destinationProblems(svc: Services, settings: Settings | undefined): StateView['destinationProblems'] {
  const destination = settings ? svc.destinations.get(settings.destination) : undefined;
  const problems = settings && destination?.problems ? destination.problems(svc, destinationSettingsOf(settings)) : [];
  return problems.map((m) => ({ id: m.id, text: m.text, fix: m.fix }));
}

/**
 * A repair an admin chooses deliberately for the chosen destination (e.g. rebuilding the links to a SCIM
 * app's users after they were lost with the hidden state sheet). Under the sync lock, so no part runs
 * meanwhile; what was done is recorded in History.
 */
export function repairDestination(svc: Services, repair: string): { repaired: boolean; message?: { text: string; fix: string } } {
  assertCanConfigure(svc);
  const settings = readSettings(svc);
  const destination = svc.destinations.get(settings.destination);
  return underSyncLock(svc, () => {
    const m = destination?.repair ? destination.repair(svc, destinationSettingsOf(settings), repair) : null;
    if (!m) return { repaired: false };
    const at = new Date(svc.clock.nowMs()).toISOString();
    svc.history.append({ trigger: 'user', outcome: 'success', startedAt: at, finishedAt: at, counts: emptyCounts(), durationMs: 0, parts: 0, message: m.text, fix: m.fix });
    return { repaired: true, message: { text: m.text, fix: m.fix } };
  });
}

/** From the settings just read, so it is right even in the same call that changed them. */
function destinationLabel(svc: Services, settings: Settings | undefined): string {
  const destination = settings && svc.destinations.get(settings.destination);
  return destination ? destination.describe(destinationSettingsOf(settings), svc.secrets) : 'Roster';
}

function secretViews(svc: Services): Record<string, SecretView> {
  const views: Record<string, SecretView> = {};
  for (const id of svc.destinations.ids) {
    const secret = svc.destinations.get(id)!.secret;
    if (secret) views[id] = secret.view(svc.secrets);
  }
  return views;
}

// ---------- destination secrets ----------

function secretOf(svc: Services, destinationId: string): NonNullable<Destination['secret']> {
  const secret = svc.destinations.get(destinationId)?.secret;
  if (!secret) throw new UserError(msg('invalidInput', { field: 'destination', problem: `has no secret to save (${destinationId})` }));
  return secret;
}

/**
 * Saves a destination's secret (the SCIM bearer token) in the caller's user properties. Only the sync
 * account may: scheduled syncs run as that account and read the secret from its user properties.
 */
export function saveDestinationSecret(svc: Services, destinationId: string, raw: unknown): SecretView {
  const email = assertCanConfigure(svc);
  const owner = svc.config.get(KEYS.syncAccount);
  if (owner && owner !== email) throw new UserError(msg('invalidInput', { field: 'token', problem: `can only be saved by the sync account (${owner}), whose scheduled syncs use it` }));
  const args = input.args(raw);
  return secretOf(svc, destinationId).save(svc.secrets, args.token, secretContext(svc, email, args));
}

export function clearDestinationSecret(svc: Services, destinationId: string): SecretView {
  const email = assertCanConfigure(svc);
  return secretOf(svc, destinationId).clear(svc.secrets, secretContext(svc, email, {}));
}

function secretContext(svc: Services, email: string, args: Record<string, unknown>): SecretContext {
  let settings: Settings | null = null;
  try {
    settings = readSettings(svc);
  } catch {
    settings = null; // unreadable: the secret is saved for no address
  }
  const owner = svc.config.get(KEYS.syncAccount);
  return { args, settings, config: svc.config, bySyncAccount: !owner || owner === email };
}

export function saveSettings(svc: Services, raw: unknown): StateView {
  const email = assertCanConfigure(svc);
  assertStoredSettingsNotNewer(svc.config);
  // A sidebar page opened before an update may still send the previous version's document.
  const settings = validateSettings(migrateSettings(raw), svc.destinations);
  if (email !== svc.config.get(KEYS.installer) && !settings.admins.includes(email)) {
    throw new UserError(msg('invalidSetting', { field: 'admins', problem: `must keep ${email}; you would lock yourself out` }));
  }
  const before = savedSettings(svc);
  refuseStale(svc, before, settings);
  const lowered = before ? loweredProtection(before, settings) : [];
  if (lowered.length && (raw as { confirmLowerProtection?: unknown }).confirmLowerProtection !== true) {
    throw new UserError(msg('protectionLowered', { changes: lowered.join('; ') }));
  }
  if (scheduleChanged(svc, settings)) svc.config.set(KEYS.scheduleSince, String(svc.clock.nowMs()));
  const saved = storeSettings(svc, settings);
  recordSettingsChange(svc, email, before ? describeSettingsChange(before, saved) : ['the unreadable settings replaced']);
  if (email === svc.config.get(KEYS.syncAccount)) ensureTrigger(svc);
  return getState(svc);
}

/** The settings as saved (the defaults before the first save); null when they cannot be read. */
function savedSettings(svc: Services): Settings | null {
  try {
    return readSettings(svc);
  } catch {
    return null;
  }
}

/** A save made from settings read before the last save would undo it: refused (unreadable settings may be replaced). */
function refuseStale(svc: Services, saved: Settings | null, next: Settings): void {
  if (!saved || svc.config.get(KEYS.settings) === null) return;
  if (next.revision !== saved.revision) throw new UserError(msg('settingsStale', { saved: saved.revision, read: next.revision }));
}

/** True when these settings set the schedule for the first time or change when it runs (not its blackouts). */
function scheduleChanged(svc: Services, next: Settings): boolean {
  if (svc.config.get(KEYS.settings) === null) return true;
  let before: Settings;
  try {
    before = readSettings(svc);
  } catch {
    return true;
  }
  const when = (s: Settings) => [s.schedule.mode, s.schedule.hour, s.schedule.timeZone].join('|');
  return when(before) !== when(next);
}

// ---------- preview and sync ----------

export interface ChangeView {
  kind: ChangeKind;
  accountId: string;
  email: string;
  name: string;
  reasons: string[];
  rolesBefore: string[];
  rolesAfter: string[];
  statusBefore: string;
  statusAfter: string;
}

export interface PlanView {
  createdAt: string;
  counts: Record<ChangeKind, number>;
  total: number;
  changes: ChangeView[];
  /** Kinds whose list was cut at PREVIEW_PER_KIND. */
  truncated: ChangeKind[];
  held: { change: ChangeView; why: string }[];
  ruleProblems: string[];
  blocked: Plan['blockedByThreshold'];
  inScopeUsers: number;
  suspendedUnsynced: number;
  directoryUsers: number;
  ruleMatches: Record<string, number>;
  /** Mapped values that cannot be derived, per user (the first PREVIEW_PER_KIND), and how many in all. */
  attributeProblems: Plan['attributeProblems'];
  attributeProblemCount: number;
}

export function viewChange(c: Change): ChangeView {
  return {
    kind: c.kind,
    accountId: c.accountId,
    email: c.email,
    name: c.name,
    reasons: c.reasons,
    rolesBefore: c.before?.roles ?? [],
    rolesAfter: c.after?.roles ?? [],
    statusBefore: c.before?.status ?? '',
    statusAfter: c.after?.status ?? 'removed',
  };
}

function viewPlan(plan: Plan, ruleMatches: Record<string, number>): PlanView {
  const shown: Record<ChangeKind, number> = { create: 0, update: 0, deactivate: 0, reactivate: 0, delete: 0 };
  const changes: ChangeView[] = [];
  for (const c of plan.changes) if (shown[c.kind]++ < PREVIEW_PER_KIND) changes.push(viewChange(c));
  return {
    createdAt: plan.createdAt,
    counts: plan.counts,
    total: plan.changes.length,
    changes,
    truncated: CHANGE_KINDS.filter((k) => plan.counts[k] > PREVIEW_PER_KIND),
    held: plan.held.slice(0, PREVIEW_PER_KIND).map((h) => ({ change: viewChange(h.change), why: h.why })),
    ruleProblems: plan.ruleProblems.map((p) => p.message),
    blocked: plan.blockedByThreshold,
    inScopeUsers: plan.inScopeUsers,
    suspendedUnsynced: plan.suspendedUnsynced,
    directoryUsers: plan.directoryUsers,
    ruleMatches,
    attributeProblems: plan.attributeProblems.slice(0, PREVIEW_PER_KIND),
    attributeProblemCount: plan.attributeProblems.length,
  };
}

/** The plan of the next sync, not applied (a dry run). */
export function previewSync(svc: Services): PlanView {
  assertCanConfigure(svc);
  const settings = readSettings(svc);
  if (!settings.rules.length) throw new UserError(msg('noRules'));
  // A large domain is read in parallel rounds, as its sync reads it, and so are the users it did not list.
  const { snapshot } = readAll(settings, svc.directory, readInParallel(svc, 'preview'));
  useAppGroups(svc, snapshot);
  const accounts = readRoster(svc);
  snapshot.users.push(...lookUpUnseen(svc.directory, snapshot, accounts, directoryFields(settings.attributes)));
  const plan = makePlan({ settings, snapshot, accounts, now: new Date(svc.clock.nowMs()).toISOString(), recentDestructive: recentDestructive(svc, settings), remembered: rememberedOnSheet(svc), holdIdConflicts: !svc.roster.relink });
  return viewPlan(plan, new RuleIndex(settings, snapshot).countMatches(snapshot.users));
}

export function syncNow(svc: Services, raw: unknown): SyncResult {
  assertCanConfigure(svc);
  const a = input.args(raw);
  const allowDestructive = input.int(a.allowDestructive, 'allowDestructive', 0, 10_000_000, 0);
  return runSync(svc, { trigger: 'manual', mode: 'start', allowDestructive, startedBy: svc.session.activeUserEmail() });
}

/**
 * Applies what changed in Google since the last sync, from the admin activity log (an incremental
 * sync; a full one, saying why, when the log cannot be trusted). No cooldown: it reads only the changes.
 */
export function syncChanges(svc: Services): SyncResult {
  assertCanConfigure(svc);
  return runSync(svc, { trigger: 'manual', mode: 'start', kind: 'incremental' });
}

/** Runs the next part of a sync that is part-way (the sidebar calls this until it is done). */
export function continueSync(svc: Services): SyncResult {
  assertCanConfigure(svc);
  return runSync(svc, { trigger: 'manual', mode: 'continue' });
}

// ---------- directory browsing ----------

export interface OrgUnitView {
  path: string;
  name: string;
  hasChildren: boolean;
}

export function listOrgUnits(svc: Services, raw: unknown): { units: OrgUnitView[] } {
  assertCanConfigure(svc);
  const a = input.args(raw);
  const parent = input.text(a.parent, 'parent', 2048, { optional: true }) || '/';
  if (!isOrgUnitPath(parent)) throw new UserError(msg('invalidInput', { field: 'parent', problem: 'must be an organizational unit path such as /Students' }));
  const query = input.text(a.query, 'query', 200, { optional: true }).toLowerCase();
  const all = svc.directory.listOrgUnits();
  const parents = new Set(all.map((o) => o.parentOrgUnitPath));
  const pick = query ? all.filter((o) => o.orgUnitPath.toLowerCase().includes(query)).slice(0, 200) : all.filter((o) => o.parentOrgUnitPath === parent);
  return {
    units: pick
      .map((o) => ({ path: o.orgUnitPath, name: o.name, hasChildren: parents.has(o.orgUnitPath) }))
      .sort((x, y) => x.path.localeCompare(y.path)),
  };
}

export function listGroups(svc: Services, raw: unknown) {
  assertCanConfigure(svc);
  const a = input.args(raw);
  const query = input.text(a.query, 'query', 200, { optional: true });
  const pageToken = input.text(a.pageToken, 'pageToken', 2000, { optional: true }) || null;
  const page = svc.directory.listGroupsPage(query, pageToken);
  return { groups: page.items, nextPageToken: page.nextPageToken };
}

// ---------- accounts ----------

const TABS = ['all', 'student', 'teacher', 'admin'] as const;

export function getAccounts(svc: Services, raw: unknown) {
  assertCanConfigure(svc);
  const a = input.args(raw);
  const tab = input.text(a.tab, 'tab', 32, { optional: true }) || 'all';
  const status = input.oneOf(a.status, 'status', ['any', ...ACCOUNT_STATUSES] as const, 'any');
  const query = input.text(a.query, 'query', 200, { optional: true }).toLowerCase();
  const offset = input.int(a.offset, 'offset', 0, 10_000_000, 0);
  const limit = input.int(a.limit, 'limit', 1, 500, 50);
  const accounts = readRoster(svc);
  const tabCounts: Record<string, number> = { all: accounts.length };
  for (const acc of accounts) for (const r of acc.roles) tabCounts[r] = (tabCounts[r] ?? 0) + 1;
  const rows = accounts.filter(
    (acc) =>
      (tab === 'all' || acc.roles.includes(tab)) &&
      (status === 'any' || acc.status === status) &&
      (!query || acc.email.toLowerCase().includes(query) || acc.name.toLowerCase().includes(query)),
  );
  rows.sort((x, y) => x.name.localeCompare(y.name) || x.email.localeCompare(y.email));
  return { total: rows.length, offset, rows: rows.slice(offset, offset + limit), tabCounts, tabs: TABS };
}

export function updateAccounts(svc: Services, raw: unknown) {
  assertCanConfigure(svc);
  const settings = readSettings(svc);
  const a = input.args(raw);
  const ids = input.list(a.ids, 'ids', 5000, input.accountId);
  if (!ids.length) throw new UserError(msg('invalidInput', { field: 'ids', problem: 'must name at least one account' }));
  const status = a.status === undefined ? null : input.oneOf(a.status, 'status', ACCOUNT_STATUSES);
  const permission = (v: unknown, field: string) => input.oneOf(v, field, settings.permissionNames);
  const grant = input.list(a.grant, 'grant', 50, permission);
  const revoke = input.list(a.revoke, 'revoke', 50, permission);
  const exclude = input.bool(a.exclude, 'exclude');
  // Read, change and write under the sync lock: a sync part writing the same rows would undo the edit.
  return underSyncLock(svc, () => {
    const byId = new Map(readRoster(svc).map((acc) => [acc.id, acc]));
    const changes: Change[] = [];
    for (const id of ids) {
      const before = byId.get(id);
      if (!before) throw new UserError(msg('accountNotFound', { id }));
      const after: Account = { ...before };
      if (status) after.status = status;
      after.permissions = [...new Set([...before.permissions.filter((p) => !revoke.includes(p)), ...grant])];
      if (JSON.stringify(after) === JSON.stringify(before)) continue;
      changes.push({ kind: changeKindFor(before.status, after.status), accountId: id, email: before.email, name: before.name, reasons: ['changed by an admin in Roster Sync'], before, after });
    }
    let updated = 0;
    let failed: { accountId: string; email: string; message: string }[] = [];
    if (changes.length) {
      const result = svc.roster.apply(changes);
      const applied = new Set(result.applied);
      noteDecisions(svc.state, changes.filter((c) => applied.has(c.accountId)).map((c) => c.after!));
      updated = applied.size;
      // What the destination refused (a row moved meanwhile, an app's error) is said, never counted as saved.
      failed = result.failed.map((f) => ({ ...f, email: byId.get(f.accountId)?.email ?? '' }));
    }
    if (exclude) {
      const emails = ids.map((id) => byId.get(id)!).filter((acc) => acc.source === 'synced').map((acc) => acc.email.toLowerCase());
      const saved = storeSettings(svc, { ...settings, exclude: [...new Set([...settings.exclude, ...emails])] });
      recordSettingsChange(svc, svc.session.activeUserEmail(), describeSettingsChange(settings, saved));
    }
    return { updated, failed };
  });
}

export function addAccount(svc: Services, raw: unknown): Account {
  assertCanConfigure(svc);
  const settings = readSettings(svc);
  const a = input.args(raw);
  const name = input.text(a.name, 'name', 200, { min: 1 });
  const email = input.email(a.email, 'email');
  const role = input.oneOf(a.role, 'role', settings.roles);
  const roles = [role, ...(settings.impliedRoles[role] ?? [])];
  const account: Account = {
    id: `manual-${svc.clock.nowMs().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`,
    email,
    name,
    roles: settings.roles.filter((r) => roles.includes(r)),
    status: 'active',
    permissions: [],
    source: 'manual',
    orgUnitPath: '',
    lastSynced: '',
    syncedStatus: '',
    outOfScopeSince: '',
  };
  return underSyncLock(svc, () => {
    if (readRoster(svc).some((acc) => acc.email.toLowerCase() === email)) throw new UserError(msg('duplicateEmail'));
    svc.roster.apply([{ kind: 'create', accountId: account.id, email, name, reasons: ['added by an admin in Roster Sync'], before: null, after: account }]);
    noteDecisions(svc.state, [account]);
    return account;
  });
}

/**
 * Starts an empty roster on purpose, after the old one was deleted or emptied by hand (which a sync
 * refuses, so that no local decision is lost by accident). The next sync creates every account anew.
 */
export function startNewRoster(svc: Services, raw: unknown): StateView {
  assertCanConfigure(svc);
  if (!svc.roster.startNew) throw new UserError(msg('invalidInput', { field: 'destination', problem: 'is not a roster sheet, so it cannot be started anew' }));
  if (!input.bool(input.args(raw).confirm, 'confirm')) throw new UserError(msg('invalidInput', { field: 'confirm', problem: 'must be true: a new roster recreates every account and forgets the old roster\'s local decisions' }));
  underSyncLock(svc, () => {
    svc.roster.startNew!();
    svc.config.remove(KEYS.rosterSyncedAccounts);
  });
  return getState(svc);
}

/** Local decisions of accounts whose rows a person may delete (the sheet roster only). */
function rememberedOnSheet(svc: Services): Map<string, Account> {
  return svc.roster.startNew ? loadDecisions(svc.state) : new Map();
}

// ---------- one user: explain and sync ----------

function planForUser(svc: Services, settings: Settings, email: string) {
  const snapshot = readUserSnapshot(settings, svc.directory, email);
  const user = snapshot.users[0] ?? null;
  useAppGroups(svc, snapshot);
  const accounts = readRoster(svc).filter((acc) => (user && acc.id === user.id) || acc.email.toLowerCase() === email);
  if (!user && !accounts.length) throw new UserError(msg('unknownUser', { email }));
  const remembered = new Map([...rememberedOnSheet(svc)].filter(([id, a]) => (user && id === user.id) || a.email.toLowerCase() === email));
  const plan = makePlan({ settings, snapshot, accounts, now: new Date(svc.clock.nowMs()).toISOString(), remembered, holdIdConflicts: !svc.roster.relink });
  return { snapshot, user, accounts, plan };
}

export function explainUser(svc: Services, raw: unknown) {
  assertCanConfigure(svc);
  const settings = readSettings(svc);
  const email = input.email(input.args(raw).email, 'email');
  const { snapshot, user, accounts, plan } = planForUser(svc, settings, email);
  const index = new RuleIndex(settings, snapshot);
  const match = user ? index.match(user) : { matchedRules: [], roles: [] };
  const verdict = user ? judge(user, match, settings, new Set(settings.exclude)) : null;
  const account = accounts[0] ?? null;
  // Matched, but suspended or archived with no account: no account is made, so "in scope" would mislead.
  const notSynced = user && verdict && !verdict.outOfScope && verdict.target === 'suspended' && !account;
  const local = account && account.source === 'synced' && account.status !== account.syncedStatus ? `The status ${account.status} was set locally and is kept by sync.` : '';
  return {
    user,
    account,
    matchedRules: match.matchedRules.map((r) => ({ id: r.id, description: describeRule(r) })),
    roles: match.roles,
    inScope: verdict ? !verdict.outOfScope && !notSynced : false,
    why: notSynced
      ? msg('suspendedNotSynced', { State: user.archived ? 'Archived' : 'Suspended', state: user.archived ? 'archived' : 'suspended', roles: describeMatch(verdict) }).text
      : verdict ? (verdict.outOfScope ? `Out of scope: ${verdict.outOfScope}.` : `In scope: ${describeMatch(verdict)}.`) : 'Not in the Google directory.',
    localDecision: local,
    changes: plan.changes.map(viewChange),
    held: plan.held.map((h) => ({ change: viewChange(h.change), why: h.why })),
    ruleProblems: plan.ruleProblems.map((p) => p.message),
    /** Each mapped attribute: its value and where it came from, or why it cannot be derived. */
    attributes: user && settings.attributes.length ? describeAttributes(deriveAttributes(user, settings.attributes, new Date(svc.clock.nowMs()).toISOString()), settings.attributes) : [],
    recreated: recreatedFrom(svc, user, accounts),
  };
}

/**
 * The account of an earlier Google user with this address (deleted in Google, then re-created with
 * a new id): the admin chooses to give its app account to the new user or to delete it; never silently.
 */
function recreatedFrom(svc: Services, user: DirectoryUser | null, accounts: Account[]): { accountId: string; text: string; fix: string } | null {
  if (!user || !svc.roster.relink || accounts.some((a) => a.id === user.id)) return null;
  const old = accounts.find((a) => a.source === 'synced' && a.status !== 'deleted' && a.email.toLowerCase() === user.email.toLowerCase());
  // Its Google user must be gone (users.get by id answers 404), or the account is someone else's.
  if (!old || svc.directory.getUser(old.id)) return null;
  const m = msg('recreatedUserChoice', { email: user.email, id: old.id });
  return { accountId: old.id, text: m.text, fix: m.fix };
}

/** Applies just this user's changes now (provisioning on demand); no threshold, since it is one account. */
export function syncUser(svc: Services, raw: unknown) {
  assertCanConfigure(svc);
  const settings = readSettings(svc);
  const args = input.args(raw);
  const email = input.email(args.email, 'email');
  const adopt = args.adopt === undefined ? null : input.accountId(args.adopt, 'adopt');
  return underSyncLock(svc, () => {
    const startedAt = svc.clock.nowMs();
    if (adopt) adoptOldAccount(svc, settings, email, adopt);
    const { plan } = planForUser(svc, settings, email);
    const result: ApplyResult = plan.changes.length ? svc.roster.apply(plan.changes) : { applied: [], failed: [] };
    // A deactivation the app cannot be told of is reported as not written, never as done.
    const notSent = new Set(result.notSent ?? []);
    const why = result.notSentWhy?.text ?? '';
    const reported: ApplyResult = {
      applied: result.applied.filter((id) => !notSent.has(id)),
      failed: [...result.failed, ...plan.changes.filter((c) => notSent.has(c.accountId)).map((c) => ({ accountId: c.accountId, message: msg('deactivationsNotSent', { count: 1, destination: svc.roster.kind, sample: c.email, why }).text }))],
    };
    if (plan.changes.length) recordUserSync(svc, email, startedAt, plan.changes, reported, svc.session.activeUserEmail());
    return { changes: plan.changes.map(viewChange), applied: reported.applied.length, failed: reported.failed };
  });
}

/**
 * App groups Roster Sync put in the app whose Google Group is no longer selected: listed, and with
 * `remove: true` (the admin's confirmation) removed from the app. Nothing else ever removes them.
 */
export function removeDeselectedAppGroups(svc: Services, raw: unknown) {
  assertCanConfigure(svc);
  const settings = readSettings(svc);
  const remove = input.bool(input.args(raw).remove, 'remove');
  if (!svc.roster.deselectedAppGroups) return { groups: [] };
  const selectedIds = settings.appGroups.map((email) => {
    const group = svc.directory.getGroup(email);
    // Without its id, a selected group's app group cannot be told from a deselected one: decide nothing.
    if (!group) throw new UserError(msg('appGroupMissing', { email }));
    return group.id;
  });
  return underSyncLock(svc, () => ({ groups: svc.roster.deselectedAppGroups!(selectedIds, remove) }));
}

/** The admin's choice for a re-created Google user: the old account's app account becomes the new user's. */
function adoptOldAccount(svc: Services, settings: Settings, email: string, oldId: string): void {
  const { user, accounts } = planForUser(svc, settings, email);
  const offered = recreatedFrom(svc, user, accounts);
  if (!offered || offered.accountId !== oldId || !svc.roster.relink!(oldId, user!.id)) {
    throw new UserError(msg('invalidInput', { field: 'adopt', problem: `is not the account of an earlier Google user with the address ${email} (Explain ${email} shows whether there is one)` }));
  }
}

/** The report of one History entry (by its start time), its changes filtered by a search. */
export function getSyncReport(svc: Services, raw: unknown) {
  assertCanConfigure(svc);
  const a = input.args(raw);
  const startedAt = input.text(a.startedAt, 'startedAt', 40);
  const query = input.text(a.query, 'query', 200, { optional: true });
  const report = loadReport(svc.reports, startedAt);
  if (!report) throw new UserError(msg('reportNotKept', { startedAt, kept: REPORTS_KEPT, days: REPORT_DAYS }));
  return { ...report, changes: searchReport(report, query), listed: report.changes.length };
}

/** Test connection (Settings → Destination): read-only probes of the SCIM app, as rows of a table. */
export function testScimConnection(svc: Services) {
  assertCanConfigure(svc);
  const roster = svc.roster as unknown as { testConnection?: () => unknown };
  if (typeof roster.testConnection !== 'function') throw new UserError(msg('scimNotConfigured', { missing: 'the destination is not a SCIM app' }));
  return roster.testConnection();
}

export function runFinalizeChecks(svc: Services): { checks: CheckResult[] } {
  assertCanConfigure(svc);
  return { checks: runChecks(svc) };
}

/** Finalize's one-click fix for a missing heartbeat: the sync account installs its trigger again. */
export function reinstallTrigger(svc: Services): ReturnType<typeof getState> {
  assertCanConfigure(svc);
  const owner = svc.config.get(KEYS.syncAccount);
  const me = svc.session.activeUserEmail();
  if (!owner || owner !== me) throw new UserError(msg('triggerNotYours', { owner: owner || 'the sync account' }));
  ensureTrigger(svc);
  return getState(svc);
}

/** Progress of the sync part running now, as its last progress note says (cheap: one property read). */
export function getSyncProgress(svc: Services): { running: false } | ({ running: true } & Partial<ProgressNote>) {
  assertCanConfigure(svc);
  const raw = svc.config.get(PROGRESS_KEY);
  if (!raw) return { running: false };
  try {
    const note = JSON.parse(raw) as Partial<ProgressNote>;
    // A note older than one execution can last was left by a part that was killed: nothing runs now.
    if (typeof note.at === 'number' && svc.clock.nowMs() - note.at > 6 * 60_000) return { running: false };
    return { running: true, ...note };
  } catch {
    return { running: true }; // a torn progress note; the running part rewrites it within seconds
  }
}
