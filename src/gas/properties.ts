// Script, document or user properties behind the KeyValueStore port, namespaced
// per installation. Values over one property's 9 KB are split over several keys
// (written together), so nothing is silently truncated.
import { KeyValueStore } from '../core/ports';
import { UserError, msg } from '../core/messages';

const STORE_NAMES = { script: 'script properties (shared by every roster of this deployment)', user: 'your user properties', document: "the spreadsheet's document properties" } as const;

/** Under Google's 9 KB per value, counted in UTF-8 bytes. */
const CHUNK_BYTES = 8000;
const CHUNKED = '\u0001chunks:';

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? (i++, 4) : 3;
  }
  return n;
}

/** Slices of at most CHUNK_BYTES: a UTF-16 unit is at most 3 UTF-8 bytes. */
function split(value: string): string[] {
  const size = Math.floor(CHUNK_BYTES / 3);
  const parts: string[] = [];
  for (let start = 0; start < value.length; ) {
    let end = Math.min(value.length, start + size);
    if (end < value.length && /[\ud800-\udbff]/.test(value.charAt(end - 1))) end--; // keep surrogate pairs whole
    parts.push(value.slice(start, end));
    start = end;
  }
  return parts;
}

/** Google's quota for one property store (script, document or user properties), in bytes. */
const STORE_BYTES = 500 * 1024;

export class PropertyStore implements KeyValueStore {
  /** `store` names the store in messages: the script properties every roster of a deployment shares, or a user's or document's own. */
  constructor(
    private readonly props: GoogleAppsScript.Properties.Properties,
    private readonly prefix: string,
    private readonly store: 'script' | 'user' | 'document' = 'script',
  ) {}

  get(key: string): string | null {
    const raw = this.props.getProperty(this.prefix + key);
    if (raw === null || !raw.startsWith(CHUNKED)) return raw;
    const count = Number(raw.slice(CHUNKED.length));
    let value = '';
    for (let i = 0; i < count; i++) value += this.props.getProperty(`${this.prefix}${key}#${i}`) ?? '';
    return value;
  }

  set(key: string, value: string): void {
    try {
      this.write(key, value);
    } catch (error) {
      // A property store holds 500 KB in all: say which value did not fit, not just Google's quota text.
      if (!/property storage quota/i.test(error instanceof Error ? error.message : String(error))) throw error;
      const bytes = utf8Length(this.prefix + key) + utf8Length(value);
      const kb = Math.ceil(bytes / 1024);
      if (bytes > STORE_BYTES / 2) {
        throw new UserError(msg('invalidSetting', { field: key, problem: `is too large to store (${kb} KB; a property store holds at most 500 KB in all): shorten it and save again; nothing was saved` }));
      }
      // A small value that does not fit: the store is full of other values (in script properties, often other rosters').
      throw new UserError(msg('propertyStoreFull', { store: STORE_NAMES[this.store], used: this.usedKb(), key, kb }));
    }
  }

  /** KB the store holds now, counted as the quota counts (keys and values). */
  private usedKb(): number {
    let bytes = 0;
    for (const [k, v] of Object.entries(this.props.getProperties())) bytes += utf8Length(k) + utf8Length(String(v));
    return Math.ceil(bytes / 1024);
  }

  private write(key: string, value: string): void {
    const old = this.props.getProperty(this.prefix + key);
    if (utf8Length(value) <= CHUNK_BYTES && !value.startsWith(CHUNKED)) {
      this.props.setProperty(this.prefix + key, value);
    } else {
      const parts = split(value);
      const batch: Record<string, string> = { [this.prefix + key]: CHUNKED + parts.length };
      parts.forEach((p, i) => (batch[`${this.prefix}${key}#${i}`] = p));
      this.props.setProperties(batch);
      this.removeChunks(key, old, parts.length);
      return;
    }
    this.removeChunks(key, old, 0);
  }

  remove(key: string): void {
    const old = this.props.getProperty(this.prefix + key);
    this.props.deleteProperty(this.prefix + key);
    this.removeChunks(key, old, 0);
  }

  private removeChunks(key: string, old: string | null, keep: number): void {
    if (!old || !old.startsWith(CHUNKED)) return;
    const count = Number(old.slice(CHUNKED.length));
    for (let i = keep; i < count; i++) this.props.deleteProperty(`${this.prefix}${key}#${i}`);
  }
}
