// Corrupt or hand-edited state (the roster, the hidden state sheet, config): reported with how to repair it,
// and no local decision is lost.
// Part of the fault suite (helpers.ts): the built bundle in the simulated Apps Script runtime, failures injected.
import { later, World } from '../harness';
import { DEMO_DOMAIN, generateDomain } from '../../../emulator/domain';
import { DEMO_RULES } from '../../../emulator/serve';
import { CATALOG } from '../../../src/core/messages';
import { faultSuite, Json, catalog, sheetDump, beat, scheduledRun, newest, rosterSheet, ID_COL } from './helpers';

const { rec, world, compareRoster, runToEnd } = faultSuite('corruptState');

/** Hand edits must be reported with how to repair them, the sync must fail cleanly (no throw), and a scheduled run too. */
function expectReported(w: World, pattern: RegExp, fix: string): void {
  const roster = sheetDump(w, 'Roster');
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result.message).toMatch(pattern);
  expect(result.fix).toBe(fix);
  expect(sheetDump(w, 'Roster')).toBe(roster);
  expect(w.envelope('previewSync')).toMatchObject({ ok: false, error: { text: result.message, fix } });
  // A scheduled run: the trigger completes (no exception, so no crash loop) and records the failure once.
  w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  const before = w.history().length;
  const runs = beat(w);
  expect(runs.every((r) => r.ok)).toBe(true);
  expect(w.history().length).toBe(before + runs.filter((r) => (r.result as Json).state === 'failed').length);
  expect(newest(w)).toMatchObject({ Trigger: 'scheduled', Outcome: 'failed', Message: result.message });
  expect(sheetDump(w, 'Roster')).toBe(roster);
  w.save({ schedule: { mode: 'off', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  later(w);
  rec.count('faultScenarios');
}

rec.test('corrupt', 'a hand-edited roster (deleted column, invalid status, a 21-digit id pasted as a number) is reported with how to repair it; repaired, the next sync runs', () => {
  const w = world();
  w.call('syncNow', {});
  later(w);
  const sheet = rosterSheet(w);
  const header = (sheet.rows[0] ?? []).map(String);

  // A deleted column.
  const col = header.indexOf('Permissions');
  const saved = sheet.rows.map((r) => (r ? [...r] : r));
  for (const r of sheet.rows) if (r) r.splice(col, 1);
  expectReported(w, /The roster sheet "Roster" is missing the column\(s\) Permissions\./, CATALOG.rosterColumnsChanged.fix);
  saved.forEach((r, i) => (sheet.rows[i] = r));

  // Two columns swapped (header and values moved together): reading them by position would mix them up.
  const [name, email] = [header.indexOf('Name'), header.indexOf('Email')];
  const swap = () => sheet.rows.forEach((r) => r && ([r[name], r[email]] = [r[email], r[name]]));
  swap();
  expectReported(w, /^The columns of the roster sheet "Roster" were moved; they must stay in the order ID, Email, Name, /, CATALOG.rosterColumnsMoved.fix);
  swap();

  // A row with a status typed by hand that is not a status.
  const status = header.indexOf('Status');
  const row = 5;
  const was = sheet.rows[row]![status];
  sheet.rows[row]![status] = 'gone fishing';
  expectReported(w, new RegExp(`^Row ${row + 1} of "Roster" cannot be read: the status "gone fishing" is not one of active, disabled, suspended, deleted\\.$`), CATALOG.rosterRowInvalid.fix);
  sheet.rows[row]![status] = was;

  // A 21-digit id turned into a number by a paste (it has lost digits).
  const id = String(sheet.rows[7]![0]);
  sheet.rows[7]![0] = Number(id);
  expectReported(w, new RegExp(`^Row 8 of "Roster" cannot be read: the ID is stored as a number \\(.*\\) and has lost digits; format the ID column as plain text and paste the id again\\.$`), CATALOG.rosterRowInvalid.fix);
  sheet.rows[7]![0] = id;

  const repaired = w.call('syncNow', {});
  expect(repaired).toMatchObject({ state: 'done', message: 'No changes.' });
});

rec.test('corrupt', 'changed rows a few rows apart are written in one setValues with the rows between as they were, unless a person edited one of those meanwhile', () => {
  for (const editMeanwhile of [false, true]) {
    const w = world();
    w.call('syncNow', {});
    later(w);
    const sheet = rosterSheet(w);
    const header = (sheet.rows[0] ?? []).map(String);
    const cell = (row: number, name: string) => String(sheet.rows[row - 1]![header.indexOf(name)]);
    // Renamed in Google: the users on rows 10 and 12, and on rows 100 and 102 (two spans, one unchanged row in each).
    for (const row of [10, 12, 100, 102]) w.rt.directory.renameUser(cell(row, 'Email'), 'Renamed', `Row${row}`);
    const between = [11, 101].map((row) => JSON.stringify(sheet.rows[row - 1]));
    const writes = w.writes('Roster');
    // A person disables the account on row 101 by hand while the sync writes the first span.
    const remove = editMeanwhile ? w.rt.inject('Range.setNumberFormat', () => ((sheet.rows[100]![header.indexOf('Status')] = 'disabled'), undefined)) : () => undefined;
    expect(w.call('syncNow', {})).toMatchObject({ state: 'done', applied: { update: 4 } });
    remove();
    for (const row of [10, 12, 100, 102]) expect(cell(row, 'Name')).toBe(`Renamed Row${row}`);
    expect(JSON.stringify(sheet.rows[10])).toBe(between[0]);
    if (editMeanwhile) {
      // Its span is written run by run instead: the edit stays.
      expect(cell(101, 'Status')).toBe('disabled');
      expect(w.writes('Roster') - writes).toBe(3);
    } else {
      expect(JSON.stringify(sheet.rows[100])).toBe(between[1]);
      expect(w.writes('Roster') - writes).toBe(2);
    }
    rec.count('faultScenarios');
  }
});

rec.test('corrupt', 'a hand-edited valid status (disabled, typed in another case) is respected by the sync', () => {
  const w = world();
  w.call('syncNow', {});
  const sheet = rosterSheet(w);
  const header = (sheet.rows[0] ?? []).map(String);
  const status = header.indexOf('Status');
  const target = sheet.rows[3]!;
  target[status] = 'Disabled';
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  later(w);
  expect(w.call('syncNow', {}).message).toBe('No changes.');
  const row = w.roster().find((r) => r.ID === String(target[0]))!;
  expect(row.Status.toLowerCase()).toBe('disabled');
  const explained = w.call('explainUser', { email: row.Email });
  expect(explained.localDecision).toContain('set locally and is kept by sync');
  rec.count('faultScenarios');
});

rec.test('corrupt', 'corrupt properties and sync state (invalid JSON, a lost chunk, a damaged checkpoint) are reported or recovered, never a crash loop', () => {
  const props = (w: World) => w.rt.properties.script.map;
  const key = (w: World, suffix: string) => `rs:${w.rt.activeSpreadsheetId}:${suffix}`;

  // Settings that are not JSON: reported in the sidebar and by the sync; scheduled runs end cleanly.
  let w = world();
  w.save({ schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  props(w).set(key(w, 'settings'), '{"rules": [');
  const corrupt = CATALOG.corruptSettings;
  expect(w.call('syncNow', {})).toMatchObject({ state: 'failed', message: corrupt.text.replace('{problem}', 'the stored value is not valid JSON'), fix: corrupt.fix });
  expect(w.call('getState').settingsError.text).toMatch(catalog('corruptSettings'));
  expect(w.call('runFinalizeChecks').checks.find((k: Json) => k.id === 'settings')).toMatchObject({ status: 'fail', fix: corrupt.fix });
  const runs = w.rt.advanceHours(3);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(runs.every((r) => r.ok && (r.result as Json).state === 'failed')).toBe(true);
  expect(w.roster()).toEqual([]);
  // History and the installer hear of it once, not at every hourly heartbeat.
  const unstartable = w.history().filter((h) => h.Trigger === 'scheduled');
  expect(unstartable).toHaveLength(1);
  expect(unstartable[0]).toMatchObject({ Outcome: 'failed', Fix: corrupt.fix });
  expect(w.rt.outbox.map((m) => [m.to, m.subject])).toEqual([[`admin@${DEMO_DOMAIN}`, 'Roster Sync: scheduled sync failed']]);
  expect(w.rt.outbox[0].body).toContain('not valid JSON');
  // Saved again from the sidebar: repaired.
  w.save({ rules: DEMO_RULES });
  expect(w.call('syncNow', {}).state).toBe('done');
  rec.count('faultScenarios');

  // Settings large enough to be split over several properties, one of which is lost.
  w = world();
  w.save({ exclude: Array.from({ length: 400 }, (_, i) => `excluded.person.${i}@${DEMO_DOMAIN}`) });
  const chunk = [...props(w).keys()].find((k) => k.startsWith(key(w, 'settings#')))!;
  expect(chunk).toBeDefined();
  props(w).delete(chunk);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'failed', message: expect.stringMatching(catalog('corruptSettings')), fix: corrupt.fix });
  rec.count('faultScenarios');

  // A progress note that is not JSON: the next sync writes a fresh one.
  w = world();
  props(w).set(key(w, 'progress'), '{"part": 1,');
  const progress = w.envelope('getSyncProgress');
  expect(progress).toHaveProperty('ok'); // an envelope, not an exception
  expect(w.call('syncNow', {}).state).toBe('done');
  expect(w.call('getSyncProgress')).toEqual({ running: false });
  rec.count('faultScenarios');

  // A checkpoint whose job or snapshot pages were damaged between parts: discarded, the sync starts again.
  for (const damage of ['job', 'snap.users.0', 'snap.ous'] as const) {
    w = world({ globals: { ROSTER_SYNC_BUDGET_MS: 700 } });
    let r = w.call('syncNow', {});
    for (let i = 0; i < 10 && !(w.rt.spreadsheet().sheet('Roster Sync state')?.rows ?? []).some((row) => row && row[0] === damage); i++) r = w.call('continueSync');
    expect(r.state).toBe('in-progress');
    const state = w.rt.sheetData(w.rt.activeSpreadsheetId, 'Roster Sync state');
    const target = state.rows.find((row) => row && row[0] === damage)!;
    target[2] = '{"this is": not json';
    const end = runToEnd(w);
    expect(end.result.state).toBe('done');
    const reference = world();
    reference.call('syncNow', {});
    expect(compareRoster(w, reference.roster())).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
    expect(w.history().map((h) => h.Outcome)).toContain('discarded');
    expect(w.history().map((h) => h.Outcome)).not.toContain('failed');
    rec.count('faultScenarios');
  }
});

rec.test('corrupt', 'the hidden state sheet is protected (only the accounts that run syncs edit it); deleted or cleared between two parts, the sync is recorded as interrupted and starts clean, never "done"', () => {
  const clean = world();
  clean.call('syncNow', {});
  const expected = clean.roster();
  const it = `it@${DEMO_DOMAIN}`;
  const teacher = clean.rt.directory.allUsers().find((u) => u.orgUnitPath.startsWith('/Staff/Teachers/'))!.primaryEmail;
  for (const how of ['deleted', 'cleared'] as const) {
    const w = world({ globals: { ROSTER_SYNC_BUDGET_MS: 700 } });
    w.save({ admins: [it] });
    expect(w.call('syncNow', {}).state).toBe('in-progress');
    const ss = w.rt.spreadsheet();
    const state = ss.sheet('Roster Sync state')!;
    expect(state.hidden).toBe(true);
    expect(state.protections).toHaveLength(1);
    const [protection] = state.protections;
    expect(protection).toMatchObject({ type: 'SHEET', domainEdit: false, warningOnly: false, range: null });
    expect([...protection.editors].sort()).toEqual([`admin@${DEMO_DOMAIN}`, it].sort());
    expect(protection.editors.has(teacher)).toBe(false);
    // Between two parts a person deletes the hidden sheet, or clears it (header kept).
    if (how === 'deleted') ss.sheets.splice(ss.sheets.indexOf(state), 1);
    else state.rows.splice(1);
    const next = w.call('continueSync');
    expect({ how, state: next.state }).toEqual({ how, state: 'in-progress' });
    expect(next.part).toBe(1);
    const interrupted = newest(w);
    expect(interrupted).toMatchObject({ Outcome: 'discarded', Message: CATALOG.staleCheckpoint.text.replace('{reason}', 'its saved progress (the hidden sheet "Roster Sync state") was deleted or cleared') });
    let last = next;
    for (let i = 0; i < 100 && last.state === 'in-progress'; i++) last = w.call('continueSync');
    expect(last.state).toBe('done');
    expect(compareRoster(w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
    expect(w.history().map((h) => h.Outcome)).toEqual(['discarded', 'success']);
    rec.count('faultScenarios');
  }
});

rec.test('corrupt', 'a person deletes the rows of a disabled account, of one with a permission and of a manual account, and retypes an ID: each comes back with its decision; the retyped ID is reported, never a second account with the same email', () => {
  const w = world();
  w.save({ cooldownMinutes: 0 });
  w.call('syncNow', {});
  const students = w.roster().filter((r) => r.Roles === 'student' && r.Status === 'active');
  const [disabled, permitted, retyped] = [students[3], students[40], students[77]];
  w.call('updateAccounts', { ids: [disabled.ID], status: 'disabled' });
  w.call('updateAccounts', { ids: [permitted.ID], grant: ['hall-pass'] });
  const manual = w.call('addAccount', { name: 'Visiting Nurse', email: 'nurse@partner.example', role: 'teacher' });
  const sheet = rosterSheet(w);
  const rowOf = (id: string) => sheet.rows.findIndex((row) => row?.[ID_COL] === id) + 1;
  // Deleted rows (bottom first, as a person would pick them) and an ID retyped with one digit wrong.
  for (const row of [disabled.ID, permitted.ID, manual.id].map(rowOf).sort((a, b) => b - a)) sheet.personDeletesRow(row);
  const typo = retyped.ID.slice(0, -1) + String((Number(retyped.ID.slice(-1)) + 1) % 10);
  sheet.set(rowOf(retyped.ID) - 1, ID_COL, typo);
  later(w);
  const preview = w.call('previewSync');
  const conflict = CATALOG.idConflict.text.replace(/\{email\}/g, retyped.Email).replace('{id}', typo).replace('{googleId}', retyped.ID);
  expect(preview.held.map((h: Json) => h.why)).toEqual([expect.stringContaining(conflict), expect.stringContaining(conflict)]);
  const result = w.call('syncNow', {});
  expect(result).toMatchObject({ state: 'done', applied: { create: 3, deactivate: 0 } });
  const byId = new Map(w.roster().map((r) => [r.ID, r]));
  expect(byId.get(disabled.ID)).toMatchObject({ Email: disabled.Email, Status: 'disabled', 'Synced status': 'active', Source: 'synced' });
  expect(byId.get(permitted.ID)).toMatchObject({ Email: permitted.Email, Status: 'active', Permissions: 'hall-pass' });
  expect(byId.get(manual.id)).toMatchObject({ Email: 'nurse@partner.example', Source: 'manual', Status: 'active', Roles: 'teacher' });
  // The retyped row is left as it is, and no second account takes its email.
  expect(w.roster().filter((r) => r.Email === retyped.Email)).toEqual([{ ...retyped, ID: typo }]);
  expect(newest(w)).toMatchObject({ Outcome: 'warning', Created: '3' });
  expect(newest(w).Message).toContain(retyped.Email);
  // The ID typed back: nothing left to do.
  sheet.set(rowOf(typo) - 1, ID_COL, retyped.ID);
  later(w);
  expect(w.call('syncNow', {})).toMatchObject({ state: 'done', message: 'No changes.' });
  expect(newest(w).Outcome).toBe('success');
  rec.count('faultScenarios', 4);
});

rec.test('corrupt', 'a full script property store (other rosters of the deployment fill it): the sync says what is full and what to do, History records it and the admins are emailed; the sync lease never needs free space', () => {
  const w = world();
  w.save({ cooldownMinutes: 0, schedule: { mode: 'hourly', hour: 0, timeZone: 'America/New_York', blackouts: [] } });
  w.call('syncNow', {});
  // Other rosters' settings fill the script properties to the last byte.
  const store = w.rt.properties.script;
  const LIMIT = 500 * 1024;
  for (let i = 0; store.size() < LIMIT - 9000; i++) store.map.set(`rs:another-roster-${i}:settings`, 'x'.repeat(8000));
  const topUp = 'rs:another-roster-last:settings';
  store.map.set(topUp, 'x'.repeat(LIMIT - store.size() - topUp.length));
  expect(store.size()).toBe(LIMIT);
  later(w);
  const result = w.call('syncNow', {});
  expect(result.state).toBe('failed');
  expect(result.message).toMatch(catalog('propertyStoreFull'));
  expect(result.message).toContain('script properties (shared by every roster of this deployment) are full (500 KB of the 500 KB Google allows)');
  expect(result.fix).toBe(CATALOG.propertyStoreFull.fix);
  expect(newest(w)).toMatchObject({ Outcome: 'failed', Message: result.message, Fix: result.fix });
  // The scheduled sync: recorded and emailed, the heartbeat itself never fails.
  const mails = w.rt.outbox.length;
  const scheduled = scheduledRun(w);
  expect(scheduled).toMatchObject({ state: 'failed', message: result.message });
  expect(newest(w)).toMatchObject({ Trigger: 'scheduled', Outcome: 'failed', Message: result.message });
  // The admins are told once a day, though the store cannot remember it (the state sheet does): the next hourly runs mail nothing.
  expect(scheduledRun(w)).toMatchObject({ state: 'failed', message: result.message });
  expect(scheduledRun(w)).toMatchObject({ state: 'failed', message: result.message });
  const sent = w.rt.outbox.slice(mails);
  expect(sent).toHaveLength(1);
  for (const mail of sent) expect(mail.body).toContain(`${result.message}\n\nHow to fix: ${CATALOG.propertyStoreFull.fix}`);
  expect(store.size()).toBeLessThanOrEqual(LIMIT);
  // Space freed: the next sync runs as usual.
  for (const key of [...store.map.keys()]) if (key.startsWith('rs:another-roster-')) store.map.delete(key);
  later(w);
  expect(w.call('syncNow', {}).state).toBe('done');
  // After a sync that succeeded, the same problem coming back is news again: the admins hear of it at once.
  store.map.set(topUp, 'x'.repeat(LIMIT - store.size() - topUp.length));
  later(w);
  const before = w.rt.outbox.length;
  expect(scheduledRun(w)).toMatchObject({ state: 'failed' });
  expect(w.rt.outbox.length).toBe(before + 1);
  rec.count('faultScenarios', 2);
});

/** The hidden state sheet as saved blobs: key → value, reassembled from its chunk rows. */
function stateBlobs(w: World): Map<string, string> {
  const blobs = new Map<string, string>();
  let rows: string[][] = [];
  try {
    rows = (w.rt.sheetValues('Roster Sync state') as string[][]).slice(1).filter((r) => r.some((v) => v !== ''));
  } catch {
    return blobs;
  }
  rows.forEach(([key, count], i) => {
    if (!String(key).includes('#') && Number(count) > 0) blobs.set(String(key), rows.slice(i, i + Number(count)).map((r) => String(r[2])).join(''));
  });
  return blobs;
}

/** What a checkpoint holds: the directory users of its snapshot pages, its characters, and the job's phase. */
function stateSize(w: World): { users: number; listedPages: number; chars: number; phase: string } {
  const blobs = stateBlobs(w);
  const pages = [...blobs].filter(([k]) => /^snap\.(users|kept)\./.test(k));
  const users = pages.reduce((n, [, v]) => n + (JSON.parse(v) as unknown[]).length, 0);
  const chars = [...blobs.values()].reduce((n, v) => n + v.length, 0);
  const job = blobs.get('job');
  return { users, listedPages: pages.filter(([k]) => k.startsWith('snap.users.')).length, chars, phase: job ? JSON.parse(job).phase : '' };
}

rec.test('corrupt', 'the hidden state sheet keeps, at every checkpoint (while reading the directory and once planned), only the users the later parts need (in scope, or with an account): 5% of a 6,000-user domain in scope; the resumed parts end with the roster of a sync in one part, looking up only the user really gone', () => {
  const grade = '/Students/School 1/Grade 9';
  const setup = (budget: number) => {
    const directory = generateDomain({ users: 6000, domain: DEMO_DOMAIN, seed: 11 });
    directory.addOrgUnit('/Alumni');
    const rules = [{ id: 'grade9', type: 'ou', orgUnitPath: grade, includeSubOrgUnits: true, role: 'student' }, { id: 'coaches', type: 'group', groupEmail: `group-1@${DEMO_DOMAIN}`, role: 'teacher' }];
    const globals = { ROSTER_SYNC_BUDGET_MS: 600_000 };
    const w = world({ directory, rules, globals });
    w.save({ threshold: { kind: 'percent', value: 100 }, cooldownMinutes: 0 });
    expect(runToEnd(w).result.state).toBe('done');
    // The next sync: 300 leave the grade, 300 join it, one in-scope user is deleted in Google.
    const dir = w.rt.directory;
    const coaches = dir.findGroup(`group-1@${DEMO_DOMAIN}`)!;
    const plain = dir.allUsers().filter((u) => !u.suspended && !dir.isMemberDeep(coaches, u.id));
    const inGrade = plain.filter((u) => u.orgUnitPath === grade);
    const outside = plain.filter((u) => u.orgUnitPath !== grade);
    for (const u of inGrade.slice(0, 300)) dir.moveUser(u.primaryEmail, '/Alumni');
    for (const u of outside.slice(0, 300)) dir.moveUser(u.primaryEmail, grade);
    const gone = inGrade[310];
    dir.deleteUser(gone.primaryEmail);
    later(w);
    globals.ROSTER_SYNC_BUDGET_MS = budget;
    return { w, gone };
  };
  const reference = setup(600_000);
  expect(runToEnd(reference.w).result).toMatchObject({ state: 'done', applied: { create: 300, deactivate: 301 } });
  const expected = reference.w.roster();

  const { w, gone } = setup(1500);
  const directoryUsers = w.rt.directory.allUsers().length;
  const rosterRows = w.roster().length;
  const coaches = w.rt.directory.findGroup(`group-1@${DEMO_DOMAIN}`)!;
  const inScope = w.rt.directory.allUsers().filter((u) => u.orgUnitPath === grade || w.rt.directory.isMemberDeep(coaches, u.id)).length;
  w.rt.resetCounters();
  const checkpoints: ReturnType<typeof stateSize>[] = [];
  let r = w.call('syncNow', {});
  for (let i = 0; i < 40 && r.state === 'in-progress'; i++) {
    checkpoints.push(stateSize(w));
    r = w.call('continueSync');
  }
  expect(r).toMatchObject({ state: 'done', applied: { create: 300, deactivate: 301 } });
  const planned = checkpoints.filter((c) => c.phase === 'apply');
  const reading = checkpoints.filter((c) => c.phase !== 'apply');
  expect(planned.length).toBeGreaterThan(0); // the changes were applied over several parts
  expect(reading.length).toBeGreaterThan(0); // and the directory read over several parts
  for (const c of checkpoints) {
    // Only the users the later parts need: bounded by those in scope plus the roster's accounts, never the directory's.
    expect(c.users).toBeLessThanOrEqual(inScope + rosterRows);
  }
  for (const c of planned) expect(c.listedPages).toBe(0);
  expect(compareRoster(w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
  expect(w.roster().find((row) => row.ID === gone.id)).toMatchObject({ Status: 'disabled' });
  // Confirmation before deactivating still holds, and the users left out are never looked up: one users.get, for the one gone.
  expect(w.rt.calls['AdminDirectory.Users.get'] ?? 0).toBeLessThanOrEqual(1);
  expect(w.history().at(-1)).toMatchObject({ Outcome: 'success' });

  // Killed right after the checkpoint that kept the needed users apart: the next part resumes from them.
  const cut = setup(1500);
  let c = cut.w.call('syncNow', {});
  for (let i = 0; i < 40 && c.state === 'in-progress' && stateSize(cut.w).phase !== 'apply'; i++) c = cut.w.call('continueSync');
  expect(stateSize(cut.w).phase).toBe('apply');
  const end = runToEnd(cut.w, { part: 1, ms: 200 });
  expect(end.parts[0].state).toBe('cut');
  expect(end.result.state).toBe('done');
  expect(compareRoster(cut.w, expected)).toEqual({ lost: 0, duplicated: 0, extra: 0, differing: 0 });
  expect(cut.w.history().map((h) => h.Outcome).filter((o) => o === 'failed' || o === 'discarded')).toEqual([]);

  const largest = Math.max(...planned.map((p) => p.users));
  const read = reading;
  rec.note(
    `${directoryUsers.toLocaleString('en-US')} directory users, ${inScope} in scope, ${rosterRows} roster accounts: once planned, each checkpoint held at most ${largest} users ` +
      `(${Math.max(...planned.map((p) => p.chars)).toLocaleString('en-US')} characters) over ${planned.length} checkpoints; ` +
      `while reading, at most ${Math.max(...read.map((p) => p.users)).toLocaleString('en-US')} users (${Math.max(...read.map((p) => p.chars)).toLocaleString('en-US')} characters) over ${read.length} checkpoints`,
  );
  rec.count('stateUsersRead', directoryUsers);
  rec.count('stateUsersKept', largest);
  rec.count('stateUsersNeeded', inScope + rosterRows);
  rec.count('stateUsersBeforePlan', Math.max(...read.map((p) => p.users)));
  rec.count('faultScenarios', 2);
  rec.count('cutPoints');
});
