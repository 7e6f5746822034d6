// Small in-memory fakes of the core's ports, for unit tests of the pure core.
import { Account, AppGroup, Change, DirectoryGroup, DirectoryUser, GroupMembers, HistoryEntry, OrgUnit } from '../../src/core/model';
import { ApplyResult, AuditApplication, AuditEvent, AuditLogPort, DirectoryPort, HistoryPort, KeyValueStore, LocalTime, LockHolder, LockPort, LockPurpose, MemberRef, Page, RosterPort, Services, TriggerInfo, TriggerPort } from '../../src/core/ports';
import { MemoryBlobStore } from '../../src/core/snapshot';
import { Settings, defaultSettings } from '../../src/core/settings';
import { storeSettings } from '../../src/core/config';
import { DirectoryError, classifyGoogleError } from '../../src/core/googleErrors';
import { UserError, msg } from '../../src/core/messages';
import { DESTINATIONS } from '../../src/destinations';

export class MemoryDirectory implements DirectoryPort {
  users: DirectoryUser[] = [];
  orgUnits: OrgUnit[] = [];
  groups = new Map<string, GroupMembers>();
  calls = 0;
  /** Throws the returned error instead of answering call number n (1-based). */
  failOn: ((call: number, method: string) => Error | undefined) | null = null;

  constructor(readonly pageSize = 500, readonly memberPageSize = 200) {}

  private tick(method: string): void {
    this.calls++;
    const error = this.failOn?.(this.calls, method);
    // The port's contract: Google errors arrive classified, as the Apps Script adapter throws them.
    if (error) throw new DirectoryError(classifyGoogleError(error));
  }

  private page<T>(items: T[], token: string | null, size: number): Page<T> {
    const start = token ? Number(token) : 0;
    const end = start + size;
    return { items: items.slice(start, end), nextPageToken: end < items.length ? String(end) : null };
  }

  listUsersPage(pageToken: string | null): Page<DirectoryUser> {
    this.tick('users');
    return this.page(this.users.map((u) => ({ ...u })), pageToken, this.pageSize);
  }
  listOrgUnits(): OrgUnit[] {
    this.tick('orgunits');
    return this.orgUnits.map((o) => ({ ...o }));
  }
  listMembersPage(groupEmail: string, pageToken: string | null): Page<MemberRef> | null {
    this.tick('members');
    const g = this.groups.get(groupEmail.toLowerCase());
    if (!g) return null;
    // includeDerivedMembership: the direct members, then the users of nested groups, each once.
    const userIds = new Set(g.userIds);
    const seen = new Set([g.email]);
    const stack = [...g.groupEmails];
    while (stack.length) {
      const inner = this.groups.get(stack.pop()!.toLowerCase());
      if (!inner || seen.has(inner.email)) continue;
      seen.add(inner.email);
      inner.userIds.forEach((id) => userIds.add(id));
      stack.push(...inner.groupEmails);
    }
    const members: MemberRef[] = [
      ...[...userIds].map((id) => ({ type: 'USER' as const, id, email: this.users.find((u) => u.id === id)?.email ?? '' })),
      ...g.groupEmails.map((email) => ({ type: 'GROUP' as const, id: `g-${email}`, email })),
    ];
    return this.page(members, pageToken, this.memberPageSize);
  }
  getGroup(email: string): AppGroup | null {
    this.tick('groups.get');
    const key = email.toLowerCase();
    return this.groups.has(key) ? { id: `g-${key}`, email: key, name: key, key } : null;
  }
  listGroupsPage(query: string): Page<DirectoryGroup> {
    this.tick('groups');
    const items = [...this.groups.values()].filter((g) => g.email.startsWith(query)).map((g) => ({ email: g.email, name: g.email, directMembersCount: g.userIds.length + g.groupEmails.length }));
    return { items, nextPageToken: null };
  }
  getUser(userKey: string): DirectoryUser | null {
    this.tick('users.get');
    return this.users.find((u) => u.email === userKey.toLowerCase() || u.id === userKey) ?? null;
  }
  ouHasUsers(path: string): boolean {
    this.tick('users.ou');
    return this.users.some((u) => u.orgUnitPath === path || u.orgUnitPath.startsWith(path + '/'));
  }
  hasMember(groupEmail: string, userEmail: string): boolean | null {
    this.tick('hasMember');
    if (!this.groups.has(groupEmail)) return null;
    const user = this.users.find((u) => u.email === userEmail);
    const seen = new Set<string>();
    const visit = (email: string): boolean => {
      if (seen.has(email)) return false;
      seen.add(email);
      const g = this.groups.get(email);
      return !!g && (g.userIds.includes(user?.id ?? '') || g.groupEmails.some(visit));
    };
    return visit(groupEmail);
  }

  addOu(path: string): void {
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    this.orgUnits.push({ orgUnitPath: path, name: path.slice(path.lastIndexOf('/') + 1), parentOrgUnitPath: parent });
  }
  addUser(id: string, email: string, name: string, orgUnitPath: string, extra: Partial<DirectoryUser> = {}): DirectoryUser {
    const u = { id, email, name, orgUnitPath, suspended: false, archived: false, ...extra };
    this.users.push(u);
    return u;
  }
  user(email: string): DirectoryUser {
    const u = this.users.find((x) => x.email === email);
    if (!u) throw new Error(`no user ${email}`);
    return u;
  }
}

export class MemoryRoster implements RosterPort {
  readonly kind = 'Roster';
  accounts = new Map<string, Account>();
  applyCalls = 0;
  applied: Change[] = [];

