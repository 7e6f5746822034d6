// Builds the core's Services from Apps Script's globals, once per execution.
import { RosterPort, Services } from '../core/ports';
import { readSettings } from '../core/config';
import { EMBEDDED_DESTINATION, Settings } from '../core/settings';
import { UserError, msg } from '../core/messages';
import { DESTINATIONS } from '../destinations';
import { GasDirectory } from './directory';
import { PropertyStore } from './properties';
import { SheetHistory } from './sheetHistory';
import { REPORTS_SHEET, SheetBlobStore } from './sheetState';
import { MirroredConfig } from './mirroredConfig';
import { LeaseLock } from '../core/lease';
import { GasLock, GasTriggers, gasClock, gasMail, gasSession, triggerDocKey } from './platform';

/**
 * Where settings live, fixed at build time: 'script' properties for a domain's
 * private deployment (one store shared by every user of the script), or the
 * roster spreadsheet's 'document' properties for a public multi-domain listing.
 */
declare const ROSTER_SYNC_SETTINGS_SCOPE: 'script' | 'document';
/** Set only by the simulated runtime, to force small execution budgets in tests. */
declare const ROSTER_SYNC_BUDGET_MS: number | undefined;

/** Stop well before Apps Script's 6-minute limit, leaving time to checkpoint. */
export const EXECUTION_BUDGET_MS = 270_000;
/** Apps Script ends every execution by then (plus a margin for clock skew): a killed sync's lease expires. */
const EXECUTION_SURELY_ENDED_MS = 6 * 60_000 + 15_000;

export function settingsScope(): 'script' | 'document' {
  return typeof ROSTER_SYNC_SETTINGS_SCOPE === 'string' && ROSTER_SYNC_SETTINGS_SCOPE === 'document' ? 'document' : 'script';
}

function budgetMs(): number {
  return typeof ROSTER_SYNC_BUDGET_MS === 'number' ? ROSTER_SYNC_BUDGET_MS : EXECUTION_BUDGET_MS;
}

/** The roster spreadsheet: the active one in the sidebar, the trigger's own in a time-driven run. */
export function rosterSpreadsheet(triggerUid?: string): GoogleAppsScript.Spreadsheet.Spreadsheet {
  const active = SpreadsheetApp.getActiveSpreadsheet();
  if (active) return active;
  const id = triggerUid ? PropertiesService.getUserProperties().getProperty(triggerDocKey(triggerUid)) : null;
  if (!id) throw new UserError(msg('rosterMissing'));
  try {
    return SpreadsheetApp.openById(id);
  } catch {
    throw new UserError(msg('rosterMissing'));
  }
}

/**
 * The roster destination the settings choose, opened on first use. Unreadable settings fall back to
 * the embedded sheet, which no sync touches until they are repaired (runSync refuses them first).
 */
function openRoster(svc: Services, spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet): RosterPort {
  let settings: Settings | null = null;
  try {
    settings = readSettings(svc);
  } catch {
    settings = null;
  }
  const destination = DESTINATIONS.get(settings?.destination ?? EMBEDDED_DESTINATION)!;
  return destination.open({ spreadsheet, settings, config: svc.config, secrets: svc.secrets, state: svc.state });
}

function documentConfig(state: SheetBlobStore) {
  const props = PropertiesService.getDocumentProperties();
  return new MirroredConfig(props ? new PropertyStore(props, 'rs:') : null, state);
}

/**
 * One lock for every execution that may write this roster, in either build: a lease per
 * spreadsheet in script properties (a time-driven run has no document lock), guarded by the
 * script lock for milliseconds only, so syncs of different rosters or domains never wait on each other.
 */
function syncLock(ssId: string, startedMs: number): LeaseLock {
  return new LeaseLock({
    mutex: new GasLock(LockService.getScriptLock()),
    store: new PropertyStore(PropertiesService.getScriptProperties(), 'rs:lease:'),
    key: ssId,
    clock: gasClock,
    holder: `${startedMs.toString(36)}.${Math.random().toString(36).slice(2, 10)}`,
    expiresAtMs: startedMs + EXECUTION_SURELY_ENDED_MS,
  });
}

export function buildServices(spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet, startedMs: number): Services {
  const scope = settingsScope();
  const ssId = spreadsheet.getId();
  const state = new SheetBlobStore(spreadsheet);
  const budget = budgetMs();
  // Namespaced by roster spreadsheet: every user who opens it (whatever their email domain, e.g. a
  // customer's secondary domain) meets the same configuration, and who may change it is decided by
  // that configuration (installer and listed admins), never by a namespace of one's own.
  const config = scope === 'document' ? documentConfig(state) : new PropertyStore(PropertiesService.getScriptProperties(), `rs:${ssId}:`);
  const secrets = new PropertyStore(PropertiesService.getUserProperties(), `rs:${ssId}:`);
  let roster: RosterPort | null = null;
  const services: Services = {
    directory: new GasDirectory((ms) => Utilities.sleep(ms)),
    destinations: DESTINATIONS,
    get roster() {
      return (roster ??= openRoster(services, spreadsheet));
    },
    set roster(replacement: RosterPort) {
      roster = replacement;
    },
    history: new SheetHistory(spreadsheet),
    config,
    secrets,
    state,
    reports: new SheetBlobStore(spreadsheet, REPORTS_SHEET),
    lock: syncLock(ssId, startedMs),
    triggers: new GasTriggers(spreadsheet),
    clock: gasClock,
    session: gasSession,
    notifier: gasMail,
    remainingMs: () => startedMs + budget - Date.now(),
    rosterUrl: () => spreadsheet.getUrl(),
  };
  return services;
}
