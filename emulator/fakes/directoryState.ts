// The Workspace directory behind the fake AdminDirectory service: users, OUs,
// groups and memberships, mutable by tests (suspend, rename, move OU, ...).
// It lives outside any execution, so changes show up in the next execution's
// reads exactly like an admin editing the Admin console between runs.

export interface DirUserName {
  givenName: string;
  familyName: string;
  fullName: string;
}

export interface DirUser {
  /** 21-digit numeric string, as Google issues. */
  id: string;
  primaryEmail: string;
  name: DirUserName;
  orgUnitPath: string;
  suspended: boolean;
  archived: boolean;
  isAdmin: boolean;
  /** Former addresses (kept after a rename, as Google does) and extra addresses. */
  aliases: string[];
  creationTime: string;
  /** Profile fields, shaped as the Directory API's user resource has them (only what a person filled in). */
  profile?: DirUserProfile;
}

/**
 * The multi-valued profile fields of a user resource (Admin SDK Directory API, users resource):
 * lists of typed objects, `type: 'custom'` with a `customType` for types Google does not name.
 * Custom schema fields live under customSchemas.<schema>.<field>; users.list and users.get return
 * them only with projection=custom (the schemas named in customFieldMask) or projection=full.
 */
export interface DirUserProfile {
  externalIds?: { value: string; type: string; customType?: string }[];
  organizations?: { name?: string; title?: string; department?: string; costCenter?: string; description?: string; primary?: boolean; type?: string }[];
  phones?: { value: string; type: string; customType?: string; primary?: boolean }[];
  /** relations[].value: for a manager, the manager's email as the Admin console stores it. */
  relations?: { value: string; type: string; customType?: string }[];
  locations?: { type: string; area?: string; buildingId?: string; floorName?: string; deskCode?: string }[];
  customSchemas?: Record<string, Record<string, unknown>>;
}

export interface DirOrgUnit {
  orgUnitId: string;
  orgUnitPath: string;
  name: string;
  parentOrgUnitPath: string;
  description: string;
}

export type MemberType = 'USER' | 'GROUP' | 'CUSTOMER';
export type MemberRole = 'MEMBER' | 'MANAGER' | 'OWNER';

/** A direct membership; `id` is a user id, a group id or the customer id, so renames follow. */
export interface DirMembership {
  type: MemberType;
  id: string;
  role: MemberRole;
}

export interface DirGroup {
  id: string;
  email: string;
  name: string;
  description: string;
  aliases: string[];
  members: DirMembership[];
}

export interface NewUser {
  email: string;
  givenName: string;
  familyName: string;
  orgUnitPath?: string;
  id?: string;
  suspended?: boolean;
  archived?: boolean;
  isAdmin?: boolean;
}

/**
 * One entry of the Admin console audit log (Reports API, applicationName=admin), as Google records
 * a change made in the Admin console or through the Directory API. Google documents the lag of
 * admin log events as "near real time (couple of minutes)" and warns that "in rare cases, events
 * might not be reported" (Data retention and lag times, support.google.com/a/answer/7061566).
 */
export interface AuditRecord {
  /** 'admin' (Admin console and API changes) or 'groups_enterprise' (changes by group managers). */
  application: 'admin' | 'groups_enterprise';
  timeMs: number;
  /** Google's int64 uniqueQualifier, as a string. */
  uniqueQualifier: string;
  /** USER_SETTINGS, GROUP_SETTINGS or ORG_SETTINGS. */
  type: string;
  name: string;
  params: Record<string, string>;
  /** When the event shows up in the Reports API (its time plus the lag). */
  visibleAtMs: number;
  /** Never reported (Google: "in rare cases, events might not be reported"). */
  dropped: boolean;
}

/** How the fake log lags and loses events; tests make it as unkind as Google allows. */
export interface AuditKnobs {
  /** Every event's lag; Google: a couple of minutes. */
  lagMs: number;
  /** Extra lag, uniform in [0, jitterMs). */
  jitterMs: number;
  /** Share of events never reported. */
  dropRate: number;
  /** The next n events are dropped. */
  dropNext: number;
  /** The next event is delayed by this much more (then back to 0). */
  delayNextMs: number;
}

interface Address {
  kind: 'user' | 'group';
  id: string;
}

