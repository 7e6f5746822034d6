// Fake Session: who is at the keyboard, whose authority the script runs with.
import { createHash } from 'crypto';
import { Exec } from './exec';

export function makeSession(exec: Exec, scriptId: string): unknown {
  const user = (email: string) => ({ getEmail: () => email, toString: () => email });
  return {
    getActiveUser() {
      exec.call('Session.getActiveUser', []);
      return user(exec.authMode === 'NONE' ? '' : exec.user);
    },
    getEffectiveUser() {
      exec.call('Session.getEffectiveUser', []);
      exec.requireAuth('Session.getEffectiveUser', 'https://www.googleapis.com/auth/userinfo.email', 'LIMITED');
      return user(exec.effectiveUser);
    },
    getScriptTimeZone() {
      exec.call('Session.getScriptTimeZone', []);
      return exec.timeZone;
    },
    getActiveUserLocale() {
      exec.call('Session.getActiveUserLocale', []);
      return 'en';
    },
    /** Stable per user and script, opaque (Google's rotates every 30 days). */
    getTemporaryActiveUserKey() {
      exec.call('Session.getTemporaryActiveUserKey', []);
      const who = exec.user || exec.effectiveUser;
      return createHash('sha256').update(`${scriptId}:${who}`).digest('base64').replace(/=+$/, '');
    },
  };
}
