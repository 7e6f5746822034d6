// The ports the core talks through. Apps Script adapters implement them in
// src/gas; tests implement them with small in-memory fakes.
import { Account, AppGroup, Change, DirectoryGroup, DirectoryUser, HistoryEntry, OrgUnit, Role } from './model';
import { DestinationSettings } from './destination';
import { Message } from './messages';

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}

export interface MemberRef {
  type: 'USER' | 'GROUP' | 'CUSTOMER' | 'OTHER';
  id: string;
  email: string;
}

/** One page of a listing, asked for in a round of parallel requests. */
export type ListingRequest =
  | {
      kind: 'users';
      /** users.list query, e.g. email:a*; null for the whole domain. */
      query: string | null;
      /** Sorted by primary email (orderBy=email), descending when asked. */
      sort?: 'ascending' | 'descending';
      pageToken: string | null;
      /** The raw fields the attribute mapping names (core/attributes.ts), read only when given. */
      sources?: string[];
    }
  | { kind: 'members'; groupEmail: string; pageToken: string | null };

/** What a ListingRequest returned: users or members (derived), or null for a group that does not exist. */
export type ListingPage = Page<DirectoryUser> | Page<MemberRef> | null;

/** The Workspace directory, one call per method call so the engine can checkpoint between pages. */
export interface DirectoryPort {
  /**
   * Pages of several listings in one round of parallel requests (the answers in request order);
   * members with indirect memberships included. Absent when the runtime cannot make parallel requests.
   */
  fetchPages?(requests: ListingRequest[]): ListingPage[];
  /** Users by id, in parallel rounds; null for an id Google has no user for. */
  getUsersById?(ids: string[], sources?: string[]): (DirectoryUser | null)[];
  /** `sources`: the raw fields the attribute mapping names (core/attributes.ts), read only when given. */
  listUsersPage(pageToken: string | null, sources?: string[]): Page<DirectoryUser>;
  /** Every OU of the domain in one call (orgunits.list type=all does not page). */
  listOrgUnits(): OrgUnit[];
  /** Members with indirect ones (includeDerivedMembership); null when the group does not exist (404). */
  listMembersPage(groupEmail: string, pageToken: string | null): Page<MemberRef> | null;
  /** One group's id, primary email and name (groups.get; an alias finds it too), null if there is none. */
  getGroup(email: string): AppGroup | null;
  /** Groups of the domain, for the sidebar's group search. */
  listGroupsPage(query: string, pageToken: string | null): Page<DirectoryGroup>;
  /** One user by email, alias or user id (Google's userKey), null if there is none; `sources` names the mapped fields to read. */
  getUser(userKey: string, sources?: string[]): DirectoryUser | null;
  /** Whether any user is in the OU or below it (one cheap call, for the Finalize checks). */
  ouHasUsers(orgUnitPath: string): boolean;
  /** Whether a user is a member of a group, directly or through nested groups; null if the group does not exist. */
  hasMember(groupEmail: string, userEmail: string): boolean | null;
}

/**
 * One change from the Admin SDK Reports API activity log (applicationName=admin): an event of
 * one activity, keyed by the activity's id (its time and uniqueQualifier) and the event's index.
 */
export interface AuditEvent {
  id: string;
  timeMs: number;
  /** USER_SETTINGS, GROUP_SETTINGS, ORG_SETTINGS, … */
  type: string;
  /** CREATE_USER, MOVE_USER_TO_ORG_UNIT, ADD_GROUP_MEMBER, … */
  name: string;
  /** The event's parameters by name (USER_EMAIL, GROUP_EMAIL, ORG_UNIT_NAME, NEW_VALUE, …). */
  params: Record<string, string>;
}

/**
 * The activity logs incremental syncs read: `admin` (changes made in the Admin console, through the
 * API and by sync tools) and `groups_enterprise` (membership changes made by group managers).
 */
export type AuditApplication = 'admin' | 'groups_enterprise';

/** The activity logs, one call per page so the engine can checkpoint between pages. */
export interface AuditLogPort {
  /** Events with startMs <= time < endMs, newest first as Google lists them; throws a ReportsError when refused. */
  listEventsPage(application: AuditApplication, startMs: number, endMs: number, pageToken: string | null): Page<AuditEvent>;
}

export interface ApplyResult {
  /** accountIds of the changes the destination accepted. */
  applied: string[];
  failed: { accountId: string; message: string }[];
  /**
   * Of `applied`: deactivations the destination cannot express (a SCIM app without an active
   * flag). Recorded (the grace period runs), never counted as done, reported on their own.
   */
  notSent?: string[];
  /** Why those could not be sent, and what to do (the destination's own message). */
  notSentWhy?: { text: string; fix: string };
  /**
   * Changes the destination did not send at all (nothing happened to them): 'part' when this
   * execution's time is spent (the next part of the same sync sends them), 'sync' when they must
   * wait for a later sync (the app asked for a long wait, or the day's quota is used); `message` says why.
   * The destination knows only this batch: {done}, {total} and {waiting} in `message` are the sync's
   * own counts, filled by it. `resumeAtMs`: from when a later sync may send them (the first heartbeat
   * after it continues).
   */
  unsent?: { accountIds: string[]; until: 'part' | 'sync'; message: string; fix?: string; resumeAtMs?: number };
}

