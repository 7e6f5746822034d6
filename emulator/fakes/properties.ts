// Fake PropertiesService with Google's limits: 9 KB a value, 500 KB a store,
// no access at all in AuthMode.NONE, and no document store without a document.
import { Exec } from './exec';

export const PROPERTY_VALUE_LIMIT = 9 * 1024;
export const PROPERTY_STORE_LIMIT = 500 * 1024;
const SCOPE = 'https://www.googleapis.com/auth/script.storage';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export class PropertyStore {
  readonly map = new Map<string, string>();

  /** Bytes used, counting keys and values the way the quota does. */
  size(): number {
    let n = 0;
    for (const [k, v] of this.map) n += bytes(k) + bytes(v);
    return n;
  }

  toObject(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
}

/** Every property store the project has, kept across executions. */
export class PropertyStores {
  readonly script = new PropertyStore();
  private readonly docs = new Map<string, PropertyStore>();
  private readonly users = new Map<string, PropertyStore>();

  document(docId: string): PropertyStore {
    return getOrCreate(this.docs, docId);
  }

  user(email: string): PropertyStore {
    return getOrCreate(this.users, email.toLowerCase());
  }
}

function getOrCreate(map: Map<string, PropertyStore>, key: string): PropertyStore {
  let s = map.get(key);
  if (!s) map.set(key, (s = new PropertyStore()));
  return s;
}

export function makePropertiesService(exec: Exec, stores: PropertyStores): unknown {
  const open = (method: string, store: () => PropertyStore | null) => {
    exec.call(`PropertiesService.${method}`, []);
    exec.requireAuth(`PropertiesService.${method}`, SCOPE, 'LIMITED');
    const s = store();
    return s ? wrapStore(exec, s) : null;
  };
  return {
    getScriptProperties: () => open('getScriptProperties', () => stores.script),
    getUserProperties: () => open('getUserProperties', () => stores.user(exec.effectiveUser)),
    getDocumentProperties: () =>
      open('getDocumentProperties', () => (exec.activeDocId ? stores.document(exec.activeDocId) : null)),
  };
}

function checkValue(exec: Exec, key: string, value: string): void {
  if (bytes(value) > PROPERTY_VALUE_LIMIT) throw exec.error('Argument too large: value');
  if (bytes(key) > PROPERTY_VALUE_LIMIT) throw exec.error('Argument too large: key');
}

function quota(exec: Exec): Error {
  return exec.error('You have exceeded the property storage quota. Please remove some properties and try again.');
}

/** The Properties object the script sees; writes are checked before they change anything. */
function wrapStore(exec: Exec, store: PropertyStore): unknown {
  const call = (m: string, args: unknown[]) => exec.call(`Properties.${m}`, args);
  const self: Record<string, unknown> = {
    getProperty(key: string) {
      call('getProperty', [key]);
      return store.map.get(String(key)) ?? null;
    },
    getProperties() {
      call('getProperties', []);
      return store.toObject();
    },
    getKeys() {
      call('getKeys', []);
      return [...store.map.keys()];
    },
    setProperty(key: string, value: unknown) {
      call('setProperty', [key]);
      const k = String(key);
      const v = String(value);
      checkValue(exec, k, v);
      const old = store.map.get(k);
      const next = store.size() - (old === undefined ? 0 : bytes(k) + bytes(old)) + bytes(k) + bytes(v);
      if (next > PROPERTY_STORE_LIMIT) throw quota(exec);
      store.map.set(k, v);
      return self;
    },
    setProperties(properties: Record<string, unknown>, deleteAllOthers?: boolean) {
      call('setProperties', [Object.keys(properties ?? {})]);
      const next = new Map(deleteAllOthers ? [] : store.map);
      for (const [k, v] of Object.entries(properties ?? {})) {
        checkValue(exec, k, String(v));
        next.set(k, String(v));
      }
      let size = 0;
      for (const [k, v] of next) size += bytes(k) + bytes(v);
      if (size > PROPERTY_STORE_LIMIT) throw quota(exec);
      store.map.clear();
      for (const [k, v] of next) store.map.set(k, v);
      return self;
    },
    deleteProperty(key: string) {
      call('deleteProperty', [key]);
      store.map.delete(String(key));
      return self;
    },
    deleteAllProperties() {
      call('deleteAllProperties', []);
      store.map.clear();
      return self;
    },
  };
  return self;
}
