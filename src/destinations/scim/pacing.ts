// How fast Roster Sync may talk to a SCIM app: a token bucket whose rate is learnt
// from the app's own signals, and the waits the app asked for. Pure: time and sleep
// are passed in, so Apps Script (Date.now / Utilities.sleep) and tests share it.
//
// Signals read (the three styles real apps use; a 429 is "Too Many Requests", RFC 6585 §4):
// - `Retry-After: <seconds | HTTP date>` (RFC 9110 §10.2.3);
// - `X-Retry-After: <seconds>` (non-standard, same meaning);
// - `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset: <seconds>` and
//   `RateLimit-Policy: <limit>;w=<seconds>` (draft-ietf-httpapi-ratelimit-headers-06).
import { retryAfterMs } from './retryAfter';

export interface RateSignal {
  /** The app asked for no request for this long (429 with Retry-After, or no quota left until the reset). */
  waitMs: number | null;
  /** Requests per second the app says it allows (RateLimit-Policy, or RateLimit-Limit over the reset time). */
  ratePerSec: number | null;
  /** Requests left before the reset (RateLimit-Remaining). */
  remaining: number | null;
}

export function rateSignal(status: number, header: (lowerCaseName: string) => string | null, nowMs: number): RateSignal {
  const num = (v: string | null) => (v !== null && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : null);
  const resetSec = num(header('ratelimit-reset'));
  const remaining = num(header('ratelimit-remaining'));
  const limit = num(header('ratelimit-limit'));
  const policy = /^\s*(\d+)\s*;\s*w\s*=\s*(\d+)/i.exec(header('ratelimit-policy') ?? '');
  let ratePerSec: number | null = null;
  if (policy && Number(policy[2]) > 0) ratePerSec = Number(policy[1]) / Number(policy[2]);
  else if (limit !== null && resetSec !== null && resetSec > 0) ratePerSec = limit / resetSec;
  let waitMs = retryAfterMs(header('retry-after'), nowMs) ?? retryAfterMs(header('x-retry-after'), nowMs);
  if (waitMs === null && resetSec !== null && (status === 429 || remaining === 0)) waitMs = resetSec * 1000;
  return { waitMs, ratePerSec, remaining };
}

/** What is remembered about an app's pace between executions. */
export interface PaceMemory {
  ratePerSec?: number;
  holdUntil?: number;
}

export interface PacerOptions {
  now(): number;
  sleep(ms: number): void;
  /** Requests per fetchAll at most. */
  batchSize: number;
  /** Milliseconds this execution may still spend waiting and sending. */
  remainingMs(): number;
  memory?: PaceMemory;
}

/** Share of a learnt limit used, so a sliding window on the app's side is never overrun. */
export const RATE_SHARE = 0.8;
/** A 429 teaches a rate only after this many accepted requests (fewer say nothing about the limit). */
const MIN_SAMPLE = 10;

export class Pacer {
  private ratePerSec: number | null;
  private holdUntil: number;
  private tokens = 0;
  private filledAt = 0;
  /** Sleeps move this on even where sleep does not move now() (tests): waits are never served twice. */
  private clock = 0;
  private remaining: number | null = null;
  private acceptedSince = 0;
  private sinceMs: number;
  /** Milliseconds waited, and waits the app asked for. */
  sleptMs = 0;

  constructor(private readonly o: PacerOptions) {
    this.ratePerSec = o.memory?.ratePerSec ?? null;
    this.holdUntil = o.memory?.holdUntil ?? 0;
    this.sinceMs = this.t();
  }

  t(): number {
    this.clock = Math.max(this.clock, this.o.now());
    return this.clock;
  }

  private wait(ms: number): void {
    if (ms <= 0) return;
    this.sleptMs += ms;
    this.o.sleep(ms);
    this.clock = this.t() + ms;
  }

  memory(): PaceMemory {
    return { ...(this.ratePerSec !== null ? { ratePerSec: this.ratePerSec } : {}), ...(this.holdUntil > this.t() ? { holdUntil: this.holdUntil } : {}) };
  }

  /** When the app lets us send again (0: now). */
  heldUntil(): number {
    return this.holdUntil > this.t() ? this.holdUntil : 0;
  }

  /**
   * Waits until up to `wanted` requests may go and returns how many: never inside a wait the app
   * asked for, never faster than the learnt rate. 0 when that wait does not fit in this execution.
   */
  admit(wanted: number, reserveMs: number): number {
    const hold = this.holdUntil - this.t();
    if (hold > 0) {
      if (hold > this.o.remainingMs() - reserveMs) return 0;
      this.wait(hold);
      this.sinceMs = this.t();
      this.acceptedSince = 0;
    }
    let n = Math.min(wanted, this.o.batchSize);
    if (this.remaining !== null) n = Math.min(n, Math.max(1, this.remaining));
    if (this.ratePerSec === null) return n;
    const capacity = Math.max(1, Math.floor(this.ratePerSec));
    const now = this.t();
    this.tokens = Math.min(capacity, this.tokens + ((now - this.filledAt) / 1000) * this.ratePerSec);
    this.filledAt = now;
    n = Math.min(n, capacity);
    if (this.tokens < n) {
      const needMs = Math.ceil(((n - this.tokens) / this.ratePerSec) * 1000);
      if (needMs > this.o.remainingMs() - reserveMs) return 0;
      this.wait(needMs);
      this.tokens = n;
      this.filledAt = this.t();
    }
    this.tokens -= n;
    return n;
  }

  /** Learns from one answer: 429s and rate headers. */
  observe(status: number, signal: RateSignal): void {
    if (signal.ratePerSec !== null) this.lower(signal.ratePerSec * RATE_SHARE, true);
    if (signal.remaining !== null) this.remaining = signal.remaining;
    if (status !== 429) {
      this.acceptedSince++;
      if (signal.waitMs !== null && signal.remaining === 0) this.holdFor(signal.waitMs);
      return;
    }
    const waitMs = signal.waitMs ?? 1000;
    // The other 429s of the same batch belong to the same episode: learn once.
    if (this.holdUntil > this.t()) return this.holdFor(waitMs);
    if (signal.ratePerSec === null && this.acceptedSince >= MIN_SAMPLE) {
      // The app took `acceptedSince` requests, then asked to wait: that many per (elapsed + wait) is its pace.
      const elapsed = this.t() - this.sinceMs;
      this.lower((this.acceptedSince / ((elapsed + waitMs) / 1000)) * RATE_SHARE, false);
    } else if (signal.ratePerSec === null && this.ratePerSec !== null) this.lower(this.ratePerSec * 0.7, false);
    this.holdFor(waitMs);
  }

  /** No request before now + ms (the app's wait, or a backoff). */
  holdFor(ms: number): void {
    this.holdUntil = Math.max(this.holdUntil, this.t() + Math.max(0, ms));
  }

  private lower(rate: number, exact: boolean): void {
    if (!(rate > 0)) return;
    this.ratePerSec = exact || this.ratePerSec === null ? rate : Math.min(this.ratePerSec, rate);
  }
}
