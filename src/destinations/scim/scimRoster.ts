// The SCIM 2.0 destination: the roster is the app's Users (and, when roles map to
// groups, its role Groups), plus a small ledger in the BlobStore for what SCIM
// cannot hold. Reads list the app's users in parallel pages; writes send only
// what differs (POST / PATCH-or-PUT / DELETE), through Bulk when the app offers
// it, and group memberships as add/remove PATCHes in small chunks.
import { Account, AccountStatus, AppGroup, Change, Role } from '../../core/model';
import { ApplyResult, BlobStore, KeyValueStore, RosterPort, RosterReadProblem } from '../../core/ports';
import { UserError, msg } from '../../core/messages';
import type { Settings } from '../../core/settings';
import { withRetry } from '../../core/retry';
import { GROUP_SCHEMA } from './schemas';
import { ScimSettings, groupNameFor } from './scimSettings';
import { ScimCapabilities, ScimProbeResult } from './serviceProvider';
import { ScimUserFields, currentUser, desiredUser, emailOf, nameOf, roleValues } from './userFields';
import { PatchOperation, createUserBody, eqFilter, MemberDelta, MemberRemoval, memberPatchBodies, otherRoleValues, patchBody, refusedMemberRemoval, refusedValuePath, replaceUserBody, userPatchOps } from './patch';
import { BulkOperation, bulkBody, bulkChunks } from './bulk';
import { manualIdFor, shortHash } from './manualIds';
import { FetchAllFn, ScimClient, ScimRequest, ScimResponse, errorDetail, isRetryableStatus } from './client';
import { Ledger, LedgerEntry, ledgerPrefix } from './ledger';
import { AppProfile, RefusedCreate } from './appProfile';
import { ConnectionReport, groupsProblem, testConnection } from './connection';
import { DailyQuota, WORKSPACE_URLFETCH_PER_DAY } from './quota';
import { AttributeMapping } from '../../core/attributes';
import { MANAGER_PATH, valueAt } from './userFields';
import { IdentityClaim, IdentityIndex, planIdentities, temporaryUserName } from './identity';

/** One group's membership changes: `members` its members now (updated as the app accepts changes), `whole` its PUT body without members. */
interface MembershipJob<K> {
  key: K;
  id: string;
  members: Set<string>;
  deltas: MemberDelta[];
  whole: Record<string, unknown>;
}

export interface ScimRosterOptions {
  settings: ScimSettings;
  token: string;
  /** The settings' roles, in order (the only role values Roster Sync reads and writes). */
  roles: Role[];
  /** Services.state: where the ledger lives. */
  state: BlobStore;
  /**
   * Services.config: notes, outside the state sheet, that a ledger was written, so a ledger lost
   * with that sheet is noticed instead of rebuilt silently (accounts disabled in Roster Sync
   * re-activated, grace periods started again).
   */
  marks?: KeyValueStore;
  fetchAll?: FetchAllFn;
  sleep?: (ms: number) => void;
  now?: () => number;
  /** Users per GET /Users page. */
  pageSize?: number;
  /** Requests per UrlFetchApp.fetchAll call. */
  batchSize?: number;
  /** Tries per request for 429 / 5xx. */
  attempts?: number;
  /** Milliseconds this execution may still run (Services.remainingMs): sending stops in time to record what was done. */
  remainingMs?: () => number;
  /** How many Google Groups the settings push to the app as app groups (they need a token that may manage groups). */
  appGroupsSelected?: number;
  /** The sync account's daily UrlFetchApp quota (100,000 for Workspace, 20,000 for a consumer account). */
  urlFetchPerDay?: number;
  /** The attribute mapping (Settings → Attributes); rows with a SCIM target are written to the app. */
  attributes?: AttributeMapping[];
}

interface GroupState {
  role: Role;
  name: string;
  id: string | null;
  members: Set<string>;
}

interface Snapshot {
  caps: ScimCapabilities;
  /** SCIM id → the user as the app holds it. */
  users: Map<string, any>;
  /** Role groups (groups mapping only). */
  groups: Map<Role, GroupState> | null;
  /** Filled by buildAccounts: account id ↔ SCIM id. */
  scimIdOf: Map<string, string>;
  ownerOf: Map<string, string>;
  /** Who holds which userName and email (built on the first write). */
  identities: IdentityIndex | null;
  /** email → SCIM id, built when a manager is first looked up. */
  byEmail?: Map<string, string>;
  /** The selected Google Groups as SCIM Groups, by Google group id (null when none is selected). */
  appGroups: Map<string, AppGroupState> | null;
}

interface AppGroupState {
  group: AppGroup;
  /** The SCIM Group's id; null until it is created. */
  id: string | null;
  displayName: string;
  members: Set<string>;
}

type Phase = 'create' | 'update' | 'stage' | 'delete' | 'lookupUserName' | 'lookupExternalId';

interface Work {
  change: Change;
  desired: ScimUserFields | null;
  scimId: string | null;
  raw: any | null;
  phase: Phase | null;
  request: ScimRequest | null;
  recreated: boolean;
  /** The app accepted the user write (or nothing needed writing). */
  accepted: boolean;
  failure: string | null;
  groupFailure: string | null;
  /** The group membership was not sent (the client stopped sending); the next part or sync sends it. */
  groupUnsent: boolean;
  /** The app's words when it answered a create with 409. */
  conflict: string | null;
  /** The create was refused as a duplicate that no lookup finds (now, or on an earlier sync and unchanged since). */
  refused: RefusedCreate | null;
  /** A request held back one round, until the userName it takes is freed. */
  waiting: ScimRequest | null;
}

/** A create the app refused as a duplicate is not sent again unchanged before this long (doubling, at most 16 days). */
export const REFUSED_BACKOFF_MS = 24 * 60 * 60 * 1000;

const MAX_ROUNDS = 6;

export class ScimRoster implements RosterPort {
  readonly kind: string;
  readonly client: ScimClient;
  readonly ledger: Ledger;
  /** What this app was found to support, remembered between syncs. */
  readonly app: AppProfile;
  private snap: Snapshot | null = null;
  private readonly settings: ScimSettings;
  private readonly roles: Role[];
  private readonly pageSize: number;
  private readonly attempts: number;
  private readonly sleep: (ms: number) => void;
  private readonly now: () => number;
  private readonly attributes: AttributeMapping[];
  /** The attribute rows sent to the app. */
  private readonly mapped: AttributeMapping[];
  private appGroups: AppGroup[] | null = null;
  private readonly state: BlobStore;
  private readonly appGroupsKey: string;
  /** Mapped SCIM attributes the app answered without, though they were sent (it does not keep them). */
  private readonly dropped = new Set<string>();
  private droppedFor = '';
  private readonly marks: KeyValueStore | null;
  private readonly markKey: string;

  constructor(options: ScimRosterOptions) {
    this.attributes = options.attributes ?? [];
    this.mapped = this.attributes.filter((a) => a.scim);
    this.settings = options.settings;
    this.roles = options.roles;
    this.pageSize = options.pageSize ?? 100;
    this.attempts = options.attempts ?? 5;
    this.sleep = options.sleep ?? ((ms: number) => Utilities.sleep(ms));
    const prefix = ledgerPrefix(options.settings.baseUrl);
    this.app = new AppProfile(options.state, `${prefix}app`);
    this.now = options.now ?? (() => Date.now());
    const learnt = this.app.get();
    this.client = new ScimClient({
      baseUrl: options.settings.baseUrl,
      token: options.token,
      fetchAll: options.fetchAll,
      sleep: this.sleep,
      now: this.now,
      batchSize: options.batchSize,
      attempts: this.attempts,
      remainingMs: options.remainingMs,
      pace: learnt.pace,
      quota: new DailyQuota(options.urlFetchPerDay ?? WORKSPACE_URLFETCH_PER_DAY, learnt.quota, this.now),
    });
    this.kind = `SCIM app (${this.client.host})`;
    this.ledger = new Ledger(options.state, prefix);
    this.marks = options.marks ?? null;
    this.markKey = `scimLedger.${shortHash(this.client.baseUrl)}`;
    this.state = options.state;
    this.appGroupsKey = `scim.${shortHash(this.client.baseUrl)}.appgroups`;
    this.appGroupsSelected = options.appGroupsSelected ?? 0;
  }

