// Loads a fixture exported from a released version (scripts/exportUpgradeFixture.ts) into the
// simulated runtime with TODAY's built bundle: the same properties, sheets, trigger and directory an
// installed roster had when Google published the new version over it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SimRuntime, UrlFetchImpl } from '../../emulator/runtime';
import { FakeDirectoryState } from '../../emulator/fakes/directoryState';
import { DateCell, FormulaCell, Stored } from '../../emulator/fakes/sheetData';
import type { TriggerRecord } from '../../emulator/fakes/script';
import { DIST } from '../e2e/harness';

export const FIXTURES = path.join(__dirname, 'fixtures');

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FixtureMeta {
  version: string;
  commit: string;
  clockMs: number;
  timeZone: string;
  spreadsheet: { id: string; name: string; owner: string };
  syncAccount: string;
  destination: string;
  /** 'idle': exported between syncs; 'mid-sync': a sync part-way, its job and snapshot in the state sheet. */
  scenario: 'idle' | 'mid-sync';
}

export interface SheetExport {
  name: string;
  hidden: boolean;
  frozenRows: number;
  maxRows: number;
  maxCols: number;
  values: Json[][];
  formats: (string | null)[][];
}

export interface Fixture {
  /** "<version>/<destination>", e.g. v0.1.0/sheet. */
  name: string;
  meta: FixtureMeta;
  directory: Json;
  properties: { script: Record<string, string>; document: Record<string, string>; user: Record<string, Record<string, string>> };
  sheets: SheetExport[];
  triggers: Json[];
  /** SCIM fixtures: the app's store (users and groups) and the address it had at export. */
  app?: { baseUrl: string; users: Json[]; groups: Json[] };
  /** Mid-sync fixtures: what the part the export stopped after answered (phase, planned and applied counts). */
  part?: Json;
}

/** What the exporter wrote instead of the SCIM token. */
export const TOKEN_PLACEHOLDER = '<the SCIM token>';

const folders = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

/** Every exported release and destination, oldest release first: "v0.1.0/sheet", "v0.1.0/scim", … */
export function fixtureNames(): string[] {
  return folders(FIXTURES).flatMap((version) => folders(path.join(FIXTURES, version)).map((destination) => `${version}/${destination}`));
}

export function readFixture(name: string): Fixture {
  const file = (f: string) => path.join(FIXTURES, name, f);
  const json = (f: string) => JSON.parse(readFileSync(file(f), 'utf8'));
  const optional = (f: string) => (existsSync(file(f)) ? json(f) : undefined);
  return { name, meta: json('meta.json'), directory: json('directory.json'), properties: json('properties.json'), sheets: json('sheets.json'), triggers: json('triggers.json'), app: optional('app.json'), part: optional('part.json') };
}

function directoryOf(d: Json): FakeDirectoryState {
  const state = new FakeDirectoryState({ domain: d.domain, customerId: d.customerId });
  for (const ou of d.orgUnits) state.addOrgUnit(ou.orgUnitPath, ou.description);
  for (const u of d.users) {
    if (u.aliases?.length) throw new Error(`fixture user ${u.email} has aliases, which this loader does not restore yet`);
    state.addUser({ id: u.id, email: u.email, givenName: u.givenName, familyName: u.familyName, orgUnitPath: u.orgUnitPath, suspended: u.suspended, archived: u.archived, isAdmin: u.isAdmin });
  }
  for (const g of d.groups) state.addGroup({ email: g.email, name: g.name, description: g.description });
  for (const g of d.groups) for (const m of g.members) state.addMember(g.email, m.key, m.role);
  return state;
}

function cellOf(v: Json): Stored {
  if (v && typeof v === 'object' && 'date' in v) return new DateCell(v.date, v.dateOnly);
  if (v && typeof v === 'object' && 'formula' in v) return new FormulaCell(v.formula);
  return v;
}

export interface LoadOptions {
  /** SCIM fixtures: HTTP for UrlFetchApp (see forwardTo) and the token the app takes. */
  urlFetch?: UrlFetchImpl;
  scimToken?: string;
}

/**
 * A runtime holding the fixture, its clock where the export left it. Only what was not exported is
 * put in: the SCIM token (in place of its placeholder), and the spreadsheet id that keys the settings,
 * should the emulator ever number spreadsheets differently (the same spreadsheet, as far as the
 * script can tell).
 */
export function loadFixture(fixture: Fixture, options: LoadOptions = {}): SimRuntime {
  const { meta } = fixture;
  const rt = new SimRuntime({
    scriptPath: path.join(DIST, 'Code.js'),
    htmlDir: DIST,
    directory: directoryOf(fixture.directory),
    clockStartMs: meta.clockMs,
    timeZone: meta.timeZone,
    defaultUser: meta.syncAccount,
    spreadsheetName: meta.spreadsheet.name,
    urlFetch: options.urlFetch,
  });
  const ssId = rt.activeSpreadsheetId;
  const replacements: [string, string][] = [[meta.spreadsheet.id, ssId]];
  if (options.scimToken) replacements.push([TOKEN_PLACEHOLDER, options.scimToken]);
  const local = (s: string) => replacements.reduce((text, [from, to]) => text.split(from).join(to), s);
  for (const [k, v] of Object.entries(fixture.properties.script)) rt.properties.script.map.set(local(k), local(v));
  for (const [k, v] of Object.entries(fixture.properties.document)) rt.properties.document(ssId).map.set(local(k), local(v));
  for (const [user, props] of Object.entries(fixture.properties.user)) {
    for (const [k, v] of Object.entries(props)) rt.properties.user(user).map.set(local(k), local(v));
  }
  const ss = rt.spreadsheet();
  ss.sheets.length = 0;
  for (const exported of fixture.sheets) {
    const sheet = ss.addSheet(exported.name, ss.sheets.length, exported.maxRows, exported.maxCols);
    sheet.hidden = exported.hidden;
    sheet.frozenRows = exported.frozenRows;
    exported.values.forEach((row, r) => row.forEach((v, c) => sheet.set(r, c, cellOf(v))));
    exported.formats.forEach((row, r) => row.forEach((f, c) => sheet.setFmt(r, c, f ?? undefined)));
  }
  for (const t of fixture.triggers) {
    rt.triggers.newUid(); // keeps the store's own numbering clear of the restored uids
    rt.triggers.list.push({ ...t, docId: t.docId === null ? null : local(t.docId) } as TriggerRecord);
  }
  return rt;
}

/** A sheet's stored values as the fixture holds them (trailing empty rows and columns trimmed). */
export function storedValues(rt: SimRuntime, sheetName: string): Json[][] {
  const sheet = rt.spreadsheet().sheet(sheetName)!;
  const rows = sheet.lastRow();
  const cols = sheet.lastCol();
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => sheet.get(r, c)));
}

/**
 * HTTP that reaches the app at `to` for requests the script sends to `from`: the SCIM app of a
 * fixture listened on a loopback port of the machine that exported it, and the script (its settings,
 * its ledger keyed by the base URL) must keep talking to "the same" address.
 */
export function forwardTo(http: UrlFetchImpl, from: string, to: string): UrlFetchImpl {
  const origin = (url: string) => new URL(url).origin;
  const [fromOrigin, toOrigin] = [origin(from), origin(to)];
  const moved = (url: string) => (url.startsWith(fromOrigin) ? toOrigin + url.slice(fromOrigin.length) : url);
  return {
    fetch: (url, params, exec) => http.fetch(moved(url), params, exec),
    fetchAll: http.fetchAll && ((requests, exec) => http.fetchAll!(requests.map((r) => ({ ...r, url: moved(r.url) })), exec)),
  };
}
