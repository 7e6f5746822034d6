// Apps Script's daily UrlFetchApp quota, counted by Roster Sync itself so a large
// first sync stops at a known point ("continues tomorrow") instead of failing on
// Google's "Service invoked too many times for one day: urlfetch.". Google documents
// 100,000 calls a day for a Workspace account and 20,000 for a consumer account,
// per user, reset 24 hours after the first request (developers.google.com/apps-script/guides/services/quotas).

export const WORKSPACE_URLFETCH_PER_DAY = 100_000;
export const CONSUMER_URLFETCH_PER_DAY = 20_000;
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Left for the sidebar, Finalize and Test connection on a day a sync used the rest. */
export function sidebarHeadroom(limit: number): number {
  return Math.ceil(limit * 0.05);
}

/** Set only by the simulated runtime, so tests can give the sync account a small day. */
declare const ROSTER_SYNC_URLFETCH_PER_DAY: number | undefined;

export function urlFetchQuotaFor(email: string): number {
  if (typeof ROSTER_SYNC_URLFETCH_PER_DAY === 'number') return ROSTER_SYNC_URLFETCH_PER_DAY;
  return /@(gmail|googlemail)\.com$/i.test(email.trim()) ? CONSUMER_URLFETCH_PER_DAY : WORKSPACE_URLFETCH_PER_DAY;
}

export interface QuotaMemory {
  /** When the counted day began (the first request after the last reset). */
  since: number;
  used: number;
}

export class DailyQuota {
  private m: QuotaMemory;

  constructor(readonly limit: number, memory: QuotaMemory | undefined, private readonly now: () => number) {
    this.m = memory && Number.isFinite(memory.since) && Number.isFinite(memory.used) ? { ...memory } : { since: 0, used: 0 };
  }

  private roll(): void {
    if (this.now() - this.m.since >= DAY_MS) this.m = { since: this.now(), used: 0 };
  }

  /** Requests a sync may still send today (the sidebar's headroom kept). */
  left(): number {
    this.roll();
    return Math.max(0, this.limit - sidebarHeadroom(this.limit) - this.m.used);
  }

  count(n: number): void {
    this.roll();
    this.m.used += n;
  }

  /** Google said the day's quota is used up (other scripts of the same user count too). */
  exhausted(): void {
    this.roll();
    this.m.used = Math.max(this.m.used, this.limit);
  }

  used(): number {
    this.roll();
    return this.m.used;
  }

  resetsAt(): number {
    return this.m.since + DAY_MS;
  }

  memory(): QuotaMemory {
    return { ...this.m };
  }
}