  private readonly appGroupsSelected: number;

  /** Roles as groups, or app groups selected: the token must manage groups. */
  private needsGroups(): boolean {
    return this.settings.roleMapping === 'groups' || this.appGroupsSelected > 0;
  }

  /** The selected Google Groups (before readAll): each is a SCIM Group, found by externalId = the Google group id. */
  useAppGroups(groups: AppGroup[]): void {
    this.appGroups = groups;
    if (this.snap) this.snap.appGroups = this.loadAppGroups(this.snap.caps);
  }

  /** A sync part begins: its requests leave the day's headroom to the sidebar. */
  startSync(): void {
    this.client.quota?.forSync();
  }

  /** A ledger was written for this app, and the state sheet no longer holds it. */
  ledgerLost(): boolean {
    return !!this.marks && this.marks.get(this.markKey) !== null && !this.ledger.exists();
  }

  /**
   * The admin's deliberate choice when the ledger cannot be restored: the next sync links the app's
   * users again by externalId (inactive ones stay disabled). Returns whether there was a lost ledger.
   */
  rebuildLostLedger(): boolean {
    if (!this.ledgerLost()) return false;
    this.marks!.remove(this.markKey);
    return true;
  }

  private noteLedgerWritten(): void {
    if (this.marks && this.marks.get(this.markKey) === null && this.ledger.load().size) this.marks.set(this.markKey, new Date().toISOString());
  }

  /** A ledger an earlier version wrote (before the mark existed) is marked the first time it is read. */
  private noteLedgerExists(): void {
    if (this.marks && this.marks.get(this.markKey) === null && this.ledger.exists()) this.marks.set(this.markKey, new Date().toISOString());
  }

  /** For Finalize sync (checkScimDestination): with roles as groups, also that the token may list groups. */
  probe(): ScimProbeResult {
    const result = this.client.probe();
    if (this.needsGroups()) {
      const [groups] = this.client.send([{ method: 'GET', path: '/Groups?startIndex=1&count=1' }]);
      if (groups.status !== 200) throw groupsProblem(this.client, groups);
    }
    this.remember();
    return result;
  }

  /** Test connection: read-only probes of what the app honours (nothing in the app changes). */
  testConnection(): ConnectionReport {
    const report = testConnection(this.client, this.settings, this.app.get(), this.appGroupsSelected);
    this.remember();
    return report;
  }

  /** Writable means: a SCIM service answers at the base URL and accepts the token (throws the catalog's message otherwise). */
  checkWritable(): void {
    this.client.probe();
  }

  // ---------- reading ----------

  readAll(): { accounts: Account[]; problems: RosterReadProblem[] } {
    try {
      const snap = this.snapshot();
      return { accounts: this.buildAccounts(snap), problems: [] };
    } finally {
      this.remember();
    }
  }

  /**
   * The ledger's accounts (kept in the state store: no request to the app). Null when it is lost (the
   * plan refuses then) or empty (a first sync, or one rebuilding the links by externalId: the app's
   * users are not in it yet).
   */
  accountKeys(): { ids: string[]; emails: string[] } | null {
    if (this.ledgerLost()) return null;
    const entries = this.ledger.load();
    if (!entries.size) return null;
    return { ids: [...entries.keys()], emails: [...entries.values()].map((e) => e.e).filter(Boolean) };
  }

  private snapshot(): Snapshot {
    if (this.snap) return this.snap;
    // Before anything is read from the app: without its ledger, what the app holds cannot be trusted as the roster.
    if (this.ledgerLost()) throw new UserError(msg('scimLedgerLost', { host: this.client.host }));
    this.noteLedgerExists();
    this.client.capabilities();
    if (this.app.get().bulkRefused) this.client.disableBulk();
    const caps = this.client.capabilities();
    const users = new Map<string, any>();
    for (const raw of this.client.listAll('/Users', this.pageSize)) users.set(String(raw.id), raw);
    const groups = this.settings.roleMapping === 'groups' ? this.loadGroups(caps) : null;
    this.ledger.load();
    return (this.snap = { caps, users, groups, scimIdOf: new Map(), ownerOf: new Map(), identities: null, appGroups: this.loadAppGroups(caps) });
  }

  /**
   * The SCIM Groups of the selected Google Groups, found by externalId (the Google group id), so a
   * group renamed in Google stays the same SCIM Group. Without filtering, the app's groups are listed.
   */
  private loadAppGroups(caps: ScimCapabilities): Map<string, AppGroupState> | null {
    if (!this.appGroups) return null;
    const found = new Map<string, any>();
    let listAll = !caps.filter.supported;
    if (!listAll && this.appGroups.length) {
      const answers = this.client.find('/Groups', this.appGroups.map((g) => eqFilter('externalId', g.id)));
      answers.forEach((a, i) => {
        if ('found' in a) {
          const match = a.found.find((g: any) => String(g?.externalId ?? '') === this.appGroups![i].id);
          if (match) found.set(this.appGroups![i].id, match);
        } else if (a.error.status === 400 || a.error.status === 501) listAll = true;
        else this.client.failFor(a.error, '/Groups');
      });
    }
    if (listAll && this.appGroups.length) {
      const wanted = new Set(this.appGroups.map((g) => g.id));
      for (const g of this.client.listAll('/Groups', this.pageSize)) {
        const ext = String(g?.externalId ?? '');
        if (wanted.has(ext) && !found.has(ext)) found.set(ext, g);
      }
    }
    this.readMembers([...found.values()]);
    const out = new Map<string, AppGroupState>();
    for (const group of this.appGroups) {
      const g = found.get(group.id);
      const members = new Set<string>();
      for (const m of Array.isArray(g?.members) ? g.members : []) {
        if (m && m.value !== undefined && (!m.type || String(m.type).toLowerCase() === 'user')) members.add(String(m.value));
      }
      out.set(group.id, { group, id: g ? String(g.id) : null, displayName: g ? String(g.displayName ?? '') : group.name, members });
    }
    return out;
  }

  /** Many apps leave members out of list and filter answers: reads those groups one by one. */
  private readMembers(groups: any[]): void {
    const bare = groups.filter((g) => g && g.id !== undefined && g.members === undefined);
    if (!bare.length) return;
    const answers = this.client.send(bare.map((g) => ({ method: 'GET' as const, path: `/Groups/${encodeURIComponent(String(g.id))}` })));
    answers.forEach((r, i) => {
      if (r.status === 200 && r.body) bare[i].members = Array.isArray(r.body.members) ? r.body.members : [];
      else this.client.failFor(r, '/Groups');
    });
  }

  /** The selected groups an app user is in, by the group's email now, in the settings' order. */
  private appGroupsOf(scimId: string): string[] {
    return [...this.snap!.appGroups!.values()].filter((g) => g.members.has(scimId)).map((g) => g.group.email);
  }

  private loadGroups(caps: ScimCapabilities): Map<Role, GroupState> {
    const wanted = this.roles.map((role) => ({ role, name: groupNameFor(role, this.settings) }));
    const found = new Map<string, any>();
    let listAll = !caps.filter.supported;
    if (!listAll) {
      const answers = this.client.find('/Groups', wanted.map((w) => eqFilter('displayName', w.name)));
      answers.forEach((a, i) => {
        if ('found' in a) {
          const name = wanted[i].name;
          const match = a.found.find((g: any) => g?.displayName === name) ?? a.found.find((g: any) => String(g?.displayName ?? '').toLowerCase() === name.toLowerCase());
          if (match) found.set(name.toLowerCase(), match);
        } else if (a.error.status === 400 || a.error.status === 501) listAll = true;
        else this.client.failFor(a.error, '/Groups');
      });
    }
    if (listAll) {
      for (const g of this.client.listAll('/Groups', this.pageSize)) {
        const key = String(g?.displayName ?? '').toLowerCase();
        if (!found.has(key)) found.set(key, g);
      }
    }
    this.readMembers([...found.values()]);
    const groups = new Map<Role, GroupState>();
    for (const w of wanted) {
      const g = found.get(w.name.toLowerCase());
      const members = new Set<string>();
      for (const m of Array.isArray(g?.members) ? g.members : []) {
        if (m && m.value !== undefined && (!m.type || String(m.type).toLowerCase() === 'user')) members.add(String(m.value));
      }
      groups.set(w.role, { role: w.role, name: w.name, id: g ? String(g.id) : null, members });
    }
    return groups;
  }