export interface RosterReadProblem {
  row: number;
  message: string;
  /** When the row holds an ID an earlier row holds too: that row, and the ID. */
  sameIdAs?: { row: number; id: string };
}

/** The destination: a Sheet (embedded default) or a SCIM 2.0 app. */
export interface RosterPort {
  readonly kind: string;
  readAll(): { accounts: Account[]; problems: RosterReadProblem[] };
  /**
   * The ids and emails of the accounts it holds, read cheaply (not the whole roster): while a sync is
   * still reading the directory, the users it saves are kept to those (and those in scope). Absent or
   * null when it has no cheap way to tell; then every user read is saved until the plan.
   */
  accountKeys?(): { ids: string[]; emails: string[] } | null;
  /** Throws a UserError saying how to fix it when the destination cannot be written. */
  checkWritable(): void;
  /** Applies changes keyed by accountId; must be idempotent (safe to apply twice). */
  apply(changes: Change[]): ApplyResult;
  /**
   * The selected Google Groups as the directory has them now (Settings → App groups), given before
   * readAll: a destination that keeps them as groups of its own reads their membership into Account.groups.
   */
  useAppGroups?(groups: AppGroup[]): void;
  /** A sync part starts reading and writing the roster (not the sidebar): a destination with a daily request budget leaves the sidebar its share. */
  startSync?(): void;
  /** Test connection: read-only probes of the destination (nothing in it changes), as rows of a short table. */
  testConnection?(): ConnectionReport;
  /** After a full sync applied its changes: what is left to bring in step (app group names), and notes for History. */
  afterSync?(): string[];
  /**
   * App groups Roster Sync put in the app whose Google Group is no longer selected (`selectedIds`: the
   * Google ids of those selected now). With `remove`, they are removed from the app: only on an admin's confirmation.
   */
  deselectedAppGroups?(selectedIds: string[], remove: boolean): { id: string; name: string; removed: boolean; problem: string }[];
  /**
   * Gives the destination's record of one account to another account id: the admin's choice when a
   * Google user deleted and re-created with the same address should keep the old app account. Only
   * destinations that keep such records (a SCIM app's ledger) offer it; false when there is none.
   */
  relink?(fromAccountId: string, toAccountId: string): boolean;
  /**
   * Only a roster people can clear by hand (the sheet) has this: it starts an empty roster on purpose
   * (an emptied one is refused until then). Throws a UserError when the roster still holds accounts.
   */
  startNew?(): void;
}

export interface HistoryPort {
  append(entry: HistoryEntry): void;
  /** Newest first. */
  list(limit: number): HistoryEntry[];
}

/** Small key/value store (script or document properties): 9 KB a value, 500 KB in all. */
export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/** Large state (snapshot pages, plans) that outgrows properties. */
export interface BlobStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  /** Removes every key starting with the prefix. */
  removePrefix(prefix: string): void;
}

/** What holds the sync lock: a sync part, or an account edit (milliseconds). */
export type LockPurpose = 'sync' | 'edit';

export interface LockHolder {
  /** Unknown for a lock taken by an older version. */
  purpose?: LockPurpose;
  /** When the holder took the lock (unknown for an older version's lock). */
  sinceMs?: number;
  /** When the lock is released at the latest (a killed holder cannot release it). */
  expiresAtMs: number;
}

export interface LockPort {
  /** Waits up to timeoutMs; false when another execution holds the lock. */
  tryLock(timeoutMs: number, purpose?: LockPurpose): boolean;
  release(): void;
  /** Another execution's hold on the lock, when the lock can tell (for "a sync is already running"). */
  holder?(): LockHolder | null;
}

export interface TriggerInfo {
  id: string;
  handler: string;
  kind: 'CLOCK' | 'ON_OPEN' | 'ON_EDIT' | 'OTHER';
}

export interface TriggerPort {
  list(): TriggerInfo[];
  installHourly(handler: string): void;
  remove(id: string): void;
}

export interface LocalTime {
  date: string; // YYYY-MM-DD
  hour: number;
  minute: number;
}

export interface ClockPort {
  nowMs(): number;
  sleep(ms: number): void;
  local(ms: number, timeZone: string): LocalTime;
}

export interface SessionPort {
  /** The person at the keyboard ('' when Google does not reveal it). */
  activeUserEmail(): string;
  /** The account the script runs as (the sync account for triggers). */
  effectiveUserEmail(): string;
  /** Whether the user still has to grant the script's scopes, and where. */
  authorization(): { required: boolean; url: string };
}

export interface NotifierPort {
  send(to: string[], subject: string, body: string): void;
}

