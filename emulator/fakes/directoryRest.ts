// The Admin SDK Directory REST API (https://admin.googleapis.com/admin/directory/v1/…) as
// UrlFetchApp reaches it with `Authorization: Bearer ScriptApp.getOAuthToken()`. It serves the
// same FakeDirectoryState as the AdminDirectory advanced service, through the same code, so the
// two never disagree; only the transport differs:
// - an error is an HTTP status with Google's JSON error body ({"error": {code, message, errors,
//   status}}), and UrlFetchApp throws on it unless muteHttpExceptions is set;
// - a missing or wrong token is a 401 UNAUTHENTICATED;
// - every request is counted under the advanced-service name (AdminDirectory.Users.list, …) and
//   open to the same injected faults; a round costs UrlFetchApp's latency (the requests of a
//   fetchAll round run in parallel, UrlFetchApp reference: "fetchAll … makes multiple requests"),
//   plus, in the pessimistic model, its slowest request at the advanced service's latency.
import { Exec } from './exec';
import { AdminDirectoryFake, DirectorySwitches, GoogleApiError, makeAdminDirectory } from './directory';
import { FakeDirectoryState } from './directoryState';
import { oauthToken } from './script';
import type { HttpResponseLike, UrlFetchRequest } from './urlfetch';

export const DIRECTORY_REST = 'https://admin.googleapis.com/admin/directory/v1/';

export function isDirectoryRest(url: string): boolean {
  return url.startsWith(DIRECTORY_REST);
}

const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

function response(code: number, body: unknown): HttpResponseLike {
  const text = JSON.stringify(body);
  return { getResponseCode: () => code, getContentText: () => text, getHeaders: () => ({ 'Content-Type': 'application/json; charset=UTF-8' }) };
}

function errorResponse(code: number, message: string, errors: unknown[]): HttpResponseLike {
  return response(code, { error: { code, message, errors, status: STATUS[code] ?? 'UNKNOWN' } });
}

/**
 * Serves requests of one round: `parallel` true for fetchAll (the round costs its slowest request,
 * charged once by the caller through the returned latency), false for fetch (one request).
 */
export function serveDirectoryRest(exec: Exec, state: FakeDirectoryState, switches: DirectorySwitches, requests: UrlFetchRequest[]): { responses: HttpResponseLike[]; latencyMs: number } {
  let latencyMs = 0;
  const charge = (method: string, args: unknown[]) => {
    exec.count(method);
    latencyMs = Math.max(latencyMs, exec.restLatency(method));
    const fault = exec.fault(method, args);
    if (fault) throw fault;
  };
  const api = makeAdminDirectory(exec, state, switches, charge);
  // Google builds and serializes the answers; the script's CPU is its parsing of them.
  const responses = exec.untimed(() => requests.map((r) => serveOne(exec, api, r)));
  return { responses, latencyMs };
}

function serveOne(exec: Exec, api: AdminDirectoryFake, request: UrlFetchRequest): HttpResponseLike {
  const headers = (request.headers ?? {}) as Record<string, string>;
  const auth = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  if (auth !== `Bearer ${oauthToken(exec.effectiveUser)}`) {
    return errorResponse(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', [{ message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' }]);
  }
  const method = String(request.method ?? 'get').toLowerCase();
  const url = new URL(request.url);
  const path = url.pathname.replace('/admin/directory/v1/', '').split('/').map(decodeURIComponent);
  const q: Record<string, string> = Object.fromEntries(url.searchParams);
  try {
    if (method !== 'get') return errorResponse(405, 'Method not allowed', []);
    if (path.length === 1 && path[0] === 'users') return response(200, api.Users.list(q));
    if (path.length === 2 && path[0] === 'users') return response(200, api.Users.get(path[1], q));
    if (path.length === 3 && path[0] === 'groups' && path[2] === 'members') return response(200, api.Members.list(path[1], q));
    if (path.length === 3 && path[0] === 'customer' && path[2] === 'orgunits') return response(200, api.Orgunits.list(path[1], q));
    return errorResponse(404, 'Not Found', []);
  } catch (error) {
    const e = error as GoogleApiError;
    if (!e?.details) throw error;
    return errorResponse(e.details.code, e.details.message, e.details.errors);
  }
}