  /** The app's users merged with the ledger, as the core's accounts. */
  private buildAccounts(snap: Snapshot): Account[] {
    const entries = this.ledger.load();
    const m = this.settings.attributes;
    snap.scimIdOf.clear();
    snap.ownerOf.clear();
    const link = (accountId: string, scimId: string) => {
      snap.scimIdOf.set(accountId, scimId);
      snap.ownerOf.set(scimId, accountId);
    };
    // 1. Ledger entries whose app user is where the ledger says.
    for (const [id, e] of entries) {
      if (e.s && snap.users.has(e.s) && !snap.ownerOf.has(e.s)) link(id, e.s);
    }
    // 2. Entries whose app user was recreated: re-link by externalId (the Google id).
    if (m.externalId === 'googleId') {
      const byExternal = new Map<string, string>();
      for (const [sid, raw] of snap.users) if (raw.externalId !== undefined && !snap.ownerOf.has(sid)) byExternal.set(String(raw.externalId), sid);
      for (const [id, e] of entries) {
        if (snap.scimIdOf.has(id) || e.m || e.st === 'deleted') continue;
        const sid = byExternal.get(id);
        if (sid && !snap.ownerOf.has(sid)) link(id, sid);
      }
    }
    const accounts: Account[] = [];
    for (const [id, e] of entries) {
      const sid = snap.scimIdOf.get(id);
      const raw = sid ? snap.users.get(sid) : null;
      accounts.push({
        id,
        email: (raw && this.mappedEmail(raw)) || e.e,
        name: raw && m.name !== 'none' ? nameOf(raw) ?? e.n : e.n,
        roles: raw ? this.rolesOf(raw) : [...e.r],
        status: raw ? this.statusOf(raw, e) : 'deleted',
        permissions: [...e.p],
        source: e.m ? 'manual' : 'synced',
        orgUnitPath: e.ou,
        lastSynced: e.l,
        syncedStatus: e.ss,
        outOfScopeSince: e.o,
        ...(this.attributes.length ? { attributes: this.attributesOf(raw, e.a, e.e) } : {}),
        ...(snap.appGroups ? { groups: sid && raw ? this.appGroupsOf(sid) : [] } : {}),
      });
    }
    // 3. App users Roster Sync has no record of: adopted by externalId, else shown as manual accounts
    //    (the plan adopts those by email: a pre-existing user is adopted, not duplicated).
    const used = new Set(accounts.map((a) => a.id));
    for (const [sid, raw] of snap.users) {
      if (snap.ownerOf.has(sid)) continue;
      const email = emailOf(raw);
      const ext = raw.externalId === undefined || raw.externalId === null ? '' : String(raw.externalId);
      const byGoogleId = m.externalId === 'googleId' && /^\d{1,30}$/.test(ext) && !used.has(ext);
      if (!email && !byGoogleId) continue; // nothing to match it by: never touched
      let id = byGoogleId ? ext : manualIdFor(sid);
      if (used.has(id)) id = manualIdFor(`${sid}#`);
      // Inactive in the app with no record of who decided it: kept disabled (a local decision), never re-activated.
      const status: AccountStatus = raw.active === false ? 'disabled' : 'active';
      used.add(id);
      link(id, sid);
      accounts.push({
        id,
        email,
        name: nameOf(raw) ?? '',
        roles: this.rolesOf(raw),
        status,
        permissions: [],
        source: byGoogleId ? 'synced' : 'manual',
        orgUnitPath: '',
        lastSynced: '',
        syncedStatus: byGoogleId ? 'active' : '',
        outOfScopeSince: '',
        ...(this.attributes.length ? { attributes: this.attributesOf(raw, undefined) } : {}),
        ...(snap.appGroups ? { groups: this.appGroupsOf(sid) } : {}),
      });
    }
    return accounts;
  }

  /**
   * The mapped attributes of an account: what the app holds for those sent to it (so a value changed
   * in the app is set back), what was last written for the others. The manager is held as a SCIM id:
   * it reads as that user's email.
   */
  private attributesOf(raw: any | null, written: Record<string, string> | undefined, email = ''): Record<string, string> {
    const out: Record<string, string> = { ...(written ?? {}) };
    if (!raw) return out;
    for (const m of this.mapped) {
      const held = valueAt(raw, m.scim!);
      // An app that keeps no value there (it dropped what was sent): what was last written stands, so
      // the next sync does not send it again and again.
      if (!held && out[m.name]) {
        this.dropped.add(m.scim!);
        this.droppedFor ||= email;
        continue;
      }
      if (m.scim !== MANAGER_PATH) out[m.name] = held;
      else {
        const manager = held ? this.snap!.users.get(held) : null;
        out[m.name] = manager ? emailOf(manager) : held ? out[m.name] ?? '' : '';
      }
    }
    return out;
  }

  /** Records the mapped attributes an app answered a write without (many apps silently drop what they do not know). */
  private noteDropped(w: Work, answer: any): void {
    for (const [path, value] of Object.entries(w.desired?.extra ?? {})) {
      if (value && !valueAt(answer, path) && !this.dropped.has(path)) {
        this.dropped.add(path);
        this.droppedFor ||= w.change.after?.email ?? w.change.email;
      }
    }
  }

  /**
   * The SCIM id of the synced account with this email (the manager's), or null. Only accounts Roster
   * Sync itself keeps in step count: an app user who merely claims the email is never made anyone's manager.
   */
  private scimIdByEmail(email: string, works: Work[] = []): string | null {
    const snap = this.snap!;
    if (!snap.byEmail) {
      snap.byEmail = new Map();
      for (const [id, e] of this.ledger.load()) {
        const sid = snap.scimIdOf.get(id);
        if (!e.m && sid && snap.users.has(sid)) snap.byEmail.set(e.e.toLowerCase(), sid);
      }
      for (const w of works) {
        const after = w.change.after;
        if (w.accepted && !w.failure && w.scimId && after && after.source === 'synced' && after.status !== 'deleted') snap.byEmail.set(after.email.toLowerCase(), w.scimId);
      }
    }
    return snap.byEmail.get(email.toLowerCase()) ?? null;
  }

  /** The email as the mapping stores it in the app ('' when the mapping does not send one). */
  private mappedEmail(raw: any): string {
    const m = this.settings.attributes;
    if (m.emails === 'work') {
      const e = emailOf({ emails: raw.emails });
      if (e) return e;
    }
    if (m.userName === 'email') {
      const u = String(raw.userName ?? '').trim().toLowerCase();
      if (u.includes('@')) return u;
    }
    return '';
  }

  private rolesOf(raw: any): Role[] {
    const snap = this.snap!;
    if (snap.groups) return this.roles.filter((r) => snap.groups!.get(r)?.members.has(String(raw.id)));
    return roleValues(raw, this.roles);
  }

  /** active=false alone cannot tell suspended from disabled: the ledger's last written status does. */
  private statusOf(raw: any, e: LedgerEntry): AccountStatus {
    const last: AccountStatus = e.st === 'deleted' ? 'active' : e.st;
    if (this.settings.attributes.active === 'none' || typeof raw.active !== 'boolean') return last;
    if (raw.active) return 'active';
    return last === 'suspended' || last === 'disabled' ? last : 'disabled';
  }

  /** What was learnt of the app's pace and the day's requests, kept for the next execution. */
  private remember(): void {
    this.app.update((d) => {
      d.pace = this.client.pacer.memory();
      if (this.client.quota) d.quota = this.client.quota.memory();
    });
    this.app.save();
  }

  /**
   * The ledger entry (and so the app account) of `from` becomes `to`'s: a Google user re-created with
   * the address of a deleted one keeps the old app account, by the admin's choice. The next write
   * updates its externalId, status and roles for the new user.
   */
  relink(from: string, to: string): boolean {
    const snap = this.snapshot();
    if (!snap.scimIdOf.size && !snap.ownerOf.size) this.buildAccounts(snap);
    const entry = this.ledger.get(from);
    const sid = snap.scimIdOf.get(from);
    if (!entry || entry.m || !sid || this.ledger.get(to) || snap.scimIdOf.has(to)) return false;
    this.ledger.commit(new Map<string, LedgerEntry | null>([[from, null], [to, { ...entry, s: sid }]]));
    snap.scimIdOf.delete(from);
    snap.scimIdOf.set(to, sid);
    snap.ownerOf.set(sid, to);
    return true;
  }

