// The contract between the simulated runtime and each fake service: one
// `Exec` per execution. Fakes report every Google call through `call()` so the
// runtime can count it, charge its latency to the simulated clock, enforce the
// 6-minute limit and apply injected faults in one place.

export type AuthMode = 'NONE' | 'LIMITED' | 'FULL';

export interface Exec {
  readonly id: number;
  /** Session.getActiveUser() email; '' when Google would hide it. */
  readonly user: string;
  /** Session.getEffectiveUser() email: whose authority the script runs with. */
  readonly effectiveUser: string;
  readonly authMode: AuthMode;
  readonly trigger: boolean;
  /** The document the add-on is open in; null for triggers and standalone runs. */
  readonly activeDocId: string | null;
  readonly timeZone: string;
  /**
   * One Google call: counts it, advances the clock by its latency (plus the
   * per-cell cost for `cells` cells read or written), throws once the
   * execution is out of time, then applies injected faults.
   */
  call(method: string, args: unknown[], cells?: number): void;
  /** Counts a call without charging time (a request served inside a fetchAll round the caller charges). */
  count(method: string): void;
  /** The fault injected for this call, if any (counted as one call of `method`). */
  fault(method: string, args: unknown[]): Error | undefined;
  /** What a Directory REST request of this method adds to its UrlFetchApp round, ms. */
  restLatency(method: string): number;
  /** The latency the model gives a method, ms. */
  latency(method: string): number;
  /** Records cells written to a spreadsheet; the next read of it pays the flush. */
  wroteCells(spreadsheetId: string, cells: number): void;
  /** Called before a read of a spreadsheet: charges the flush of the writes buffered since the last read. */
  reading(spreadsheetId: string): void;
  /** Runs work the simulator does in Google's place; its CPU is not charged as the script's. */
  untimed<T>(work: () => T): T;
  /** SpreadsheetApp.flush(): commits the buffered writes of every spreadsheet. */
  flushAll(): void;
  /** Lets simulated time pass inside the execution (sleeps, lock waits); enforces the time limit. */
  wait(ms: number): void;
  /** Simulated time now. */
  nowMs(): number;
  /** An Error made in the script's realm, so `instanceof Error` holds inside the bundle. */
  error(message: string, props?: Record<string, unknown>): Error;
  /** Re-creates a host-side error in the script's realm (keeps name, details, ...). */
  adopt(error: unknown): Error;
  /** A Date made in the script's realm. */
  date(ms: number): Date;
  /** Throws Google's authorization error unless the execution's auth mode allows the call. */
  requireAuth(method: string, scope: string, minimum?: 'LIMITED' | 'FULL'): void;
  /** Deterministic pseudo-random numbers in [0, 1). */
  random(): number;
  log(level: string, text: string): void;
}

const RANK: Record<AuthMode, number> = { NONE: 0, LIMITED: 1, FULL: 2 };

export function authAllows(mode: AuthMode, minimum: 'LIMITED' | 'FULL'): boolean {
  return RANK[mode] >= RANK[minimum];
}

export function isDateLike(v: unknown): v is Date {
  return Object.prototype.toString.call(v) === '[object Date]';
}

/** Google's message when a call needs more authorization than the execution has. */
export function permissionMessage(method: string, scope: string): string {
  return `You do not have permission to call ${method}. Required permissions: ${scope}`;
}
