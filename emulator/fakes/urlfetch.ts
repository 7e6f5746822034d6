// UrlFetchApp extension point. The simulation itself makes no HTTP calls; a
// runtime option supplies a synchronous implementation (e.g. for a local SCIM
// server). Every call is still counted, timed and open to fault injection.
import { Exec } from './exec';
import type { DirectorySwitches } from './directory';
import type { FakeDirectoryState } from './directoryState';
import { isDirectoryRest, serveDirectoryRest } from './directoryRest';
import type { UrlFetchQuota } from './urlFetchQuota';

/** What the script gets back from fetch: the subset of HTTPResponse scripts use. */
export interface HttpResponseLike {
  getResponseCode(): number;
  getContentText(charset?: string): string;
  getHeaders(): Record<string, string>;
  getAllHeaders?(): Record<string, string | string[]>;
  getBlob?(): unknown;
}

export interface UrlFetchRequest extends Record<string, unknown> {
  url: string;
}

export interface UrlFetchImpl {
  fetch(url: string, params: Record<string, unknown>, exec: Exec): HttpResponseLike;
  fetchAll?(requests: UrlFetchRequest[], exec: Exec): HttpResponseLike[];
}

const SCOPE = 'https://www.googleapis.com/auth/script.external_request';

/**
 * UrlFetchApp. Requests to the Directory REST API are served by the fake directory (directoryRest.ts);
 * the others go to `impl`. fetchAll is one round: its cost is UrlFetchApp.fetchAll's latency plus
 * the slowest Directory request in it.
 */
export function makeUrlFetchApp(
  exec: Exec,
  impl: UrlFetchImpl | undefined,
  directory?: { state: FakeDirectoryState; switches: DirectorySwitches },
  quota?: UrlFetchQuota,
): unknown {
  /** The effective user's daily quota (urlFetchQuota.ts): checked before anything is sent. */
  const count = (n: number) => quota?.take(exec.effectiveUser, n, (m) => exec.error(m));
  const need = () => {
    if (!impl) throw exec.error('UrlFetchApp is not available in this simulation');
    return impl;
  };
  const checked = (request: UrlFetchRequest, r: HttpResponseLike): HttpResponseLike => {
    const code = r.getResponseCode();
    if (code < 400 || request.muteHttpExceptions === true) return r;
    const host = /^https?:\/\/[^/]+/.exec(request.url)?.[0] ?? request.url;
    throw exec.error(`Request failed for ${host} returned code ${code}. Truncated server response: ${r.getContentText().slice(0, 300)} (use muteHttpExceptions option to examine full response)`);
  };
  /** Serves a round: Directory requests by the fake directory, the rest by impl, in request order. */
  const serve = (list: UrlFetchRequest[], parallel: boolean): HttpResponseLike[] => {
    const rest = directory ? list.map((r) => isDirectoryRest(r.url)) : list.map(() => false);
    const out: HttpResponseLike[] = new Array(list.length);
    if (rest.some(Boolean)) {
      const mine = list.filter((_, i) => rest[i]);
      const { responses, latencyMs } = serveDirectoryRest(exec, directory!.state, directory!.switches, mine);
      exec.wait(Math.ceil(latencyMs));
      let k = 0;
      list.forEach((_, i) => {
        if (rest[i]) out[i] = responses[k++];
      });
    }
    const others = list.filter((_, i) => !rest[i]);
    if (others.length) {
      const i = need();
      const got = parallel && i.fetchAll ? i.fetchAll(others, exec) : others.map(({ url, ...p }) => i.fetch(url, p, exec));
      let k = 0;
      list.forEach((_, j) => {
        if (!rest[j]) out[j] = got[k++];
      });
    }
    // (Only the Directory's answers are checked here; the impl behind other hosts answers as it does.)
    return out.map((r, j) => (rest[j] ? checked(list[j], r) : r));
  };
  return {
    fetch(url: string, params?: Record<string, unknown>) {
      exec.call('UrlFetchApp.fetch', [url]);
      exec.requireAuth('UrlFetchApp.fetch', SCOPE, 'FULL');
      count(1);
      const request = { ...(params ?? {}), url: String(url) };
      if (!(directory && isDirectoryRest(request.url))) {
        const i = need();
        try {
          return i.fetch(String(url), params ?? {}, exec);
        } catch (e) {
          throw exec.adopt(e); // host errors become script-realm errors (instanceof Error holds)
        }
      }
      return serve([request], false)[0];
    },
    fetchAll(requests: (string | UrlFetchRequest)[]) {
      const list = requests.map((r) => (typeof r === 'string' ? { url: r } : r));
      exec.call('UrlFetchApp.fetchAll', [list.map((r) => r.url)]);
      exec.requireAuth('UrlFetchApp.fetchAll', SCOPE, 'FULL');
      count(list.length);
      try {
        return serve(list, true);
      } catch (e) {
        throw exec.adopt(e);
      }
    },
    getRequest(url: string, params?: Record<string, unknown>) {
      return { url, method: 'get', ...(params ?? {}) };
    },
  };
}