  // ---------- writing ----------

  apply(changes: Change[]): ApplyResult {
    if (!changes.length) return { applied: [], failed: [] };
    const snap = this.snapshot();
    if (!snap.scimIdOf.size && !snap.ownerOf.size) this.buildAccounts(snap);
    const works = changes.map((c) => this.start(c, snap));
    const touched = new Set(works.map((w) => w.scimId).filter((sid): sid is string => !!sid));
    this.orderIdentities(works, snap);
    try {
      this.userRounds(works, snap);
      this.describeRefusals(works);
      this.linkNewManagers(works, snap);
      if (snap.groups) this.applyGroups(works, snap);
      if (snap.appGroups) this.applyAppGroups(works, snap);
    } finally {
      // Whatever the app accepted is recorded, even when the run stops early.
      this.commit(works, snap);
      this.remember();
      for (const w of works) if (w.scimId) touched.add(w.scimId);
      for (const sid of touched) snap.identities!.refresh(sid, snap.users.get(sid) ?? null);
    }
    const applied: string[] = [];
    const failed: ApplyResult['failed'] = [];
    const notSent: string[] = [];
    const unsent: string[] = [];
    for (const w of works) {
      const problem = w.failure ?? w.groupFailure;
      if (!problem && ((!w.accepted && w.request) || w.groupUnsent)) unsent.push(w.change.accountId);
      else if (problem || !w.accepted) failed.push({ accountId: w.change.accountId, message: problem ?? 'not written' });
      else {
        applied.push(w.change.accountId);
        if (this.cannotExpress(w.change)) notSent.push(w.change.accountId);
      }
    }
    const result: ApplyResult = { applied, failed };
    if (notSent.length) {
      const why = msg('scimNoActiveFlag');
      result.notSent = notSent;
      result.notSentWhy = { text: why.text, fix: why.fix };
    }
    if (unsent.length) {
      const why = this.client.stopMessage();
      const resumeAtMs = this.client.resumeAtMs();
      result.unsent = { accountIds: unsent, until: this.client.stoppedForThisPart() ? 'part' : 'sync', message: why?.text ?? '', fix: why?.fix ?? '', ...(resumeAtMs ? { resumeAtMs } : {}) };
    }
    return result;
  }

  /** Without an active flag the app cannot be told that someone may no longer sign in. */
  private cannotExpress(change: Change): boolean {
    if (this.settings.attributes.active !== 'none' || !change.after) return false;
    const blocked = (s: AccountStatus | undefined) => s === 'disabled' || s === 'suspended';
    return blocked(change.after.status) && !blocked(change.before?.status);
  }

  private start(change: Change, snap: Snapshot): Work {
    const after = change.after;
    const scimId = snap.scimIdOf.get(change.accountId) ?? (after ? snap.scimIdOf.get(after.id) : undefined) ?? null;
    const raw = scimId ? snap.users.get(scimId) ?? null : null;
    const w: Work = { change, desired: null, scimId: raw ? scimId : null, raw, phase: null, request: null, recreated: false, accepted: false, failure: null, groupFailure: null, groupUnsent: false, conflict: null, refused: null, waiting: null };
    if (!after || after.status === 'deleted') {
      if (raw) this.next(w, 'delete', { method: 'DELETE', path: `/Users/${encodeURIComponent(scimId!)}` });
      else w.accepted = true; // nothing in the app to delete
      return w;
    }
    w.desired = desiredUser(after, this.settings, this.mapped, (email) => this.scimIdByEmail(email));
    if (raw) this.updateOrDone(w, snap);
    else if (!this.stillRefused(w)) this.createRequest(w);
    return w;
  }

  /**
   * A manager created in this same batch had no SCIM id when the people they manage were written:
   * now that the app has given one, those users get their manager in one more round.
   */
  private linkNewManagers(works: Work[], snap: Snapshot): void {
    const manager = this.mapped.find((m) => m.scim === MANAGER_PATH);
    if (!manager) return;
    snap.byEmail = undefined;
    const waiting = works.filter((w) => w.accepted && !w.failure && w.raw && w.desired && w.desired.extra && !(MANAGER_PATH in w.desired.extra) && w.change.after?.attributes?.[manager.name]);
    for (const w of waiting) {
      w.desired = desiredUser(w.change.after!, this.settings, this.mapped, (email) => this.scimIdByEmail(email, works));
      if (MANAGER_PATH in w.desired.extra!) this.updateOrDone(w, snap);
    }
    if (waiting.some((w) => w.request)) this.userRounds(works, snap);
  }

  private next(w: Work, phase: Phase, request: ScimRequest): void {
    w.phase = phase;
    w.request = request;
  }

  private finish(w: Work, failure: string | null = null): void {
    w.phase = null;
    w.request = null;
    if (failure) w.failure = failure;
    else w.accepted = true;
  }

  private createRequest(w: Work): void {
    this.next(w, 'create', { method: 'POST', path: '/Users', body: createUserBody(w.desired!) });
  }

  /** PATCH (or PUT) only what differs; nothing at all when the app already holds it. */
  private updateOrDone(w: Work, snap: Snapshot): void {
    const current = currentUser(w.raw, this.settings, this.roles, this.mapped);
    const ops = userPatchOps(current, w.desired!, { whole: this.app.get().rolePatch === 'whole', otherRoles: otherRoleValues(w.raw, this.roles) });
    if (!ops.length) return this.finish(w);
    const path = `/Users/${encodeURIComponent(w.scimId!)}`;
    if (snap.caps.patch) this.next(w, 'update', { method: 'PATCH', path, body: patchBody(ops) });
    else this.next(w, 'update', { method: 'PUT', path, body: replaceUserBody(w.raw, current, w.desired!) });
  }

  /**
   * Before anything is sent: userNames two people would share are not written, a userName another
   * person's app account holds is not taken, and renames waiting for a userName another rename
   * frees go one round later (a swap first steps aside to a temporary userName).
   */
  private orderIdentities(works: Work[], snap: Snapshot): void {
    const index = (snap.identities ??= new IdentityIndex(snap.users, emailOf));
    const claims: IdentityClaim[] = works.map((w) => ({
      accountIds: [w.change.accountId, w.change.after?.id ?? w.change.accountId],
      email: w.change.after?.email ?? w.change.email,
      scimId: w.scimId,
      userName: w.desired ? w.desired.userName : w.phase === 'delete' ? null : w.raw ? String(w.raw.userName ?? '') : null,
      activeEmail: w.desired && w.change.after?.status === 'active' && this.givesEmail(w) ? w.change.after.email : null,
    }));
    const owner = (sid: string) => {
      const accountId = snap.ownerOf.get(sid);
      if (!accountId) return null;
      return { accountId, email: this.ledger.get(accountId)?.e || emailOf(snap.users.get(sid) ?? {}) };
    };
    const plan = planIdentities(claims, { holderOf: index.holderOf, owner, activeByEmail: index.activeByEmail });
    plan.blocked.forEach((b, i) => {
      const w = works[i];
      const email = claims[i].email;
      const m =
        b.kind === 'collision'
          ? msg('scimUserNameCollision', { emails: b.emails.join(', '), userName: b.userName, email })
          : b.kind === 'taken' && b.holder.toLowerCase() === email.toLowerCase()
            ? msg('scimRecreatedUser', { email, id: w.change.after?.id ?? w.change.accountId, userName: b.userName, holderId: b.holderId })
            : b.kind === 'taken'
            ? msg('scimUserNameTaken', { email, userName: b.userName, holder: b.holder })
            : msg('scimEmailTaken', { email, holder: b.holder });
      this.finish(w, m.text);
    });
    for (const i of plan.wait) if (!plan.blocked.has(i)) {
      const w = works[i];
      if (plan.stage.has(i) && w.phase === 'update') this.stageRequest(w, snap);
      else {
        w.waiting = w.request;
        w.request = null;
      }
    }
  }

