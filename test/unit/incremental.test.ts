// Incremental syncs in the pure core, with in-memory fakes: the fallback rules, the watermark, retries.
import { runSync } from '../../src/core/sync';
import { AuditEvent } from '../../src/core/ports';
import { Change } from '../../src/core/model';
import { school } from './fixture';
import { TestWorld } from '../fakes/memory';

const DAY = 24 * 60 * 60_000;
const manual = { trigger: 'manual' as const, mode: 'start' as const };
const changes = { ...manual, kind: 'incremental' as const };

let serial = 0;
function logged(w: TestWorld, name: string, params: Record<string, string>, atMs = w.clock.now): AuditEvent {
  const e = { id: `${new Date(atMs).toISOString()}/${++serial}/0`, timeMs: atMs, type: 'USER_SETTINGS', name, params };
  w.audit.events.push(e);
  return e;
}

/** A school after its first full sync, a few minutes later. */
function synced(): TestWorld {
  const w = school();
  expect(runSync(w.svc, manual)).toMatchObject({ state: 'done', kind: 'full' });
  w.clock.now += 5 * 60_000;
  return w;
}

test('a watermark older than the 180 days Google keeps the admin log falls back to a full sync, saying so', () => {
  const w = synced();
  w.clock.now += 181 * DAY;
  const r = runSync(w.svc, changes);
  expect(r).toMatchObject({ state: 'done', kind: 'full' });
  expect(r.message).toMatch(/^Full sync instead of an incremental one: the last applied sync is older than the 180 days Google keeps the admin log\./);
  expect(w.audit.calls).toBe(0);
});

test('more than 1,000 users named in the log fall back to a full sync (users.list pages are cheaper than one users.get each)', () => {
  const w = synced();
  for (let i = 0; i < 1001; i++) logged(w, 'CHANGE_LAST_NAME', { USER_EMAIL: `someone.${i}@school.example` }, w.clock.now - 60_000);
  const before = w.directory.calls;
  const r = runSync(w.svc, changes);
  expect(r).toMatchObject({ state: 'done', kind: 'full' });
  expect(r.message).toContain('more than 1000 users changed; a full sync reads them faster');
  // Not one users.get was spent before falling back: the whole directory was read instead.
  expect(w.directory.calls - before).toBeLessThan(10);
});

test('more than 5 pages of log events fall back to a full sync', () => {
  const w = synced();
  for (let i = 0; i < 5001; i++) logged(w, 'GRANT_ADMIN_PRIVILEGE', { USER_EMAIL: 'eve@school.example' }, w.clock.now - 60_000);
  const r = runSync(w.svc, changes);
  expect(r).toMatchObject({ state: 'done', kind: 'full' });
  expect(r.message).toContain('more than 5000 changes in the admin log');
  expect(w.audit.calls).toBe(5);
});

test('events in the overlap of two windows count once', () => {
  const w = synced();
  w.directory.users.find((u) => u.email === 'ana@school.example')!.name = 'Ana Lima-Souza';
  logged(w, 'CHANGE_LAST_NAME', { USER_EMAIL: 'ana@school.example' }, w.clock.now - 60_000);
  expect(runSync(w.svc, changes)).toMatchObject({ kind: 'incremental', applied: { update: 1 }, message: expect.stringContaining('Incremental: 1 changes') });
  w.clock.now += 10 * 60_000; // the next window starts 15 minutes before this one ended: the event is read again
  expect(runSync(w.svc, changes)).toMatchObject({ kind: 'incremental', message: expect.stringMatching(/^Incremental: 0 changes .* 0 users re-read\. No changes\.$/) });
});

test('an account the destination refused is re-read and retried by the next incremental sync, though the log names it no more', () => {
  const w = synced();
  const ana = w.directory.users.find((u) => u.email === 'ana@school.example')!;
  ana.name = 'Ana Lima-Souza';
  logged(w, 'CHANGE_LAST_NAME', { USER_EMAIL: ana.email }, w.clock.now - 60_000);
  const apply = w.roster.apply.bind(w.roster);
  let refuse = true;
  w.roster.apply = (batch: Change[]) => {
    if (!refuse) return apply(batch);
    refuse = false;
    return { applied: [], failed: batch.map((c) => ({ accountId: c.accountId, message: 'the app is busy' })) };
  };
  expect(runSync(w.svc, changes)).toMatchObject({ kind: 'incremental', applied: { update: 0 } });
  expect(w.history.entries.slice(-1)[0]).toMatchObject({ outcome: 'partial', kind: 'incremental' });
  w.clock.now += 60 * 60_000;
  expect(runSync(w.svc, changes)).toMatchObject({ kind: 'incremental', applied: { update: 1 }, message: expect.stringContaining('1 users re-read') });
  expect(w.roster.byEmail(ana.email)!.name).toBe('Ana Lima-Souza');
});

test('an incremental sync halted at the threshold does not move the watermark; applied once confirmed', () => {
  const w = synced();
  for (const u of w.directory.users.filter((x) => x.orgUnitPath.startsWith('/Students'))) {
    u.orgUnitPath = '/Alumni';
    logged(w, 'MOVE_USER_TO_ORG_UNIT', { USER_EMAIL: u.email, ORG_UNIT_NAME: '/Students/2025', NEW_VALUE: '/Alumni' }, w.clock.now - 60_000);
  }
  const halted = runSync(w.svc, changes);
  expect(halted).toMatchObject({ state: 'halted', kind: 'incremental' });
  w.clock.now += 60 * 60_000;
  const again = runSync(w.svc, { ...changes, allowDestructive: halted.destructive });
  expect(again).toMatchObject({ state: 'done', kind: 'incremental', applied: { deactivate: halted.destructive } });
});
