// Settings and small pointers in the (already namespaced) config store.
import { KeyValueStore } from './ports';
import { Settings, defaultSettings, validateSettings } from './settings';
import { UserError, msg } from './messages';

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
} as const;

/** Settings as saved; defaults when none were saved yet; a UserError when they are unreadable. */
export function loadSettings(config: KeyValueStore): Settings {
  const raw = config.get(KEYS.settings);
  if (raw === null) return defaultSettings();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UserError(msg('corruptSettings', { problem: 'the stored value is not valid JSON' }));
  }
  try {
    return validateSettings(parsed);
  } catch (error) {
    const problem = error instanceof UserError ? error.detail.text : String(error);
    throw new UserError(msg('corruptSettings', { problem }));
  }
}

/** Saves the settings as the next revision (the one after those they were read at). */
export function storeSettings(config: KeyValueStore, settings: Settings): Settings {
  const next = { ...settings, revision: settings.revision + 1 };
  config.set(KEYS.settings, JSON.stringify(next));
  return next;
}

export function readNumber(config: KeyValueStore, key: string): number | null {
  const raw = config.get(key);
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) ? n : null;
}
