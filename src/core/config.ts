// Settings and small pointers in the (already namespaced) config store.
import { KeyValueStore, Services } from './ports';
import { DestinationCatalog } from './destination';
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
  /** How many users the last complete sync read from the directory: large domains are read in parallel. */
  directoryUsers: 'directoryUsers',
} as const;

/** Settings as saved; defaults when none were saved yet; a UserError when they are unreadable. */
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
  try {
    return validateSettings(parsed, destinations);
  } catch (error) {
    const problem = error instanceof UserError ? error.detail.text : String(error);
    throw new UserError(msg('corruptSettings', { problem }));
  }
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

export function storeSettings(svc: Pick<Services, 'config' | 'destinations'>, settings: Settings): void {
  const raw = JSON.stringify(settings);
  svc.config.set(KEYS.settings, raw);
  parsed.set(svc.config, { raw, settings });
}

export function readNumber(config: KeyValueStore, key: string): number | null {
  const raw = config.get(key);
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) ? n : null;
}
