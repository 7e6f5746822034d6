// AdminReports (Admin SDK Reports API advanced service, reports_v1) behind the AuditLogPort.
// activities.list(userKey 'all', applicationName 'admin') returns the Admin console audit log:
// user, group and OU changes made in the Admin console, through the API and by sync tools;
// applicationName 'groups_enterprise' the membership changes group managers make.
import { AuditApplication, AuditEvent, AuditLogPort, Page } from '../core/ports';
import { withRetry } from '../core/retry';
import { ReportsError, classifyGoogleError, isTransient } from '../core/googleErrors';

/** Google documents at most 1000 activities a page. */
const PAGE_SIZE = 1000;
const FIELDS = 'nextPageToken,items(id(time,uniqueQualifier),events(type,name,parameters(name,value)))';

function reports(): GoogleAppsScript.AdminReports {
  if (typeof AdminReports === 'undefined' || !AdminReports) throw new Error('AdminReports is not defined: accessNotConfigured');
  return AdminReports;
}

type RawActivity = GoogleAppsScript.AdminReports.Schema.Activity;

/** Each event of an activity, keyed by the activity's id (time + uniqueQualifier) and the event's place in it. */
function toEvents(a: RawActivity): AuditEvent[] {
  const time = String(a.id?.time ?? '');
  const timeMs = Date.parse(time);
  const qualifier = String(a.id?.uniqueQualifier ?? '');
  return (a.events ?? []).map((e, i) => {
    const params: Record<string, string> = {};
    for (const p of e.parameters ?? []) if (p.name) params[p.name] = String(p.value ?? '');
    return { id: `${time}/${qualifier}/${i}`, timeMs: Number.isNaN(timeMs) ? 0 : timeMs, type: String(e.type ?? ''), name: String(e.name ?? ''), params };
  });
}

export class GasAuditLog implements AuditLogPort {
  constructor(private readonly sleep: (ms: number) => void) {}

  listEventsPage(application: AuditApplication, startMs: number, endMs: number, pageToken: string | null): Page<AuditEvent> {
    const options = { startTime: new Date(startMs).toISOString(), endTime: new Date(endMs).toISOString(), maxResults: PAGE_SIZE, pageToken: pageToken ?? undefined, fields: FIELDS };
    let r: GoogleAppsScript.AdminReports.Schema.Activities;
    try {
      r = withRetry(() => reports().Activities!.list('all', application, options), { attempts: 5, baseDelayMs: 1000, maxDelayMs: 16000, sleep: this.sleep, isRetryable: isTransient });
    } catch (error) {
      throw new ReportsError(classifyGoogleError(error));
    }
    return { items: (r.items ?? []).flatMap(toEvents), nextPageToken: r.nextPageToken || null };
  }
}
