// A small SCIM 2.0 client over UrlFetchApp.fetchAll: requests go out in
// parallel batches, 429 and 5xx answers are retried with backoff (honouring
// Retry-After) through the core's withRetry, and a run that is clearly talking to
// the wrong place (401, unreachable host, most requests failing) stops with one
// clear message instead of hammering the server.
import { Message, UserError, msg } from '../../core/messages';
import { PaceMemory, Pacer, rateSignal } from './pacing';
import { DailyQuota } from './quota';
import { ScimCapabilities, ScimProbe, ScimProbeResult, parseServiceProviderConfig } from './serviceProvider';
import { PatchOperation, refusedValuePath } from './patch';
import { retryAfterMs } from './retryAfter';
import { redactor } from './redact';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The subset of UrlFetchApp's request object this client sends. */
export interface FetchRequest {
  url: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  headers: Record<string, string>;
  contentType?: string;
  payload?: string;
  muteHttpExceptions: boolean;
  followRedirects: boolean;
}

/** The subset of UrlFetchApp's HTTPResponse this client reads. */
export interface FetchResponse {
  getResponseCode(): number;
  getContentText(): string;
  getHeaders(): object;
}

export type FetchAllFn = (requests: FetchRequest[]) => FetchResponse[];

export interface ScimRequest {
  method: HttpMethod;
  /** Path below the base URL, starting with "/", query included. */
  path: string;
  body?: unknown;
}

export interface ScimResponse {
  status: number;
  /** Parsed JSON body, or null. */
  body: any;
  text: string;
  location: string;
  retryAfterMs: number | null;
  /** Not sent at all (the reason the client stopped sending); nothing happened in the app. */
  notSent?: StopReason;
}

export interface ScimClientOptions {
  baseUrl: string;
  token: string;
  fetchAll?: FetchAllFn;
  sleep?: (ms: number) => void;
  now?: () => number;
  /** Requests per UrlFetchApp.fetchAll call. */
  batchSize?: number;
  /** Tries per request for 5xx (first try included); 429s are paced and tried while time allows. */
  attempts?: number;
  /** Milliseconds this execution may still run; without it, waits stop after maxTotalSleepMs. */
  remainingMs?: () => number;
  /** All backoff sleeps of one execution together stay under this when remainingMs is not given. */
  maxTotalSleepMs?: number;
  /** What was learnt of the app's pace in earlier executions. */
  pace?: PaceMemory;
  /** The day's UrlFetchApp calls; unlimited when not given. */
  quota?: DailyQuota;
}

/** Why the client stopped sending in this execution: out of time, the app asked for a long wait, or the day's quota is used. */
export type StopReason = 'time' | 'hold' | 'quota';

/** Time kept after the last request for recording what the app accepted and saving the sync's progress. */
export const RESERVE_MS = 20_000;
/** 429s one request may get before it counts as failed (pacing makes more than one rare). */
export const MAX_429_TRIES = 10;

const gasFetchAll: FetchAllFn = (requests) => UrlFetchApp.fetchAll(requests as unknown as GoogleAppsScript.URL_Fetch.URLFetchRequest[]);
const gasSleep = (ms: number) => Utilities.sleep(ms);

