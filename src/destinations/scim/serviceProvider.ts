// What the app says it supports (ServiceProviderConfig), and the Finalize check's reading of a probe.
import { CATALOG, Message, UserError, msg } from '../../core/messages';

// ---------- finalize check ----------

export interface ScimProbeResult {
  host: string;
  patch: boolean;
  bulk: boolean;
  filter: boolean;
  /** totalResults of GET /Users (null when the app does not say). */
  users: number | null;
}

/** What checkScimDestination needs: a client that reads ServiceProviderConfig and one page of users, throwing a UserError on failure. */
export interface ScimProbe {
  probe(): ScimProbeResult;
}

/** Finalize check "SCIM destination reachable and token accepted". Pure: all I/O is in the probe. */
export function checkScimDestination(client: ScimProbe | null, missing?: Message): { status: 'pass' | 'fail'; found: string; fix: string } {
  if (!client) {
    const m = missing ?? msg('scimNotConfigured', { missing: 'the base URL or the token is missing' });
    return { status: 'fail', found: m.text, fix: m.fix };
  }
  try {
    const r = client.probe();
    const yes = (b: boolean) => (b ? 'yes' : 'no');
    const users = r.users === null ? '' : ` It holds ${r.users} users.`;
    return { status: 'pass', found: `The SCIM app at ${r.host} answered and accepted the token (PATCH: ${yes(r.patch)}, Bulk: ${yes(r.bulk)}, filter: ${yes(r.filter)}).${users}`, fix: '' };
  } catch (error) {
    const m = error instanceof UserError ? error.detail : { text: error instanceof Error ? error.message : String(error), fix: CATALOG.scimNotScim.fix };
    return { status: 'fail', found: m.text, fix: m.fix };
  }
}

// ---------- service provider capabilities ----------

export interface ScimCapabilities {
  patch: boolean;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  filter: { supported: boolean; maxResults: number };
}

/** Reads a ServiceProviderConfig body; null when it is not one. */
export function parseServiceProviderConfig(body: unknown): ScimCapabilities | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const b = body as Record<string, any>;
  const looksLikeSpc = 'patch' in b || 'bulk' in b || 'filter' in b || (Array.isArray(b.schemas) && b.schemas.some((s: unknown) => String(s).includes('ServiceProviderConfig')));
  if (!looksLikeSpc) return null;
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : typeof v === 'string' && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : fallback);
  return {
    patch: b.patch?.supported === true,
    bulk: {
      supported: b.bulk?.supported === true,
      maxOperations: num(b.bulk?.maxOperations, 100),
      maxPayloadSize: num(b.bulk?.maxPayloadSize, 1_048_576),
    },
    filter: { supported: b.filter?.supported === true, maxResults: num(b.filter?.maxResults, 200) },
  };
}
