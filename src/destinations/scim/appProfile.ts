// What Roster Sync has learnt about one SCIM app by talking to it, remembered
// between executions (in Services.state, beside the ledger) so a lesson is paid
// for once, not on every sync: which PATCH form the app accepts for roles, that
// it refuses Bulk although it advertises it, how fast it lets us go, when it
// asked us to wait until, and the accounts it refused as duplicates.
import { BlobStore } from '../../core/ports';
import { PaceMemory } from './pacing';
import { QuotaMemory } from './quota';

export interface RefusedCreate {
  /** Fingerprint of the POST body the app refused: a changed account is tried again at once. */
  f: string;
  /** The app's words (detail and scimType). */
  d: string;
  /** When it was refused, and how many times in a row. */
  at: number;
  n: number;
}

export interface AppProfileData {
  /** 'whole': the app refuses value-filtered PATCH paths (roles[value eq "x"]); roles are replaced as a whole list. */
  rolePatch?: 'whole';
  /** The form of group member removal the app takes, when it refuses value-filtered paths on Groups (see MemberRemoval). */
  memberRemoval?: 'valueArray' | 'replace';
  /** The app answered 501/404/405 to a Bulk request although ServiceProviderConfig offers Bulk. */
  bulkRefused?: true;
  /** The app's pace as learnt from 429s and RateLimit headers, and a wait it asked for that has not passed. */
  pace?: PaceMemory;
  /** This roster's UrlFetchApp calls in the current quota day. */
  quota?: QuotaMemory;
  /** accountId → a create the app refused as a duplicate of an account it already has. */
  refused?: Record<string, RefusedCreate>;
}

export class AppProfile {
  private data: AppProfileData | null = null;
  private saved = '';

  /** @param key e.g. "scim.<hash of base URL>.app" */
  constructor(private readonly store: BlobStore, private readonly key: string) {}

  get(): AppProfileData {
    if (this.data) return this.data;
    const raw = this.store.get(this.key);
    this.saved = raw ?? '';
    try {
      const parsed = raw ? JSON.parse(raw) : {};
      this.data = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as AppProfileData) : {};
    } catch {
      this.data = {}; // a damaged note only costs relearning
    }
    return this.data;
  }

  update(change: (d: AppProfileData) => void): void {
    change(this.get());
  }

  /** Writes the profile when it changed (once per apply, not per request). */
  save(): void {
    if (!this.data) return;
    const text = JSON.stringify(this.data);
    if (text === this.saved || (text === '{}' && !this.saved)) return;
    this.store.set(this.key, text);
    this.saved = text;
  }
}
