// Fake ScriptApp: installable triggers with the editor add-on rules (one
// trigger of each type per user per document, time-driven at most hourly,
// firing at a randomized minute), auth enums and authorization info.
import { createHash } from 'crypto';
import { Exec } from './exec';
import { zoned } from './utilities';

export type TriggerEvent = 'CLOCK' | 'ON_OPEN' | 'ON_EDIT' | 'ON_CHANGE' | 'ON_FORM_SUBMIT';

export interface ClockSchedule {
  everyMinutes?: number;
  everyHours?: number;
  everyDays?: number;
  everyWeeks?: number;
  atHour?: number;
  nearMinute?: number;
  atMs?: number;
  afterMs?: number;
  timeZone: string;
}

export interface TriggerRecord {
  uid: string;
  handler: string;
  owner: string;
  /** The document the (add-on) trigger belongs to; null when created outside one. */
  docId: string | null;
  eventType: TriggerEvent;
  sourceId: string | null;
  schedule: ClockSchedule | null;
  /** Next simulated firing time for clock triggers. */
  nextFireMs: number;
  createdMs: number;
}

export class TriggerStore {
  readonly list: TriggerRecord[] = [];
  private serial = 0;

  newUid(): string {
    this.serial++;
    return String(1_000_000 + this.serial * 7919);
  }

  remove(uid: string): boolean {
    const i = this.list.findIndex((t) => t.uid === uid);
    if (i >= 0) this.list.splice(i, 1);
    return i >= 0;
  }
}

export interface ScriptAppDeps {
  triggers: TriggerStore;
  addon: boolean;
  scriptId: string;
  /** Users who must (re)authorize before the script may run for them. */
  needsAuth: Set<string>;
}

const HOUR = 3_600_000;
const SCOPE = 'https://www.googleapis.com/auth/script.scriptapp';
const MAX_TRIGGERS_PER_USER = 20;

const enumOf = (names: string[]) => Object.freeze(Object.fromEntries(names.map((n) => [n, n])));
export const AUTH_MODES = enumOf(['NONE', 'CUSTOM_FUNCTION', 'LIMITED', 'FULL']);

/** When a clock trigger fires next after `fromMs` (minute randomized within the hour, as Google does). */
export function nextFire(s: ClockSchedule, fromMs: number, random: () => number): number {
  const jitter = () => Math.floor(random() * 60) * 60_000 + Math.floor(random() * 60) * 1000;
  if (s.atMs !== undefined) return s.atMs;
  if (s.afterMs !== undefined) return fromMs + s.afterMs;
  if (s.everyMinutes) return fromMs + s.everyMinutes * 60_000;
  const hourStart = Math.floor(fromMs / HOUR) * HOUR;
  if (s.everyHours) return hourStart + s.everyHours * HOUR + jitter();
  const days = s.everyWeeks ? s.everyWeeks * 7 : s.everyDays ?? 1;
  const minute = () => (s.nearMinute !== undefined ? Math.max(0, Math.min(59, s.nearMinute + Math.floor(random() * 31) - 15)) * 60_000 : jitter());
  // The first hour boundary at least (days - 1) days ahead whose local hour is atHour.
  const want = s.atHour ?? zoned(fromMs, s.timeZone).hour;
  for (let t = hourStart + HOUR + (days - 1) * 24 * HOUR; ; t += HOUR) {
    if (zoned(t, s.timeZone).hour === want) return t + minute();
  }
}

