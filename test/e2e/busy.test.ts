// "A sync is already running" names what holds the roster: the sync part running now, an account
// edit, or a run Google killed (whose lease only expires); never "started just now, part 1" by default.
import { World, world } from './harness';
import { CATALOG } from '../../src/core/messages';

type Json = any;

function setLimit(w: World, ms: number): void {
  (w.rt as unknown as { executionLimitMs: number }).executionLimitMs = ms;
}

function lease(w: World): Json {
  const raw = w.rt.properties.script.map.get(`rs:lease:${w.rt.activeSpreadsheetId}`);
  return raw ? JSON.parse(raw) : null;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Runs a server function under Google's time limit cut to `limitMs`; true when Google killed it. */
function cutOff(w: World, limitMs: number, fn: string, arg: unknown): boolean {
  setLimit(w, limitMs);
  try {
    w.rt.runFromBrowser(fn, [arg]);
    return false;
  } catch (e) {
    if (!/Exceeded maximum execution time/.test(String((e as Error).message))) throw e;
    return true;
  } finally {
    setLimit(w, 360_000);
  }
}

test('a sync part killed before it saved anything: first "running since its start, part 1", then "stopped by Google" until its lease expires', () => {
  const w = world();
  expect(cutOff(w, 300, 'syncNow', {})).toBe(true);
  const held = lease(w);
  expect(held).toMatchObject({ purpose: 'sync', sinceMs: expect.any(Number) });

  const busy = w.call('syncNow', {});
  expect(busy.state).toBe('busy');
  expect(busy.message).toBe(CATALOG.alreadyRunning.text.replace('{startedAt}', iso(held.sinceMs)).replace('{part}', '1'));
  expect(busy.message).not.toContain('just now');

  w.rt.setClock(held.sinceMs + 5.5 * 60_000);
  const stuck = w.call('syncNow', {});
  expect(stuck.state).toBe('busy');
  expect(stuck.message).toBe(`The sync part that started ${iso(held.sinceMs)} was stopped by Google before it could finish; the roster stays locked until ${iso(held.expiresAtMs)}.`);
  expect(stuck.fix).toContain(`Try again after ${iso(held.expiresAtMs)}`);

  w.rt.setClock(held.expiresAtMs + 1);
  let r = w.call('syncNow', {});
  while (r.state === 'in-progress') r = w.call('continueSync');
  expect(r.state).toBe('done');
});

test('an account edit holding the lock is named as such, not as a sync', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  expect(w.call('syncNow', {}).state).toBe('done');
  const [account] = w.call('getAccounts', { limit: 1 }).rows;
  // Cut the edit off at each point until one dies holding the lease (as Google may end any execution).
  let held: Json = null;
  for (let ms = 20; ms < 5000 && !held; ms += 20) {
    const died = cutOff(w, ms, 'updateAccounts', { ids: [account.id], status: 'disabled' });
    if (died && lease(w)?.purpose === 'edit') held = lease(w);
    else if (!died) w.call('updateAccounts', { ids: [account.id], status: 'active' });
  }
  expect(held).not.toBeNull();
  const busy = w.call('syncNow', {});
  expect(busy.state).toBe('busy');
  expect(busy.message).toBe(`An admin is changing accounts right now (since ${iso(held.sinceMs)}); the roster is locked for those few seconds.`);
  expect(busy.message).not.toMatch(/sync is already running/);
  expect(w.envelope('addAccount', { name: 'Visiting Coach', email: 'coach@visitors.example', role: 'teacher' })).toMatchObject({ ok: false, error: { id: 'rosterBeingEdited' } });

  w.rt.setClock(held.sinceMs + 5.5 * 60_000);
  expect(w.call('syncNow', {}).message).toContain(`The account edit that started ${iso(held.sinceMs)} was stopped by Google`);
});