  /** Whether a write shows an email on an active app user that did not show it before (a create, a new email, a reactivation). */
  private givesEmail(w: Work): boolean {
    if (!w.raw) return true;
    return w.raw.active === false || emailOf(w.raw) !== w.change.after!.email.toLowerCase();
  }

  /** A rename that must wait for its userName first frees its own: it takes a temporary one. */
  private stageRequest(w: Work, snap: Snapshot): void {
    const current = currentUser(w.raw, this.settings, this.roles);
    const temp = temporaryUserName(w.desired!.userName, shortHash(`${w.scimId}`).slice(0, 6));
    const path = `/Users/${encodeURIComponent(w.scimId!)}`;
    const body = snap.caps.patch ? patchBody([{ op: 'replace', path: 'userName', value: temp }]) : replaceUserBody(w.raw, current, { ...current, userName: temp });
    this.next(w, 'stage', { method: snap.caps.patch ? 'PATCH' : 'PUT', path, body });
  }

  private userRounds(works: Work[], snap: Snapshot): void {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let active = works.filter((w) => w.request);
      if (round > 0 || !active.length) {
        // What waited for a userName goes now: the round before freed it.
        for (const w of works) if (w.waiting) [w.request, w.waiting] = [w.waiting, null];
        active = works.filter((w) => w.request);
      }
      if (!active.length || this.client.stopped) return;
      const answers = this.execute(active.map((w) => w.request!));
      active.forEach((w, i) => this.handle(w, answers[i], snap));
    }
    if (this.client.stopped) return;
    for (const w of works) if (w.request) this.finish(w, this.failText(w, { status: 0, body: null, text: 'gave up after several attempts', location: '', retryAfterMs: null }));
  }

  private handle(w: Work, r: ScimResponse, snap: Snapshot): void {
    if (r.notSent) return; // kept as it is: the next part or sync sends it
    const ok = r.status >= 200 && r.status < 300;
    switch (w.phase) {
      case 'create': {
        if (ok) {
          const id = createdId(r);
          if (!id) return this.finish(w, this.failText(w, { ...r, text: 'the app created the user but did not say its id' }));
          w.scimId = id;
          w.raw = r.body && r.body.id !== undefined ? r.body : { ...createUserBody(w.desired!), id };
          if (r.body && r.body.id !== undefined) this.noteDropped(w, r.body);
          snap.users.set(id, w.raw);
          this.forgetRefusal(w);
          // Linked at once: a 409 lookup by another change of this batch must never adopt it.
          snap.ownerOf.set(id, w.change.after!.id);
          return this.finish(w);
        }
        if (r.status === 409) {
          w.conflict = errorDetail(r);
          return this.lookup(w, 'lookupUserName', snap, r);
        }
        return this.finish(w, this.failText(w, r));
      }
      case 'update': {
        if (ok) {
          const current = currentUser(w.raw, this.settings, this.roles, this.mapped);
          w.raw = r.body && r.body.id !== undefined ? r.body : { ...replaceUserBody(w.raw, current, w.desired!), id: w.scimId, meta: w.raw.meta };
          if (r.body && r.body.id !== undefined) this.noteDropped(w, r.body);
          snap.users.set(w.scimId!, w.raw);
          return this.finish(w);
        }
        const sent = (w.request?.body as { Operations?: PatchOperation[] } | undefined)?.Operations ?? [];
        if (w.request?.method === 'PATCH' && this.app.get().rolePatch !== 'whole' && refusedValuePath(r.status, r.body, sent)) {
          // The app takes no value-filtered paths: from now on roles go as one whole list (remembered for this app).
          this.app.update((d) => (d.rolePatch = 'whole'));
          return this.updateOrDone(w, snap);
        }
        if (r.status === 404 && !w.recreated) {
          // Deleted in the app since it was read: create it again.
          snap.users.delete(w.scimId!);
          w.recreated = true;
          w.scimId = null;
          w.raw = null;
          return this.createRequest(w);
        }
        return this.finish(w, this.failText(w, r));
      }
      case 'stage': {
        if (!ok) return this.finish(w, this.failText(w, r));
        const temp = w.request!.method === 'PATCH' ? (w.request!.body as any).Operations[0].value : (w.request!.body as any).userName;
        w.raw = r.body && r.body.id !== undefined ? r.body : { ...w.raw, userName: temp };
        snap.users.set(w.scimId!, w.raw);
        return this.updateOrDone(w, snap);
      }
      case 'delete': {
        if (ok || r.status === 404) {
          snap.users.delete(w.scimId!);
          if (snap.groups) for (const g of snap.groups.values()) g.members.delete(w.scimId!);
          if (snap.appGroups) for (const g of snap.appGroups.values()) g.members.delete(w.scimId!);
          return this.finish(w);
        }
        return this.finish(w, this.failText(w, r));
      }
      case 'lookupUserName':
      case 'lookupExternalId': {
        if (!ok) return this.finish(w, this.failText(w, r));
        const d = w.desired!;
        const resources: any[] = Array.isArray(r.body?.Resources) ? r.body.Resources : [];
        const found =
          w.phase === 'lookupUserName'
            ? resources.find((u) => String(u?.userName ?? '').toLowerCase() === d.userName.toLowerCase())
            : resources.find((u) => String(u?.externalId ?? '') === d.externalId);
        if (!found) {
          if (w.phase === 'lookupUserName' && d.externalId !== undefined) return this.lookup(w, 'lookupExternalId', snap, r);
          return this.refuse(w);
        }
        const sid = String(found.id);
        const owner = snap.ownerOf.get(sid);
        const mine = [w.change.accountId, w.change.after?.id];
        if (owner && !mine.includes(owner)) return this.finish(w, this.conflictText(w, `the app user ${sid} is already linked to account ${owner}`));
        w.scimId = sid;
        w.raw = found;
        snap.users.set(sid, found);
        this.forgetRefusal(w);
        return this.updateOrDone(w, snap);
      }
      default:
        return this.finish(w);
    }
  }

  /** A 409 on create: find the existing user by userName (then externalId) and adopt it. */
  private lookup(w: Work, phase: 'lookupUserName' | 'lookupExternalId', snap: Snapshot, r: ScimResponse): void {
    const d = w.desired!;
    if (!snap.caps.filter.supported) {
      // Without filtering, the list read at the start is all there is to search.
      const key = phase === 'lookupUserName' ? d.userName.toLowerCase() : d.externalId;
      for (const [sid, raw] of snap.users) {
        const value = phase === 'lookupUserName' ? String(raw.userName ?? '').toLowerCase() : String(raw.externalId ?? '');
        if (value === key && !snap.ownerOf.has(sid)) {
          w.scimId = sid;
          w.raw = raw;
          return this.updateOrDone(w, snap);
        }
      }
      return this.refuse(w);
    }
    const filter = phase === 'lookupUserName' ? eqFilter('userName', d.userName) : eqFilter('externalId', d.externalId!);
    this.next(w, phase, { method: 'GET', path: `/Users?filter=${encodeURIComponent(filter)}&startIndex=1&count=10` });
  }

  // ---------- creates refused as duplicates: backed off per account ----------

  private createFingerprint(w: Work): string {
    return shortHash(JSON.stringify(createUserBody(w.desired!)));
  }

  /** The same create was refused before and nothing changed since: not sent again before its backoff ends. */
  private stillRefused(w: Work): boolean {
    const prev = this.app.get().refused?.[w.change.accountId];
    if (!prev || prev.f !== this.createFingerprint(w) || this.now() >= retryAt(prev)) return false;
    w.refused = prev;
    this.finish(w, 'refused as a duplicate');
    return true;
  }

  /** A 409 that no lookup resolves: the app holds an account Roster Sync cannot see. Remembered, so it is not re-sent every sync. */
  private refuse(w: Work): void {
    const f = this.createFingerprint(w);
    const prev = this.app.get().refused?.[w.change.accountId];
    w.refused = { f, d: w.conflict ?? 'HTTP 409', at: this.now(), n: prev && prev.f === f ? prev.n + 1 : 1 };
    this.app.update((d) => ((d.refused ??= {})[w.change.accountId] = w.refused!));
    this.finish(w, 'refused as a duplicate');
  }

  private forgetRefusal(w: Work): void {
    if (!this.app.get().refused?.[w.change.accountId]) return;
    this.app.update((d) => delete d.refused![w.change.accountId]);
  }

  /** The messages of refused creates, saying how many accounts wait for the same reason. */
  private describeRefusals(works: Work[]): void {
    const waiting = Object.keys(this.app.get().refused ?? {}).length;
    for (const w of works) {
      if (!w.refused) continue;
      const email = w.change.after?.email ?? w.change.email;
      const retry = new Date(retryAt(w.refused)).toISOString().slice(0, 10);
      w.failure = /e-?mail/i.test(w.refused.d)
        ? msg('scimEmailInUse', { email, detail: w.refused.d, waiting, retryAt: retry }).text
        : `${this.conflictText(w, w.refused.d)} ${waiting} accounts wait for this; tried again when the user changes, or after ${retry}.`;
    }
  }

  private failText(w: Work, r: ScimResponse): string {
    const email = w.change.after?.email ?? w.change.email;
    if (r.status === 403) return msg('scimForbidden', { host: this.client.host, detail: `${email}: ${errorDetail(r)}` }).text;
    if (isRetryableStatus(r.status)) return msg('scimUnavailable', { host: this.client.host, code: r.status, attempts: this.attempts }).text;
    return msg('scimRejected', { email, code: r.status, detail: errorDetail(r) }).text;
  }

  private conflictText(w: Work, detail: string): string {
    const d = w.desired!;
    return msg('scimConflict', { email: w.change.after?.email ?? w.change.email, userName: d.userName, detail }).text;
  }

  // ---------- transport: Bulk when offered, else parallel single requests ----------

  /** One answer per request, in order. GETs go through fetchAll; writes through Bulk when the app offers it. */
  private execute(requests: ScimRequest[]): ScimResponse[] {
    const answers: ScimResponse[] = new Array(requests.length);
    const reads = requests.map((r, i) => i).filter((i) => requests[i].method === 'GET');
    const writes = requests.map((r, i) => i).filter((i) => requests[i].method !== 'GET');
    if (reads.length) this.client.send(reads.map((i) => requests[i])).forEach((a, k) => (answers[reads[k]] = a));
    if (writes.length) this.executeWrites(writes.map((i) => requests[i])).forEach((a, k) => (answers[writes[k]] = a));
    return answers;
  }

  private executeWrites(requests: ScimRequest[]): ScimResponse[] {
    const caps = this.client.capabilities();
    if (!caps.bulk.supported || requests.length < 2) return this.client.send(requests);
    const answers: (ScimResponse | undefined)[] = new Array(requests.length);
    const ops: BulkOperation[] = requests.map((r, i) => {
      const op: BulkOperation = { method: r.method as BulkOperation['method'], path: r.path };
      if (r.method === 'POST') op.bulkId = `op${i}`;
      if (r.body !== undefined) op.data = r.body;
      return op;
    });
    const indexOf = new Map(ops.map((op, i) => [op, i]));
    let todo = ops.map((_, i) => i);
    const single: number[] = [];
    try {
      withRetry(
        () => {
          const retry: number[] = [];
          const { bulks, single: tooBig } = bulkChunks(todo.map((i) => ops[i]), caps.bulk.maxOperations, caps.bulk.maxPayloadSize);
          for (const op of tooBig) single.push(indexOf.get(op)!);
          if (!this.client.capabilities().bulk.supported) bulks.forEach((b) => b.forEach((op) => single.push(indexOf.get(op)!)));
          else if (bulks.length) {
            const results = this.client.send(bulks.map((b) => ({ method: 'POST' as const, path: '/Bulk', body: bulkBody(b) })));
            results.forEach((res, k) => {
              const members = bulks[k].map((op) => indexOf.get(op)!);
              if (res.status === 200 && res.body && Array.isArray(res.body.Operations)) {
                const mapped = mapBulkResults(bulks[k], res.body.Operations);
                const opAnswers: ScimResponse[] = [];
                mapped.forEach((a, j) => {
                  const i = members[j];
                  if (!a || isRetryableStatus(a.status)) retry.push(i);
                  answers[i] = a ?? { status: 503, body: null, text: 'the Bulk response did not include this operation', location: '', retryAfterMs: null };
                  opAnswers.push(answers[i]!);
                });
                this.client.record(members.map((i) => requests[i]), opAnswers);
              } else if (res.status === 501 || res.status === 404 || res.status === 405 || res.status === 413) {
                // Bulk advertised but refused (or this request too large): send these one by one.
                if (res.status !== 413) {
                  this.client.disableBulk();
                  this.app.update((d) => (d.bulkRefused = true));
                }
                single.push(...members);
              } else {
                members.forEach((i) => (answers[i] = res));
              }
            });
          }
          todo = retry;
          if (todo.length) throw new OpsRetry(todo.length);
        },
        {
          attempts: this.attempts,
          baseDelayMs: 1000,
          maxDelayMs: 16_000,
          sleep: (ms) => {
            this.client.stats.sleptMs += ms;
            this.sleep(ms);
          },
          isRetryable: (e) => e instanceof OpsRetry && this.client.stats.sleptMs < 90_000,
        },
      );
    } catch (error) {
      if (!(error instanceof OpsRetry)) throw error;
    }
    if (single.length) this.client.send(single.map((i) => requests[i])).forEach((a, k) => (answers[single[k]] = a));
    return answers.map((a) => a ?? { status: 0, body: null, text: 'not sent', location: '', retryAfterMs: null });
  }

  // ---------- role groups ----------

  private applyGroups(works: Work[], snap: Snapshot): void {
    const groups = snap.groups!;
    const { deltas, workOf } = membershipDeltas(works, [...groups.keys()], (role) => groups.get(role)!.members, (after) => new Set(after.roles));
    if (!deltas.size) return;
    const failGroup = (role: Role, userIds: string[], r: ScimResponse) => membershipFailed(workOf, userIds, r, groups.get(role)!.name);
    // Groups that do not exist yet are created when someone needs to join them.
    const missing = [...deltas.keys()].filter((role) => !groups.get(role)!.id && deltas.get(role)!.some((d) => d.op === 'add'));
    if (missing.length) {
      const created = this.executeWrites(missing.map((role) => ({ method: 'POST', path: '/Groups', body: { schemas: [GROUP_SCHEMA], displayName: groups.get(role)!.name } })));
      const conflicts: Role[] = [];
      created.forEach((r, i) => {
        const role = missing[i];
        const id = createdId(r);
        if (id) groups.get(role)!.id = id;
        else if (r.status === 409) conflicts.push(role);
        else failGroup(role, deltas.get(role)!.map((d) => d.userId), r);
      });
      if (conflicts.length) {
        const found = this.client.find('/Groups', conflicts.map((role) => eqFilter('displayName', groups.get(role)!.name)));
        found.forEach((f, i) => {
          const role = conflicts[i];
          const g = groups.get(role)!;
          const match = 'found' in f ? f.found.find((x: any) => String(x?.displayName ?? '').toLowerCase() === g.name.toLowerCase()) : null;
          if (match) {
            g.id = String(match.id);
            for (const m of Array.isArray(match.members) ? match.members : []) if (m?.value !== undefined) g.members.add(String(m.value));
          } else failGroup(role, deltas.get(role)!.map((d) => d.userId), 'error' in f ? f.error : { status: 409, body: null, text: 'the group exists but cannot be found by displayName', location: '', retryAfterMs: null });
        });
      }
    }
    const jobs: MembershipJob<Role>[] = [];
    for (const [role, list] of deltas) {
      const g = groups.get(role)!;
      // Re-check against the members just learned (a group found after a 409), and skip removals from a group that does not exist.
      const todo = list.filter((d) => (d.op === 'add' ? !g.members.has(d.userId) : g.members.has(d.userId)));
      if (!g.id || !todo.length) continue;
      jobs.push({ key: role, id: g.id, members: g.members, deltas: todo, whole: { schemas: [GROUP_SCHEMA], displayName: g.name } });
    }
    this.writeMembers(jobs, snap.caps.patch, failGroup);
  }

  /**
   * Membership changes of groups (role groups and app groups alike). With PATCH, removals go in the form
   * this app takes: the standard value-filtered path first; an app that refuses it (400 invalidPath) gets
   * a removal with a value array, then the whole member list replaced, and the form that works is
   * remembered for it, as the roles PATCH form is. Without PATCH, the whole group is PUT.
   */
  private writeMembers<K>(jobs: MembershipJob<K>[], patch: boolean, fail: (key: K, userIds: string[], r: ScimResponse) => void): void {
    for (const { job, deltas, answer } of this.sendMembers(jobs, patch)) {
      if (answer.status >= 200 && answer.status < 300) for (const d of deltas) d.op === 'add' ? job.members.add(d.userId) : job.members.delete(d.userId);
      else fail(job.key, deltas.map((d) => d.userId), answer);
    }
  }

  /** The requests of writeMembers, each with the changes it carried and the app's answer. */
  private sendMembers<K>(jobs: MembershipJob<K>[], patch: boolean): { job: MembershipJob<K>; deltas: MemberDelta[]; answer: ScimResponse }[] {
    const path = (job: MembershipJob<K>) => `/Groups/${encodeURIComponent(job.id)}`;
    if (!patch) {
      // The app offers no PATCH: the only way left is to send the group's whole member list.
      const requests = jobs.map((job) => {
        const members = new Set(job.members);
        for (const d of job.deltas) d.op === 'add' ? members.add(d.userId) : members.delete(d.userId);
        return { method: 'PUT' as const, path: path(job), body: { ...job.whole, members: [...members].map((value) => ({ value })) } };
      });
      return this.executeWrites(requests).map((answer, i) => ({ job: jobs[i], deltas: jobs[i].deltas, answer }));
    }
    const form = (): MemberRemoval => this.app.get().memberRemoval ?? 'valuePath';
    // Each group's members as the app holds them after the answers so far: a whole list replaced later keeps what was just added.
    const held = new Map(jobs.map((job) => [job, new Set(job.members)]));
    const partsOf = (job: MembershipJob<K>, deltas: MemberDelta[]) =>
      memberPatchBodies(deltas, this.settings.maxMembersPerPatch, form(), held.get(job)!).map((p) => ({ job, deltas: deltas.filter((d) => p.userIds.includes(d.userId)), body: p.body }));
    let parts = jobs.flatMap((job) => partsOf(job, job.deltas));
    const out: { job: MembershipJob<K>; deltas: MemberDelta[]; answer: ScimResponse }[] = [];
    while (parts.length) {
      const sentForm = form();
      const answers = this.executeWrites(parts.map((p) => ({ method: 'PATCH' as const, path: path(p.job), body: p.body })));
      const refused = new Map<MembershipJob<K>, MemberDelta[]>();
      parts.forEach((p, i) => {
        const a = answers[i];
        if (refusedMemberRemoval(a.status, a.body, (p.body as { Operations: PatchOperation[] }).Operations, sentForm)) {
          refused.set(p.job, [...(refused.get(p.job) ?? []), ...p.deltas]);
          return;
        }
        if (a.status >= 200 && a.status < 300) for (const d of p.deltas) d.op === 'add' ? held.get(p.job)!.add(d.userId) : held.get(p.job)!.delete(d.userId);
        out.push({ job: p.job, deltas: p.deltas, answer: a });
      });
      if (!refused.size) break;
      this.app.update((d) => (d.memberRemoval = sentForm === 'valuePath' ? 'valueArray' : 'replace'));
      // One group's refused changes together: with replace, one list for the group, not one per chunk.
      parts = [...refused].flatMap(([job, deltas]) => partsOf(job, deltas));
    }
    return out;
  }

  // ---------- app groups (selected Google Groups) ----------

  /** Membership changes of the app groups: PATCH add/remove in chunks; a group not in the app yet is created when someone joins it. */
  private applyAppGroups(works: Work[], snap: Snapshot): void {
    const groups = snap.appGroups!;
    const byEmail = new Map([...groups.values()].map((g) => [g.group.email, g]));
    // An account without a Groups list (none read for it) is left in the groups it is in.
    const { deltas, workOf } = membershipDeltas(
      works.filter((w) => w.change.after?.groups),
      [...groups.values()],
      (g) => g.members,
      (after) => new Set(after.groups!.map((e) => byEmail.get(e)).filter((g): g is AppGroupState => !!g)),
    );
    const fail = (g: AppGroupState, userIds: string[], r: ScimResponse) => membershipFailed(workOf, userIds, r, g.group.name);
    const missing = [...deltas.keys()].filter((g) => !g.id && deltas.get(g)!.some((d) => d.op === 'add'));
    if (missing.length) {
      const created = this.executeWrites(missing.map((g) => ({ method: 'POST' as const, path: '/Groups', body: { schemas: [GROUP_SCHEMA], displayName: g.group.name, externalId: g.group.id } })));
      created.forEach((r, i) => {
        const g = missing[i];
        const id = createdId(r);
        if (id) {
          g.id = id;
          g.displayName = g.group.name;
        } else fail(g, deltas.get(g)!.map((d) => d.userId), r);
      });
    }
    const jobs: MembershipJob<AppGroupState>[] = [];
    for (const [g, list] of deltas) {
      if (g.id) jobs.push({ key: g, id: g.id, members: g.members, deltas: list, whole: { schemas: [GROUP_SCHEMA], displayName: g.group.name, externalId: g.group.id } });
    }
    this.rememberAppGroups();
    this.writeMembers(jobs, snap.caps.patch, fail);
  }

  /** The app groups Roster Sync has put in this app, by Google id (kept in the BlobStore beside the ledger). */
  private linkedAppGroups(): Record<string, { s: string; n: string }> {
    try {
      return JSON.parse(this.state.get(this.appGroupsKey) ?? '{}');
    } catch {
      return {};
    }
  }

  /** Records the selected groups the app now holds; a group once linked is remembered until it is removed. */
  private rememberAppGroups(): void {
    const groups = this.snap?.appGroups;
    if (!groups) return;
    const linked = this.linkedAppGroups();
    let changed = false;
    for (const g of groups.values()) {
      if (!g.id || (linked[g.group.id]?.s === g.id && linked[g.group.id]?.n === g.group.name)) continue;
      linked[g.group.id] = { s: g.id, n: g.group.name };
      changed = true;
    }
    if (changed) this.state.set(this.appGroupsKey, JSON.stringify(linked));
  }

  deselectedAppGroups(selectedIds: string[], remove: boolean): { id: string; name: string; removed: boolean; problem: string }[] {
    const linked = this.linkedAppGroups();
    const selected = new Set(selectedIds);
    const gone = Object.entries(linked).filter(([googleId]) => !selected.has(googleId));
    if (!remove || !gone.length) return gone.map(([, l]) => ({ id: l.s, name: l.n, removed: false, problem: '' }));
    const answers = this.executeWrites(gone.map(([, l]) => ({ method: 'DELETE' as const, path: `/Groups/${encodeURIComponent(l.s)}` })));
    const out = gone.map(([googleId, l], i) => {
      const r = answers[i];
      const removed = (r.status >= 200 && r.status < 300) || r.status === 404;
      if (removed) delete linked[googleId];
      return { id: l.s, name: l.n, removed, problem: removed ? '' : msg('scimGroupRemoveFailed', { group: l.n, code: r.status, detail: errorDetail(r) }).text };
    });
    this.state.set(this.appGroupsKey, JSON.stringify(linked));
    return out;
  }

  /** After a full sync: app groups renamed in Google are renamed in the app; mapped attributes the app did not keep are named. */
  afterSync(): string[] {
    const notes: string[] = [];
    if (this.dropped.size) {
      const names = this.mapped.filter((m) => this.dropped.has(m.scim!)).map((m) => `${m.name} (${m.scim})`);
      notes.push(msg('scimAttributeNotKept', { host: this.client.host, attributes: names.join(', '), email: this.droppedFor }).text);
    }
    return [...notes, ...this.renameAppGroups()];
  }

  /** A group renamed in Google gets its new name in the app (the same SCIM Group, found by the Google id). */
  private renameAppGroups(): string[] {
    const groups = this.snap?.appGroups;
    if (!groups) return [];
    const notes: string[] = [];
    const selected = [...groups.keys()];
    const deselected = this.deselectedAppGroups(selected, false);
    if (deselected.length) notes.push(msg('appGroupDeselected', { groups: deselected.map((g) => `"${g.name}"`).join(', ') }).text);
    const renamed = [...groups.values()].filter((g) => g.id && g.displayName !== g.group.name);
    if (!renamed.length) {
      this.rememberAppGroups();
      return notes;
    }
    const requests: ScimRequest[] = renamed.map((g) => {
      const path = `/Groups/${encodeURIComponent(g.id!)}`;
      return this.snap!.caps.patch
        ? { method: 'PATCH', path, body: patchBody([{ op: 'replace', path: 'displayName', value: g.group.name }]) }
        : { method: 'PUT', path, body: { schemas: [GROUP_SCHEMA], displayName: g.group.name, externalId: g.group.id, members: [...g.members].map((value) => ({ value })) } };
    });
    this.executeWrites(requests).forEach((r, i) => {
      const g = renamed[i];
      if (r.status >= 200 && r.status < 300) g.displayName = g.group.name;
      else notes.push(msg('scimGroupRenameFailed', { group: g.displayName, name: g.group.name, code: r.status, detail: errorDetail(r) }).text);
    });
    this.rememberAppGroups();
    return notes;
  }

  // ---------- ledger ----------

  private commit(works: Work[], snap: Snapshot): void {
    const changes = new Map<string, LedgerEntry | null>();
    for (const w of works) {
      if (!w.accepted) continue; // nothing the app accepted: the ledger stays as it was
      const c = w.change;
      const after = c.after;
      const old = this.ledger.get(c.accountId);
      if (!after) {
        if (old) changes.set(c.accountId, null);
        const sid = snap.scimIdOf.get(c.accountId);
        if (sid) snap.ownerOf.delete(sid);
        snap.scimIdOf.delete(c.accountId);
        continue;
      }
      const prev = this.ledger.get(after.id);
      const entry: LedgerEntry = {
        s: after.status === 'deleted' ? '' : w.scimId ?? '',
        e: after.email,
        n: after.name,
        st: after.status,
        ss: after.syncedStatus,
        o: after.outOfScopeSince,
        // An account whose group membership was not accepted is not marked as synced now.
        l: w.groupFailure || w.groupUnsent ? prev?.l ?? old?.l ?? '' : after.lastSynced,
        m: after.source === 'manual' ? 1 : 0,
        p: [...after.permissions],
        ou: after.orgUnitPath,
        r: [...after.roles],
        ...(after.attributes && Object.keys(after.attributes).length ? { a: { ...after.attributes } } : {}),
      };
      if (c.accountId !== after.id) {
        if (old) changes.set(c.accountId, null);
        snap.scimIdOf.delete(c.accountId);
      }
      if (!prev || JSON.stringify(prev) !== JSON.stringify(entry)) changes.set(after.id, entry);
      if (w.scimId && after.status !== 'deleted') {
        snap.scimIdOf.set(after.id, w.scimId);
        snap.ownerOf.set(w.scimId, after.id);
      }
    }
    this.ledger.commit(changes);
    this.noteLedgerWritten();
  }
}