export function makeScriptApp(exec: Exec, deps: ScriptAppDeps): unknown {
  const c = (m: string, args: unknown[] = []) => exec.call(`ScriptApp.${m}`, args);
  const mine = () => deps.triggers.list.filter((t) => t.owner === exec.effectiveUser);
  return {
    AuthMode: AUTH_MODES,
    AuthorizationStatus: enumOf(['REQUIRED', 'NOT_REQUIRED']),
    EventType: enumOf(['CLOCK', 'ON_OPEN', 'ON_EDIT', 'ON_FORM_SUBMIT', 'ON_CHANGE', 'ON_EVENT_UPDATED']),
    TriggerSource: enumOf(['SPREADSHEETS', 'CLOCK', 'FORMS', 'DOCUMENTS', 'CALENDAR']),
    InstallationSource: enumOf(['APPS_MARKETPLACE_DOMAIN_ADD_ON', 'NONE', 'WEB_STORE_ADD_ON']),
    WeekDay: enumOf(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY']),
    newTrigger(functionName: string) {
      c('newTrigger', [functionName]);
      return triggerBuilder(exec, deps, String(functionName));
    },
    getProjectTriggers() {
      c('getProjectTriggers');
      exec.requireAuth('ScriptApp.getProjectTriggers', SCOPE, 'FULL');
      return mine().map(wrapTrigger);
    },
    getUserTriggers(doc: { getId(): string }) {
      c('getUserTriggers');
      exec.requireAuth('ScriptApp.getUserTriggers', SCOPE, 'FULL');
      const id = doc.getId();
      return mine().filter((t) => t.docId === id || t.sourceId === id).map(wrapTrigger);
    },
    deleteTrigger(trigger: { getUniqueId(): string }) {
      c('deleteTrigger');
      exec.requireAuth('ScriptApp.deleteTrigger', SCOPE, 'FULL');
      const uid = trigger.getUniqueId();
      if (mine().some((t) => t.uid === uid)) deps.triggers.remove(uid);
    },
    getScriptId: () => (c('getScriptId'), deps.scriptId),
    getService: () => ({
      getUrl: () => `https://script.google.com/macros/s/${deps.scriptId}/exec`,
      isEnabled: () => false,
    }),
    getOAuthToken() {
      c('getOAuthToken');
      return oauthToken(exec.effectiveUser);
    },
    getIdentityToken: () => (c('getIdentityToken'), ''),
    getInstallationSource: () => (deps.addon ? 'WEB_STORE_ADD_ON' : 'NONE'),
    invalidateAuth() {
      c('invalidateAuth');
      deps.needsAuth.add(exec.effectiveUser);
    },
    getAuthorizationInfo(authMode: string) {
      c('getAuthorizationInfo', [authMode]);
      const required = deps.needsAuth.has(exec.effectiveUser) || exec.authMode !== 'FULL';
      return {
        getAuthorizationStatus: () => (required ? 'REQUIRED' : 'NOT_REQUIRED'),
        getAuthorizationUrl: () => (required ? `https://script.google.com/macros/d/${deps.scriptId}/authorize` : null),
        getAuthorizedScopes: () => (required ? [] : [SCOPE]),
      };
    },
  };
}

/** A stand-in OAuth token: secret-shaped so tests can check it never leaks into logs. */
export function oauthToken(user: string): string {
  return 'ya29.sim-' + createHash('sha256').update(`token:${user}`).digest('hex').slice(0, 40);
}

function wrapTrigger(t: TriggerRecord): unknown {
  return {
    getHandlerFunction: () => t.handler,
    getUniqueId: () => t.uid,
    getEventType: () => t.eventType,
    getTriggerSource: () => (t.eventType === 'CLOCK' ? 'CLOCK' : 'SPREADSHEETS'),
    getTriggerSourceId: () => t.sourceId,
    toString: () => 'Trigger',
  };
}

function triggerBuilder(exec: Exec, deps: ScriptAppDeps, handler: string): unknown {
  return {
    timeBased: () => clockBuilder(exec, deps, handler),
    forSpreadsheet: (ss: string | { getId(): string }) => {
      const id = typeof ss === 'string' ? ss : ss.getId();
      const make = (event: TriggerEvent) => ({ create: () => install(exec, deps, handler, event, null, id) });
      return {
        onOpen: () => make('ON_OPEN'),
        onEdit: () => make('ON_EDIT'),
        onChange: () => make('ON_CHANGE'),
        onFormSubmit: () => make('ON_FORM_SUBMIT'),
      };
    },
  };
}

function clockBuilder(exec: Exec, deps: ScriptAppDeps, handler: string): unknown {
  const s: ClockSchedule = { timeZone: exec.timeZone };
  const b: Record<string, unknown> = {};
  const set = (patch: Partial<ClockSchedule>) => (Object.assign(s, patch), b);
  Object.assign(b, {
    everyMinutes: (n: number) => set({ everyMinutes: Number(n) }),
    everyHours: (n: number) => set({ everyHours: Number(n) }),
    everyDays: (n: number) => set({ everyDays: Number(n) }),
    everyWeeks: (n: number) => set({ everyWeeks: Number(n) }),
    atHour: (h: number) => set({ atHour: Number(h) }),
    nearMinute: (m: number) => set({ nearMinute: Number(m) }),
    onWeekDay: () => b,
    onMonthDay: () => b,
    inTimezone: (tz: string) => set({ timeZone: String(tz) }),
    at: (d: Date) => set({ atMs: d.getTime() }),
    after: (ms: number) => set({ afterMs: Number(ms) }),
    create: () => install(exec, deps, handler, 'CLOCK', s, null),
  });
  return b;
}

function checkSchedule(exec: Exec, deps: ScriptAppDeps, s: ClockSchedule): void {
  const kinds = ['everyMinutes', 'everyHours', 'everyDays', 'everyWeeks', 'atMs', 'afterMs'] as const;
  if (!kinds.some((k) => s[k] !== undefined)) throw exec.error('A time-based trigger needs a schedule: call everyHours(), everyDays(), at() or after() first.');
  const hourly = s.everyHours !== undefined;
  if (hourly && (!Number.isInteger(s.everyHours) || s.everyHours! < 1)) {
    throw exec.error(deps.addon ? 'Add-ons may only create time-based triggers that fire at most once per hour.' : 'Invalid argument: hours');
  }
  if (s.everyMinutes !== undefined) {
    if (deps.addon) throw exec.error('Add-ons may only create time-based triggers that fire at most once per hour.');
    if (![1, 5, 10, 15, 30].includes(s.everyMinutes)) throw exec.error('Invalid argument: minutes. The value must be 1, 5, 10, 15 or 30.');
  }
  if (s.atHour !== undefined && !(s.atHour >= 0 && s.atHour <= 23)) throw exec.error('Invalid argument: hour');
}

function install(exec: Exec, deps: ScriptAppDeps, handler: string, event: TriggerEvent, schedule: ClockSchedule | null, sourceId: string | null): unknown {
  exec.call('ScriptApp.TriggerBuilder.create', [handler, event]);
  exec.requireAuth('ScriptApp.newTrigger', SCOPE, 'FULL');
  if (schedule) checkSchedule(exec, deps, schedule);
  const docId = exec.activeDocId ?? sourceId;
  const mine = deps.triggers.list.filter((t) => t.owner === exec.effectiveUser);
  if (deps.addon && mine.some((t) => t.docId === docId && t.eventType === event)) {
    const what = event === 'CLOCK' ? 'time-based' : 'spreadsheet';
    throw exec.error(`This add-on has created too many ${what} triggers in this document for this Google user account.`);
  }
  if (mine.length >= MAX_TRIGGERS_PER_USER) {
    throw exec.error('This script has too many triggers. Triggers must be deleted from the script before more can be added.');
  }
  const now = exec.nowMs();
  const t: TriggerRecord = {
    uid: deps.triggers.newUid(),
    handler,
    owner: exec.effectiveUser,
    docId,
    eventType: event,
    sourceId: event === 'CLOCK' ? null : sourceId,
    schedule,
    nextFireMs: schedule ? nextFire(schedule, now, () => exec.random()) : Infinity,
    createdMs: now,
  };
  deps.triggers.list.push(t);
  return wrapTrigger(t);
}
