// Settings and small pointers in the (already namespaced) config store.
import { DestinationCatalog, KeyValueStore, Services } from './ports';
import { Settings, defaultSettings, validateSettings } from './settings';
import { MessageId, UserError, msg, toMessage } from './messages';
import { SETTINGS_SCHEMA_VERSION, migrateSettings, newerVersion } from './migrations';

export const KEYS = {
  settings: 'settings',
  installer: 'installer',
  syncAccount: 'syncAccount',
  lastScheduledRun: 'lastScheduledRun',
  lastFullSync: 'lastFullSync',
  /** When the schedule (mode, hour, time zone) was last set: a daily sync is due from the first slot after it. */
  scheduleSince: 'scheduleSince',
  /** Synced accounts the roster held when the last sync finished: an emptied roster is refused, not refilled. */
  rosterSyncedAccounts: 'rosterSyncedAccounts',
  /** [finished at ms, deactivations + deletions] of recent syncs not confirmed by an admin (the rolling threshold). */
  destructiveLog: 'destructiveLog',
  /** The id of a sync saved part-way: its progress missing from the state sheet means the sheet was deleted or cleared. */
  runningJob: 'runningJob',
  /** How many users the last complete sync read from the directory: large domains are read in parallel. */
  directoryUsers: 'directoryUsers',
} as const;

/** Why settings cannot be read: until they can, nothing syncs and only the installer may repair them. */
export const UNREADABLE_SETTINGS: ReadonlySet<MessageId> = new Set<MessageId>(['corruptSettings', 'settingsTooNew']);

/**
 * Settings as saved, upgraded from the version that saved them (migrations.ts; written back only by the
 * next save); defaults when none were saved yet; a UserError when they are unreadable or newer than this code.
 */
export function loadSettings(config: KeyValueStore, destinations: DestinationCatalog): Settings {
  const raw = config.get(KEYS.settings);
  return raw === null ? defaultSettings() : parseSettings(raw, destinations);
}

function parseSettings(raw: string, destinations: DestinationCatalog): Settings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UserError(msg('corruptSettings', { problem: 'the stored value is not valid JSON' }));
  }
  const current = migrateSettings(parsed);
  try {
    return validateSettings(current, destinations);
  } catch (error) {
    const problem = error instanceof UserError ? error.detail.text : String(error);
    throw new UserError(msg('corruptSettings', { problem }));
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

/**
 * The settings for this server call or execution, parsed and validated once: the stored text is
 * read each time (one property read, so a save by a second admin is never missed), and parsed
 * again only when it differs from what was last parsed or stored through this config store.
 */
export function readSettings(svc: Pick<Services, 'config' | 'destinations'>): Settings {
  const raw = svc.config.get(KEYS.settings);
  const last = parsed.get(svc.config);
  if (last && last.raw === raw) return last.settings;
  const settings = raw === null ? defaultSettings() : parseSettings(raw, svc.destinations);
  parsed.set(svc.config, { raw, settings });
  return settings;
}

/** What was last parsed from each config store (one per call or execution), with the text it came from. */
const parsed = new WeakMap<object, { raw: string | null; settings: Settings }>();

/** Saves the settings as the next revision (the one after those they were read at). */
export function storeSettings(svc: Pick<Services, 'config' | 'destinations'>, settings: Settings): Settings {
  const next = { ...settings, revision: settings.revision + 1 };
  const raw = JSON.stringify(next);
  svc.config.set(KEYS.settings, raw);
  parsed.set(svc.config, { raw, settings: next });
  return next;
}

export function readNumber(config: KeyValueStore, key: string): number | null {
  const raw = config.get(key);
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) ? n : null;
}

/**
 * Runs a property write that must not keep a sync's outcome from History and the admins' mail when
 * the property store is full (that failure is itself what they are told about).
 */
export function evenIfStoreFull(write: () => void): void {
  try {
    write();
  } catch (error) {
    if (toMessage(error).id !== 'propertyStoreFull') throw error;
  }
}
