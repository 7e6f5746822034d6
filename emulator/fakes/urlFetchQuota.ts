// UrlFetchApp's daily call quota, as Google documents it
// (developers.google.com/apps-script/guides/services/quotas): "URL Fetch calls" 20,000 / day for consumer
// accounts (gmail.com) and 100,000 / day for Google Workspace accounts; "Quotas are per user and reset 24
// hours after the first request"; over a quota "your script throws an exception and execution stops"
// ("Service invoked too many times for one day: urlfetch."). fetchAll counts each of its requests. Google does
// not say what a fetchAll that crosses the quota does: here it is refused whole, before anything is sent.

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

  /** Counts `n` calls for the user, or throws before any is made when they do not fit in what is left of the day. */
  take(user: string, n: number, fail: (message: string) => Error): void {
    const key = user.toLowerCase();
    const u = this.current(key) ?? { sinceMs: this.now(), used: 0 };
    if (u.used + n > this.limitFor(key)) throw fail(URLFETCH_QUOTA_ERROR);
    u.used += n;
    this.usage.set(key, u);
    this.requests += n;
  }
}
