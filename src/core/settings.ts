// Settings: the one JSON document an admin edits. Validated on every save and
// every read, so a hand-edited or corrupt property is reported, never trusted.
import { DEFAULT_ROLES, Role } from './model';
import { Checks, checks } from './validate';
import { DestinationSettings } from './destination';
import { DestinationCatalog } from './ports';
import { SETTINGS_SCHEMA_VERSION } from './migrations';
import { AttributeMapping, validateAttributes } from './attributes';

export { SETTINGS_SCHEMA_VERSION };

export interface OuRule {
  id: string;
  type: 'ou';
  orgUnitPath: string;
  includeSubOrgUnits: boolean;
  role: Role;
}

export interface GroupRule {
  id: string;
  type: 'group';
  groupEmail: string;
  role: Role;
}

export type Rule = OuRule | GroupRule;

export interface Schedule {
  mode: 'daily' | 'hourly' | 'off';
  /** Local hour 0–23 for daily syncs. */
  hour: number;
  timeZone: string;
  /** Date ranges (YYYY-MM-DD, inclusive, in the schedule's time zone) with no scheduled syncs. */
  blackouts: { start: string; end: string }[];
}

export interface Threshold {
  kind: 'percent' | 'count';
  value: number;
  /** Deactivations and deletions of the last this many hours count together against the threshold (0: this sync's only). */
  windowHours: number;
}

/** The destination chosen by default: a sheet of the spreadsheet the add-on runs in. */
export const EMBEDDED_DESTINATION = 'sheet';

export interface Settings extends Partial<DestinationSettings> {
  schemaVersion: number;
  /**
   * Counts saves: a save carries the revision it was read at, and one read before another save (another
   * admin's, or an exclude from the Accounts tab) is refused instead of silently undoing that save.
   */
  revision: number;
  rules: Rule[];
  /** Roles known to the destination; admin also grants teacher. */
  roles: Role[];
  /** role → roles it also grants. */
  impliedRoles: Record<Role, Role[]>;
  schedule: Schedule;
  graceDays: number;
  threshold: Threshold;
  /** Emails never given a synced account. */
  exclude: string[];
  /** 'suspend': mark the account suspended; 'deprovision': treat like leaving scope. */
  suspendedUsers: 'suspend' | 'deprovision';
  /** The same choice for archived users (settings version 2; version 1 applied suspendedUsers to them). */
  archivedUsers: 'suspend' | 'deprovision';
  permissionNames: string[];
  /** Emails (besides the installer) allowed to configure Roster Sync. */
  admins: string[];
  cooldownMinutes: number;
  notifyOnFailure: boolean;
  /** Roles that let their holders do more (admin): granting one to many accounts at once halts the sync. */
  privilegedRoles: Role[];
  /** How many accounts one sync may give a privileged role before it halts for a confirmation. */
  privilegedGrantLimit: number;
  /** Email the admins a report after each scheduled sync that changed something (off by default). */
  reportEmail: boolean;
  /**
   * Between the daily full syncs, each hourly heartbeat runs an incremental sync from the admin
   * activity log (Reports API): a change in Google reaches the roster within the hour.
   */
  incremental: boolean;
  /**
   * Where the roster lives: the id of a destination (a sheet of this spreadsheet, an app through
   * SCIM 2.0, …). A destination with settings of its own keeps them under its id; its secrets are
   * kept apart, in the sync account's user properties.
   */
  destination: string;
  /** The attribute mapping table: what each account carries beyond name and email (empty: nothing more). */
  attributes: AttributeMapping[];
  /** Google Groups (by email) pushed to the app as groups of their own; their nested members count. */
  appGroups: string[];
}

export function defaultSettings(): Settings {
  return {
    schemaVersion: SETTINGS_SCHEMA_VERSION,
    revision: 0,
    rules: [],
    roles: [...DEFAULT_ROLES],
    impliedRoles: { admin: ['teacher'] },
    schedule: { mode: 'daily', hour: 23, timeZone: 'America/New_York', blackouts: [] },
    graceDays: 30,
    threshold: { kind: 'percent', value: 10, windowHours: 24 },
    exclude: [],
    suspendedUsers: 'suspend',
    archivedUsers: 'suspend',
    permissionNames: ['hall-pass', 'reports'],
    admins: [],
    cooldownMinutes: 15,
    notifyOnFailure: true,
    privilegedRoles: ['admin'],
    privilegedGrantLimit: 10,
    incremental: true,
    reportEmail: false,
    destination: EMBEDDED_DESTINATION,
    attributes: [],
    appGroups: [],
  };
}

const OU_PATH = /^\/(?:[^/\u0000-\u001f]{1,255}(?:\/[^/\u0000-\u001f]{1,255})*)?$/;
const ROLE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_LIST = 5000;

export { isEmail } from './validate';

export function isOrgUnitPath(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 2048 && OU_PATH.test(value);
}

export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+){0,2}$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const check: Checks = checks('invalidSetting');
// Annotated so a call that cannot return narrows types (TypeScript needs the explicit type).
const fail: Checks['fail'] = check.fail;
const { object: obj, int, oneOf, email } = check;
const list = (value: unknown, field: string, max = MAX_LIST) => check.list(value, field, max);

