// Settings and small pointers in the (already namespaced) config store.
import { KeyValueStore } from './ports';
import { Settings, defaultSettings, validateSettings } from './settings';
import { MessageId, UserError, msg } from './messages';
import { SETTINGS_SCHEMA_VERSION, migrateSettings, newerVersion } from './migrations';

export const KEYS = {
  settings: 'settings',
  installer: 'installer',
  syncAccount: 'syncAccount',
  lastScheduledRun: 'lastScheduledRun',
  lastFullSync: 'lastFullSync',
  /** When the schedule (mode, hour, time zone) was last set: a daily sync is due from the first slot after it. */
  scheduleSince: 'scheduleSince',
} as const;

/** Why settings cannot be read: until they can, nothing syncs and only the installer may repair them. */
export const UNREADABLE_SETTINGS: ReadonlySet<MessageId> = new Set<MessageId>(['corruptSettings', 'settingsTooNew']);

/**
 * Settings as saved, upgraded from the version that saved them (migrations.ts; written back only by the
 * next save); defaults when none were saved yet; a UserError when they are unreadable or newer than this code.
 */
export function loadSettings(config: KeyValueStore): Settings {
  const raw = config.get(KEYS.settings);
  if (raw === null) return defaultSettings();
  const parsed = parseStored(raw);
  const current = migrateSettings(parsed);
  try {
    return validateSettings(current);
  } catch (error) {
    const problem = error instanceof UserError ? error.detail.text : String(error);
    throw new UserError(msg('corruptSettings', { problem }));
  }
}

function parseStored(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new UserError(msg('corruptSettings', { problem: 'the stored value is not valid JSON' }));
  }
}

/**
 * Refuses to overwrite settings a newer version of Roster Sync saved (after a rollback): they hold what
 * this version cannot read. Corrupt settings may be overwritten: saving is how they are repaired.
 */
export function assertStoredSettingsNotNewer(config: KeyValueStore): void {
  const raw = config.get(KEYS.settings);
  let stored: unknown = null;
  try {
    stored = raw === null ? null : JSON.parse(raw);
  } catch {
    return;
  }
  const version = (stored as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > SETTINGS_SCHEMA_VERSION) throw newerVersion(version);
}

export function storeSettings(config: KeyValueStore, settings: Settings): void {
  config.set(KEYS.settings, JSON.stringify(settings));
}

export function readNumber(config: KeyValueStore, key: string): number | null {
  const raw = config.get(key);
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) ? n : null;
}
