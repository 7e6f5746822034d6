// The built bundle (dist/Code.js, what clasp pushes) in the simulated Apps Script runtime.
import path from 'node:path';
import { SimRuntime, SimRuntimeOptions } from '../../emulator/runtime';
import { DEMO_RULES } from '../../emulator/serve';
import { demoDistrict } from '../../emulator/domain';
import type { FakeDirectoryState } from '../../emulator/fakes/directoryState';

export const DIST = path.resolve(__dirname, '../../dist');
export const DOC_DIST = path.resolve(__dirname, '../../.cache/dist-document');

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface World {
  rt: SimRuntime;
  /** Calls a server function as the sidebar would and returns its data; throws the catalog text on failure. */
  call(fn: string, arg?: unknown, user?: string): Json;
  /** Calls a server function and returns the whole envelope. */
  envelope(fn: string, arg?: unknown, user?: string): Json;
  roster(): Record<string, string>[];
  history(): Record<string, string>[];
  writes(sheet: string): number;
  settings(): Json;
  save(patch: Json): Json;
}

export function world(options: Partial<SimRuntimeOptions> & { directory?: FakeDirectoryState; rules?: unknown[]; link?: boolean } = {}): World {
  const rt = new SimRuntime({ scriptPath: path.join(DIST, 'Code.js'), htmlDir: DIST, directory: options.directory ?? demoDistrict(), clockStartMs: Date.UTC(2026, 8, 1, 14, 0, 0), ...options });
  const envelope = (fn: string, arg?: unknown, user?: string) => rt.runFromBrowser(fn, arg === undefined ? [] : [arg], user ? { user } : {}) as Json;
  const call = (fn: string, arg?: unknown, user?: string) => {
    const r = envelope(fn, arg, user);
    if (!r || !r.ok) throw new Error(r?.error?.text ?? `no envelope from ${fn}`);
    return r.data;
  };
  const table = (name: string) => {
    let values: unknown[][] = [];
    try {
      values = rt.sheetValues(name);
    } catch {
      return [];
    }
    const [header, ...rows] = values as string[][];
    return rows.filter((r) => r.some((v) => v !== '')).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
  };
  const w: World = {
    rt,
    call,
    envelope,
    roster: () => table('Roster'),
    history: () => table('Sync history'),
    writes: (sheet) => {
      try {
        return rt.sheetData(rt.activeSpreadsheetId, sheet).writes;
      } catch {
        return 0;
      }
    },
    settings: () => call('getState').settings,
    save: (patch) => call('saveSettings', { ...w.settings(), ...patch }),
  };
  if (options.link !== false) {
    call('useMyAccountForSync', {});
    w.save({ rules: options.rules ?? DEMO_RULES });
  }
  return w;
}

/** Lets the cooldown pass between manual syncs. */
/**
 * Tests kill executions early (a lowered time limit, a failing call); Google kills one only at its
 * 6-minute limit. Moves the clock to when that execution would surely have ended, as a person who
 * presses Sync now again would find it: its sync lease has expired (6 min + 15 s after it started).
 */
export function afterKilled(rt: { nowMs(): number; setClock(ms: number): void }, startedMs: number): void {
  rt.setClock(Math.max(rt.nowMs(), startedMs + 6 * 60_000 + 16_000));
}

/**
 * Another execution is part-way through a sync part of this roster (the simulation runs one execution
 * at a time): it holds the roster's sync lease in script properties. Returns the release function.
 */
export function holdSyncLease(rt: SimRuntime, opts: { ssId?: string; forMs?: number } = {}): () => void {
  const key = `rs:lease:${opts.ssId ?? rt.activeSpreadsheetId}`;
  rt.properties.script.map.set(key, JSON.stringify({ holder: 'another-execution', expiresAtMs: rt.nowMs() + (opts.forMs ?? 5 * 60_000), purpose: 'sync', sinceMs: rt.nowMs() }));
  return () => rt.properties.script.map.delete(key);
}

export function later(w: World, minutes = 16): void {
  w.rt.setClock(w.rt.nowMs() + minutes * 60_000);
}
