// UrlFetchApp's daily call quota, as Google documents it
// (developers.google.com/apps-script/guides/services/quotas): "URL Fetch calls" 20,000 / day for
// consumer accounts (gmail.com) and 100,000 / day for Google Workspace accounts; "Quotas are per user
// and reset 24 hours after the first request"; "If you exceed a quota or limitation, your script throws
// an exception and execution stops", with "an exception message indicating the specific limit exceeded
// or service invoked too many times". Every UrlFetchApp call of the user counts, whatever script makes
// it, and fetchAll counts each of its requests. The text is the one scripts meet for this quota, of the
// same form as MailApp's ("Service invoked too many times for one day: email.", fakes/mail.ts):
// "Service invoked too many times for one day: urlfetch." (shown as "Exception: …" in the editor).
// Google does not say what a fetchAll that crosses the quota does: here it is refused whole, before
// anything is sent. Where this fake and Google's documentation disagree, the documentation wins.

export const WORKSPACE_URLFETCH_PER_DAY = 100_000;
export const CONSUMER_URLFETCH_PER_DAY = 20_000;
export const URLFETCH_QUOTA_ERROR = 'Service invoked too many times for one day: urlfetch.';
const DAY_MS = 24 * 60 * 60 * 1000;

/** Google's daily figure for an account: consumer addresses get the lower one. */
export function documentedUrlFetchQuota(email: string): number {
  return /@(gmail|googlemail)\.com$/i.test(email) ? CONSUMER_URLFETCH_PER_DAY : WORKSPACE_URLFETCH_PER_DAY;
}

interface Usage {
  /** The first request of the current quota day. */
  sinceMs: number;
  used: number;
}

export class UrlFetchQuota {
  private readonly usage = new Map<string, Usage>();
  /** Every request sent, whoever sent it and whatever the day (fetch: 1, fetchAll: one per request). */
  requests = 0;

  /** `perDay`: one figure for every user, or Google's documented figure for each account when not given. */
  constructor(private readonly perDay: number | undefined, private readonly now: () => number) {}

  limitFor(user: string): number {
    return this.perDay ?? documentedUrlFetchQuota(user);
  }

  private current(user: string): Usage | null {
    const u = this.usage.get(user.toLowerCase());
    return u && this.now() - u.sinceMs < DAY_MS ? u : null;
  }

  used(user: string): number {
    return this.current(user)?.used ?? 0;
  }

  /** When the user's quota day ends (null before their first request of a day). */
  resetsAtMs(user: string): number | null {
    const u = this.current(user);
    return u ? u.sinceMs + DAY_MS : null;
  }

  /**
   * Counts `n` calls for the user, or throws before any is made when they do not fit in what is left
   * of the day (a fetchAll over the quota sends nothing).
   */
  take(user: string, n: number, fail: (message: string) => Error): void {
    const key = user.toLowerCase();
    const u = this.current(key) ?? { sinceMs: this.now(), used: 0 };
    if (u.used + n > this.limitFor(key)) throw fail(URLFETCH_QUOTA_ERROR);
    u.used += n;
    this.usage.set(key, u);
    this.requests += n;
  }

  /** Calls the same user's other scripts make (they share the quota). */
  useElsewhere(user: string, n: number): void {
    const key = user.toLowerCase();
    const u = this.current(key) ?? { sinceMs: this.now(), used: 0 };
    u.used = Math.min(this.limitFor(key), u.used + n);
    this.usage.set(key, u);
  }
}
