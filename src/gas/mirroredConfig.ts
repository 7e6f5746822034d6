// Document-scope settings: the roster spreadsheet's document properties, with a
// copy in its hidden state sheet, because a time-driven run has no active
// document and so no document properties, but can open the spreadsheet by id.
import { BlobStore, KeyValueStore } from '../core/ports';

const PREFIX = 'config:';

export class MirroredConfig implements KeyValueStore {
  constructor(private readonly primary: KeyValueStore | null, private readonly mirror: BlobStore) {}

  get(key: string): string | null {
    // Pointers a time-driven run wrote exist only in the mirror.
    return this.primary?.get(key) ?? this.mirror.get(PREFIX + key);
  }

  set(key: string, value: string): void {
    this.primary?.set(key, value);
    if (this.mirror.get(PREFIX + key) !== value) this.mirror.set(PREFIX + key, value);
  }

  remove(key: string): void {
    this.primary?.remove(key);
    this.mirror.removePrefix(PREFIX + key);
  }
}
