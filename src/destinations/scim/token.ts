// The SCIM bearer token: kept in the sync account's user properties, bound to the base URL it
// was saved for, shown only masked and never sent back to the browser.
import { KeyValueStore } from '../../core/ports';
import { Message, UserError, msg } from '../../core/messages';
import { normalizeBaseUrl } from './scimSettings';

export const SCIM_TOKEN_KEY = 'scimToken';
export const MAX_TOKEN_LENGTH = 4096;

/** Beside the token: the base URL it was saved for, as a record {"savedFor": canonical URL, or '' for none}. */
export const SCIM_TOKEN_URL_KEY = 'scimTokenUrl';

/**
 * The address a token is bound to, compared as scheme, host, port and path: scheme and
 * host lower-cased, a default port (443, 80) dropped, the path kept as it is (paths are
 * case-sensitive, RFC 3986 §6.2.2.1) without trailing slashes. null when it is no http(s) URL.
 */
export function canonicalBaseUrl(value: string): string | null {
  const m = /^(https?):\/\/([^/?#\s@]+)(\/[^?#\s]*)?$/i.exec(value.trim());
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d*))?$/.exec(m[2].toLowerCase());
  if (!hp) return null;
  const port = hp[2] ? String(Number(hp[2])) : '';
  const defaultPort = scheme === 'https' ? '443' : '80';
  const path = (m[3] ?? '').replace(/\/+$/, '');
  return `${scheme}://${hp[1]}${port && port !== defaultPort ? `:${port}` : ''}${path}`;
}

/**
 * Checks and stores a pasted token in the user's private store, bound to the base URL it is
 * pasted for (none: it is sent nowhere until pasted again for an address); returns the masked view.
 */
export function storeScimToken(secrets: KeyValueStore, raw: unknown, baseUrl = ''): ScimTokenView {
  if (typeof raw !== 'string') throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: 'must be text' }));
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (!token) throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: 'is empty' }));
  if (token.length > MAX_TOKEN_LENGTH) throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: `is longer than ${MAX_TOKEN_LENGTH} characters` }));
  if (!/^[\x21-\x7e]+$/.test(token)) throw new UserError(msg('invalidInput', { field: 'The SCIM token', problem: 'contains spaces or characters a bearer token cannot hold; paste it exactly as the app shows it' }));
  secrets.set(SCIM_TOKEN_KEY, token);
  bindScimToken(secrets, baseUrl);
  return scimTokenView(secrets);
}

/** The base URL the saved token is bound to ('' when none is, null when the token predates binding). */
export function scimTokenAddress(secrets: KeyValueStore): string | null {
  const raw = secrets.get(SCIM_TOKEN_URL_KEY);
  if (!raw) return null;
  try {
    const savedFor = (JSON.parse(raw) as { savedFor?: unknown }).savedFor;
    return typeof savedFor === 'string' ? savedFor : '';
  } catch {
    return ''; // unreadable: bound to no address, so the token is sent nowhere until pasted again
  }
}

function bindScimToken(secrets: KeyValueStore, baseUrl: string): void {
  secrets.set(SCIM_TOKEN_URL_KEY, JSON.stringify({ savedFor: (baseUrl && canonicalBaseUrl(baseUrl)) || '' }));
}

/** Binds a token saved before tokens were bound to an address (an earlier version) to `baseUrl`. */
export function bindLegacyScimToken(secrets: KeyValueStore, baseUrl: string): void {
  if (readScimToken(secrets) && scimTokenAddress(secrets) === null) bindScimToken(secrets, baseUrl);
}

/**
 * The token to send to `baseUrl`, or the message saying why none may be: no token saved, or a
 * token saved for another address (a base URL changed since, by anyone, never receives it).
 */
export function scimTokenFor(secrets: KeyValueStore, baseUrl: string, syncAccount: string): { token: string } | { problem: Message } {
  const token = readScimToken(secrets);
  const user = syncAccount || 'the sync account';
  if (!token) return { problem: msg('scimTokenMissing', { user }) };
  const bound = scimTokenAddress(secrets);
  const target = canonicalBaseUrl(baseUrl);
  if (bound === null) return { problem: msg('scimTokenUnbound', { baseUrl: normalizeBaseUrl(baseUrl), user }) };
  if (target !== null && bound === target) return { token };
  return { problem: tokenElsewhere(bound || '', baseUrl, user) };
}

/** The message for a token saved for `savedFor` ('' for no address) while the base URL is `baseUrl`. */
export function tokenElsewhere(savedFor: string, baseUrl: string, user: string): Message {
  return msg('scimTokenOtherUrl', { savedFor: savedFor || 'no address', baseUrl: normalizeBaseUrl(baseUrl), user });
}

export function readScimToken(secrets: KeyValueStore): string | null {
  const t = secrets.get(SCIM_TOKEN_KEY);
  return t ? t : null;
}

export function clearScimToken(secrets: KeyValueStore): ScimTokenView {
  secrets.remove(SCIM_TOKEN_KEY);
  secrets.remove(SCIM_TOKEN_URL_KEY);
  return scimTokenView(secrets);
}

export interface ScimTokenView {
  saved: boolean;
  /** e.g. "••••••••3f9a": enough to recognise the token, never enough to use it. */
  masked: string;
}

export function maskToken(token: string): string {
  if (!token) return '';
  const tail = token.length >= 16 ? token.slice(-4) : '';
  return `${'•'.repeat(8)}${tail}`;
}

export function scimTokenView(secrets: KeyValueStore): ScimTokenView {
  const token = readScimToken(secrets);
  return { saved: !!token, masked: token ? maskToken(token) : '' };
}
