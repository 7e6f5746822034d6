// Script, document or user properties behind the KeyValueStore port, namespaced
// per installation. Values over one property's 9 KB are split over several keys
// (written together), so nothing is silently truncated.
import { KeyValueStore } from '../core/ports';
import { UserError, msg } from '../core/messages';

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

export class PropertyStore implements KeyValueStore {
  constructor(private readonly props: GoogleAppsScript.Properties.Properties, private readonly prefix: string) {}

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
      const kb = Math.ceil(utf8Length(value) / 1024);
      throw new UserError(msg('invalidSetting', { field: key, problem: `is too large to store (${kb} KB; a property store holds at most 500 KB in all): shorten it and save again; nothing was saved` }));
    }
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