function role(value: unknown, field: string, roles: Role[]): Role {
  if (typeof value !== 'string' || !roles.includes(value)) fail(field, `must be one of the roles ${roles.join(', ')}`);
  return value;
}

function ruleId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(value)) fail(field, 'must be a short id (letters, digits, - or _)');
  return value;
}

function validateRule(raw: unknown, i: number, roles: Role[]): Rule {
  const field = `rules[${i}]`;
  const r = obj(raw, field);
  const type = oneOf(r.type, `${field}.type`, ['ou', 'group'] as const);
  const id = ruleId(r.id, `${field}.id`);
  if (type === 'ou') {
    if (!isOrgUnitPath(r.orgUnitPath)) fail(`${field}.orgUnitPath`, 'must be an organizational unit path such as /Students/Grade 9');
    const includeSubOrgUnits = r.includeSubOrgUnits === undefined ? true : r.includeSubOrgUnits;
    if (typeof includeSubOrgUnits !== 'boolean') fail(`${field}.includeSubOrgUnits`, 'must be true or false');
    return { id, type, orgUnitPath: r.orgUnitPath, includeSubOrgUnits, role: role(r.role, `${field}.role`, roles) };
  }
  return { id, type, groupEmail: email(r.groupEmail, `${field}.groupEmail`), role: role(r.role, `${field}.role`, roles) };
}

function validateSchedule(raw: unknown): Schedule {
  const s = obj(raw, 'schedule');
  const mode = oneOf(s.mode, 'schedule.mode', ['daily', 'hourly', 'off'] as const);
  const hour = int(s.hour, 'schedule.hour', 0, 23);
  if (!isTimeZone(s.timeZone)) fail('schedule.timeZone', 'must be a time zone name such as America/New_York');
  const blackouts = list(s.blackouts ?? [], 'schedule.blackouts', 50).map((b, i) => {
    const o = obj(b, `schedule.blackouts[${i}]`);
    for (const k of ['start', 'end'] as const) {
      if (typeof o[k] !== 'string' || !DATE.test(o[k] as string)) fail(`schedule.blackouts[${i}].${k}`, 'must be a date YYYY-MM-DD');
    }
    if ((o.start as string) > (o.end as string)) fail(`schedule.blackouts[${i}]`, 'ends before it starts');
    return { start: o.start as string, end: o.end as string };
  });
  return { mode, hour, timeZone: s.timeZone as string, blackouts };
}

/**
 * Validates a whole settings document of the current schema version (older ones go through
 * migrateSettings first); throws a UserError naming the first bad field.
 */
