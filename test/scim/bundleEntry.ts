// Entry of a small test bundle (built by runtime.test.ts with esbuild, run in the
// simulated Apps Script runtime): the real Apps Script adapters from
// buildServices with the roster swapped for the SCIM destination, which is the
// wiring src/gas/services.ts will get. Settings for the SCIM sub-document live
// in a config key here only because src/core/settings.ts does not hold it yet.
import { Services } from '../../src/core/ports';
import { KEYS, loadSettings, storeSettings } from '../../src/core/config';
import { defaultSettings } from '../../src/core/settings';
import { runSync } from '../../src/core/sync';
import { toMessage } from '../../src/core/messages';
import { ScimSettings, checkScimDestination, readScimToken, scimTokenView, storeScimToken, validateScimSettings } from '../../src/destinations/scim/scimConfig';
import { buildServices, rosterSpreadsheet } from '../../src/gas/services';
import { ScimRoster, scimSetup } from '../../src/destinations/scim/scimRoster';
import { DESTINATIONS } from '../../src/destinations';

const SCIM_KEY = 'scim';

function services(): Services {
  const svc = buildServices(rosterSpreadsheet(), Date.now());
  const settings = loadSettings(svc.config, DESTINATIONS);
  const raw = svc.config.get(SCIM_KEY);
  const scim: ScimSettings | null = raw ? validateScimSettings(JSON.parse(raw), settings.roles) : null;
  const token = readScimToken(svc.secrets);
  const setup = scimSetup({ ...settings, scim }, token, svc.config.get(KEYS.syncAccount) ?? '');
  if ('problem' in setup) throw setup.problem;
  svc.roster = new ScimRoster({ settings: setup.scim, token: token!, roles: setup.settings.roles, state: svc.state });
  return svc;
}

export function setup(scim: unknown, rules: unknown, admin: string) {
  const svc = buildServices(rosterSpreadsheet(), Date.now());
  svc.config.set(KEYS.installer, admin);
  svc.config.set(KEYS.syncAccount, admin);
  const settings = { ...defaultSettings(), rules: rules as never, cooldownMinutes: 0, graceDays: 7, threshold: { kind: 'count' as const, value: 1000, windowHours: 24 } };
  storeSettings(svc, settings);
  svc.config.set(SCIM_KEY, JSON.stringify(validateScimSettings(scim, settings.roles)));
  return true;
}

export function saveToken(token: unknown) {
  const svc = buildServices(rosterSpreadsheet(), Date.now());
  return storeScimToken(svc.secrets, token);
}

export function tokenView() {
  return scimTokenView(buildServices(rosterSpreadsheet(), Date.now()).secrets);
}

export function sync(mode: 'start' | 'continue') {
  try {
    return runSync(services(), { trigger: 'manual', mode });
  } catch (error) {
    return { state: 'failed', message: toMessage(error).text, fix: toMessage(error).fix };
  }
}

export function accounts() {
  return services().roster.readAll().accounts;
}

export function check() {
  try {
    return checkScimDestination(services().roster as ScimRoster);
  } catch (error) {
    const m = toMessage(error);
    return checkScimDestination(null, m);
  }
}