/** Everything the core needs from the outside world. */
export interface Services {
  directory: DirectoryPort;
  /** The admin activity log (Reports API), for incremental syncs. */
  audit: AuditLogPort;
  /** The destinations this build knows; `roster` is the one the settings chose, opened for this execution. */
  destinations: DestinationCatalog;
  roster: RosterPort;
  history: HistoryPort;
  /** Settings and small pointers, already namespaced to this installation. */
  config: KeyValueStore;
  /** The current user's private store (secrets). */
  secrets: KeyValueStore;
  state: BlobStore;
  /** The sync reports behind History entries (bounded; see reports.ts). */
  reports: BlobStore;
  /** What incremental syncs keep between syncs when it outgrows config: the structure the last full sync read. */
  incremental: BlobStore;
  lock: LockPort;
  triggers: TriggerPort;
  clock: ClockPort;
  session: SessionPort;
  notifier: NotifierPort;
  /** Milliseconds this execution may still run before it must checkpoint and stop. */
  remainingMs(): number;
  /** A link to the roster spreadsheet for messages. */
  rosterUrl(): string;
}

// Where the roster lives. Each destination is one folder under src/destinations
// behind this interface; the core only ever sees the interface and the catalog
// it is handed (Services.destinations), so it names no destination itself.

/** A Finalize check result (see finalize.ts). */
/** A destination's Test connection (read-only probes, nothing changed in it), as rows of a short table. */
export interface ConnectionReport {
  ok: boolean;
  rows: ConnectionRow[];
  /** The fix of the first failing row ('' when none fails). */
  fix: string;
}

export interface ConnectionRow {
  /** What was checked, e.g. "Filter". */
  item: string;
  status: 'pass' | 'warning' | 'fail';
  /** What was found, in an admin's words. */
  found: string;
  /** What to do about it (rows that fail or warn). */
  fix?: string;
}

export interface CheckOutcome {
  status: 'pass' | 'fail' | 'warning';
  found: string;
  fix: string;
}

/** A secret a destination keeps in the sync account's user properties (e.g. a bearer token). */
export interface SecretView {
  saved: boolean;
  /** Enough to recognise the secret, never enough to use it. */
  masked: string;
}

/** What a secret is saved or cleared with. */
export interface SecretContext {
  /** The whole request the secret came with (e.g. the address it is for). */
  args: Record<string, unknown>;
  /** The saved destination sub-documents (the whole settings document will do), null when unreadable. */
  settings: Partial<DestinationSettings> | null;
  /** Settings and small pointers (not secret): e.g. where a secret may be sent, for every admin to see. */
  config: KeyValueStore;
  /** Whether the caller is the sync account, whose secret syncs use. */
  bySyncAccount: boolean;
}

export interface DestinationSecret {
  /** Checks and stores a pasted secret in the caller's private store; throws a UserError naming what is wrong. */
  save(secrets: KeyValueStore, raw: unknown, context?: SecretContext): SecretView;
  clear(secrets: KeyValueStore, context?: SecretContext): SecretView;
  view(secrets: KeyValueStore): SecretView;
}

/** How a destination's settings sub-document is checked and compared. */
export interface DestinationSettingsSpec<S> {
  /** Validates the sub-document; throws a UserError naming the first bad field (under `field`). */
  validate(raw: unknown, context: { roles: Role[]; field: string }): S;
  /** What of it changes what a plan means: a part-way sync made under another fingerprint is stale. */
  fingerprint(settings: S): string;
}

/**
 * One destination. `Context` is what its adapter needs to open the roster (the
 * Apps Script layer passes the spreadsheet and stores); the core never opens one.
 */
export interface Destination<S = unknown, Context = unknown> {
  /** The value of `settings.destination`, and the key of its sub-document. */
  readonly id: string;
  /** How the settings form names it. */
  readonly label: string;
  /** Present when the destination has settings of its own (then required when it is chosen). */
  readonly settings?: DestinationSettingsSpec<S>;
  readonly secret?: DestinationSecret;
  /** Names an attribute may not take because the destination writes them itself (e.g. the Roster's columns). */
  readonly reservedAttributeNames?: readonly string[];
  /** A short status line, e.g. `SCIM app at app.example.com` or `Roster`. */
  describe(settings: S | null, secrets: KeyValueStore): string;
  /** The roster port for this execution. */
  open(context: Context): RosterPort;
  /** The Finalize check "The roster destination can be read and written". */
  check(svc: Services, settings: S | null): CheckOutcome;
  /** What stops syncs to it now, told to every admin in the sidebar (each a catalog message). */
  problems?(svc: Services, settings: S | null): Message[];
  /** A repair an admin chose deliberately, by name; what was done (recorded in History), or null when there was nothing to repair. */
  repair?(svc: Services, settings: S | null, repair: string): Message | null;
}

/** The destinations a build knows, by id (src/destinations/index.ts makes it). */
export interface DestinationCatalog {
  readonly ids: readonly string[];
  get(id: string): Destination | undefined;
}
