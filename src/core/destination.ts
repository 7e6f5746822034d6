// Each destination's settings sub-document, by destination id. The Destination
// interface itself is a port (ports.ts); this file depends on nothing, so the
// settings document and the ports can both name these types.

/**
 * The settings sub-document of each destination that has one, by destination id.
 * A destination declares its own entry by module augmentation, e.g.
 * `declare module '../../core/destination' { interface DestinationSettingsMap { scim: ScimSettings } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface DestinationSettingsMap {}

/** Each destination's sub-document sits in the settings under the destination's id (null when not filled in). */
export type DestinationSettings = { [K in keyof DestinationSettingsMap]: DestinationSettingsMap[K] | null };
