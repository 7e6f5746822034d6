// The synchronous UrlFetchApp (emulator/fakes/urlFetchHttp.ts) against a real
// HTTP server: Apps Script's request parameters, responses and errors.
import { MAX_URL_LENGTH, SyncHttp, closeHttpWorker, createUrlFetchApp } from './urlFetchHttp';
import { ScimTestServer, startScimServer } from '../scim/harness';

let server: ScimTestServer;
let origin: string;
const http = new SyncHttp({ timeoutMs: 10_000 });
const UrlFetchApp = createUrlFetchApp(http);

beforeAll(async () => {
  server = await startScimServer();
  origin = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.stop();
  await closeHttpWorker();
});

const json = (r: { getContentText(): string }) => JSON.parse(r.getContentText());

test('fetch blocks until the answer is there and returns an HTTPResponse', () => {
  const r = UrlFetchApp.fetch(`${origin}/echo?x=1`);
  expect(r.getResponseCode()).toBe(200);
  const body = json(r);
  expect(body).toMatchObject({ method: 'GET', url: '/echo?x=1' });
  expect(body.headers['user-agent']).toMatch(/Google-Apps-Script/);
  expect(r.getHeaders()['Content-Type']).toMatch(/^application\/json/);
  expect(r.getAllHeaders()['Content-Type']).toMatch(/^application\/json/);
  expect((r as any).getContent().length).toBe(Buffer.byteLength(r.getContentText()));
  const blob = (r as any).getBlob();
  expect(blob.getDataAsString()).toBe(r.getContentText());
  expect(blob.getContentType()).toBe('application/json');
});

test('method, payload, contentType and headers are sent as given', () => {
  const r = UrlFetchApp.fetch(`${origin}/echo`, { method: 'patch', contentType: 'application/scim+json', payload: '{"a":"é"}', headers: { Authorization: 'Bearer t', 'X-Extra': 'yes' } });
  const body = json(r);
  expect(body.method).toBe('PATCH');
  expect(body.headers).toMatchObject({ 'content-type': 'application/scim+json', authorization: 'Bearer t', 'x-extra': 'yes' });
  expect(body.body).toBe('{"a":"é"}');
});

test('an object payload is form-encoded, as Apps Script does', () => {
  const body = json(UrlFetchApp.fetch(`${origin}/echo`, { method: 'post', payload: { name: 'A B', n: 1 } }));
  expect(body.headers['content-type']).toBe('application/x-www-form-urlencoded');
  expect(body.body).toBe('name=A%20B&n=1');
});

test('without muteHttpExceptions a 4xx/5xx throws Google\'s exception; with it the response comes back', () => {
  let error: any;
  try {
    UrlFetchApp.fetch(`${origin}/status/503`);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('Exception');
  expect(String(error)).toBe(`Exception: Request failed for ${origin} returned code 503. Truncated server response: status 503: ${'x'.repeat(88)}... (use muteHttpExceptions option to examine full response)`);
  const r = UrlFetchApp.fetch(`${origin}/status/404`, { muteHttpExceptions: true });
  expect(r.getResponseCode()).toBe(404);
  expect(r.getContentText()).toMatch(/^status 404/);
});

test('a host that cannot be reached throws even when muted', () => {
  expect(() => UrlFetchApp.fetch('http://127.0.0.1:1/x', { muteHttpExceptions: true })).toThrow('Address unavailable: http://127.0.0.1:1/x');
  expect(() => UrlFetchApp.fetch('not a url')).toThrow('Invalid argument: not a url');
  expect(() => UrlFetchApp.fetch(`${origin}/echo?q=${'a'.repeat(MAX_URL_LENGTH)}`)).toThrow('Limit Exceeded: URLFetch URL Length.');
});

test('repeated headers come back as arrays from getAllHeaders; redirects are followed unless told not to', () => {
  const r = UrlFetchApp.fetch(`${origin}/cookies`);
  expect(r.getAllHeaders()['Set-Cookie']).toEqual(['a=1', 'b=2']);
  expect(r.getHeaders()['Retry-After']).toBe('5');
  expect(json(UrlFetchApp.fetch(`${origin}/redirect`)).url).toBe('/echo');
  const stay = UrlFetchApp.fetch(`${origin}/redirect`, { followRedirects: false, muteHttpExceptions: true });
  expect(stay.getResponseCode()).toBe(302);
  expect(stay.getHeaders()['Location']).toBe('/echo');
});

test('fetchAll sends in parallel and answers in order; every request is counted', () => {
  http.resetStats();
  const responses = UrlFetchApp.fetchAll([`${origin}/echo?i=0`, { url: `${origin}/echo?i=1`, method: 'post', payload: 'x' }, { url: `${origin}/status/500`, muteHttpExceptions: true }]);
  expect(responses.map((r) => r.getResponseCode())).toEqual([200, 200, 500]);
  expect(json(responses[0]).url).toBe('/echo?i=0');
  expect(json(responses[1])).toMatchObject({ method: 'POST', url: '/echo?i=1' });
  expect(http.stats).toMatchObject({ requests: 3, fetchAllCalls: 1, fetchCalls: 0, byMethod: { GET: 2, POST: 1 } });
  expect(() => UrlFetchApp.fetchAll([`${origin}/echo`, `${origin}/status/429`])).toThrow(/returned code 429/);
});
