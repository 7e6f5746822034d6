// Fake MailApp: messages land in the runtime's outbox; the daily quota is enforced.
import { Exec } from './exec';

export interface SentMail {
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  body: string;
  htmlBody: string;
  name: string;
  replyTo: string;
  from: string;
  atMs: number;
  execId: number;
}

export interface MailState {
  outbox: SentMail[];
  /** Messages (recipients) still allowed today. */
  remaining: number;
}

const SCOPE = 'https://www.googleapis.com/auth/script.send_mail';

export function makeMailApp(exec: Exec, state: MailState): unknown {
  const send = (m: Omit<SentMail, 'from' | 'atMs' | 'execId'>) => {
    exec.call('MailApp.sendEmail', [m.to, m.subject]);
    exec.requireAuth('MailApp.sendEmail', SCOPE, 'FULL');
    if (!m.to && !m.cc && !m.bcc) throw exec.error('Failed to send email: no recipient');
    const recipients = [m.to, m.cc, m.bcc].join(',').split(',').filter((s) => s.trim()).length;
    if (state.remaining < recipients) throw exec.error('Service invoked too many times for one day: email.');
    state.remaining -= recipients;
    state.outbox.push({ ...m, from: exec.effectiveUser, atMs: exec.nowMs(), execId: exec.id });
  };
  return {
    sendEmail(a: unknown, subject?: string, body?: string, options?: Record<string, unknown>) {
      if (a && typeof a === 'object') {
        const o = a as Record<string, unknown>;
        return send(mailFrom(String(o.to ?? ''), String(o.subject ?? ''), String(o.body ?? ''), o));
      }
      return send(mailFrom(String(a ?? ''), String(subject ?? ''), String(body ?? ''), options ?? {}));
    },
    getRemainingDailyQuota() {
      exec.call('MailApp.getRemainingDailyQuota', []);
      return state.remaining;
    },
  };
}

function mailFrom(to: string, subject: string, body: string, o: Record<string, unknown>) {
  const s = (k: string) => (o[k] === undefined ? '' : String(o[k]));
  return { to, subject, body, htmlBody: s('htmlBody'), cc: s('cc'), bcc: s('bcc'), name: s('name'), replyTo: s('replyTo') };
}
