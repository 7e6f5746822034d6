// What the Apps Script layer hands a destination to open its roster for one execution.
import { BlobStore, KeyValueStore } from '../core/ports';
import { Settings } from '../core/settings';

export interface OpenContext {
  spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet;
  /** null when they cannot be read (only the embedded sheet opens then, and no sync runs). */
  settings: Settings | null;
  /** Settings and small pointers (e.g. who the sync account is). */
  config: KeyValueStore;
  /** The current user's private store. */
  secrets: KeyValueStore;
  /** Large state (the hidden state sheet). */
  state: BlobStore;
}
