// Exports what an installed Roster Sync holds after real syncs, as JSON, for the upgrade test
// (test/upgrade): every released version adds its fixture, and every later version must read them all.
//
// It runs the checkout's own built bundle in the checkout's own emulator against the demo district, once
// per destination (the Roster sheet, and a SCIM app: the emulator's real SCIM server on loopback), so
// copy this file into a checkout of the release and run it there:
//
//   git worktree add /tmp/release <commit>
//   cp scripts/exportUpgradeFixture.ts /tmp/release/scripts/
//   (cd /tmp/release && npm ci && npm run build && npx tsx scripts/exportUpgradeFixture.ts <abs path>/test/upgrade/fixtures/v<version>)
//   git worktree remove --force /tmp/release
//
// It uses only the emulator surface every version has had (SimRuntime, runFromBrowser, the property
// stores, the spreadsheet store, the trigger list, FakeDirectoryState, the SCIM test server), and
// writes, for each destination (sheet/, scim/):
//   meta.json        version, commit, the simulated time of the export, the spreadsheet and the sync account
//   directory.json   the directory the syncs read (users with their ids, OUs, groups and members)
//   properties.json  script, document and user properties; the SCIM token is replaced by a placeholder
//   sheets.json      every sheet of the roster spreadsheet: stored values, number formats, hidden, frozen rows
//   triggers.json    the installed heartbeat trigger
//   app.json         (scim) the SCIM app's users and groups as its store holds them
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SimRuntime } from '../emulator/runtime';
import { demoDistrict } from '../emulator/domain';
import { DEMO_RULES } from '../emulator/serve';
import { SyncHttp, closeHttpWorker } from '../emulator/fakes/urlFetchHttp';
import { startScimServer } from '../emulator/scim/harness';

const root = path.resolve(__dirname, '..');
const out = process.argv[2];
if (!out) throw new Error('usage: npx tsx scripts/exportUpgradeFixture.ts <output folder>');
const START_MS = Date.UTC(2026, 8, 1, 14, 0, 0);
const MINUTE = 60_000;
/** The token pasted in the SCIM scenario; exported as TOKEN_PLACEHOLDER, never as itself. */
const SCIM_TOKEN = 'upgrade-fixture-token-0123456789abcdef';
const TOKEN_PLACEHOLDER = '<the SCIM token>';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function runtime(urlFetch?: SyncHttp, globals?: Record<string, unknown>): SimRuntime {
  return new SimRuntime({ scriptPath: path.join(root, 'dist/Code.js'), htmlDir: path.join(root, 'dist'), directory: demoDistrict(), clockStartMs: START_MS, urlFetch, globals });
}

function caller(rt: SimRuntime) {
  return (fn: string, arg?: unknown): Json => {
    const r = rt.runFromBrowser(fn, arg === undefined ? [] : [arg]) as Json;
    if (!r?.ok) throw new Error(`${fn}: ${r?.error?.text ?? JSON.stringify(r)}`);
    return r.data;
  };
}

/**
 * An installed roster as an admin leaves it: linked, rules and a few policies set, synced, local
 * decisions made, people leaving, synced again. `destination` is merged into the settings.
 */
function installAndSync(rt: SimRuntime, destination: Json, afterLink: () => void = () => {}): void {
  const call = caller(rt);
  const syncToTheEnd = () => {
    let r = call('syncNow', {});
    while (r.state === 'in-progress') r = call('continueSync');
    if (r.state !== 'done') throw new Error(`the sync ended ${r.state}: ${r.message}`);
    rt.setClock(rt.nowMs() + 20 * MINUTE); // past the cooldown
  };
  call('useMyAccountForSync', {});
  const domain = rt.directory.domain;
  const settings = call('getState').settings;
  call('saveSettings', { ...settings, rules: DEMO_RULES, suspendedUsers: 'deprovision', graceDays: 14, exclude: [`visitor@${domain}`], permissionNames: ['hall-pass', 'reports', 'library'], ...destination });
  afterLink();
  syncToTheEnd();
  const accounts: Json[] = call('getAccounts', { limit: 500 }).rows;
  const student = accounts.find((a) => a.roles.includes('student') && a.status === 'active');
  call('updateAccounts', { ids: [student.id], status: 'disabled' });
  call('addAccount', { name: 'Front Desk', email: `front.desk@${domain}`, role: 'teacher' });
  // A student who left: deactivated now, deleted when the grace period ends.
  const users = rt.directory.allUsers();
  const leaver = users.find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && u.id !== student.id)!;
  rt.directory.moveUser(leaver.primaryEmail, '/Alumni');
  // A teacher archived and a student suspended after they had accounts: deprovisioned under this policy.
  const synced = (u: { id: string }) => accounts.some((a) => a.id === u.id) && u.id !== student.id && u.id !== leaver.id;
  const teacher = users.find((u) => u.orgUnitPath.startsWith('/Staff/Teachers/') && !u.suspended && !u.archived && synced(u))!;
  rt.directory.archive(teacher.primaryEmail);
  const pupil = users.find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && synced(u))!;
  rt.directory.suspend(pupil.primaryEmail);
  syncToTheEnd();
}

