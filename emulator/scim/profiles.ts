// Behaviour profiles of the test SCIM server (server.ts), apart so tests and docs can read them without starting it.
import type { Switches } from './server';

/**
 * Behaviour profiles, each what common SCIM service providers document: switch one on with
 * `server.set(PROFILES.x)`. They are the rows of docs/scim-compatibility.md.
 */
export const PROFILES = {
  /** PATCH without value-filtered paths on Users (only whole multi-valued attributes may be replaced). */
  noValuePathPatch: { valuePathPatch: false, bulk: false },
  /** No value-filtered PATCH paths on Groups: members are removed with a value array (as Microsoft Entra sends it) or by replacing the list. */
  noValuePathGroups: { groupValuePathPatch: false, bulk: false },
  /** Neither value-filtered paths nor a value array on Groups: members are removed only by replacing the whole list. */
  replaceMembersOnly: { groupValuePathPatch: false, groupRemoveValueArray: false, bulk: false },
  /** Emails are unique across every account of the app, also those created in the app before provisioning. */
  uniqueEmails: { uniqueEmails: true },
  /** 100 requests per 10 seconds per path, 429 with Retry-After. */
  rateLimitRetryAfter: { bulk: false, rateLimit: { limit: 100, windowMs: 10_000, style: 'retry-after' } },
  /** The same limit, saying how long to wait only in X-Retry-After. */
  rateLimitXRetryAfter: { bulk: false, rateLimit: { limit: 100, windowMs: 10_000, style: 'x-retry-after' } },
  /** The same limit, published in the IETF RateLimit-* headers. */
  rateLimitIetf: { bulk: false, rateLimit: { limit: 100, windowMs: 10_000, style: 'ietf' } },
  /** No Bulk, pages of at most 100, only `eq` filters on one attribute, no totalResults. */
  narrow: { bulk: false, maxCount: 100, eqOnlyFilters: true, omitTotalResults: true },
  /** Advertises Bulk in ServiceProviderConfig but answers 501 to it. */
  bulkAdvertisedNotHonoured: { bulk: true, bulkRefused: true },
  /** A token that may manage users but not groups. */
  usersOnlyToken: { tokenScope: 'users' },
} satisfies Record<string, Partial<Switches>>;
