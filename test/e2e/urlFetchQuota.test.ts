// A large domain is read through UrlFetchApp (the Directory REST API in parallel rounds), so the sync
// account's daily UrlFetchApp quota, which its other scripts share, can run out during a read: the sync
// then fails with the catalog's message and fix, not as something unexpected, and changes nothing.
import { generateDomain, scaleRules } from '../../emulator/domain';
import { world } from './harness';

test('the day\'s UrlFetchApp quota refused during a parallel directory read: a clear message and fix, nothing changed', () => {
  const w = world({ directory: generateDomain({ users: 600, domain: 'quota.example', groups: 3 }), rules: scaleRules('quota.example'), urlFetchDailyQuota: 100 });
  // The sync account's other scripts used the day.
  w.rt.urlFetchQuota.useElsewhere('admin@quota.example', 100);
  // The first scheduled sync of a domain of unknown size reads it in parallel rounds.
  const runs = w.rt.advanceHours(30).filter((r) => r.handler === 'runScheduledSync' && (r.result as { state?: string })?.state !== 'idle');
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const [failed] = w.history();
  expect(failed).toMatchObject({ Outcome: 'failed' });
  expect(failed.Message).toContain('Apps Script refused the sync account more web requests today (Service invoked too many times for one day: urlfetch.)');
  expect(failed.Message).not.toContain('unexpected');
  expect(w.roster()).toEqual([]);
});
