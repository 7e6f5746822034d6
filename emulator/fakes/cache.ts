// Fake CacheService: 100 KB values, 250-character keys, at most 6 hours,
// expiry measured on the simulated clock. Caches are best effort in Google
// too, so tests may evict them at any time (CacheStores.evictAll).
import { Exec } from './exec';

export const CACHE_VALUE_LIMIT = 100 * 1024;
export const CACHE_MAX_SECONDS = 21600;
const DEFAULT_SECONDS = 600;

interface Entry {
  value: string;
  expiresMs: number;
}

export class CacheStores {
  readonly script = new Map<string, Entry>();
  private readonly docs = new Map<string, Map<string, Entry>>();
  private readonly users = new Map<string, Map<string, Entry>>();

  document(id: string): Map<string, Entry> {
    return getOrCreate(this.docs, id);
  }

  user(email: string): Map<string, Entry> {
    return getOrCreate(this.users, email.toLowerCase());
  }

  evictAll(): void {
    this.script.clear();
    this.docs.clear();
    this.users.clear();
  }
}

function getOrCreate(map: Map<string, Map<string, Entry>>, key: string): Map<string, Entry> {
  let m = map.get(key);
  if (!m) map.set(key, (m = new Map()));
  return m;
}

export function makeCacheService(exec: Exec, stores: CacheStores): unknown {
  const open = (method: string, cache: () => Map<string, Entry> | null) => {
    exec.call(`CacheService.${method}`, []);
    const c = cache();
    return c ? wrapCache(exec, c) : null;
  };
  return {
    getScriptCache: () => open('getScriptCache', () => stores.script),
    getUserCache: () => open('getUserCache', () => stores.user(exec.effectiveUser)),
    getDocumentCache: () => open('getDocumentCache', () => (exec.activeDocId ? stores.document(exec.activeDocId) : null)),
  };
}

function wrapCache(exec: Exec, cache: Map<string, Entry>): unknown {
  const read = (key: string): string | null => {
    const e = cache.get(key);
    if (!e) return null;
    if (e.expiresMs <= exec.nowMs()) {
      cache.delete(key);
      return null;
    }
    return e.value;
  };
  const write = (key: string, value: unknown, seconds?: number) => {
    const k = String(key);
    const v = String(value);
    if (k.length > 250) throw exec.error('Argument too large: key');
    if (Buffer.byteLength(v, 'utf8') > CACHE_VALUE_LIMIT) throw exec.error('Argument too large: value');
    const s = seconds === undefined ? DEFAULT_SECONDS : Math.min(Math.max(1, Number(seconds)), CACHE_MAX_SECONDS);
    cache.set(k, { value: v, expiresMs: exec.nowMs() + s * 1000 });
  };
  return {
    get(key: string) {
      exec.call('Cache.get', [key]);
      return read(String(key));
    },
    getAll(keys: string[]) {
      exec.call('Cache.getAll', [keys]);
      const out: Record<string, string> = {};
      for (const k of keys) {
        const v = read(String(k));
        if (v !== null) out[k] = v;
      }
      return out;
    },
    put(key: string, value: unknown, expirationInSeconds?: number) {
      exec.call('Cache.put', [key]);
      write(key, value, expirationInSeconds);
    },
    putAll(values: Record<string, unknown>, expirationInSeconds?: number) {
      exec.call('Cache.putAll', [Object.keys(values)]);
      for (const [k, v] of Object.entries(values)) write(k, v, expirationInSeconds);
    },
    remove(key: string) {
      exec.call('Cache.remove', [key]);
      cache.delete(String(key));
    },
    removeAll(keys: string[]) {
      exec.call('Cache.removeAll', [keys]);
      for (const k of keys) cache.delete(String(k));
    },
  };
}
