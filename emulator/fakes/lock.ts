// Fake LockService. Executions in the simulation run one at a time, so
// "another execution holds the lock" is modelled by test hooks (holdLock),
// optionally until a simulated time. Locks die with their execution.
import { Exec } from './exec';

export type LockKind = 'script' | 'document' | 'user';

/** Holder: an execution id, or 'other' for a simulated concurrent execution. */
interface Holder {
  by: number | 'other';
  /** For 'other' holders: when they let go (Infinity = until released by the test). */
  untilMs: number;
}

export class LockTable {
  readonly held = new Map<string, Holder>();

  static key(kind: LockKind, scope: string): string {
    return `${kind}:${scope}`;
  }

  /** Makes another (simulated) execution hold a lock; returns its release function. */
  holdExternally(key: string, untilMs = Infinity): () => void {
    this.held.set(key, { by: 'other', untilMs });
    return () => {
      if (this.held.get(key)?.by === 'other') this.held.delete(key);
    };
  }

  /** Frees every lock an execution held: Google releases them when it ends. */
  releaseAll(execId: number): void {
    for (const [k, h] of this.held) if (h.by === execId) this.held.delete(k);
  }

  holderOf(key: string): number | 'other' | null {
    return this.held.get(key)?.by ?? null;
  }
}

export function makeLockService(exec: Exec, table: LockTable): unknown {
  const get = (kind: LockKind, scope: string | null, method: string) => {
    exec.call(`LockService.${method}`, []);
    exec.requireAuth(`LockService.${method}`, 'https://www.googleapis.com/auth/script.scriptapp', 'LIMITED');
    return scope === null ? null : makeLock(exec, table, LockTable.key(kind, scope));
  };
  return {
    getScriptLock: () => get('script', 'project', 'getScriptLock'),
    getUserLock: () => get('user', exec.effectiveUser.toLowerCase(), 'getUserLock'),
    getDocumentLock: () => get('document', exec.activeDocId, 'getDocumentLock'),
  };
}

function makeLock(exec: Exec, table: LockTable, key: string): unknown {
  let mine = false;
  /** Waits (in simulated time) up to timeoutMs; true once this execution holds the lock. */
  const acquire = (timeoutMs: number): boolean => {
    const h = table.held.get(key);
    if (!h || h.by === exec.id) return take();
    if (h.by === 'other' && h.untilMs <= exec.nowMs() + timeoutMs) {
      exec.wait(Math.max(0, h.untilMs - exec.nowMs()));
      return take();
    }
    exec.wait(Math.max(0, timeoutMs));
    return false;
  };
  const take = () => {
    table.held.set(key, { by: exec.id, untilMs: Infinity });
    mine = true;
    return true;
  };
  return {
    tryLock(timeoutInMillis: number) {
      exec.call('Lock.tryLock', [timeoutInMillis]);
      return acquire(Number(timeoutInMillis) || 0);
    },
    waitLock(timeoutInMillis: number) {
      exec.call('Lock.waitLock', [timeoutInMillis]);
      if (!acquire(Number(timeoutInMillis) || 0)) {
        throw exec.error('Lock timeout: another process was holding the lock for too long.');
      }
    },
    releaseLock() {
      exec.call('Lock.releaseLock', []);
      if (mine && table.held.get(key)?.by === exec.id) table.held.delete(key);
      mine = false;
    },
    hasLock() {
      exec.call('Lock.hasLock', []);
      return mine && table.held.get(key)?.by === exec.id;
    },
  };
}
