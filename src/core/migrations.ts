// Settings documents saved by earlier versions of Roster Sync, upgraded on read.
//
// A published add-on is updated for every installed domain at once, so a version must read whatever
// an earlier one saved. The rules:
// - Each schema version change is one small pure function from version N to N+1, appended to
//   MIGRATIONS; SETTINGS_SCHEMA_VERSION follows from the list. A published step is never edited.
// - A step returns a new document (it never mutates its input) and does not validate: the result of
//   the whole chain goes through validateSettings like any other document.
// - Migrations run on every read; the upgraded document is written back only by the next save.
// - A document of a version newer than this code (a rollback to an earlier release) is refused,
//   never "downgraded": reading it would drop what the newer version saved.
import { UserError, msg } from './messages';

type Doc = Record<string, unknown>;

/**
 * v1 → v2: archived users get a policy of their own (`archivedUsers`). Version 1 treated an archived
 * user exactly like a suspended one, so an upgraded document keeps its suspended-users policy for them.
 */
function v1ToV2(doc: Doc): Doc {
  return { ...doc, archivedUsers: doc.archivedUsers ?? doc.suspendedUsers ?? 'suspend' };
}

/** MIGRATIONS[i] turns a version i+1 document into a version i+2 one. Append; never edit or reorder. */
const MIGRATIONS: readonly ((doc: Doc) => Doc)[] = [v1ToV2];

/** The version this code writes: one more than the number of migrations. */
export const SETTINGS_SCHEMA_VERSION = MIGRATIONS.length + 1;

function isDoc(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A settings document brought up to SETTINGS_SCHEMA_VERSION. A document without a schemaVersion is
 * taken as the current version (documents written by hand or by the sidebar's form); anything that
 * is not a versioned object is returned unchanged for validateSettings to report.
 * Throws settingsTooNew for a document written by a newer version.
 */
export function migrateSettings(raw: unknown): unknown {
  if (!isDoc(raw) || raw.schemaVersion === undefined) return raw;
  const from = raw.schemaVersion;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 1) return raw;
  if (from > SETTINGS_SCHEMA_VERSION) throw newerVersion(from);
  let doc: Doc = raw;
  for (let version = from; version < SETTINGS_SCHEMA_VERSION; version++) {
    doc = { ...MIGRATIONS[version - 1](doc), schemaVersion: version + 1 };
  }
  return doc;
}

/** The refusal of a document a newer version of Roster Sync wrote. */
export function newerVersion(version: number): UserError {
  return new UserError(msg('settingsTooNew', { version, current: SETTINGS_SCHEMA_VERSION }));
}