  protectedSheet = false;
  checkWritable(): void {
    if (this.protectedSheet) throw new UserError(msg('rosterProtected', { sheet: 'Roster', detail: 'it is protected' }));
  }
  readAll() {
    return { accounts: [...this.accounts.values()].map((a) => ({ ...a, roles: [...a.roles], permissions: [...a.permissions] })), problems: [] };
  }
  apply(changes: Change[]): ApplyResult {
    this.applyCalls++;
    for (const c of changes) {
      this.applied.push(c);
      this.accounts.delete(c.accountId);
      if (c.after) this.accounts.set(c.after.id, { ...c.after });
    }
    return { applied: changes.map((c) => c.accountId), failed: [] };
  }
  byEmail(email: string): Account | undefined {
    return [...this.accounts.values()].find((a) => a.email === email);
  }
}

export class MemoryHistory implements HistoryPort {
  entries: HistoryEntry[] = [];
  append(entry: HistoryEntry): void {
    this.entries.push(entry);
  }
  list(limit: number): HistoryEntry[] {
    return [...this.entries].reverse().slice(0, limit);
  }
}

export class MemoryKV implements KeyValueStore {
  data = new Map<string, string>();
  get(key: string) {
    return this.data.get(key) ?? null;
  }
  set(key: string, value: string) {
    this.data.set(key, value);
  }
  remove(key: string) {
    this.data.delete(key);
  }
}

export class MemoryLock implements LockPort {
  /** Another execution holds the lock: a sync part that took it at `elsewhereSinceMs`, unless told otherwise. */
  heldElsewhere = false;
  elsewhereSinceMs = 0;
  elsewherePurpose: LockPurpose = 'sync';
  held = false;
  tryLock(): boolean {
    if (this.heldElsewhere || this.held) return false;
    this.held = true;
    return true;
  }
  holder(): LockHolder | null {
    // As the lease does: an execution's lock lasts at most until Google has surely ended it.
    return this.heldElsewhere ? { purpose: this.elsewherePurpose, sinceMs: this.elsewhereSinceMs, expiresAtMs: this.elsewhereSinceMs + 375_000 } : null;
  }
  release(): void {
    this.held = false;
  }
}

export class MemoryTriggers implements TriggerPort {
  triggers: TriggerInfo[] = [];
  list() {
    return [...this.triggers];
  }
  installHourly(handler: string) {
    this.triggers.push({ id: `t${this.triggers.length + 1}`, handler, kind: 'CLOCK' });
  }
  remove(id: string) {
    this.triggers = this.triggers.filter((t) => t.id !== id);
  }
}

/** Local time with Intl, as Utilities.formatDate gives it in Apps Script. */
export function intlLocal(ms: number, timeZone: string): LocalTime {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), minute: Number(parts.minute) };
}

/** The admin activity log: events tests append, listed newest first within the window asked for. */
export class MemoryAuditLog implements AuditLogPort {
  events: (AuditEvent & { application?: AuditApplication })[] = [];
  calls = 0;
  listEventsPage(application: AuditApplication, startMs: number, endMs: number, pageToken: string | null): Page<AuditEvent> {
    this.calls++;
    const items = this.events.filter((e) => (e.application ?? 'admin') === application && e.timeMs >= startMs && e.timeMs < endMs).sort((a, b) => b.timeMs - a.timeMs);
    const start = pageToken ? Number(pageToken) : 0;
    return { items: items.slice(start, start + 1000), nextPageToken: start + 1000 < items.length ? String(start + 1000) : null };
  }
}

export interface TestWorld {
  svc: Services;
  audit: MemoryAuditLog;
  directory: MemoryDirectory;
  roster: MemoryRoster;
  history: MemoryHistory;
  config: MemoryKV;
  lock: MemoryLock;
  triggers: MemoryTriggers;
  mail: { to: string[]; subject: string; body: string }[];
  clock: { now: number };
  /** Milliseconds each execution may run; each step below costs `stepMs`. */
  budget: { ms: number; stepMs: number; used: number };
  setSettings(patch: Partial<Settings>): Settings;
}

export function makeWorld(start = Date.parse('2026-09-01T12:00:00Z')): TestWorld {
  const directory = new MemoryDirectory();
  const audit = new MemoryAuditLog();
  const roster = new MemoryRoster();
  const history = new MemoryHistory();
  const config = new MemoryKV();
  const lock = new MemoryLock();
  lock.elsewhereSinceMs = start;
  const triggers = new MemoryTriggers();
  const mail: TestWorld['mail'] = [];
  const clock = { now: start };
  const budget = { ms: Infinity, stepMs: 0, used: 0 };
  const svc: Services = {
    directory,
    audit,
    destinations: DESTINATIONS,
    roster,
    history,
    config,
    secrets: new MemoryKV(),
    state: new MemoryBlobStore(),
    reports: new MemoryBlobStore(),
    incremental: new MemoryBlobStore(),
    lock,
    triggers,
    clock: { nowMs: () => clock.now, sleep: (ms) => (clock.now += ms), local: intlLocal },
    session: { activeUserEmail: () => 'admin@school.example', effectiveUserEmail: () => 'admin@school.example', authorization: () => ({ required: false, url: '' }) },
    notifier: { send: (to, subject, body) => void mail.push({ to, subject, body }) },
    remainingMs: () => {
      budget.used += budget.stepMs;
      return budget.ms - budget.used;
    },
    rosterUrl: () => 'https://docs.google.com/spreadsheets/d/test',
  };
  config.set('installer', 'admin@school.example');
  config.set('syncAccount', 'admin@school.example');
  const world: TestWorld = {
    svc,
    audit,
    directory,
    roster,
    history,
    config,
    lock,
    triggers,
    mail,
    clock,
    budget,
    setSettings(patch) {
      const s = { ...defaultSettings(), ...patch };
      storeSettings(svc, s);
      return s;
    },
  };
  return world;
}
