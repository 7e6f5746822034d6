// Fake of the AdminReports advanced service (Admin SDK Reports API, reports_v1) as Apps Script
// exposes it: Activities.list(userKey, applicationName, optionalArgs) returning parsed JSON.
// What it keeps of Google's documented behaviour (Reports API reference, activities.list, and
// "Data retention and lag times", support.google.com/a/answer/7061566):
// - activities newest first, at most 1000 a page (maxResults), an empty list omits `items`;
// - every activity has id {time, uniqueQualifier, applicationName, customerId} and events with
//   a type (USER_SETTINGS, GROUP_SETTINGS, ORG_SETTINGS), a name and parameters {name, value};
// - admin log events show up after a lag ("near real time, couple of minutes"), and "in rare
//   cases, events might not be reported" (see AuditKnobs in directoryState.ts);
// - the admin activity report reaches back at most 180 days ("the maximum time period for each
//   report is the last 180 days"): an older startTime is refused;
// - the caller needs the admin.reports.audit.readonly scope and an admin role with Reports.
import { Exec } from './exec';
import { AuditRecord, FakeDirectoryState } from './directoryState';
import { applyFields, parseFields } from './directory';
import type { GoogleApiError } from './directory';

export const REPORTS_SCOPE = 'https://www.googleapis.com/auth/admin.reports.audit.readonly';
export const REPORTS_RETENTION_MS = 180 * 24 * 60 * 60_000;

/** Toggles for whole-service failures, owned by the runtime. */
export interface ReportsSwitches {
  /** The sync account's admin role lacks the Reports privilege: 403 forbidden. */
  privilegeMissing: boolean;
  apiDisabled: boolean;
  enforceAdmin: boolean;
}

function reportsError(code: number, reason: string, message: string): GoogleApiError {
  const e = new Error(`API call to reports.activities.list failed with error: ${message}`) as GoogleApiError;
  e.name = 'GoogleJsonResponseException';
  e.details = { code, message, errors: [{ domain: 'global', reason, message }] };
  return e;
}

function rfc3339(raw: unknown, field: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const s = String(raw);
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) throw reportsError(400, 'invalid', `Invalid value '${s}' for ${field}`);
  return ms;
}

function activity(state: FakeDirectoryState, e: AuditRecord): Record<string, unknown> {
  return {
    kind: 'admin#reports#activity',
    id: { time: new Date(e.timeMs).toISOString(), uniqueQualifier: e.uniqueQualifier, applicationName: e.application, customerId: state.customerId },
    etag: '"sim-etag"',
    actor: { callerType: 'USER', email: `admin@${state.domain}`, profileId: '100000000000000000001' },
    ipAddress: '203.0.113.7',
    events: [{ type: e.type, name: e.name, parameters: Object.entries(e.params).map(([name, value]) => ({ name, value })) }],
  };
}

export function makeAdminReports(exec: Exec, state: FakeDirectoryState, switches: ReportsSwitches): unknown {
  return {
    Activities: {
      list(userKey: string, applicationName: string, optionalArgs?: Record<string, unknown>) {
        const opts = optionalArgs ?? {};
        exec.call('AdminReports.Activities.list', [userKey, applicationName, opts]);
        exec.requireAuth('AdminReports.Activities.list', REPORTS_SCOPE, 'FULL');
        const now = exec.nowMs();
        const fail = (error: GoogleApiError) => exec.adopt(error);
        if (switches.apiDisabled) throw fail(reportsError(403, 'domainCannotUseApis', 'Domain cannot use apis.'));
        if (switches.privilegeMissing) throw fail(reportsError(403, 'forbidden', 'Not Authorized to access this resource/api'));
        if (switches.enforceAdmin) {
          const me = state.findUser(exec.effectiveUser);
          if (!me || !me.isAdmin || me.suspended) throw fail(reportsError(403, 'forbidden', 'Not Authorized to access this resource/api'));
        }
        try {
          if (userKey !== 'all' && !state.findUser(String(userKey ?? ''))) throw reportsError(400, 'invalid', 'Bad Request. Check the userKey');
          const apps = ['admin', 'groups_enterprise', 'login', 'drive', 'token'];
          if (!apps.includes(String(applicationName))) throw reportsError(400, 'invalid', `Invalid value '${String(applicationName)}'`);
          const start = rfc3339(opts.startTime, 'startTime') ?? now - REPORTS_RETENTION_MS;
          const end = rfc3339(opts.endTime, 'endTime') ?? now;
          if (start < now - REPORTS_RETENTION_MS) throw reportsError(400, 'invalid', 'Start time is older than the 180 days the report covers');
          if (end < start) throw reportsError(400, 'invalid', 'Start time must be before the end time');
          const raw = opts.maxResults;
          const size = raw === undefined ? 1000 : Math.floor(Number(raw));
          if (!Number.isFinite(size) || size < 1 || size > 1000) throw reportsError(400, 'invalid', `Invalid value '${String(raw)}'. Values must be within the range: [1, 1000]`);
          // Admin and group-manager events are simulated; the fake domain has no logins, files or tokens.
          const app = String(applicationName);
          const events = app === 'admin' || app === 'groups_enterprise' ? state.auditEvents(app, start, end, now).filter(() => userKey === 'all' || !!state.findUser(String(userKey))) : [];
          const key = JSON.stringify(['activities', applicationName, userKey, start, end]);
          let offset = 0;
          if (opts.pageToken) {
            const t = state.resolvePageToken(String(opts.pageToken), key);
            if (!t) throw reportsError(400, 'invalid', 'Invalid pageToken');
            offset = t.offset;
          }
          const slice = events.slice(offset, offset + size);
          const body: Record<string, unknown> = { kind: 'admin#reports#activities', etag: '"sim-etag"' };
          if (slice.length) body.items = slice.map((e) => activity(state, e));
          if (offset + slice.length < events.length) body.nextPageToken = state.issuePageToken(key, offset + slice.length);
          return typeof opts.fields === 'string' && opts.fields ? applyFields(body, parseFields(opts.fields)) : body;
        } catch (error) {
          throw fail(error as GoogleApiError);
        }
      },
    },
  };
}
