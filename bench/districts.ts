// The generated districts the benches sync, and the bounds computed from them (not from the add-on's code).
import fs from 'node:fs';
import path from 'node:path';
import type { LatencyModel, SimRuntime } from '../emulator/runtime';
import type { DirectorySnapshot } from '../src/core/model';
import { addClassGroups, generateDomain, rollover, scaleRules } from '../emulator/domain';
import type { FakeDirectoryState } from '../emulator/fakes/directoryState';

export const DOMAIN = 'district.example';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A server function called as the sidebar calls it; its data, or the error it answered with. */
export function serverCall(rt: SimRuntime, fn: string, arg?: unknown): Json {
  const r = rt.runFromBrowser(fn, arg === undefined ? [] : [arg]) as Json;
  if (!r?.ok) throw new Error(`${fn}: ${r?.error?.text ?? 'no envelope'}`);
  return r.data;
}

/** Writes made to a sheet of the roster spreadsheet so far (0 before it exists). */
export function sheetWrites(rt: SimRuntime, sheet: string): number {
  try {
    return rt.sheetData(rt.activeSpreadsheetId, sheet).writes;
  } catch {
    return 0;
  }
}

/** The fields every sync case of bench/results.json has (bench/run.ts, bench/scim.ts). */
export interface SyncRow {
  id: string;
  users: number;
  groups: number;
  model: string;
  kind: 'first' | 'nochange' | 'rollover';
  trigger: 'scheduled' | 'syncNow';
  ok: boolean;
  parts: number;
  directoryCalls: number;
  directoryBound: number;
  /** Roster writes: setValues on the Roster sheet, or SCIM write requests (a Bulk request counts once). */
  rosterWrites: number;
  rosterWriteBound: number;
  stateWrites: number;
  simulatedSeconds: number;
  cpuSecondsNode: number;
  /** ceil(listing and writing time under the model, one call at a time / 270 s): see executionsBound. */
  executionsBound: number;
}

export interface District {
  dir: FakeDirectoryState;
  rules: Json[];
  mappedGroups: string[];
}

/** A district of `users` people, family.given emails; with `classesPerSchool`, class groups nested under one mapped group per school. */
export function district(users: number, classesPerSchool: number): District {
  const dir = generateDomain({ users, nestedDepth: 3, suspendedRate: 0.02, seed: 42, domain: DOMAIN, emailStyle: 'family.given', groups: 5 });
  const base = scaleRules(DOMAIN);
  const classes = classesPerSchool ? addClassGroups(dir, { perSchool: classesPerSchool, seed: 7 }) : [];
  const rules = [...base, ...classes.map((email, i) => ({ id: `classes-${i + 1}`, type: 'group', groupEmail: email, role: 'student' }))];
  const mappedGroups = rules.flatMap((r) => (r.type === 'group' ? [String(r.groupEmail).toLowerCase()] : []));
  return { dir, rules, mappedGroups };
}

/** Year end: every student one grade up, graduates to /Alumni (deactivated), 1 % of students newly suspended. */
export function yearEnd(dir: FakeDirectoryState): void {
  rollover(dir, 'alumni');
  const students = dir.allUsers().filter((u) => u.orgUnitPath.startsWith('/Students/') && !u.suspended);
  for (let i = 0; i < students.length; i += 100) dir.suspend(students[i].primaryEmail, true);
}

/** The users a group lists with includeDerivedMembership: its members and those of groups nested in it, each once. */
export function derivedUsers(dir: FakeDirectoryState, email: string): number {
  const users = new Set<string>();
  const seen = new Set<string>();
  const stack = [dir.findGroup(email)];
  while (stack.length) {
    const g = stack.pop();
    if (!g || seen.has(g.id)) continue;
    seen.add(g.id);
    for (const m of g.members) {
      if (m.type === 'USER') users.add(m.id);
      if (m.type === 'GROUP') stack.push(dir.groupById(m.id));
    }
  }
  const g = dir.findGroup(email);
  // Direct nested groups are listed as members too.
  return users.size + (g ? g.members.filter((m) => m.type === 'GROUP').length : 0);
}