export function validateSettings(raw: unknown, destinations: DestinationCatalog): Settings {
  const s = obj(raw, 'settings');
  const d = defaultSettings();
  const version = s.schemaVersion ?? SETTINGS_SCHEMA_VERSION;
  if (version !== SETTINGS_SCHEMA_VERSION) fail('schemaVersion', `is ${String(version)}; this version of Roster Sync reads ${SETTINGS_SCHEMA_VERSION}`);
  const roles = list(s.roles ?? d.roles, 'roles', 20).map((r, i) => {
    if (typeof r !== 'string' || !ROLE_NAME.test(r)) fail(`roles[${i}]`, 'must be a lowercase name such as teacher');
    // Roles key plain objects (impliedRoles); a name like "constructor" would collide with Object.prototype.
    if (r in Object.prototype) fail(`roles[${i}]`, `cannot be "${r}"`);
    return r;
  });
  if (new Set(roles).size !== roles.length) fail('roles', 'lists a role twice');
  const impliedRaw = obj(s.impliedRoles ?? d.impliedRoles, 'impliedRoles');
  const impliedRoles: Record<Role, Role[]> = {};
  for (const [k, v] of Object.entries(impliedRaw)) {
    role(k, `impliedRoles.${k}`, roles);
    impliedRoles[k] = list(v, `impliedRoles.${k}`, 20).map((r, i) => role(r, `impliedRoles.${k}[${i}]`, roles));
  }
  const rules = list(s.rules ?? [], 'rules', 500).map((r, i) => validateRule(r, i, roles));
  const ids = new Set<string>();
  rules.forEach((r, i) => {
    if (ids.has(r.id)) fail(`rules[${i}].id`, 'is used by another rule');
    ids.add(r.id);
  });
  const threshold = obj(s.threshold ?? d.threshold, 'threshold');
  const thresholdKind = oneOf(threshold.kind, 'threshold.kind', ['percent', 'count'] as const);
  const thresholdValue = int(threshold.value, 'threshold.value', 0, thresholdKind === 'percent' ? 100 : 1_000_000);
  const windowHours = int(threshold.windowHours ?? d.threshold.windowHours, 'threshold.windowHours', 0, 168);
  const privilegedRoles = [...new Set(list(s.privilegedRoles ?? d.privilegedRoles.filter((r) => roles.includes(r)), 'privilegedRoles', 20).map((r, i) => role(r, `privilegedRoles[${i}]`, roles)))];
  const permissionNames = list(s.permissionNames ?? d.permissionNames, 'permissionNames', 50).map((p, i) => {
    if (typeof p !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$/.test(p)) fail(`permissionNames[${i}]`, 'must be a short name (letters, digits, space, - _ .)');
    return p;
  });
  const destination = oneOf(s.destination ?? d.destination, 'destination', destinations.ids);
  const destinationSettings = validateDestinationSettings(s, destination, roles, destinations);
  const suspendedUsers = oneOf(s.suspendedUsers ?? d.suspendedUsers, 'suspendedUsers', ['suspend', 'deprovision'] as const);
  // Without the field, archived users follow the suspended-users policy, as they always did.
  const archivedUsers = oneOf(s.archivedUsers ?? suspendedUsers, 'archivedUsers', ['suspend', 'deprovision'] as const);
  const notify = s.notifyOnFailure ?? d.notifyOnFailure;
  if (typeof notify !== 'boolean') fail('notifyOnFailure', 'must be true or false');
  const incremental = s.incremental ?? d.incremental;
  if (typeof incremental !== 'boolean') fail('incremental', 'must be true or false');
  const reportEmail = s.reportEmail ?? d.reportEmail;
  if (typeof reportEmail !== 'boolean') fail('reportEmail', 'must be true or false');
  return {
    schemaVersion: SETTINGS_SCHEMA_VERSION,
    revision: int(s.revision ?? d.revision, 'revision', 0, 2_000_000_000),
    rules,
    roles,
    impliedRoles,
    schedule: validateSchedule(s.schedule ?? d.schedule),
    graceDays: int(s.graceDays ?? d.graceDays, 'graceDays', 0, 3650),
    threshold: { kind: thresholdKind, value: thresholdValue, windowHours },
    exclude: [...new Set(list(s.exclude ?? [], 'exclude').map((e, i) => email(e, `exclude[${i}]`)))],
    suspendedUsers,
    archivedUsers,
    permissionNames,
    admins: [...new Set(list(s.admins ?? [], 'admins', 100).map((e, i) => email(e, `admins[${i}]`)))],
    cooldownMinutes: int(s.cooldownMinutes ?? d.cooldownMinutes, 'cooldownMinutes', 0, 1440),
    notifyOnFailure: notify,
    privilegedRoles,
    privilegedGrantLimit: int(s.privilegedGrantLimit ?? d.privilegedGrantLimit, 'privilegedGrantLimit', 0, 1_000_000),
    incremental,
    reportEmail,
    destination,
    attributes: validateAttributes(s.attributes ?? d.attributes, destinations.ids.flatMap((id) => destinations.get(id)!.reservedAttributeNames ?? [])),
    appGroups: [...new Set(list(s.appGroups ?? [], 'appGroups', 100).map((e, i) => email(e, `appGroups[${i}]`)))],
    ...destinationSettings,
  };
}

/** Each destination's sub-document, validated by that destination; the chosen one must be filled in. */
function validateDestinationSettings(s: Record<string, unknown>, chosen: string, roles: Role[], destinations: DestinationCatalog): Partial<DestinationSettings> {
  const out: Record<string, unknown> = {};
  for (const id of destinations.ids) {
    const destination = destinations.get(id)!;
    if (!destination.settings) continue;
    const raw = s[id];
    out[id] = raw === undefined || raw === null ? null : destination.settings.validate(raw, { roles, field: id });
    if (id === chosen && out[id] === null) fail(id, `must be filled in when the destination is ${destination.label}`);
  }
  return out as Partial<DestinationSettings>;
}

/** The chosen destination's own sub-document (null when it has none or it is not filled in). */
export function destinationSettingsOf(s: Settings): unknown {
  return (s as unknown as Record<string, unknown>)[s.destination] ?? null;
}

/**
 * The suspended- and archived-users policies, as one value when they agree: that is how version 1
 * (one policy for both) wrote it, so a sync part-way when the update lands keeps its fingerprint and
 * carries on. A migration must leave the fingerprint of the document it upgrades as it was.
 */
function leaversPolicy(s: Settings): string | string[] {
  return s.archivedUsers === s.suspendedUsers ? s.suspendedUsers : [s.suspendedUsers, s.archivedUsers];
}

/** Rules, policy and roles decide the plan; a checkpointed sync made under other settings is stale. */
export function planFingerprint(s: Settings, destinations: DestinationCatalog): string {
  const spec = destinations.get(s.destination)?.settings;
  const own = destinationSettingsOf(s);
  return JSON.stringify([s.rules, s.roles, s.impliedRoles, s.graceDays, s.exclude, leaversPolicy(s), s.destination, spec && own ? spec.fingerprint(own) : '', ...(s.attributes?.length ? [s.attributes] : []), ...(s.appGroups?.length ? [s.appGroups] : [])]);
}

export function describeRule(rule: Rule): string {
  return rule.type === 'ou'
    ? `OU ${rule.orgUnitPath}${rule.includeSubOrgUnits ? ' (and sub-OUs)' : ''} → ${rule.role}`
    : `group ${rule.groupEmail} → ${rule.role}`;
}
