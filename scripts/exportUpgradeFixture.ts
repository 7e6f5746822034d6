// Exports what an installed Roster Sync holds after real syncs, as JSON, for the upgrade test
// (test/upgrade): every released version adds its fixture, and every later version must read them all.
//
// It runs the checkout's own built bundle in the checkout's own emulator against the demo district, so
// copy this file into a checkout of the release and run it there:
//
//   git worktree add /tmp/release <commit>
//   cp scripts/exportUpgradeFixture.ts /tmp/release/scripts/
//   (cd /tmp/release && npm ci && npm run build && npx tsx scripts/exportUpgradeFixture.ts <abs path>/test/upgrade/fixtures/v<version>)
//   git worktree remove --force /tmp/release
//
// It uses only the emulator surface every version has had (SimRuntime, runFromBrowser, the property
// stores, the spreadsheet store, the trigger list, FakeDirectoryState), and writes:
//   meta.json        version, commit, the simulated time of the export, the spreadsheet and the sync account
//   directory.json   the directory the syncs read (users with their ids, OUs, groups and members)
//   properties.json  script, document and user properties (secrets left out: a token never goes in a repo)
//   sheets.json      every sheet of the roster spreadsheet: stored values, number formats, hidden, frozen rows
//   triggers.json    the installed heartbeat trigger
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SimRuntime } from '../emulator/runtime';
import { demoDistrict } from '../emulator/domain';
import { DEMO_RULES } from '../emulator/serve';

const root = path.resolve(__dirname, '..');
const out = process.argv[2];
if (!out) throw new Error('usage: npx tsx scripts/exportUpgradeFixture.ts <output folder>');
const START_MS = Date.UTC(2026, 8, 1, 14, 0, 0);
const MINUTE = 60_000;

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const rt = new SimRuntime({ scriptPath: path.join(root, 'dist/Code.js'), htmlDir: path.join(root, 'dist'), directory: demoDistrict(), clockStartMs: START_MS });

function call(fn: string, arg?: unknown): Json {
  const r = rt.runFromBrowser(fn, arg === undefined ? [] : [arg]) as Json;
  if (!r?.ok) throw new Error(`${fn}: ${r?.error?.text ?? JSON.stringify(r)}`);
  return r.data;
}

function syncToTheEnd(): Json {
  let r = call('syncNow', {});
  while (r.state === 'in-progress') r = call('continueSync');
  if (r.state !== 'done') throw new Error(`the sync ended ${r.state}: ${r.message}`);
  rt.setClock(rt.nowMs() + 20 * MINUTE); // past the cooldown
  return r;
}

// An installed roster as an admin leaves it: linked, rules and a few policies set, synced, local decisions made.
call('useMyAccountForSync', {});
const domain = rt.directory.domain;
const state = call('getState');
call('saveSettings', { ...state.settings, rules: DEMO_RULES, suspendedUsers: 'deprovision', graceDays: 14, exclude: [`visitor@${domain}`], permissionNames: ['hall-pass', 'reports', 'library'] });
syncToTheEnd();
const accounts: Json[] = call('getAccounts', { limit: 500 }).rows;
const student = accounts.find((a) => a.roles.includes('student') && a.status === 'active');
call('updateAccounts', { ids: [student.id], status: 'disabled' });
call('addAccount', { name: 'Front Desk', email: `front.desk@${domain}`, role: 'teacher' });
// A student who left: deactivated now, deleted when the grace period ends.
const leaver = rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && u.id !== student.id)!;
rt.directory.moveUser(leaver.primaryEmail, '/Alumni');
// A teacher archived and a student suspended after they had accounts: deprovisioned under this policy.
const synced = (u: { id: string; primaryEmail: string }) => accounts.some((a) => a.id === u.id) && u.id !== student.id && u.id !== leaver.id;
const teacher = rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Staff/Teachers/') && !u.suspended && !u.archived && synced(u))!;
rt.directory.archive(teacher.primaryEmail);
const pupil = rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended && synced(u))!;
rt.directory.suspend(pupil.primaryEmail);
syncToTheEnd();
// A column a person added to the right of Roster Sync's columns, with a note on the first account.
const roster = rt.spreadsheet().sheet('Roster')!;
const notes = roster.lastCol();
roster.set(0, notes, 'Notes');
roster.set(1, notes, 'checked by the office');

// ---- export ----

const commit = execSync('git rev-parse HEAD', { cwd: root }).toString().trim();
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const syncAccount = state.user as string;
const ss = rt.spreadsheet();
const secret = (key: string) => /token|secret|password/i.test(key);
const withoutSecrets = (props: Record<string, string>) => Object.fromEntries(Object.entries(props).filter(([k]) => !secret(k)));

const meta = {
  version,
  commit,
  producedBy: 'scripts/exportUpgradeFixture.ts',
  clockMs: rt.nowMs(),
  timeZone: rt.timeZone,
  spreadsheet: { id: ss.id, name: ss.name, owner: ss.owner },
  syncAccount,
  destination: 'sheet',
};

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

const properties = {
  script: withoutSecrets(rt.scriptProperties()),
  document: withoutSecrets(rt.documentProperties()),
  user: { [syncAccount]: withoutSecrets(rt.userProperties(syncAccount)) },
};

/** A stored cell as JSON: text, numbers and booleans as they are; dates and formulas tagged. */
function cell(v: unknown): Json {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && 'ms' in (v as object)) return { date: (v as { ms: number }).ms, dateOnly: (v as { dateOnly: boolean }).dateOnly };
  if (typeof v === 'object' && 'formula' in (v as object)) return { formula: (v as { formula: string }).formula };
  return v;
}

const sheets = ss.sheets.map((s) => {
  const rows = s.lastRow();
  const cols = s.lastCol();
  const grid = <T,>(at: (r: number, c: number) => T) => Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => at(r, c)));
  return {
    name: s.name,
    hidden: s.hidden,
    frozenRows: s.frozenRows,
    maxRows: s.maxRows,
    maxCols: s.maxCols,
    values: grid((r, c) => cell(s.get(r, c))),
    formats: grid((r, c) => s.fmt(r, c) ?? null),
  };
});

const triggers = rt.triggers.list.map((t) => ({ uid: t.uid, handler: t.handler, owner: t.owner, docId: t.docId, eventType: t.eventType, sourceId: t.sourceId, schedule: t.schedule, nextFireMs: t.nextFireMs, createdMs: t.createdMs }));

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

function write(name: string, value: unknown): void {
  writeFileSync(path.join(out, name), `${pretty(value)}\n`);
}

mkdirSync(out, { recursive: true });
write('meta.json', meta);
write('directory.json', directory);
write('properties.json', properties);
write('sheets.json', sheets);
write('triggers.json', triggers);
console.log(`exported Roster Sync ${version} (${commit.slice(0, 7)}) to ${out}: ${accounts.length} accounts after the first sync, ${sheets.map((s) => `${s.name} ${s.values.length} rows`).join(', ')}`);
