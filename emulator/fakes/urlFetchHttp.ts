// A real, synchronous UrlFetchApp for the simulated runtime: Apps Script's
// fetch/fetchAll block until the answer is there, so the HTTP work runs on a
// worker thread (Node's fetch) while the calling thread waits on a
// SharedArrayBuffer with Atomics.wait and then takes the answer with
// receiveMessageOnPort. Plug it in as the runtime's UrlFetchImpl, or use
// createUrlFetchApp() to get a stand-alone UrlFetchApp global for tests.
//
// The server must not run on the thread that calls fetch (that thread is
// blocked while waiting): start it in a child process or a worker.
//
// Apps Script behaviour kept: method/payload/contentType/headers, payload objects
// form-encoded (multipart when a value is a Blob), byte-array and Blob payloads,
// default User-Agent, muteHttpExceptions (without it a 4xx/5xx throws
// "Exception: Request failed for <origin> returned code N. Truncated server
// response: …"), network failures thrown even when muted ("Address unavailable",
// "DNS error", "Timeout"), the 2 KB URL limit, followRedirects, fetchAll in
// parallel. Every request is counted.
import { MessageChannel, MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { makeBlob } from './utilities';
import type { Exec } from './exec';
import type { HttpResponseLike, UrlFetchImpl, UrlFetchRequest } from './urlfetch';

export const USER_AGENT = 'Mozilla/5.0 (compatible; Google-Apps-Script; beanserver; +https://script.google.com; id: SIMULATED)';
/** Apps Script's limit on a fetched URL's length. */
export const MAX_URL_LENGTH = 2082;
/** Characters of the body quoted in the exception for a failed, unmuted request. */
export const TRUNCATE_AT = 100;

interface WireRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: 'follow' | 'manual';
}

interface WireResponse {
  ok: boolean;
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** Set when no HTTP answer came: 'dns' | 'refused' | 'timeout' | 'other'. */
  failure?: string;
  detail?: string;
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const port = workerData.port;
async function one(r, timeoutMs) {
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.body === null ? undefined : r.body,
      redirect: r.redirect,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = new Uint8Array(await res.arrayBuffer());
    const headers = [];
    res.headers.forEach((v, k) => { if (k !== 'set-cookie') headers.push([k, v]); });
    for (const c of (res.headers.getSetCookie ? res.headers.getSetCookie() : [])) headers.push(['set-cookie', c]);
    return { ok: true, status: res.status, headers, body };
  } catch (e) {
    const code = (e && e.cause && e.cause.code) || (e && e.name) || '';
    const failure = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'dns'
      : code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'UND_ERR_SOCKET' ? 'refused'
      : code === 'TimeoutError' || code === 'AbortError' || code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'other';
    return { ok: false, status: 0, headers: [], body: new Uint8Array(0), failure, detail: String((e && e.cause && e.cause.message) || (e && e.message) || e) };
  }
}
port.on('message', async (m) => {
  const results = await Promise.all(m.requests.map((r) => one(r, m.timeoutMs)));
  port.postMessage({ id: m.id, results });
  const flag = new Int32Array(m.shared);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

let shared: { worker: Worker; port: MessagePort; next: number } | null = null;

function channel() {
  if (shared) return shared;
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2 }, transferList: [port2] });
  worker.unref();
  port1.unref();
  shared = { worker, port: port1, next: 1 };
  return shared;
}

/** Sends requests from the worker and blocks this thread until all are answered. */
function exchange(requests: WireRequest[], timeoutMs: number): WireResponse[] {
  const c = channel();
  const id = c.next++;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  c.port.postMessage({ id, requests, timeoutMs, shared: flag.buffer });
  const waited = Atomics.wait(flag, 0, 0, timeoutMs + 10_000);
  for (;;) {
    const got = receiveMessageOnPort(c.port) as { message: { id: number; results: WireResponse[] } } | undefined;
    if (!got) break;
    if (got.message.id === id) return got.message.results;
  }
  throw new Error(waited === 'timed-out' ? 'the HTTP worker did not answer in time' : 'the HTTP worker answered without results');
}

/** Stops the shared worker (tests call this in afterAll; it is unref'd anyway). */
export async function closeHttpWorker(): Promise<void> {
  if (!shared) return;
  const s = shared;
  shared = null;
  s.port.close();
  await s.worker.terminate();
}

// ---------- the Apps Script side ----------

export interface UrlFetchLogEntry {
  method: string;
  url: string;
  code: number;
  ms: number;
}

export interface UrlFetchStats {
  /** HTTP requests sent (fetchAll counts each of its requests). */
  requests: number;
  fetchCalls: number;
  fetchAllCalls: number;
  byMethod: Record<string, number>;
  log: UrlFetchLogEntry[];
}