/** Directory pages a full read needs at least: users.list pages of 500, members.list pages of 200 per mapped group, one orgunits.list. */
export function directoryPages(d: District): { usersPages: number; membersPages: number; orgunits: number } {
  return {
    usersPages: Math.ceil(d.dir.allUsers().length / 500),
    membersPages: d.mappedGroups.reduce((n, g) => n + Math.max(1, Math.ceil(derivedUsers(d.dir, g) / 200)), 0),
    orgunits: 1,
  };
}

export function directoryBound(d: District): number {
  const p = directoryPages(d);
  return p.usersPages + p.membersPages + p.orgunits;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Apps Script stops an execution at 6 minutes; a part may use 270 s of it (the rest is left to checkpoint). */
export const PART_SECONDS = 270;

/** What a sync must do at least, counted from first principles (the directory, the sheets, the app). */
export interface Work {
  usersPages?: number;
  membersPages?: number;
  orgunits?: number;
  usersGets?: number;
  reportsPages?: number;
  /** Cells of the roster read (its rows before the sync × its columns). */
  cellsRead?: number;
  /** Cells of changed rows written, in setValues calls of at most 10,000 rows. */
  cellsWritten?: number;
  setValuesCalls?: number;
  /** Requests to a SCIM app (through UrlFetchApp). */
  httpRequests?: number;
}

/**
 * Executions a sync needs under a latency model, one call at a time: ceil(listing and writing time / 270 s).
 * Start-up, each directory page at its method's latency, a whole-roster read and the changed rows' writes at
 * the per-cell cost, the flush a read after writes forces, each SCIM request at UrlFetchApp.fetch's latency.
 * The script's own CPU is left out (it is measured, not first principles).
 */
export function executionsBound(model: LatencyModel, w: Work): { executions: number; seconds: number } {
  const ms = (m: string) => {
    const p = model.perMethod;
    return p[m] ?? p[`${m.split('.')[0]}.*`] ?? model.defaultMs;
  };
  const written = w.cellsWritten ?? 0;
  let total = model.startupMs;
  total += (w.usersPages ?? 0) * ms('AdminDirectory.Users.list') + (w.membersPages ?? 0) * ms('AdminDirectory.Members.list') + (w.orgunits ?? 0) * ms('AdminDirectory.Orgunits.list');
  total += (w.usersGets ?? 0) * ms('AdminDirectory.Users.get') + (w.reportsPages ?? 0) * ms('AdminReports.Activities.list');
  if (w.cellsRead) total += ms('Range.getValues') + w.cellsRead * model.perCellMs;
  if (written) total += (w.setValuesCalls ?? 1) * ms('Range.setValues') + written * model.perCellMs + (model.flushMs ?? 0) + written * (model.flushPerCellMs ?? 0);
  total += (w.httpRequests ?? 0) * ms('UrlFetchApp.fetch');
  const seconds = total / 1000;
  return { executions: Math.max(1, Math.ceil(seconds / PART_SECONDS)), seconds: round(seconds, 1) };
}

/** Wall seconds each bench script took, for bench/results.md. */
export function recordWall(script: string, seconds: number): void {
  const file = path.join(__dirname, 'wall.json');
  const wall: Record<string, number> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  wall[script] = Math.round(seconds);
  fs.writeFileSync(file, JSON.stringify(wall, null, 2) + '\n');
}

/** The directory as the planner gets it from a full read: users, OUs, and each mapped group with the groups nested in it. */
export function snapshotOf(d: District): DirectorySnapshot {
  const groups = [];
  const queue = [...d.mappedGroups];
  const seen = new Set<string>();
  while (queue.length) {
    const email = queue.shift()!;
    if (seen.has(email)) continue;
    seen.add(email);
    const g = d.dir.findGroup(email)!;
    const nested = g.members.filter((m) => m.type === 'GROUP').map((m) => d.dir.groupById(m.id)!.email.toLowerCase());
    groups.push({ email, userIds: g.members.filter((m) => m.type === 'USER').map((m) => m.id), groupEmails: nested });
    queue.push(...nested);
  }
  return {
    users: d.dir.allUsers().map((u) => ({ id: u.id, email: u.primaryEmail, name: u.name.fullName, orgUnitPath: u.orgUnitPath, suspended: u.suspended, archived: u.archived })),
    orgUnits: d.dir.allOrgUnits().map((o) => ({ orgUnitPath: o.orgUnitPath, name: o.name, parentOrgUnitPath: o.parentOrgUnitPath })),
    groups,
    missingGroups: [],
  };
}
