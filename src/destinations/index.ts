// Every destination this build knows. Adding a destination is adding its folder
// here: the core reaches it only through the Destination interface.
import { destinationCatalog } from '../core/destination';
import { sheetDestination } from './sheet';
import { scimDestination } from './scim';

export const DESTINATIONS = destinationCatalog([sheetDestination, scimDestination]);