/**
 * Each execution's time budget in the mid-sync scenarios (simulated time): the Sheet sync stops with the
 * directory read and the plan not made yet; the SCIM one with its batch applied but the sync not ended.
 */
const MID_SYNC_BUDGET_MS = { sheet: 1200, scim: 2000 };

/** 120 students renamed in the directory: a sync with 120 updates to make. */
function renameStudents(rt: SimRuntime): void {
  const students = rt.directory.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended).slice(0, 120);
  for (const u of students) rt.directory.renameUser(u.primaryEmail, u.name.givenName, `${u.name.familyName}-Renamed`);
}

/** A stored cell as JSON: text, numbers and booleans as they are; dates and formulas tagged. */
function cell(v: unknown): Json {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && 'ms' in (v as object)) return { date: (v as { ms: number }).ms, dateOnly: (v as { dateOnly: boolean }).dateOnly };
  if (typeof v === 'object' && 'formula' in (v as object)) return { formula: (v as { formula: string }).formula };
  return v;
}

/** Indented JSON whose small parts (a sheet row, a user, a list of names) stay on one line, so diffs stay readable. */
function pretty(value: unknown, indent = ''): string {
  const compact = JSON.stringify(value);
  if (value === null || typeof value !== 'object' || compact.length <= 400) return compact;
  const inner = `${indent}  `;
  const parts = Array.isArray(value)
    ? value.map((v) => inner + pretty(v, inner))
    : Object.entries(value as object).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
  return Array.isArray(value) ? `[\n${parts.join(',\n')}\n${indent}]` : `{\n${parts.join(',\n')}\n${indent}}`;
}

function exportRuntime(rt: SimRuntime, folder: string, destination: string, scenario: 'idle' | 'mid-sync', extra: Record<string, unknown> = {}): void {
  const commit = execSync('git rev-parse HEAD', { cwd: root }).toString().trim();
  const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  const ss = rt.spreadsheet();
  const syncAccount = rt.defaultUser;
  const meta = { version, commit, producedBy: 'scripts/exportUpgradeFixture.ts', destination, scenario, clockMs: rt.nowMs(), timeZone: rt.timeZone, spreadsheet: { id: ss.id, name: ss.name, owner: ss.owner }, syncAccount };

  const dir = rt.directory;
  const directory = {
    domain: dir.domain,
    customerId: dir.customerId,
    orgUnits: dir.allOrgUnits().map((o) => ({ orgUnitPath: o.orgUnitPath, description: o.description })),
    users: dir.allUsers().map((u) => ({ id: u.id, email: u.primaryEmail, givenName: u.name.givenName, familyName: u.name.familyName, orgUnitPath: u.orgUnitPath, suspended: u.suspended, archived: u.archived, isAdmin: u.isAdmin, aliases: u.aliases })),
    groups: dir.allGroups().map((g) => ({
      email: g.email,
      name: g.name,
      description: g.description,
      members: g.members.map((m) => ({ type: m.type, key: m.type === 'GROUP' ? dir.groupById(m.id)!.email : m.type === 'USER' ? m.id : 'CUSTOMER', role: m.role })),
    })),
  };

  const redact = (props: Record<string, string>) => Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.split(SCIM_TOKEN).join(TOKEN_PLACEHOLDER)]));
  const properties = { script: redact(rt.scriptProperties()), document: redact(rt.documentProperties()), user: { [syncAccount]: redact(rt.userProperties(syncAccount)) } };

  const sheets = ss.sheets.map((s) => {
    const rows = s.lastRow();
    const cols = s.lastCol();
    const grid = <T,>(at: (r: number, c: number) => T) => Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => at(r, c)));
    return { name: s.name, hidden: s.hidden, frozenRows: s.frozenRows, maxRows: s.maxRows, maxCols: s.maxCols, values: grid((r, c) => cell(s.get(r, c))), formats: grid((r, c) => s.fmt(r, c) ?? null) };
  });
  const triggers = rt.triggers.list.map((t) => ({ uid: t.uid, handler: t.handler, owner: t.owner, docId: t.docId, eventType: t.eventType, sourceId: t.sourceId, schedule: t.schedule, nextFireMs: t.nextFireMs, createdMs: t.createdMs }));

  const files: Record<string, unknown> = { 'meta.json': meta, 'directory.json': directory, 'properties.json': properties, 'sheets.json': sheets, 'triggers.json': triggers, ...extra };
  const target = path.join(out, folder);
  mkdirSync(target, { recursive: true });
  for (const [name, value] of Object.entries(files)) {
    const text = pretty(value);
    if (text.includes(SCIM_TOKEN)) throw new Error(`${name} would hold the SCIM token`);
    writeFileSync(path.join(target, name), `${text}\n`);
  }
  console.log(`exported Roster Sync ${version} (${commit.slice(0, 7)}), ${destination} destination, to ${target}: ${sheets.map((s) => `${s.name} ${s.values.length} rows`).join(', ')}`);
}