class OpsRetry extends Error {
  constructor(readonly count: number) {
    super(`${count} Bulk operations to retry`);
  }
}

/** When a refused create may be sent again unchanged: a day after the first refusal, doubling, at most 16 days. */
function retryAt(r: RefusedCreate): number {
  return r.at + REFUSED_BACKOFF_MS * 2 ** Math.min(4, Math.max(0, r.n - 1));
}

/**
 * The membership changes accepted user changes need: per group, each user to add or remove, and the
 * work of each user named (deleted accounts leave their groups with the app's own deletion).
 */
function membershipDeltas<G>(works: Work[], groups: G[], membersOf: (g: G) => Set<string>, wanted: (after: Account) => Set<G>): { deltas: Map<G, MemberDelta[]>; workOf: Map<string, Work> } {
  const deltas = new Map<G, MemberDelta[]>();
  const workOf = new Map<string, Work>();
  for (const w of works) {
    const after = w.change.after;
    if (!w.accepted || w.failure || !w.scimId || !after || after.status === 'deleted') continue;
    workOf.set(w.scimId, w);
    const want = wanted(after);
    for (const g of groups) {
      const has = membersOf(g).has(w.scimId);
      if (want.has(g) === has) continue;
      if (!deltas.has(g)) deltas.set(g, []);
      deltas.get(g)!.push({ userId: w.scimId, op: has ? 'remove' : 'add' });
    }
  }
  return { deltas, workOf };
}

