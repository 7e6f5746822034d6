// The sync lock of one roster. Apps Script's script lock is one lock for every user
// of the script (every customer of a public add-on), and a sync part holds its lock
// for minutes; so the script lock guards only the few milliseconds it takes to read
// and write a lease for this roster, and syncs of different rosters never wait for
// each other. Google ends every execution at its time limit, so a lease left by an
// execution that was killed expires once that limit has surely passed.
import { ClockPort, KeyValueStore, LockHolder, LockPort, LockPurpose } from './ports';

/** How long to wait for the script lock around one lease read-and-write. */
const MUTEX_WAIT_MS = 2000;
/** How often a waiting execution looks at the lease again. */
const POLL_MS = 500;

interface Lease {
  holder: string;
  expiresAtMs: number;
  /** What it is held for and since when, so a refused caller is told what it waits for. */
  purpose?: LockPurpose;
  sinceMs?: number;
}

export interface LeaseOptions {
  /** The short-held lock that makes reading and writing the lease atomic (the script lock). */
  mutex: LockPort;
  /** Where the lease lives: a store every execution of every user of this roster reads. */
  store: KeyValueStore;
  key: string;
  clock: ClockPort;
  /** This execution, unique among all executions. */
  holder: string;
  /** When this execution has surely ended: its start plus Apps Script's hard limit, plus a margin. */
  expiresAtMs: number;
}

export class LeaseLock implements LockPort {
  private held = false;

  constructor(private readonly o: LeaseOptions) {}

  tryLock(timeoutMs: number, purpose: LockPurpose = 'sync'): boolean {
    const deadline = this.o.clock.nowMs() + timeoutMs;
    while (true) {
      if (this.claim(Math.max(0, Math.min(MUTEX_WAIT_MS, deadline - this.o.clock.nowMs())), purpose)) return true;
      const left = deadline - this.o.clock.nowMs();
      if (left <= 0) return false;
      this.o.clock.sleep(Math.min(POLL_MS, left));
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    // Without the mutex the lease is left to expire: never remove a lease read unguarded.
    if (!this.o.mutex.tryLock(MUTEX_WAIT_MS)) return;
    try {
      if (this.read()?.holder === this.o.holder) this.o.store.remove(this.o.key);
    } finally {
      this.o.mutex.release();
    }
  }

  /** Another execution's live lease, read without the mutex (it only words a refusal). */
  holder(): LockHolder | null {
    const lease = this.read();
    if (!lease || lease.holder === this.o.holder || lease.expiresAtMs <= this.o.clock.nowMs()) return null;
    return { purpose: lease.purpose, sinceMs: lease.sinceMs, expiresAtMs: lease.expiresAtMs };
  }

  private claim(mutexWaitMs: number, purpose: LockPurpose): boolean {
    if (!this.o.mutex.tryLock(mutexWaitMs)) return false;
    try {
      const lease = this.read();
      if (lease && lease.holder !== this.o.holder && lease.expiresAtMs > this.o.clock.nowMs()) return false;
      const mine: Lease = { holder: this.o.holder, expiresAtMs: this.o.expiresAtMs, purpose, sinceMs: this.o.clock.nowMs() };
      this.o.store.set(this.o.key, JSON.stringify(mine));
      this.held = true;
      return true;
    } finally {
      this.o.mutex.release();
    }
  }

  /** The lease as stored; an unreadable (hand-edited) one counts as none rather than blocking every sync. */
  private read(): Lease | null {
    const raw = this.o.store.get(this.o.key);
    if (!raw) return null;
    try {
      const lease = JSON.parse(raw) as Partial<Lease>;
      return typeof lease.holder === 'string' && typeof lease.expiresAtMs === 'number' ? (lease as Lease) : null;
    } catch {
      return null;
    }
  }
}
