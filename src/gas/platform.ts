// Thin adapters for the small Apps Script services: lock, triggers, clock, session, mail.
import { ClockPort, LocalTime, LockPort, NotifierPort, SessionPort, TriggerInfo, TriggerPort } from '../core/ports';

export class GasLock implements LockPort {
  constructor(private readonly lock: GoogleAppsScript.Lock.Lock) {}
  tryLock(timeoutMs: number): boolean {
    return this.lock.tryLock(timeoutMs);
  }
  release(): void {
    if (this.lock.hasLock()) this.lock.releaseLock();
  }
}

export class GasTriggers implements TriggerPort {
  constructor(private readonly spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet) {}
  list(): TriggerInfo[] {
    return ScriptApp.getUserTriggers(this.spreadsheet).map((t) => ({
      id: t.getUniqueId(),
      handler: t.getHandlerFunction(),
      kind: t.getEventType() === ScriptApp.EventType.CLOCK ? 'CLOCK' : t.getEventType() === ScriptApp.EventType.ON_OPEN ? 'ON_OPEN' : 'OTHER',
    }));
  }
  installHourly(handler: string): void {
    // Editor add-ons may own one time-driven trigger per user per document, firing at most hourly.
    const trigger = ScriptApp.newTrigger(handler).timeBased().everyHours(1).create();
    // A time-driven run has no active document: remember which roster this trigger serves.
    PropertiesService.getUserProperties().setProperty(triggerDocKey(trigger.getUniqueId()), this.spreadsheet.getId());
  }
  remove(id: string): void {
    for (const t of ScriptApp.getUserTriggers(this.spreadsheet)) if (t.getUniqueId() === id) ScriptApp.deleteTrigger(t);
    PropertiesService.getUserProperties().deleteProperty(triggerDocKey(id));
  }
}

export const gasClock: ClockPort = {
  nowMs: () => Date.now(),
  sleep: (ms) => Utilities.sleep(ms),
  local(ms: number, timeZone: string): LocalTime {
    const [date, hour, minute] = Utilities.formatDate(new Date(ms), timeZone, 'yyyy-MM-dd HH mm').split(' ');
    return { date, hour: Number(hour), minute: Number(minute) };
  },
};

export const gasSession: SessionPort = {
  activeUserEmail: () => (Session.getActiveUser().getEmail() || '').toLowerCase(),
  effectiveUserEmail: () => (Session.getEffectiveUser().getEmail() || '').toLowerCase(),
  authorization() {
    const info = ScriptApp.getAuthorizationInfo(ScriptApp.AuthMode.FULL);
    return { required: info.getAuthorizationStatus() === ScriptApp.AuthorizationStatus.REQUIRED, url: info.getAuthorizationUrl() || '' };
  },
};

export const gasMail: NotifierPort = {
  send(to: string[], subject: string, body: string): void {
    if (MailApp.getRemainingDailyQuota() < to.length) return;
    MailApp.sendEmail({ to: to.join(','), subject, body });
  },
};

export function triggerDocKey(triggerUid: string): string {
  return `rs:trigger:${triggerUid}`;
}
