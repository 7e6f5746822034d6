// The simulated UrlFetchApp's daily quota, as Google documents it (developers.google.com/apps-script/guides/services/quotas):
// per user, each request of a fetchAll counted, "Service invoked too many times for one day: urlfetch." beyond it,
// "reset 24 hours after the first request".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeDirectoryState, SimRuntime } from './runtime';

const SCRIPT = `
function one() { return UrlFetchApp.fetch('https://app.example/a').getResponseCode(); }
function many(n) { return UrlFetchApp.fetchAll(Array.from({ length: n }, function (_, i) { return 'https://app.example/' + i; })).length; }
`;

function runtime(quota: number): SimRuntime {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'urlfetch-quota-'));
  fs.writeFileSync(path.join(dir, 'Code.js'), SCRIPT);
  const directory = new FakeDirectoryState({ domain: 'school.example' });
  directory.addUser({ email: 'admin@school.example', givenName: 'A', familyName: 'Admin', orgUnitPath: '/', isAdmin: true });
  directory.addUser({ email: 'teacher@school.example', givenName: 'T', familyName: 'Teacher', orgUnitPath: '/' });
  const ok = { getResponseCode: () => 200, getContentText: () => '', getHeaders: () => ({}) };
  return new SimRuntime({
    scriptPath: path.join(dir, 'Code.js'),
    htmlDir: dir,
    directory,
    urlFetchDailyQuota: quota,
    urlFetch: { fetch: () => ok, fetchAll: (requests) => requests.map(() => ok) },
  });
}

test('each request of a fetchAll counts; a call that does not fit in the day is refused whole with Google\'s message', () => {
  const rt = runtime(10);
  expect(rt.run('many', [6])).toBe(6);
  expect(rt.run('one')).toBe(200);
  expect(rt.urlFetchQuota.used('admin@school.example')).toBe(7);
  expect(() => rt.run('many', [4])).toThrow('Service invoked too many times for one day: urlfetch.');
  expect(rt.urlFetchQuota.used('admin@school.example')).toBe(7);
  expect(rt.run('many', [3])).toBe(3);
  expect(() => rt.run('one')).toThrow('Service invoked too many times for one day: urlfetch.');
  // Per user: another user of the script has a day of their own.
  expect(rt.run('many', [10], { user: 'teacher@school.example' })).toBe(10);
});

test('the quota resets 24 hours after the first request of the day, not at midnight', () => {
  const rt = runtime(5);
  const first = rt.nowMs();
  rt.run('many', [5]);
  rt.setClock(first + 23 * 60 * 60 * 1000);
  expect(() => rt.run('one')).toThrow('Service invoked too many times for one day: urlfetch.');
  rt.setClock(first + 24 * 60 * 60 * 1000);
  expect(rt.run('many', [5])).toBe(5);
  expect(rt.urlFetchQuota.requests).toBe(10);
});
