// The functions Apps Script calls: simple triggers, the menu, the schedule
// trigger and the sidebar's server API. The build turns each export into a
// real top-level function of the pushed script. Wiring only; logic is in core.
import * as api from './core/api';
import { Services } from './core/ports';
import { Message, toMessage } from './core/messages';
import { heartbeat } from './core/triggers';
import { buildServices, rosterSpreadsheet } from './gas/services';
import { REBUILD_LEDGER } from './destinations/scim';

export type Envelope<T> = { ok: true; data: T } | { ok: false; error: Message };

const SIDEBAR_TITLE = 'Roster Sync';

/** Runs one API call with fresh services; a failure comes back as a readable message, never a stack trace. */
function serve<T>(call: (svc: Services) => T): Envelope<T> {
  const started = Date.now();
  try {
    return { ok: true, data: call(buildServices(rosterSpreadsheet(), started)) };
  } catch (error) {
    const message = toMessage(error);
    if (message.id === 'unexpected') console.error(error instanceof Error ? error.stack || error.message : String(error));
    return { ok: false, error: message };
  }
}

/** Adds the menu. In AuthMode.NONE (add-on not yet used in this document) properties are off-limits, so it touches none. */
export function onOpen(_e?: GoogleAppsScript.Events.SheetsOnOpen): void {
  SpreadsheetApp.getUi().createAddonMenu().addItem('Open Roster Sync', 'showSidebar').addToUi();
}

export function onInstall(e?: GoogleAppsScript.Events.AddonOnInstall): void {
  onOpen(e as unknown as GoogleAppsScript.Events.SheetsOnOpen);
}

export function showSidebar(): void {
  const html = HtmlService.createHtmlOutputFromFile('Sidebar').setTitle(SIDEBAR_TITLE);
  SpreadsheetApp.getUi().showSidebar(html);
}

/** The hourly heartbeat trigger: continues a part-way sync, or starts one when the schedule says it is due. */
export function runScheduledSync(e?: GoogleAppsScript.Events.TimeDriven): unknown {
  const started = Date.now();
  try {
    const result = heartbeat(buildServices(rosterSpreadsheet(e?.triggerUid), started));
    console.log(`Roster Sync heartbeat: ${result.state} — ${result.message}`);
    return result;
  } catch (error) {
    const message = toMessage(error);
    console.error(`Roster Sync heartbeat failed: ${message.text}`);
    return { state: 'failed', message: message.text, fix: message.fix };
  }
}

export function getState() {
  return serve((svc) => api.getState(svc));
}
export function saveSettings(settings: unknown) {
  return serve((svc) => api.saveSettings(svc, settings));
}
export function previewSync() {
  return serve((svc) => api.previewSync(svc));
}
export function syncNow(request?: unknown) {
  return serve((svc) => api.syncNow(svc, request));
}
export function syncChanges() {
  return serve((svc) => api.syncChanges(svc));
}
export function continueSync() {
  return serve((svc) => api.continueSync(svc));
}
export function getSyncProgress() {
  return serve((svc) => api.getSyncProgress(svc));
}
export function listOrgUnits(request?: unknown) {
  return serve((svc) => api.listOrgUnits(svc, request));
}
export function listGroups(request?: unknown) {
  return serve((svc) => api.listGroups(svc, request));
}
export function getAccounts(request?: unknown) {
  return serve((svc) => api.getAccounts(svc, request));
}
export function updateAccounts(request?: unknown) {
  return serve((svc) => api.updateAccounts(svc, request));
}
export function addAccount(request?: unknown) {
  return serve((svc) => api.addAccount(svc, request));
}
export function removeDeselectedAppGroups(request?: unknown) {
  return serve((svc) => api.removeDeselectedAppGroups(svc, request));
}
export function explainUser(request?: unknown) {
  return serve((svc) => api.explainUser(svc, request));
}
export function syncUser(request?: unknown) {
  return serve((svc) => api.syncUser(svc, request));
}
export function startNewRoster(request?: unknown) {
  return serve((svc) => api.startNewRoster(svc, request));
}
export function getSyncReport(request?: unknown) {
  return serve((svc) => api.getSyncReport(svc, request));
}
export function runFinalizeChecks() {
  return serve((svc) => api.runFinalizeChecks(svc));
}
export function testScimConnection() {
  return serve((svc) => api.testScimConnection(svc));
}
export function getSetupStatus() {
  return serve((svc) => api.getSetupStatus(svc));
}
export function reinstallTrigger() {
  return serve((svc) => api.reinstallTrigger(svc));
}
export function useMyAccountForSync(request?: unknown) {
  return serve((svc) => api.useMyAccountForSync(svc, request));
}
export function askAdminMessage(request?: unknown) {
  return serve((svc) => api.askAdminMessage(svc, request));
}
export function saveScimToken(request?: unknown) {
  return serve((svc) => api.saveDestinationSecret(svc, 'scim', request));
}
export function clearScimToken() {
  return serve((svc) => api.clearDestinationSecret(svc, 'scim'));
}
export function rebuildScimLedger() {
  return serve((svc) => api.repairDestination(svc, REBUILD_LEDGER));
}
