// Where the roster lives. Each destination is one folder under src/destinations
// behind this interface; the core only ever sees the interface and the catalog
// it is handed (Services.destinations), so it names no destination itself.
import { Role } from './model';
import { KeyValueStore, RosterPort, Services } from './ports';
import { Message } from './messages';
import type { Settings } from './settings';

/**
 * The settings sub-document of each destination that has one, by destination id.
 * A destination declares its own entry by module augmentation, e.g.
 * `declare module '../../core/destination' { interface DestinationSettingsMap { scim: ScimSettings } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface DestinationSettingsMap {}

/** Each destination's sub-document sits in the settings under the destination's id (null when not filled in). */
export type DestinationSettings = { [K in keyof DestinationSettingsMap]: DestinationSettingsMap[K] | null };

/** A Finalize check result (see finalize.ts). */
export interface CheckOutcome {
  status: 'pass' | 'fail' | 'warning';
  found: string;
  fix: string;
}

/** A secret a destination keeps in the sync account's user properties (e.g. a bearer token). */
export interface SecretView {
  saved: boolean;
  /** Enough to recognise the secret, never enough to use it. */
  masked: string;
}

/** What a secret is saved or cleared with. */
export interface SecretContext {
  /** The whole request the secret came with (e.g. the address it is for). */
  args: Record<string, unknown>;
  /** The saved settings, null when unreadable. */
  settings: Settings | null;
  /** Settings and small pointers (not secret): e.g. where a secret may be sent, for every admin to see. */
  config: KeyValueStore;
  /** Whether the caller is the sync account, whose secret syncs use. */
  bySyncAccount: boolean;
}

export interface DestinationSecret {
  /** Checks and stores a pasted secret in the caller's private store; throws a UserError naming what is wrong. */
  save(secrets: KeyValueStore, raw: unknown, context?: SecretContext): SecretView;
  clear(secrets: KeyValueStore, context?: SecretContext): SecretView;
  view(secrets: KeyValueStore): SecretView;
}

/** How a destination's settings sub-document is checked and compared. */
export interface DestinationSettingsSpec<S> {
  /** Validates the sub-document; throws a UserError naming the first bad field (under `field`). */
  validate(raw: unknown, context: { roles: Role[]; field: string }): S;
  /** What of it changes what a plan means: a part-way sync made under another fingerprint is stale. */
  fingerprint(settings: S): string;
}

/**
 * One destination. `Context` is what its adapter needs to open the roster (the
 * Apps Script layer passes the spreadsheet and stores); the core never opens one.
 */
export interface Destination<S = unknown, Context = unknown> {
  /** The value of `settings.destination`, and the key of its sub-document. */
  readonly id: string;
  /** How the settings form names it. */
  readonly label: string;
  /** Present when the destination has settings of its own (then required when it is chosen). */
  readonly settings?: DestinationSettingsSpec<S>;
  readonly secret?: DestinationSecret;
  /** Names an attribute may not take because the destination writes them itself (e.g. the Roster's columns). */
  readonly reservedAttributeNames?: readonly string[];
  /** A short status line, e.g. `SCIM app at app.example.com` or `Roster`. */
  describe(settings: S | null, secrets: KeyValueStore): string;
  /** The roster port for this execution. */
  open(context: Context): RosterPort;
  /** The Finalize check "The roster destination can be read and written". */
  check(svc: Services, settings: S | null): CheckOutcome;
  /** What stops syncs to it now, told to every admin in the sidebar (each a catalog message). */
  problems?(svc: Services, settings: S | null): Message[];
  /** A repair an admin chose deliberately, by name; what was done (recorded in History), or null when there was nothing to repair. */
  repair?(svc: Services, settings: S | null, repair: string): Message | null;
}

/** The destinations a build knows, by id (src/destinations/index.ts makes it). */
export interface DestinationCatalog {
  readonly ids: readonly string[];
  get(id: string): Destination | undefined;
}

export function destinationCatalog(destinations: Destination<any, any>[]): DestinationCatalog {
  const byId = new Map(destinations.map((d) => [d.id, d as Destination]));
  return { ids: destinations.map((d) => d.id), get: (id) => byId.get(id) };
}
