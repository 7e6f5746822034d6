// UrlFetchApp extension point. The simulation itself makes no HTTP calls; a
// runtime option supplies a synchronous implementation (e.g. for a local SCIM
// server). Every call is still counted, timed and open to fault injection.
import { Exec } from './exec';

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

export function makeUrlFetchApp(exec: Exec, impl: UrlFetchImpl | undefined): unknown {
  const need = () => {
    if (!impl) throw exec.error('UrlFetchApp is not available in this simulation');
    return impl;
  };
  return {
    fetch(url: string, params?: Record<string, unknown>) {
      exec.call('UrlFetchApp.fetch', [url]);
      exec.requireAuth('UrlFetchApp.fetch', SCOPE, 'FULL');
      const i = need();
      try {
        return i.fetch(String(url), params ?? {}, exec);
      } catch (e) {
        throw exec.adopt(e); // host errors become script-realm errors (instanceof Error holds)
      }
    },
    fetchAll(requests: (string | UrlFetchRequest)[]) {
      const list = requests.map((r) => (typeof r === 'string' ? { url: r } : r));
      exec.call('UrlFetchApp.fetchAll', [list.map((r) => r.url)]);
      exec.requireAuth('UrlFetchApp.fetchAll', SCOPE, 'FULL');
      const i = need();
      try {
        return i.fetchAll ? i.fetchAll(list, exec) : list.map(({ url, ...p }) => i.fetch(url, p, exec));
      } catch (e) {
        throw exec.adopt(e);
      }
    },
    getRequest(url: string, params?: Record<string, unknown>) {
      return { url, method: 'get', ...(params ?? {}) };
    },
  };
}
