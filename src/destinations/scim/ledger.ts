// What a SCIM app cannot hold, per account: the SCIM id ↔ account id link, the
// status Roster Sync last set, the grace-period start, last sync time, source,
// permissions and OU. Kept in the BlobStore (Services.state) as a base document
// plus a journal of small segments, so each apply writes only the entries it
// changed (one segment + one head write); the journal is folded into a new base
// now and then, which costs one ledger-sized write per COMPACT_EVERY applies.
import { AccountStatus } from '../../core/model';
import { BlobStore } from '../../core/ports';
import { shortHash } from './manualIds';

/** The ledger's namespace in the state store: one per app base URL. */
export function ledgerPrefix(baseUrl: string): string {
  return `scim.${shortHash(baseUrl.replace(/\/+$/, ''))}.`;
}

/** Whether syncs have linked accounts to the app at `baseUrl` (its ledger has a head). */
export function hasLedger(store: BlobStore, baseUrl: string): boolean {
  return store.get(`${ledgerPrefix(baseUrl)}head`) !== null;
}

export interface LedgerEntry {
  /** SCIM id of the app user ('' when Roster Sync deleted it and keeps the account as deleted). */
  s: string;
  /** Email and name as last written (used where the mapping does not send them). */
  e: string;
  n: string;
  /** Status as last written (tells suspended from disabled when the app has only active=false). */
  st: AccountStatus;
  /** syncedStatus: the status sync itself last set. */
  ss: AccountStatus | '';
  /** outOfScopeSince. */
  o: string;
  /** lastSynced. */
  l: string;
  /** 1 for a manual account. */
  m: 0 | 1;
  p: string[];
  ou: string;
  /** Roles as last written (for accounts the app no longer holds). */
  r: string[];
  /** Mapped attributes as last written (those the mapping sends nowhere in the app live only here); absent when none. */
  a?: Record<string, string>;
}

interface Head {
  gen: number;
  segments: number;
}

export const COMPACT_EVERY = 16;

export class Ledger {
  private entries: Map<string, LedgerEntry> | null = null;
  private head: Head | null = null;
  /** Blob writes made by this instance (tests check writes stay proportional to changes). */
  writes = 0;
  bytesWritten = 0;

  /** @param prefix namespace in the BlobStore, e.g. "scim.<hash of base URL>." */
  constructor(private readonly store: BlobStore, private readonly prefix: string) {}

  private headKey(): string {
    return `${this.prefix}head`;
  }
  private genPrefix(gen: number): string {
    return `${this.prefix}${gen}.`;
  }

  load(): Map<string, LedgerEntry> {
    if (this.entries) return this.entries;
    const entries = new Map<string, LedgerEntry>();
    let head: Head = { gen: 0, segments: 0 };
    const rawHead = this.store.get(this.headKey());
    if (rawHead) {
      try {
        const h = JSON.parse(rawHead) as Head;
        if (Number.isInteger(h.gen) && Number.isInteger(h.segments)) head = h;
      } catch {
        // An unreadable head means an empty ledger: accounts are re-linked by externalId or adopted by email.
      }
    }
    const apply = (raw: string | null) => {
      if (!raw) return;
      try {
        const doc = JSON.parse(raw) as Record<string, LedgerEntry | null>;
        for (const [id, e] of Object.entries(doc)) {
          if (e === null) entries.delete(id);
          else entries.set(id, e);
        }
      } catch {
        // A torn segment is skipped; what it held is re-derived from the app on the next sync.
      }
    };
    apply(this.store.get(`${this.genPrefix(head.gen)}base`));
    for (let i = 0; i < head.segments; i++) apply(this.store.get(`${this.genPrefix(head.gen)}${i}`));
    this.head = head;
    return (this.entries = entries);
  }

  /** Whether a ledger was ever written here (its head exists), however empty it is now. */
  exists(): boolean {
    return this.store.get(this.headKey()) !== null;
  }

  get(id: string): LedgerEntry | undefined {
    return this.load().get(id);
  }

  /** Records changed entries (null removes one) with one segment write and one head write. */
  commit(changes: Map<string, LedgerEntry | null>): void {
    if (!changes.size) return;
    const entries = this.load();
    const head = this.head!;
    for (const [id, e] of changes) {
      if (e === null) entries.delete(id);
      else entries.set(id, e);
    }
    if (head.segments + 1 >= COMPACT_EVERY) {
      this.compact();
      return;
    }
    const segment: Record<string, LedgerEntry | null> = {};
    for (const [id, e] of changes) segment[id] = e;
    this.write(`${this.genPrefix(head.gen)}${head.segments}`, JSON.stringify(segment));
    head.segments++;
    this.write(this.headKey(), JSON.stringify(head));
  }

  /** Folds the journal into a new base and drops the old generation. */
  compact(): void {
    const entries = this.load();
    const old = this.head!.gen;
    const next: Head = { gen: old + 1, segments: 0 };
    this.write(`${this.genPrefix(next.gen)}base`, JSON.stringify(Object.fromEntries(entries)));
    this.write(this.headKey(), JSON.stringify(next));
    this.store.removePrefix(this.genPrefix(old));
    this.head = next;
  }

  private write(key: string, value: string): void {
    this.store.set(key, value);
    this.writes++;
    this.bytesWritten += value.length;
  }
}
