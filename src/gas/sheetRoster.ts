// The embedded default destination: the roster as a sheet of accounts. Reads
// once per execution; writes one setValues per contiguous block of changed rows.
import { ACCOUNT_STATUSES, Account, AccountStatus, Change } from '../core/model';
import { ApplyResult, RosterPort, RosterReadProblem } from '../core/ports';
import { UserError, msg } from '../core/messages';
import { asText, ensureSheet, fromCell, removeRows, runs, writeBlock } from './sheets';

export const ROSTER_SHEET = 'Roster';
export const ROSTER_COLUMNS = ['ID', 'Email', 'Name', 'Roles', 'Status', 'Permissions', 'Source', 'OU', 'Last synced', 'Synced status', 'Out of scope since'] as const;

type Column = (typeof ROSTER_COLUMNS)[number];

export function accountToRow(a: Account): string[] {
  return [a.id, a.email, a.name, a.roles.join(', '), a.status, a.permissions.join(', '), a.source, a.orgUnitPath, a.lastSynced, a.syncedStatus, a.outOfScopeSince].map(asText);
}

const list = (cell: string) => cell.split(',').map((s) => s.trim()).filter(Boolean);

export class SheetRoster implements RosterPort {
  readonly kind = ROSTER_SHEET;
  private cache: { accounts: Account[]; rowOf: Map<string, number>; lastRow: number; problems: RosterReadProblem[] } | null = null;

  constructor(private readonly spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet) {}

  private sheet(): GoogleAppsScript.Spreadsheet.Sheet {
    return ensureSheet(this.spreadsheet, ROSTER_SHEET, [...ROSTER_COLUMNS]);
  }

  readAll(): { accounts: Account[]; problems: RosterReadProblem[] } {
    if (!this.cache) this.cache = this.load();
    return { accounts: this.cache.accounts, problems: this.cache.problems };
  }

  private load() {
    const sheet = this.sheet();
    const values = sheet.getDataRange().getValues();
    const header = (values[0] ?? []).map((h) => String(h).trim());
    const col = new Map<Column, number>();
    const missing: string[] = [];
    for (const name of ROSTER_COLUMNS) {
      const i = header.indexOf(name);
      if (i < 0) missing.push(name);
      else col.set(name, i);
    }
    if (missing.length || header.length < ROSTER_COLUMNS.length) {
      throw new UserError(msg('rosterColumnsChanged', { sheet: ROSTER_SHEET, columns: missing.join(', ') || '(order changed)' }));
    }
    if (header.some((h, i) => h !== ROSTER_COLUMNS[i] && i < ROSTER_COLUMNS.length)) {
      throw new UserError(msg('rosterColumnsChanged', { sheet: ROSTER_SHEET, columns: `in the order ${ROSTER_COLUMNS.join(', ')}` }));
    }
    const accounts: Account[] = [];
    const rowOf = new Map<string, number>();
    const problems: RosterReadProblem[] = [];
    for (let r = 1; r < values.length; r++) {
      const cell = (name: Column) => fromCell(values[r][col.get(name)!]);
      if (values[r].every((v) => v === '' || v === null)) continue;
      const rawId = values[r][col.get('ID')!];
      const parsed = typeof rawId === 'number' ? `the ID is stored as a number (${rawId}) and has lost digits; format the ID column as plain text and paste the id again` : parseRow(cell);
      if (typeof parsed === 'string') problems.push({ row: r + 1, message: parsed });
      else if (rowOf.has(parsed.id)) problems.push({ row: r + 1, message: `the ID ${parsed.id} is also on row ${rowOf.get(parsed.id)}` });
      else {
        accounts.push(parsed);
        rowOf.set(parsed.id, r + 1);
      }
    }
    return { accounts, rowOf, lastRow: Math.max(values.length, 1), problems };
  }

  checkWritable(): void {
    const sheet = this.sheet();
    const me = Session.getEffectiveUser().getEmail();
    for (const p of sheet.getProtections(SpreadsheetApp.ProtectionType.SHEET)) {
      if (!p.canEdit()) throw new UserError(msg('rosterProtected', { sheet: ROSTER_SHEET, detail: `it is protected${me ? ` against ${me}` : ''}` }));
    }
  }

  apply(changes: Change[]): ApplyResult {
    if (!changes.length) return { applied: [], failed: [] };
    const state = this.cache ?? (this.cache = this.load());
    const sheet = this.sheet();
    const rows = new Map<number, string[]>();
    const appended: string[][] = [];
    const deletions: number[] = [];
    for (const change of changes) {
      const row = state.rowOf.get(change.accountId);
      if (!change.after) {
        if (row) deletions.push(row);
      } else if (row) rows.set(row, accountToRow(change.after));
      else appended.push(accountToRow(change.after));
    }
    try {
      for (const run of runs([...rows.keys()])) {
        writeBlock(sheet, run.start, run.values.map((r) => rows.get(r)!), ROSTER_COLUMNS.length);
      }
      if (appended.length) writeBlock(sheet, state.lastRow + 1, appended, ROSTER_COLUMNS.length);
      removeRows(sheet, deletions);
    } catch (error) {
      this.cache = null;
      throw new UserError(msg('rosterProtected', { sheet: ROSTER_SHEET, detail: error instanceof Error ? error.message : String(error) }));
    }
    this.cache = null;
    return { applied: changes.map((c) => c.accountId), failed: [] };
  }
}

/** An account from a row, or what is wrong with the row. */
function parseRow(cell: (name: Column) => string): Account | string {
  const id = cell('ID');
  if (!/^(?:\d{1,30}|manual-[A-Za-z0-9]{1,40})$/.test(id)) return `the ID "${id.slice(0, 40)}" is not a Google user id (digits) or manual-…`;
  const status = cell('Status').toLowerCase();
  if (!ACCOUNT_STATUSES.includes(status as AccountStatus)) return `the status "${cell('Status').slice(0, 40)}" is not one of ${ACCOUNT_STATUSES.join(', ')}`;
  const source = cell('Source').toLowerCase();
  if (source !== 'synced' && source !== 'manual') return `the source "${cell('Source').slice(0, 40)}" is not synced or manual`;
  const syncedStatus = cell('Synced status').toLowerCase();
  if (syncedStatus && !ACCOUNT_STATUSES.includes(syncedStatus as AccountStatus)) return `the synced status "${syncedStatus.slice(0, 40)}" is not a status`;
  const email = cell('Email');
  if (!email.includes('@')) return `the email "${email.slice(0, 60)}" is not an email address`;
  return {
    id,
    email,
    name: cell('Name'),
    roles: list(cell('Roles')),
    status: status as AccountStatus,
    permissions: list(cell('Permissions')),
    source,
    orgUnitPath: cell('OU'),
    lastSynced: cell('Last synced'),
    syncedStatus: syncedStatus as AccountStatus | '',
    outOfScopeSince: cell('Out of scope since'),
  };
}
