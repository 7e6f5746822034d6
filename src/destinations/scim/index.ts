// An app that accepts SCIM 2.0 provisioning (RFC 7643/7644): its settings live
// under `settings.scim`, its bearer token in the sync account's user properties.
import { Destination, SecretContext, Services } from '../../core/ports';
import { KEYS } from '../../core/config';
import { OpenContext } from '../context';
import { Message, UserError, msg } from '../../core/messages';
import { ScimSettings, baseUrlProblem, normalizeBaseUrl, scimFingerprint, validateScimSettings } from './scimSettings';
import { bindLegacyScimToken, canonicalBaseUrl, clearScimToken, readScimToken, scimTokenAddress, scimTokenFor, scimTokenView, storeScimToken, tokenElsewhere } from './token';
import { checkScimDestination } from './serviceProvider';
import { ScimNotReady, ScimRoster, scimSetup } from './scimRoster';
import { urlFetchQuotaFor } from './quota';
import { hasLedger } from './ledger';

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
  secret: {
    // Bound to the address it is pasted for: the base URL in the form beside it, else the saved one.
    save(secrets, raw, context) {
      const baseUrl = tokenAddress(context);
      const view = storeScimToken(secrets, raw, baseUrl);
      if (context?.bySyncAccount) context.config.set(TOKEN_SAVED_FOR_KEY, canonicalBaseUrl(baseUrl) ?? '');
      return view;
    },
    clear(secrets, context) {
      if (context?.bySyncAccount) context.config.remove(TOKEN_SAVED_FOR_KEY);
      return clearScimToken(secrets);
    },
    view: scimTokenView,
  },
  describe(settings, secrets) {
    if (!settings || !scimTokenView(secrets).saved) return 'SCIM app (not set up)';
    return `SCIM app at ${settings.baseUrl.replace(/^https?:\/\//, '').split('/')[0]}`;
  },
  open({ settings, config, secrets, state, remainingMs }) {
    const syncAccount = config.get(KEYS.syncAccount) ?? '';
    const setup = scimSetup(settings, readScimToken(secrets), syncAccount);
    if ('problem' in setup) return new ScimNotReady(setup.problem);
    const { scim, settings: saved } = setup;
    // A token saved by an earlier version (no address recorded) is bound to the base URL only when
    // syncs already went there (its ledger is there): a base URL changed before that gets nothing.
    if (scimTokenAddress(secrets) === null && hasLedger(state, scim.baseUrl)) bindLegacyScimToken(secrets, scim.baseUrl);
    // The token goes only to the address it was saved for: a base URL changed since (by a co-admin, say) gets nothing.
    const token = scimTokenFor(secrets, scim.baseUrl, syncAccount);
    if ('problem' in token) return new ScimNotReady(new UserError(token.problem));
    return new ScimRoster({ settings: scim, token: token.token, roles: saved.roles, state, marks: config, remainingMs, urlFetchPerDay: urlFetchQuotaFor(syncAccount), attributes: saved.attributes ?? [], appGroupsSelected: saved.appGroups?.length ?? 0 });
  },
  // One cheap probe (ServiceProviderConfig and one page of users) says reachable and token accepted.
  check(svc, settings) {
    const reached = checkScimDestination(svc.roster instanceof ScimRoster || svc.roster instanceof ScimNotReady ? svc.roster : null);
    if (reached.status !== 'pass' || settings?.attributes.active !== 'none') return reached;
    const m = msg('scimNoActiveFlag');
    return { status: 'warning', found: `${reached.found} ${m.text}`, fix: m.fix };
  },
  problems(svc, settings) {
    const problems: Message[] = [];
    const token = tokenProblem(svc, settings);
    if (token) problems.push(token);
    if (svc.roster instanceof ScimRoster && svc.roster.ledgerLost()) problems.push(msg('scimLedgerLost', { host: svc.roster.client.host }));
    return problems;
  },
  repair(svc, _settings, repair) {
    if (repair !== REBUILD_LEDGER || !(svc.roster instanceof ScimRoster) || !svc.roster.rebuildLostLedger()) return null;
    return msg('scimLedgerRebuilt', { email: svc.session.activeUserEmail() || 'An admin' });
  },
};

/** The repair that links the app's users again by externalId after the ledger was lost. */
export const REBUILD_LEDGER = 'rebuildLedger';

/** In config (not secret): the base URL the sync account's token was saved for, so every admin can be told when it no longer matches. */
const TOKEN_SAVED_FOR_KEY = 'scim.tokenSavedFor';

function tokenAddress(context: SecretContext | undefined): string {
  const raw = context?.args.baseUrl;
  if (raw !== undefined && raw !== null && raw !== '') {
    const problem = baseUrlProblem(raw);
    if (problem) throw new UserError(msg('invalidInput', { field: 'baseUrl', problem }));
    return normalizeBaseUrl(raw as string);
  }
  return context?.settings?.scim?.baseUrl ?? '';
}

/** Said to every admin: the sync account's token was saved for another address than the base URL now saved. */
function tokenProblem(svc: Services, settings: ScimSettings | null): Message | null {
  if (!settings?.baseUrl) return null;
  const syncAccount = svc.config.get(KEYS.syncAccount) ?? '';
  const mine = syncAccount === svc.session.activeUserEmail() && scimTokenView(svc.secrets).saved;
  const savedFor = mine ? scimTokenAddress(svc.secrets) : svc.config.get(TOKEN_SAVED_FOR_KEY);
  if (savedFor === canonicalBaseUrl(settings.baseUrl)) return null;
  // A token saved by an earlier version (no address recorded) is bound at its next use, if syncs went to this address before.
  if (savedFor === null) return hasLedger(svc.state, settings.baseUrl) ? null : msg('scimTokenUnbound', { baseUrl: settings.baseUrl, user: syncAccount || 'the sync account' });
  return tokenElsewhere(savedFor, settings.baseUrl, syncAccount || 'the sync account');
}
