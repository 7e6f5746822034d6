// The per-roster sync lease: one holder at a time, expiry after a killed execution, the script lock held briefly.
import { LeaseLock } from '../../src/core/lease';
import { ClockPort } from '../../src/core/ports';
import { MemoryKV, MemoryLock } from '../fakes/memory';

const LIMIT = 6 * 60_000 + 15_000;

function setup() {
  const time = { now: 1_000_000 };
  const clock: ClockPort = { nowMs: () => time.now, sleep: (ms) => (time.now += ms), local: () => ({ date: '', hour: 0, minute: 0 }) };
  const store = new MemoryKV();
  const mutex = new MemoryLock();
  const execution = (holder: string, key = 'roster-1') => new LeaseLock({ mutex, store, key, clock, holder, expiresAtMs: time.now + LIMIT });
  return { time, store, mutex, execution };
}

test('one holder per roster; the other waits its timeout and is refused; the mutex is never left held', () => {
  const { time, mutex, execution } = setup();
  const a = execution('a');
  const b = execution('b');
  expect(a.tryLock(3000)).toBe(true);
  expect(mutex.held).toBe(false);
  const before = time.now;
  expect(b.tryLock(3000)).toBe(false);
  expect(time.now - before).toBeGreaterThanOrEqual(3000);
  expect(time.now - before).toBeLessThan(4000);
  expect(mutex.held).toBe(false);
  a.release();
  expect(b.tryLock(3000)).toBe(true);
});

test('another roster is never held up', () => {
  const { execution } = setup();
  expect(execution('a', 'roster-1').tryLock(0)).toBe(true);
  expect(execution('b', 'roster-2').tryLock(0)).toBe(true);
});

test('a lease left by a killed execution expires once its time limit has surely passed', () => {
  const { time, execution } = setup();
  expect(execution('killed').tryLock(0)).toBe(true); // never released
  time.now += 6 * 60_000;
  expect(execution('early').tryLock(3000)).toBe(false);
  time.now += 15_000;
  expect(execution('later').tryLock(0)).toBe(true);
});

test('release removes only its own lease; without the mutex it leaves the lease to expire', () => {
  const { time, store, mutex, execution } = setup();
  const a = execution('a');
  expect(a.tryLock(0)).toBe(true);
  time.now += LIMIT + 1;
  const b = execution('b');
  expect(b.tryLock(0)).toBe(true); // a's lease expired and b took over
  a.release();
  expect(JSON.parse(store.get('roster-1')!).holder).toBe('b');
  mutex.heldElsewhere = true;
  b.release();
  expect(store.get('roster-1')).not.toBeNull();
  mutex.heldElsewhere = false;
});

test('a hand-edited lease that cannot be read does not block every sync', () => {
  const { store, execution } = setup();
  store.set('roster-1', '{not json');
  expect(execution('a').tryLock(0)).toBe(true);
});