export function hostOf(url: string): string {
  const m = /^[a-z]+:\/\/([^/?#]+)/i.exec(url);
  return m ? m[1] : url;
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** The server's own words for an error response (SCIM `detail`), shortened for a message. */
export function errorDetail(r: Pick<ScimResponse, 'status' | 'body' | 'text'>): string {
  const b = r.body;
  const detail = b && typeof b === 'object' ? b.detail ?? b.message ?? b.error?.message ?? b.error : null;
  const text = typeof detail === 'string' && detail ? detail : r.text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  const scimType = b && typeof b === 'object' && typeof b.scimType === 'string' ? ` (${b.scimType})` : '';
  return (text.slice(0, 200) || `HTTP ${r.status}`) + scimType;
}


/** Counts of what this client sent (one Apps Script execution). */
export interface ClientStats {
  /** HTTP requests actually sent, retries included. */
  requests: number;
  /** Requests that are not GET. */
  writes: number;
  /** Final answers (after retries) and how many of them failed. */
  answers: number;
  failures: number;
  firstFailure: string;
  retries: number;
  sleptMs: number;
}

/** Pages read from a listing without totalResults before it is given up as endless. */
const MAX_UNCOUNTED_PAGES = 5000;
export const MIN_ANSWERS_FOR_EARLY_STOP = 10;
/** A wait the app asks for that ends within this is waited out by the next part; a longer one ends the sync. */
export const NEXT_PART_WAIT_MS = 4 * 60_000;
export const EARLY_STOP_FAILURE_SHARE = 0.8;

export class ScimClient implements ScimProbe {
  readonly baseUrl: string;
  readonly host: string;
  readonly stats: ClientStats = { requests: 0, writes: 0, answers: 0, failures: 0, firstFailure: '', retries: 0, sleptMs: 0 };
  private caps: ScimCapabilities | null = null;
  private readonly fetchAll: FetchAllFn;
  private readonly sleep: (ms: number) => void;
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly attempts: number;
  readonly pacer: Pacer;
  readonly quota: DailyQuota | null;
  /** Set once the client stops sending in this execution. */
  stopped: StopReason | null = null;
  private readonly redact: (text: string) => string;

  constructor(private readonly options: ScimClientOptions) {
    this.redact = redactor(options.token);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.host = hostOf(this.baseUrl);
    this.fetchAll = options.fetchAll ?? gasFetchAll;
    this.sleep = options.sleep ?? gasSleep;
    this.now = options.now ?? (() => Date.now());
    this.batchSize = options.batchSize ?? 20;
    this.attempts = options.attempts ?? 5;
    const maxTotalSleepMs = options.maxTotalSleepMs ?? 90_000;
    this.quota = options.quota ?? null;
    this.pacer = new Pacer({
      now: this.now,
      sleep: this.sleep,
      batchSize: this.batchSize,
      memory: options.pace,
      remainingMs: options.remainingMs ?? (() => RESERVE_MS + maxTotalSleepMs - this.pacer.sleptMs),
    });
  }

  private toFetch(r: ScimRequest): FetchRequest {
    const req: FetchRequest = {
      url: this.baseUrl + r.path,
      method: r.method.toLowerCase() as FetchRequest['method'],
      headers: { Authorization: `Bearer ${this.options.token}`, Accept: 'application/scim+json, application/json' },
      muteHttpExceptions: true,
      followRedirects: false,
    };
    if (r.body !== undefined) {
      req.contentType = 'application/scim+json';
      req.payload = JSON.stringify(r.body);
    }
    return req;
  }

  /** Reads an answer; its text and headers redacted of the token before anything else sees them. */
  private read(res: FetchResponse, now: number): ScimResponse & { signal: ReturnType<typeof rateSignal> } {
    const status = res.getResponseCode();
    const text = this.redact(res.getContentText() ?? '');
    const headers = (res.getHeaders() ?? {}) as Record<string, unknown>;
    const header = (name: string): string | null => {
      for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return this.redact(Array.isArray(v) ? String(v[0]) : String(v));
      return null;
    };
    let body: any = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    const signal = rateSignal(status, header, now);
    return { status, body, text, location: header('location') ?? '', retryAfterMs: retryAfterMs(header('retry-after'), now) ?? (status === 429 ? signal.waitMs : null), signal };
  }

  /**
   * Sends requests (in parallel batches of `batchSize`) and returns one answer
   * each, in order. 429 and 5xx answers are retried with backoff; what still
   * fails after the last try is returned as it is. The tally is checked after
   * every batch, so a server that refuses everything is left alone after one
   * batch: throws a UserError when the run should stop.
   */
  send(requests: ScimRequest[]): ScimResponse[] {
    const answers: ScimResponse[] = [];
    for (let start = 0; start < requests.length; start += this.batchSize) {
      const batch = requests.slice(start, start + this.batchSize);
      const got = this.sendBatch(batch);
      this.record(batch, got);
      answers.push(...got);
    }
    return answers;
  }

  /**
   * One batch: paced (never inside a wait the app asked for, never faster than its learnt rate),
   * 429s sent again once the wait is over, 5xx with backoff. What cannot be sent in this execution's
   * time, inside a long wait, or within the day's quota comes back `notSent`, and nothing more is sent.
   */
  private sendBatch(requests: ScimRequest[]): ScimResponse[] {
    const results: ScimResponse[] = new Array(requests.length);
    const tries = requests.map(() => 0);
    let pending = requests.map((_, i) => i);
    let networkFailures = 0;
    while (pending.length) {
      let n = this.stopped ? 0 : Math.min(this.pacer.admit(pending.length, RESERVE_MS), this.quota ? this.quota.left() : Infinity);
      if (!n && !this.stopped) this.stopped = this.quota && this.quota.left() <= 0 ? 'quota' : this.pacer.heldUntil() ? 'hold' : 'time';
      if (this.stopped) {
        for (const i of pending) results[i] = { status: 0, body: null, text: 'not sent', location: '', retryAfterMs: null, notSent: this.stopped };
        break;
      }
      n = Math.max(1, n);
      const go = pending.slice(0, n);
      let responses: FetchResponse[];
      try {
        this.stats.requests += go.length;
        this.stats.writes += go.filter((i) => requests[i].method !== 'GET').length;
        this.quota?.count(go.length);
        responses = this.fetchAll(go.map((i) => this.toFetch(requests[i])));
      } catch (error) {
        const text = (error instanceof Error ? error.message : String(error)).replace(/^Exception:\s*/, '').slice(0, 200);
        if (/too many times for one day/i.test(text)) {
          this.quota?.exhausted();
          this.stopped = 'quota';
          continue;
        }
        // UrlFetchApp throws (even with muteHttpExceptions) when a host cannot be reached at all: one more try (a blip).
        if (++networkFailures >= 2) throw new UserError(msg('scimUnreachable', { host: this.host, detail: this.redact(text) }));
        this.pacer.holdFor(1000);
        continue;
      }
      const now = this.now();
      const again: number[] = [];
      go.forEach((i, k) => {
        const answer = this.read(responses[k], now);
        const { signal, ...plain } = answer;
        this.pacer.observe(answer.status, signal);
        results[i] = plain;
        tries[i]++;
        if (answer.status === 429 && tries[i] < MAX_429_TRIES) again.push(i);
        else if (answer.status !== 429 && isRetryableStatus(answer.status) && tries[i] < this.attempts) {
          again.push(i);
          const backoff = Math.min(16_000, 1000 * 2 ** (tries[i] - 1));
          this.pacer.holdFor(Math.max(answer.retryAfterMs ?? 0, backoff + Math.floor((backoff * 0.2 * ((tries[i] * 7919) % 10)) / 10)));
        }
      });
      this.stats.retries += again.length;
      // Never resend what was answered: only 429/5xx answers go again, before the rest of the batch.
      pending = [...again, ...pending.slice(n)];
    }
    this.stats.sleptMs = this.pacer.sleptMs;
    return results;
  }

  /** The message for what stopped the client ('' when it did not stop). */
  stopMessage(waiting: number): Message | null {
    if (this.stopped === 'quota' && this.quota) {
      return msg('scimQuotaDay', { used: this.quota.used(), limit: this.quota.limit, waiting, resumeAt: new Date(this.quota.resetsAt()).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' });
    }
    if (this.stopped === 'hold') return msg('scimRateLimited', { host: this.host, wait: Math.ceil((this.pacer.heldUntil() - this.pacer.t()) / 1000), waiting });
    return null;
  }

  /** A stop that the next part of this sync can carry on from (out of time, or a wait that ends within one part). */
  stoppedForThisPart(): boolean {
    return this.stopped === 'time' || (this.stopped === 'hold' && this.pacer.heldUntil() - this.pacer.t() <= NEXT_PART_WAIT_MS);
  }

  /** Keeps the tally (also of Bulk operations) and stops the run when the server refuses the token or most requests fail. */
  record(requests: ScimRequest[], answers: ScimResponse[]): void {
    answers.forEach((a, i) => {
      this.stats.answers++;
      if (!this.isFailure(requests[i], a)) return;
      this.stats.failures++;
      if (!this.stats.firstFailure) this.stats.firstFailure = `${requests[i].method} ${requests[i].path.split('?')[0]} → HTTP ${a.status} ${errorDetail(a)}`.slice(0, 240);
    });
    if (answers.some((a) => a.status === 401)) throw new UserError(msg('scimUnauthorized', { host: this.host }));
    const s = this.stats;
    if (s.answers >= MIN_ANSWERS_FOR_EARLY_STOP && s.failures >= EARLY_STOP_FAILURE_SHARE * s.answers) {
      throw new UserError(msg('scimMostFailed', { failed: s.failures, sent: s.answers, host: this.host, first: s.firstFailure }));
    }
  }

  /** 409 (resolved by adoption) and 404 on one resource (gone already) are part of normal work. */
  private isFailure(req: ScimRequest, a: ScimResponse): boolean {
    if (a.status < 400) return false;
    if (a.status === 409) return false;
    // A PATCH refused for its value-filtered path is resent in the whole-list form the app takes.
    if (refusedValuePath(a.status, a.body, (req.body as { Operations?: PatchOperation[] } | undefined)?.Operations ?? [])) return false;
    if (a.status === 404 && /^\/(Users|Groups)\/[^/?]+/.test(req.path)) return false;
    return true;
  }

  /** What the server supports (GET /ServiceProviderConfig, once per execution). */
  capabilities(): ScimCapabilities {
    if (this.caps) return this.caps;
    const [r] = this.send([{ method: 'GET', path: '/ServiceProviderConfig' }]);
    if (r.status === 200) {
      const caps = parseServiceProviderConfig(r.body);
      if (!caps) throw new UserError(msg('scimNotScim', { url: this.baseUrl, detail: 'the answer to /ServiceProviderConfig is not a SCIM ServiceProviderConfig' }));
      return (this.caps = caps);
    }
    this.failFor(r, '/ServiceProviderConfig');
    // Some apps leave out /ServiceProviderConfig; if /Users answers, assume only the basics.
    const [users] = this.send([{ method: 'GET', path: '/Users?startIndex=1&count=1' }]);
    if (users.status === 200 && users.body && Array.isArray(users.body.Resources)) {
      return (this.caps = { patch: false, bulk: { supported: false, maxOperations: 1, maxPayloadSize: 0 }, filter: { supported: true, maxResults: 100 } });
    }
    throw new UserError(msg('scimNotScim', { url: this.baseUrl, detail: `/ServiceProviderConfig answered HTTP ${r.status} and /Users HTTP ${users.status}` }));
  }

  /** Overrides what the server said it supports (e.g. it answered 501 to a Bulk request it advertised). */
  disableBulk(): void {
    if (this.caps) this.caps = { ...this.caps, bulk: { ...this.caps.bulk, supported: false } };
  }

  /** Throws the message for an answer that means the whole destination is unusable (403, 404 on a collection, 5xx after retries). */
  failFor(r: ScimResponse, what: string): void {
    if (r.notSent) throw new UserError(this.stopMessage(0) ?? msg('scimUnavailable', { host: this.host, code: 429, attempts: MAX_429_TRIES }));
    if (r.status === 403) throw new UserError(msg('scimForbidden', { host: this.host, detail: `${what}: ${errorDetail(r)}` }));
    if (isRetryableStatus(r.status)) throw new UserError(msg('scimUnavailable', { host: this.host, code: r.status, attempts: this.attempts }));
    if (r.status >= 300 && r.status !== 404 && r.status !== 405 && r.status !== 501) {
      throw new UserError(msg('scimNotScim', { url: this.baseUrl, detail: `${what} answered HTTP ${r.status}: ${errorDetail(r)}` }));
    }
  }

  /** Every resource of a collection: the first page says how many there are, the rest are fetched in parallel. */
  listAll(collection: '/Users' | '/Groups', pageSize: number, extraQuery = ''): any[] {
    const page = (startIndex: number, count: number): ScimRequest => ({ method: 'GET', path: `${collection}?startIndex=${startIndex}&count=${count}${extraQuery}` });
    const check = (r: ScimResponse) => {
      if (r.status === 200 && r.body && Array.isArray(r.body.Resources ?? [])) return;
      this.failFor(r, collection);
      throw new UserError(msg('scimNotScim', { url: this.baseUrl, detail: `GET ${collection} answered HTTP ${r.status}` }));
    };
    const [first] = this.send([page(1, pageSize)]);
    check(first);
    const seen = new Map<string, any>();
    const add = (r: ScimResponse) => {
      for (const res of (r.body.Resources ?? []) as any[]) if (res && res.id !== undefined) seen.set(String(res.id), res);
      return ((r.body.Resources ?? []) as any[]).length;
    };
    const got = add(first);
    // totalResults is REQUIRED in a ListResponse (RFC 7644 §3.4.2), but some apps leave it out.
    if (!Number.isFinite(Number(first.body.totalResults ?? NaN))) return this.listUntilEnd(collection, page, check, add, seen, pageSize, got);
    const total = Number(first.body.totalResults);
    const per = Math.max(1, Math.min(pageSize, got || pageSize));
    const starts: number[] = [];
    for (let s = 1 + got; s <= total; s += per) starts.push(s);
    if (starts.length) {
      const pages = this.send(starts.map((s) => page(s, per)));
      pages.forEach(check);
      pages.forEach(add);
    }
    // The collection grew while it was read: read on while pages bring users not seen yet.
    let next = 1 + got + starts.length * per;
    for (let guard = 0; seen.size < total && guard < 100; guard++) {
      const [r] = this.send([page(next, per)]);
      check(r);
      const before = seen.size;
      add(r);
      if (seen.size === before) break;
      next += per;
    }
    // A plan made from a partial list would re-create the users it missed: never use one.
    if (seen.size < total) throw new UserError(msg('scimIncompleteList', { host: this.host, got: seen.size, total, what: collection === '/Users' ? 'users' : 'groups' }));
    return [...seen.values()];
  }

  /**
   * A listing that does not say how many resources there are: read page after page, each as long
   * as the first (the app's own page size when it caps count), until an empty or shorter page. A
   * short first page may be the end or the app's cap, so the next page decides; a page that brings
   * no new resource means paging does not work, and a list that may be incomplete is never used.
   */
  private listUntilEnd(
    collection: '/Users' | '/Groups',
    page: (startIndex: number, count: number) => ScimRequest,
    check: (r: ScimResponse) => void,
    add: (r: ScimResponse) => number,
    seen: Map<string, any>,
    pageSize: number,
    firstCount: number,
  ): any[] {
    if (firstCount === 0) return [];
    const per = Math.min(pageSize, firstCount);
    let next = 1 + firstCount;
    for (let pages = 1; pages < MAX_UNCOUNTED_PAGES; pages++) {
      const [r] = this.send([page(next, per)]);
      check(r);
      const before = seen.size;
      const count = add(r);
      if (count === 0) return [...seen.values()];
      if (seen.size === before) break; // the same resources again: startIndex is ignored
      next += count;
      if (count < per) return [...seen.values()];
    }
    throw new UserError(msg('scimListUncounted', { host: this.host, got: seen.size, what: collection === '/Users' ? 'users' : 'groups' }));
  }

  /** One lookup per filter (GET collection?filter=…), in parallel; null for a lookup that failed. */
  find(collection: '/Users' | '/Groups', filters: string[]): ({ found: any[] } | { error: ScimResponse })[] {
    const answers = this.send(filters.map((f) => ({ method: 'GET' as const, path: `${collection}?filter=${encodeURIComponent(f)}&startIndex=1&count=10` })));
    return answers.map((r) => (r.status === 200 && r.body ? { found: Array.isArray(r.body.Resources) ? r.body.Resources : [] } : { error: r }));
  }

  /** Reachable, a SCIM service, and the token accepted: for Finalize sync. */
  probe(): ScimProbeResult {
    const caps = this.capabilities();
    const [r] = this.send([{ method: 'GET', path: '/Users?startIndex=1&count=1' }]);
    if (r.status !== 200 || !r.body || !Array.isArray(r.body.Resources ?? [])) {
      this.failFor(r, '/Users');
      throw new UserError(msg('scimNotScim', { url: this.baseUrl, detail: `GET /Users answered HTTP ${r.status}` }));
    }
    const total = Number(r.body.totalResults);
    return { host: this.host, patch: caps.patch, bulk: caps.bulk.supported, filter: caps.filter.supported, users: Number.isFinite(total) ? total : null };
  }
}