async function main(): Promise<void> {
  // The Roster sheet, with a column a person added to the right of ours and a note in it.
  const sheetRt = runtime();
  installAndSync(sheetRt, {});
  const roster = sheetRt.spreadsheet().sheet('Roster')!;
  const notes = roster.lastCol();
  roster.set(0, notes, 'Notes');
  roster.set(1, notes, 'checked by the office');
  exportRuntime(sheetRt, 'sheet', 'sheet', 'idle');

  // A sync part-way when the update lands: with a small budget per execution, the sync after a wave of
  // renames stops after its first part, its job and snapshot saved in the state sheet.
  const midRt = runtime(undefined, { ROSTER_SYNC_BUDGET_MS: MID_SYNC_BUDGET_MS.sheet });
  installAndSync(midRt, {});
  renameStudents(midRt);
  const part = caller(midRt)('syncNow', {});
  if (part.state !== 'in-progress') throw new Error(`the sync was to stop part-way, not end ${part.state}`);
  exportRuntime(midRt, 'sheet-mid-sync', 'sheet', 'mid-sync', { 'part.json': part });

  // A SCIM app holding roles as groups (the emulator's SCIM 2.0 server on 127.0.0.1).
  const server = await startScimServer({ token: SCIM_TOKEN });
  try {
    const scimRt = runtime(new SyncHttp());
    const scim = { baseUrl: server.baseUrl, roleMapping: 'groups', roleGroups: { student: 'Students', teacher: 'Teachers', admin: 'Administrators' } };
    installAndSync(scimRt, { destination: 'scim', scim }, () => caller(scimRt)('saveScimToken', { token: SCIM_TOKEN }));
    const app = await server.state();
    exportRuntime(scimRt, 'scim', 'scim', 'idle', { 'app.json': { baseUrl: server.baseUrl, users: app.users, groups: app.groups } });

    // The same app, with a sync part-way when the update lands (as sheet-mid-sync above).
    await server.clear();
    await server.set({ token: SCIM_TOKEN });
    const midScimRt = runtime(new SyncHttp(), { ROSTER_SYNC_BUDGET_MS: MID_SYNC_BUDGET_MS.scim });
    installAndSync(midScimRt, { destination: 'scim', scim }, () => caller(midScimRt)('saveScimToken', { token: SCIM_TOKEN }));
    renameStudents(midScimRt);
    const scimPart = caller(midScimRt)('syncNow', {});
    if (scimPart.state !== 'in-progress') throw new Error(`the sync was to stop part-way, not end ${scimPart.state}`);
    const midApp = await server.state();
    exportRuntime(midScimRt, 'scim-mid-sync', 'scim', 'mid-sync', { 'part.json': scimPart, 'app.json': { baseUrl: server.baseUrl, users: midApp.users, groups: midApp.groups } });
  } finally {
    await server.stop();
    await closeHttpWorker();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
