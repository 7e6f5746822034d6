// An app that accepts SCIM 2.0 provisioning (RFC 7643/7644): its settings live
// under `settings.scim`, its bearer token in the sync account's user properties.
import { Destination } from '../../core/destination';
import { KEYS } from '../../core/config';
import { OpenContext } from '../context';
import { ScimSettings, checkScimDestination, clearScimToken, readScimToken, scimFingerprint, scimTokenView, storeScimToken, validateScimSettings } from './scimConfig';
import { ScimNotReady, ScimRoster, scimSetupProblem } from './scimRoster';

declare module '../../core/destination' {
  interface DestinationSettingsMap {
    scim: ScimSettings;
  }
}

export const scimDestination: Destination<ScimSettings, OpenContext> = {
  id: 'scim',
  label: 'an app through SCIM 2.0',
  settings: {
    validate: (raw, { roles, field }) => validateScimSettings(raw, roles, field),
    fingerprint: scimFingerprint,
  },
  secret: { save: storeScimToken, clear: clearScimToken, view: scimTokenView },
  describe(settings, secrets) {
    if (!settings || !scimTokenView(secrets).saved) return 'SCIM app (not set up)';
    return `SCIM app at ${settings.baseUrl.replace(/^https?:\/\//, '').split('/')[0]}`;
  },
  open({ settings, config, secrets, state }) {
    const token = readScimToken(secrets);
    const problem = scimSetupProblem(settings?.scim ?? null, token, config.get(KEYS.syncAccount) ?? '');
    return problem || !settings ? new ScimNotReady(problem!) : new ScimRoster({ settings: settings.scim!, token: token!, roles: settings.roles, state, attributes: settings.attributes ?? [] });
  },
  // One cheap probe (ServiceProviderConfig and one page of users) says reachable and token accepted.
  check: (svc) => checkScimDestination(svc.roster instanceof ScimRoster || svc.roster instanceof ScimNotReady ? svc.roster : null),
};
