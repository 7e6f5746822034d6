// Explain and Preview for a user the rules match who is suspended or archived in Google and has no account.
import { world } from './harness';

test('a suspended or archived user with no account: Explain says not synced (not "in scope"), Preview counts them apart', () => {
  const w = world();
  const rules = w.settings().rules;
  const before = w.call('previewSync');
  w.call('syncNow', {});
  const accountEmails = new Set(w.call('getAccounts', { limit: 500 }).rows.map((a: { email: string }) => a.email.toLowerCase()));
  const away = w.rt.directory.allUsers().filter((u) => (u.suspended || u.archived) && !accountEmails.has(u.primaryEmail.toLowerCase()));
  const matched = away.filter((u) => w.call('explainUser', { email: u.primaryEmail }).roles.length > 0);
  expect(matched.length).toBeGreaterThan(0);
  expect(rules.length).toBeGreaterThan(0);

  for (const u of matched) {
    const x = w.call('explainUser', { email: u.primaryEmail });
    const state = u.archived ? 'archived' : 'suspended';
    expect(x.inScope).toBe(false);
    expect(x.why).toMatch(new RegExp(`^${state[0].toUpperCase()}${state.slice(1)} in Google, so not synced: the rules would give .+, but no account is created for a ${state} user\\.$`));
    expect(x.changes).toEqual([]);
  }
  // An active user in scope still reads "In scope".
  const active = w.rt.directory.allUsers().find((u) => !u.suspended && !u.archived && accountEmails.has(u.primaryEmail.toLowerCase()))!;
  expect(w.call('explainUser', { email: active.primaryEmail }).why).toMatch(/^In scope: /);

  // Preview: the users synced are counted apart from those matched but suspended.
  expect(before.suspendedUnsynced).toBe(matched.length);
  expect(before.inScopeUsers).toBe(before.counts.create);
  expect(before.inScopeUsers + before.suspendedUnsynced).toBeLessThanOrEqual(before.directoryUsers);
});
