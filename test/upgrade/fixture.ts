// Loads a fixture exported from a released version (scripts/exportUpgradeFixture.ts) into the
// simulated runtime with TODAY's built bundle: the same properties, sheets, trigger and directory an
// installed roster had when Google published the new version over it.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SimRuntime } from '../../emulator/runtime';
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
  name: string;
  meta: FixtureMeta;
  directory: Json;
  properties: { script: Record<string, string>; document: Record<string, string>; user: Record<string, Record<string, string>> };
  sheets: SheetExport[];
  triggers: Json[];
}

/** Every exported release, oldest first (folders named v<version>). */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export function readFixture(name: string): Fixture {
  const json = (file: string) => JSON.parse(readFileSync(path.join(FIXTURES, name, file), 'utf8'));
  return { name, meta: json('meta.json'), directory: json('directory.json'), properties: json('properties.json'), sheets: json('sheets.json'), triggers: json('triggers.json') };
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

/**
 * A runtime holding the fixture, its clock where the export left it. Settings are keyed by the
 * spreadsheet id: should the emulator ever number spreadsheets differently, the fixture's id is
 * replaced by this runtime's (the same spreadsheet, as far as the script can tell).
 */
export function loadFixture(fixture: Fixture): SimRuntime {
  const { meta } = fixture;
  const rt = new SimRuntime({
    scriptPath: path.join(DIST, 'Code.js'),
    htmlDir: DIST,
    directory: directoryOf(fixture.directory),
    clockStartMs: meta.clockMs,
    timeZone: meta.timeZone,
    defaultUser: meta.syncAccount,
    spreadsheetName: meta.spreadsheet.name,
  });
  const ssId = rt.activeSpreadsheetId;
  const local = (s: string) => s.split(meta.spreadsheet.id).join(ssId);
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