export interface SyncHttpOptions {
  /** Apps Script gives up after about 60 s. */
  timeoutMs?: number;
  userAgent?: string;
  /** Keep at most this many log entries. */
  logLimit?: number;
}

type Params = Record<string, unknown>;

function isBlob(v: unknown): v is { getBytes(): number[]; getContentType?(): string | null; getName?(): string | null } {
  return !!v && typeof v === 'object' && typeof (v as { getBytes?: unknown }).getBytes === 'function';
}

const fromSigned = (bytes: ArrayLike<number>) => Uint8Array.from(Array.from(bytes, (b) => b & 0xff));
const toSigned = (bytes: Uint8Array) => Array.from(bytes, (b) => (b > 127 ? b - 256 : b));

function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase());
}

function formEncode(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

function multipart(obj: Record<string, unknown>): { body: Uint8Array; contentType: string } {
  const boundary = `----RosterSyncSimulated${Date.now().toString(36)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (isBlob(v)) {
      const name = v.getName?.() || k;
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"; filename="${name}"\r\nContent-Type: ${v.getContentType?.() || 'application/octet-stream'}\r\n\r\n`));
      parts.push(Buffer.from(fromSigned(v.getBytes())));
      parts.push(Buffer.from('\r\n'));
    } else {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`));
    }
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(parts)), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** An HTTPResponse as UrlFetchApp returns it. */
export class SimulatedHttpResponse implements HttpResponseLike {
  constructor(
    private readonly code: number,
    private readonly headerList: [string, string][],
    private readonly bytes: Uint8Array,
  ) {}
  getResponseCode(): number {
    return this.code;
  }
  getContentText(charset?: string): string {
    const enc = (charset ?? 'utf-8').toLowerCase().replace(/[^a-z0-9]/g, '');
    return Buffer.from(this.bytes).toString(enc === 'usascii' || enc === 'ascii' ? 'ascii' : enc === 'iso88591' || enc === 'latin1' ? 'latin1' : 'utf8');
  }
  getContent(): number[] {
    return toSigned(this.bytes);
  }
  /** Header names as Apps Script shows them (Title-Case); a repeated header keeps its last value. */
  getHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.headerList) out[canonicalHeader(k)] = v;
    return out;
  }
  /** Like getHeaders, with repeated headers (Set-Cookie) as arrays. */
  getAllHeaders(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of this.headerList) {
      const name = canonicalHeader(k);
      const prev = out[name];
      out[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
  getBlob(): unknown {
    const type = this.headerList.find(([k]) => k === 'content-type')?.[1]?.split(';')[0].trim() ?? null;
    return makeBlob(Buffer.from(this.bytes), type, null);
  }
  getAs(contentType: string): unknown {
    return makeBlob(Buffer.from(this.bytes), contentType, null);
  }
}

/** Real HTTP behind the runtime's UrlFetchImpl extension point. */
export class SyncHttp implements UrlFetchImpl {
  readonly stats: UrlFetchStats = { requests: 0, fetchCalls: 0, fetchAllCalls: 0, byMethod: {}, log: [] };
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly logLimit: number;

  constructor(options: SyncHttpOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? USER_AGENT;
    this.logLimit = options.logLimit ?? 10_000;
  }

  resetStats(): void {
    this.stats.requests = 0;
    this.stats.fetchCalls = 0;
    this.stats.fetchAllCalls = 0;
    this.stats.byMethod = {};
    this.stats.log = [];
  }

  fetch(url: string, params: Params = {}, exec?: Exec): SimulatedHttpResponse {
    this.stats.fetchCalls++;
    return this.run([{ url, ...params }], exec)[0];
  }

  fetchAll(requests: UrlFetchRequest[], exec?: Exec): SimulatedHttpResponse[] {
    this.stats.fetchAllCalls++;
    return this.run(requests.map((r) => (typeof r === 'string' ? { url: r } : r)), exec);
  }

  private error(exec: Exec | undefined, message: string): Error {
    if (exec) return exec.error(message, { name: 'Exception' });
    const e = new Error(message);
    e.name = 'Exception';
    return e;
  }

  private toWire(r: UrlFetchRequest, exec?: Exec): WireRequest {
    const url = String(r.url ?? '');
    if (url.length > MAX_URL_LENGTH) throw this.error(exec, 'Limit Exceeded: URLFetch URL Length.');
    if (!/^https?:\/\/[^/\s]+/i.test(url)) throw this.error(exec, `Invalid argument: ${url}`);
    const method = String(r.method ?? 'get').toUpperCase();
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].includes(method)) throw this.error(exec, `Invalid argument: method`);
    const headers = new Map<string, [string, string]>();
    const set = (k: string, v: string) => headers.set(k.toLowerCase(), [k, v]);
    set('User-Agent', this.userAgent);
    for (const [k, v] of Object.entries((r.headers as Record<string, unknown>) ?? {})) if (v !== undefined && v !== null) set(k, String(v));
    // The simulation's clock travels with the request, so a test server's rate limits and waits run on the
    // same (simulated) time as the script's Utilities.sleep; real Apps Script sends no such header.
    if (exec) set('X-Simulated-Time', String(exec.nowMs()));
    let body: Uint8Array | null = null;
    let contentType = typeof r.contentType === 'string' ? r.contentType : null;
    const payload = r.payload;
    if (payload !== undefined && payload !== null && method !== 'GET' && method !== 'HEAD') {
      if (typeof payload === 'string') body = new Uint8Array(Buffer.from(payload, 'utf8'));
      else if (isBlob(payload)) {
        body = fromSigned(payload.getBytes());
        contentType = contentType ?? payload.getContentType?.() ?? null;
      } else if (Array.isArray(payload) || payload instanceof Uint8Array) body = fromSigned(payload as ArrayLike<number>);
      else if (typeof payload === 'object') {
        const obj = payload as Record<string, unknown>;
        if (Object.values(obj).some(isBlob)) {
          const mp = multipart(obj);
          body = mp.body;
          contentType = mp.contentType;
        } else body = new Uint8Array(Buffer.from(formEncode(obj), 'utf8'));
      } else body = new Uint8Array(Buffer.from(String(payload), 'utf8'));
      if (!headers.has('content-type')) set('Content-Type', contentType ?? 'application/x-www-form-urlencoded');
    }
    if (contentType && !headers.has('content-type')) set('Content-Type', contentType);
    return { url, method, headers: [...headers.values()], body, redirect: r.followRedirects === false ? 'manual' : 'follow' };
  }

  private run(requests: UrlFetchRequest[], exec?: Exec): SimulatedHttpResponse[] {
    const wire = requests.map((r) => this.toWire(r, exec));
    const started = Date.now();
    const answers = exchange(wire, this.timeoutMs);
    const ms = Date.now() - started;
    this.stats.requests += wire.length;
    wire.forEach((w, i) => {
      this.stats.byMethod[w.method] = (this.stats.byMethod[w.method] ?? 0) + 1;
      if (this.stats.log.length < this.logLimit) this.stats.log.push({ method: w.method, url: w.url, code: answers[i].status, ms });
    });
    const out: SimulatedHttpResponse[] = [];
    answers.forEach((a, i) => {
      const url = wire[i].url;
      if (!a.ok) {
        // Apps Script throws for a request that got no HTTP answer, muted or not.
        const kind = a.failure === 'dns' ? 'DNS error' : a.failure === 'timeout' ? 'Timeout' : 'Address unavailable';
        throw this.error(exec, `${kind}: ${url}`);
      }
      const res = new SimulatedHttpResponse(a.status, a.headers, a.body);
      if (a.status >= 400 && requests[i].muteHttpExceptions !== true) {
        const origin = /^[a-z]+:\/\/[^/?#]+/i.exec(url)?.[0] ?? url;
        const text = res.getContentText();
        const quoted = text.length > TRUNCATE_AT ? `${text.slice(0, TRUNCATE_AT)}...` : text;
        throw this.error(exec, `Request failed for ${origin} returned code ${a.status}. Truncated server response: ${quoted} (use muteHttpExceptions option to examine full response)`);
      }
      out.push(res);
    });
    return out;
  }
}

export interface StandaloneUrlFetchApp {
  fetch(url: string, params?: Params): SimulatedHttpResponse;
  fetchAll(requests: (string | UrlFetchRequest)[]): SimulatedHttpResponse[];
  getRequest(url: string, params?: Params): Record<string, unknown>;
}

/** A UrlFetchApp global for tests outside the simulated runtime (no Exec): `globalThis.UrlFetchApp = createUrlFetchApp(http)`. */
export function createUrlFetchApp(http: SyncHttp = new SyncHttp()): StandaloneUrlFetchApp {
  return {
    fetch: (url, params) => http.fetch(String(url), params ?? {}),
    fetchAll: (requests) => http.fetchAll(requests.map((r) => (typeof r === 'string' ? { url: r } : r))),
    getRequest: (url, params) => ({ url, method: 'get', headers: {}, payload: '', contentType: null, followRedirects: true, validateHttpsCertificates: true, useIntranet: false, ...(params ?? {}) }),
  };
}