/** A membership request the app refused fails its users' changes; one not sent (a wait, the time budget) waits for the next sync. */
function membershipFailed(workOf: Map<string, Work>, userIds: string[], r: ScimResponse, group: string): void {
  for (const id of userIds) {
    const w = workOf.get(id);
    if (!w) continue;
    if (r.notSent) w.groupUnsent = true;
    else if (!w.groupFailure) w.groupFailure = msg('scimGroupFailed', { email: w.change.after?.email ?? w.change.email, group, code: r.status, detail: errorDetail(r) }).text;
  }
}

/** The id of what a 2xx POST created (the body's id, else the Location header), or '' when there is none. */
function createdId(r: ScimResponse): string {
  if (r.status < 200 || r.status >= 300) return '';
  return r.body && r.body.id !== undefined ? String(r.body.id) : idFromLocation(r.location);
}

function idFromLocation(location: string): string {
  const m = /\/([^/?#]+)\/?(?:[?#].*)?$/.exec(location || '');
  return m ? decodeURIComponent(m[1]) : '';
}

/** Matches Bulk response operations to the request's: POSTs by bulkId, others by method and location, else by position. */
export function mapBulkResults(ops: BulkOperation[], results: any[]): (ScimResponse | null)[] {
  const used = new Set<number>();
  const toAnswer = (o: any): ScimResponse => {
    const status = Number(o?.status?.code ?? o?.status ?? 0);
    const response = o?.response ?? null;
    return { status, body: response, text: response ? JSON.stringify(response) : '', location: String(o?.location ?? ''), retryAfterMs: null };
  };
  return ops.map((op, j) => {
    let k = -1;
    if (op.bulkId) k = results.findIndex((o, x) => !used.has(x) && o?.bulkId === op.bulkId);
    if (k < 0 && op.method !== 'POST') {
      k = results.findIndex((o, x) => !used.has(x) && String(o?.method ?? '').toUpperCase() === op.method && typeof o?.location === 'string' && decodeURIComponent(o.location).endsWith(decodeURIComponent(op.path)));
    }
    if (k < 0 && results.length === ops.length && !used.has(j)) k = j;
    if (k < 0) return null;
    used.add(k);
    return toAnswer(results[k]);
  });
}

/**
 * The roster buildServices uses when the SCIM destination is chosen but cannot
 * be built (no base URL, no token for this user): every use says how to fix it.
 */
export class ScimNotReady implements RosterPort {
  readonly kind = 'SCIM app (not set up)';
  constructor(private readonly problem: UserError) {}
  readAll(): { accounts: Account[]; problems: RosterReadProblem[] } {
    throw this.problem;
  }
  checkWritable(): void {
    throw this.problem;
  }
  apply(): ApplyResult {
    throw this.problem;
  }
  probe(): ScimProbeResult {
    throw this.problem;
  }
  testConnection(): ConnectionReport {
    return { ok: false, rows: [{ item: 'Set up', status: 'fail', found: this.problem.detail.text }], fix: this.problem.detail.fix };
  }
}

/** What the SCIM roster opens with, or why it cannot open: no readable settings, no base URL saved, no token pasted. */
export function scimSetup(settings: Settings | null, token: string | null, syncAccount: string): { scim: ScimSettings; settings: Settings } | { problem: UserError } {
  // Unreadable settings (null) name no app, like settings without a base URL: nothing is sent anywhere.
  const scim = settings?.scim;
  if (!settings || !scim?.baseUrl) return { problem: new UserError(msg('scimNotConfigured', { missing: 'no SCIM base URL is saved' })) };
  if (!token) return { problem: new UserError(msg('scimTokenMissing', { user: syncAccount || 'the sync account' })) };
  return { scim, settings };
}

