// Every destination this build knows. Adding a destination is adding its folder
// here: the core reaches it only through the Destination interface.
import { Destination, DestinationCatalog } from '../core/ports';
import { sheetDestination } from './sheet';
import { scimDestination } from './scim';

function destinationCatalog(destinations: Destination<any, any>[]): DestinationCatalog {
  const byId = new Map(destinations.map((d) => [d.id, d as Destination]));
  return { ids: destinations.map((d) => d.id), get: (id) => byId.get(id) };
}

export const DESTINATIONS = destinationCatalog([sheetDestination, scimDestination]);