/** Small fast deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normPath(path: string): string {
  const p = '/' + path.split('/').filter(Boolean).join('/');
  return p;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export class FakeDirectoryState {
  readonly domain: string;
  readonly customerId: string;
  /** Bumped on every mutation; list caches key on it. */
  version = 0;
  private readonly users = new Map<string, DirUser>();
  private readonly deleted: DirUser[] = [];
  private readonly ous = new Map<string, DirOrgUnit>();
  private readonly groups = new Map<string, DirGroup>();
  private readonly addresses = new Map<string, Address>();
  private readonly rng: () => number;
  private readonly tokens = new Map<string, { key: string; offset: number; sinceMs: number }>();
  /** Simulated time of the call being served (set by the AdminDirectory fake before each call). */
  nowMs = 0;
  /** Directory queries per effective user in the last minute (times, oldest first), for the quota. */
  readonly recentQueries = new Map<string, number[]>();
  private tokenSerial = 0;
  private userCache: { version: number; list: DirUser[] } | null = null;
  /** The admin audit log; recorded only once a runtime started it (a generated domain existed long before). */
  readonly auditLog: AuditRecord[] = [];
  readonly audit: AuditKnobs = { lagMs: 2 * 60_000, jitterMs: 60_000, dropRate: 0, dropNext: 0, delayNextMs: 0 };
  private auditClock: (() => number) | null = null;
  private readonly auditRng: () => number;

  constructor(options: { domain: string; customerId?: string; seed?: number }) {
    this.domain = options.domain.toLowerCase();
    this.customerId = options.customerId ?? 'C03az79cb';
    this.rng = seededRandom(options.seed ?? 42);
    this.auditRng = seededRandom((options.seed ?? 42) + 1);
  }

  // ---- audit log --------------------------------------------------------------

  /** From now on every change is logged, at the time `clock` says (the simulated clock). */
  startAuditLog(clock: () => number): void {
    this.auditClock = clock;
  }

  private log(type: string, name: string, params: Record<string, string>, application: AuditRecord['application'] = 'admin'): void {
    if (!this.auditClock) return;
    const timeMs = this.auditClock();
    const rng = this.auditRng;
    let qualifier = String(1 + Math.floor(rng() * 9));
    while (qualifier.length < 19) qualifier += Math.floor(rng() * 10);
    const dropped = this.audit.dropNext > 0 || rng() < this.audit.dropRate;
    if (this.audit.dropNext > 0) this.audit.dropNext--;
    const visibleAtMs = timeMs + this.audit.lagMs + Math.floor(rng() * this.audit.jitterMs) + this.audit.delayNextMs;
    this.audit.delayNextMs = 0;
    this.auditLog.push({ application, timeMs, uniqueQualifier: qualifier, type, name, params, visibleAtMs, dropped });
  }

  /** The events of one log the Reports API shows at `nowMs` with startMs <= time < endMs, newest first (as Google lists them). */
  auditEvents(application: AuditRecord['application'], startMs: number, endMs: number, nowMs: number): AuditRecord[] {
    return this.auditLog.filter((e) => e.application === application && !e.dropped && e.visibleAtMs <= nowMs && e.timeMs >= startMs && e.timeMs < endMs).reverse();
  }

  // ---- ids ------------------------------------------------------------------

  /** A fresh 21-digit numeric user id (Google's shape: too big for a double). */
  newUserId(): string {
    for (;;) {
      let id = '1';
      while (id.length < 21) id += Math.floor(this.rng() * 1e6).toString().padStart(6, '0');
      id = id.slice(0, 21);
      if (!this.users.has(id)) return id;
    }
  }

  private newOpaqueId(prefix: string, length: number): string {
    let s = prefix;
    while (s.length < length) s += Math.floor(this.rng() * 36).toString(36);
    return s;
  }

  private touch(): void {
    this.version++;
  }

  // ---- org units ------------------------------------------------------------

  /** Adds an OU (and any missing parents); returns the existing one if present. */
  addOrgUnit(path: string, description = ''): DirOrgUnit {
    const p = normPath(path);
    if (p === '/') throw new Error('the root OU always exists');
    const existing = this.ous.get(p);
    if (existing) return existing;
    const parent = parentOf(p);
    if (parent !== '/') this.addOrgUnit(parent);
    const ou: DirOrgUnit = {
      orgUnitId: this.newOpaqueId('id:03ph8a2z', 20),
      orgUnitPath: p,
      name: p.slice(p.lastIndexOf('/') + 1),
      parentOrgUnitPath: parent,
      description,
    };
    this.ous.set(p, ou);
    this.touch();
    this.log('ORG_SETTINGS', 'CREATE_ORG_UNIT', { ORG_UNIT_NAME: p });
    return ou;
  }

  getOrgUnit(path: string): DirOrgUnit | null {
    return this.ous.get(normPath(path)) ?? null;
  }

  hasOrgUnit(path: string): boolean {
    return normPath(path) === '/' || this.ous.has(normPath(path));
  }

  allOrgUnits(): DirOrgUnit[] {
    return [...this.ous.values()];
  }

  /** Moves an OU under a new parent; descendants and their users follow (as in the Admin console). */
  moveOu(path: string, newParentPath: string): string {
    const from = normPath(path);
    const parent = normPath(newParentPath);
    if (!this.ous.has(from)) throw new Error(`no OU ${from}`);
    if (parent !== '/' && !this.ous.has(parent)) throw new Error(`no OU ${parent}`);
    if (parent === from || parent.startsWith(from + '/')) throw new Error('cannot move an OU under itself');
    const to = (parent === '/' ? '' : parent) + '/' + this.ous.get(from)!.name;
    this.repath(from, to);
    // One OU event; the users below it move with no event of their own.
    this.log('ORG_SETTINGS', 'MOVE_ORG_UNIT', { ORG_UNIT_NAME: from, NEW_VALUE: parent });
    return to;
  }

  renameOu(path: string, newName: string): string {
    const from = normPath(path);
    if (!this.ous.has(from)) throw new Error(`no OU ${from}`);
    const parent = parentOf(from);
    const to = (parent === '/' ? '' : parent) + '/' + newName;
    this.repath(from, to);
    this.log('ORG_SETTINGS', 'EDIT_ORG_UNIT_NAME', { ORG_UNIT_NAME: from, NEW_VALUE: newName });
    return to;
  }

  private repath(from: string, to: string): void {
    if (this.ous.has(to)) throw new Error(`OU ${to} already exists`);
    const rewrite = (p: string) => (p === from ? to : p.startsWith(from + '/') ? to + p.slice(from.length) : p);
    const entries = [...this.ous.values()];
    this.ous.clear();
    for (const ou of entries) {
      ou.orgUnitPath = rewrite(ou.orgUnitPath);
      ou.parentOrgUnitPath = ou.orgUnitPath === to ? parentOf(to) : rewrite(ou.parentOrgUnitPath);
      ou.name = ou.orgUnitPath.slice(ou.orgUnitPath.lastIndexOf('/') + 1);
      this.ous.set(ou.orgUnitPath, ou);
    }
    for (const u of this.users.values()) u.orgUnitPath = rewrite(u.orgUnitPath);
    this.touch();
  }

  /**
   * Deletes an OU. Google refuses while it has child OUs or users, so the users
   * are first moved to `moveUsersTo` (default: the parent OU).
   */
  deleteOu(path: string, moveUsersTo?: string): void {
    const p = normPath(path);
    if (!this.ous.has(p)) throw new Error(`no OU ${p}`);
    if ([...this.ous.keys()].some((k) => k.startsWith(p + '/'))) throw new Error(`OU ${p} has child OUs`);
    const target = normPath(moveUsersTo ?? parentOf(p));
    for (const u of this.users.values()) {
      if (u.orgUnitPath !== p) continue;
      u.orgUnitPath = target;
      this.log('USER_SETTINGS', 'MOVE_USER_TO_ORG_UNIT', { USER_EMAIL: u.primaryEmail, ORG_UNIT_NAME: p, NEW_VALUE: target });
    }
    this.ous.delete(p);
    this.touch();
    this.log('ORG_SETTINGS', 'REMOVE_ORG_UNIT', { ORG_UNIT_NAME: p });
  }

  // ---- users ----------------------------------------------------------------

  addUser(input: NewUser): DirUser {
    const email = input.email.toLowerCase();
    if (this.addresses.has(email)) throw new Error(`address ${email} is already in use`);
    const orgUnitPath = normPath(input.orgUnitPath ?? '/');
    if (orgUnitPath !== '/') this.addOrgUnit(orgUnitPath);
    const id = input.id ?? this.newUserId();
    if (this.users.has(id)) throw new Error(`user id ${id} is already in use`);
    const user: DirUser = {
      id,
      primaryEmail: email,
      name: { givenName: input.givenName, familyName: input.familyName, fullName: `${input.givenName} ${input.familyName}` },
      orgUnitPath,
      suspended: input.suspended ?? false,
      archived: input.archived ?? false,
      isAdmin: input.isAdmin ?? false,
      aliases: [],
      creationTime: '2020-08-17T14:02:11.000Z',
    };
    this.users.set(id, user);
    this.addresses.set(email, { kind: 'user', id });
    this.touch();
    this.log('USER_SETTINGS', 'CREATE_USER', { USER_EMAIL: email });
    return user;
  }

  /** By primary email, alias or id (like Google's userKey); null if none. */
  findUser(key: string): DirUser | null {
    const byId = this.users.get(key);
    if (byId) return byId;
    const a = this.addresses.get(key.toLowerCase());
    return a?.kind === 'user' ? this.users.get(a.id) ?? null : null;
  }

  private mustUser(key: string): DirUser {
    const u = this.findUser(key);
    if (!u) throw new Error(`no user ${key}`);
    return u;
  }

  /** Users in listing order (insertion order), cached until the next mutation. */
  allUsers(): DirUser[] {
    if (!this.userCache || this.userCache.version !== this.version) {
      this.userCache = { version: this.version, list: [...this.users.values()] };
    }
    return this.userCache.list;
  }

  deletedUsers(): DirUser[] {
    return this.deleted;
  }

  userCount(): number {
    return this.users.size;
  }

  suspend(email: string, suspended = true): DirUser {
    const u = this.mustUser(email);
    u.suspended = suspended;
    this.touch();
    this.log('USER_SETTINGS', suspended ? 'SUSPEND_USER' : 'UNSUSPEND_USER', { USER_EMAIL: u.primaryEmail });
    return u;
  }

  archive(email: string, archived = true): DirUser {
    const u = this.mustUser(email);
    u.archived = archived;
    this.touch();
    this.log('USER_SETTINGS', archived ? 'ARCHIVE_USER' : 'UNARCHIVE_USER', { USER_EMAIL: u.primaryEmail });
    return u;
  }

  setAdmin(email: string, isAdmin = true): DirUser {
    const u = this.mustUser(email);
    u.isAdmin = isAdmin;
    this.touch();
    this.log('USER_SETTINGS', isAdmin ? 'GRANT_ADMIN_PRIVILEGE' : 'REVOKE_ADMIN_PRIVILEGE', { USER_EMAIL: u.primaryEmail });
    return u;
  }

  moveUser(email: string, orgUnitPath: string): DirUser {
    const u = this.mustUser(email);
    const p = normPath(orgUnitPath);
    if (!this.hasOrgUnit(p)) throw new Error(`no OU ${p}`);
    const from = u.orgUnitPath;
    u.orgUnitPath = p;
    this.touch();
    this.log('USER_SETTINGS', 'MOVE_USER_TO_ORG_UNIT', { USER_EMAIL: u.primaryEmail, ORG_UNIT_NAME: from, NEW_VALUE: p });
    return u;
  }

  /** Sets profile fields (the Admin console's "User information"); a field given as undefined is cleared. */
  setProfile(email: string, patch: DirUserProfile): DirUser {
    const u = this.mustUser(email);
    const next: DirUserProfile = { ...(u.profile ?? {}) };
    for (const [k, v] of Object.entries(patch) as [keyof DirUserProfile, unknown][]) {
      if (v === undefined) delete next[k];
      else (next as Record<string, unknown>)[k] = JSON.parse(JSON.stringify(v));
    }
    u.profile = next;
    this.touch();
    return u;
  }

  renameUser(email: string, givenName: string, familyName: string): DirUser {
    const u = this.mustUser(email);
    const before = u.name;
    u.name = { givenName, familyName, fullName: `${givenName} ${familyName}` };
    this.touch();
    if (before.givenName !== givenName) this.log('USER_SETTINGS', 'CHANGE_FIRST_NAME', { USER_EMAIL: u.primaryEmail, OLD_VALUE: before.givenName, NEW_VALUE: givenName });
    if (before.familyName !== familyName) this.log('USER_SETTINGS', 'CHANGE_LAST_NAME', { USER_EMAIL: u.primaryEmail, OLD_VALUE: before.familyName, NEW_VALUE: familyName });
    return u;
  }

  /** Changes a primary address; the old one stays as an alias unless keepAlias is false. */
  renameEmail(oldEmail: string, newEmail: string, keepAlias = true): DirUser {
    const u = this.mustUser(oldEmail);
    const next = newEmail.toLowerCase();
    if (this.addresses.has(next) && this.findUser(next) !== u) throw new Error(`address ${next} is already in use`);
    const prev = u.primaryEmail;
    u.primaryEmail = next;
    u.aliases = u.aliases.filter((a) => a !== next);
    if (keepAlias) u.aliases.push(prev);
    else this.addresses.delete(prev);
    this.addresses.set(next, { kind: 'user', id: u.id });
    this.touch();
    this.log('USER_SETTINGS', 'RENAME_USER', { USER_EMAIL: prev, NEW_VALUE: next });
    return u;
  }

  /** Deletes a user: memberships go, and users.list shows it only with showDeleted. */
  deleteUser(email: string): DirUser {
    const u = this.mustUser(email);
    this.users.delete(u.id);
    this.addresses.delete(u.primaryEmail);
    for (const a of u.aliases) this.addresses.delete(a);
    for (const g of this.groups.values()) g.members = g.members.filter((m) => !(m.type === 'USER' && m.id === u.id));
    this.deleted.push(u);
    this.touch();
    this.log('USER_SETTINGS', 'DELETE_USER', { USER_EMAIL: u.primaryEmail });
    return u;
  }

  // ---- groups ---------------------------------------------------------------

  addGroup(input: { email: string; name: string; description?: string }): DirGroup {
    const email = input.email.toLowerCase();
    if (this.addresses.has(email)) throw new Error(`address ${email} is already in use`);
    const group: DirGroup = {
      id: this.newOpaqueId('0', 15),
      email,
      name: input.name,
      description: input.description ?? '',
      aliases: [],
      members: [],
    };
    this.groups.set(group.id, group);
    this.addresses.set(email, { kind: 'group', id: group.id });
    this.touch();
    this.log('GROUP_SETTINGS', 'CREATE_GROUP', { GROUP_EMAIL: email });
    return group;
  }

  findGroup(key: string): DirGroup | null {
    const byId = this.groups.get(key);
    if (byId) return byId;
    const a = this.addresses.get(key.toLowerCase());
    return a?.kind === 'group' ? this.groups.get(a.id) ?? null : null;
  }

  private mustGroup(key: string): DirGroup {
    const g = this.findGroup(key);
    if (!g) throw new Error(`no group ${key}`);
    return g;
  }

  allGroups(): DirGroup[] {
    return [...this.groups.values()];
  }

  /**
   * memberKey: a user or group address/id, or 'CUSTOMER' for "everyone in the domain". `by`: an admin
   * (Admin console or API: the admin log's ADD_GROUP_MEMBER) or a group manager (Google Groups: the
   * groups_enterprise log's add_member).
   */
  addMember(groupKey: string, memberKey: string, role: MemberRole = 'MEMBER', by: 'admin' | 'manager' = 'admin'): DirMembership {
    const g = this.mustGroup(groupKey);
    const m = this.resolveMember(memberKey);
    if (g.members.some((x) => x.type === m.type && x.id === m.id)) throw new Error(`${memberKey} is already a member of ${g.email}`);
    const membership: DirMembership = { ...m, role };
    g.members.push(membership);
    this.touch();
    this.logMembership('add', g, m, role, by);
    return membership;
  }

  removeMember(groupKey: string, memberKey: string, by: 'admin' | 'manager' = 'admin'): void {
    const g = this.mustGroup(groupKey);
    const m = this.resolveMember(memberKey);
    g.members = g.members.filter((x) => !(x.type === m.type && x.id === m.id));
    this.touch();
    this.logMembership('remove', g, m, 'MEMBER', by);
  }

  private logMembership(change: 'add' | 'remove', g: DirGroup, m: { type: MemberType; id: string }, role: MemberRole, by: 'admin' | 'manager'): void {
    if (by === 'admin') {
      this.log('GROUP_SETTINGS', change === 'add' ? 'ADD_GROUP_MEMBER' : 'REMOVE_GROUP_MEMBER', { USER_EMAIL: this.memberEmail(m), GROUP_EMAIL: g.email });
      return;
    }
    // Enterprise Groups Audit Activity Events: add_member / remove_member (type moderator_action).
    const params = { group_id: g.email, member_id: this.memberEmail(m), member_role: role.toLowerCase(), member_type: m.type === 'GROUP' ? 'group' : 'user', namespace: '' };
    this.log('moderator_action', change === 'add' ? 'add_member' : 'remove_member', params, 'groups_enterprise');
  }

  /** The address the log names a member by (a nested group's too; '' for the whole customer). */
  private memberEmail(m: { type: MemberType; id: string }): string {
    if (m.type === 'USER') return this.users.get(m.id)?.primaryEmail ?? '';
    if (m.type === 'GROUP') return this.groups.get(m.id)?.email ?? '';
    return '';
  }

  private resolveMember(key: string): { type: MemberType; id: string } {
    if (key === 'CUSTOMER' || key === this.customerId) return { type: 'CUSTOMER', id: this.customerId };
    const u = this.findUser(key);
    if (u) return { type: 'USER', id: u.id };
    const g = this.findGroup(key);
    if (g) return { type: 'GROUP', id: g.id };
    throw new Error(`no user or group ${key}`);
  }

  /** Changes a group's address (the old one stays as an alias, as Google does) and optionally its name. */
  renameGroup(email: string, newEmail: string, newName?: string, keepAlias = true): DirGroup {
    const g = this.mustGroup(email);
    const next = newEmail.toLowerCase();
    if (this.addresses.has(next) && this.findGroup(next) !== g) throw new Error(`address ${next} is already in use`);
    const prev = g.email;
    g.email = next;
    if (newName !== undefined) g.name = newName;
    if (keepAlias && prev !== next) g.aliases.push(prev);
    else if (prev !== next) this.addresses.delete(prev);
    this.addresses.set(next, { kind: 'group', id: g.id });
    this.touch();
    if (prev !== next) this.log('GROUP_SETTINGS', 'CHANGE_GROUP_EMAIL', { GROUP_EMAIL: prev, NEW_VALUE: next });
    return g;
  }

  deleteGroup(email: string): void {
    const g = this.mustGroup(email);
    this.groups.delete(g.id);
    this.addresses.delete(g.email);
    for (const a of g.aliases) this.addresses.delete(a);
    for (const other of this.groups.values()) other.members = other.members.filter((m) => !(m.type === 'GROUP' && m.id === g.id));
    this.touch();
    this.log('GROUP_SETTINGS', 'DELETE_GROUP', { GROUP_EMAIL: g.email });
  }

  userById(id: string): DirUser | null {
    return this.users.get(id) ?? null;
  }

  groupById(id: string): DirGroup | null {
    return this.groups.get(id) ?? null;
  }

  /** Whether the user is in the group directly or through nested groups (cycle-safe). */
  isMemberDeep(group: DirGroup, userId: string, seen = new Set<string>()): boolean {
    if (seen.has(group.id)) return false;
    seen.add(group.id);
    for (const m of group.members) {
      if (m.type === 'USER' && m.id === userId) return true;
      if (m.type === 'CUSTOMER' && this.users.has(userId)) return true;
      if (m.type === 'GROUP') {
        const inner = this.groups.get(m.id);
        if (inner && this.isMemberDeep(inner, userId, seen)) return true;
      }
    }
    return false;
  }

  // ---- page tokens ------------------------------------------------------------

  /**
   * An opaque token remembering where a listing stopped; bound to that listing's parameters.
   * `sinceMs`: when the listing this token continues began (its first page).
   */
  issuePageToken(key: string, offset: number, sinceMs = this.nowMs): string {
    const serial = ++this.tokenSerial;
    let token = '';
    let x = (serial * 2654435761 + offset * 40503) >>> 0;
    while (token.length < 40) {
      x = (Math.imul(x ^ (x >>> 13), 0x5bd1e995) + serial) >>> 0;
      token += x.toString(36);
    }
    token = 'Q' + token.slice(0, 39);
    this.tokens.set(token, { key, offset, sinceMs });
    return token;
  }

  /** The offset a token stands for, or null when it is unknown, stale or from another listing. */
  resolvePageToken(token: string, key: string): { offset: number; sinceMs: number } | null {
    const t = this.tokens.get(token);
    return t && t.key === key ? { offset: t.offset, sinceMs: t.sinceMs } : null;
  }

  /** Invalidates every outstanding page token (Google's tokens do expire). */
  expirePageTokens(): void {
    this.tokens.clear();
  }
}
