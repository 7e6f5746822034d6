// The account panel: one account's details (roles with the rule that gave each, status,
// permissions, source, OU, last synced, the grace period of a deactivated account), edited in place.
import { ACCOUNT_STATUSES, Account } from '../core/model';
import { Data, call } from './client';
import { $, button, dialog, fillSelect, h, oneOf, select } from './dom';
import { explain } from './explain';
import { STATUS_LABEL, fmtDate, plural } from './format';
import { badge, facts, say, sayError } from './notices';
import { changeWithKind } from './preview';
import { loadState } from './session';
import { currentSettings, emit } from './store';
import { busy, openDialog } from './widgets';

type Explanation = Data<'explainUser'>;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The account the panel shows now (a late answer for another one is dropped). */
let shown: Account | null = null;

export function setUpAccountPanel(): void {
  fillSelect(select('apStatus'), ACCOUNT_STATUSES.map((s): [string, string] => [s, STATUS_LABEL[s]]));
  select('apStatus').addEventListener('change', statusHint);
  const save = button('apSave');
  save.addEventListener('click', () => void busy(save, saveAccount));
  const explainBtn = button('apExplain');
  explainBtn.addEventListener('click', () => shown && void explain(shown.email, explainBtn));
  const syncBtn = button('apSyncUser');
  syncBtn.addEventListener('click', () => void busy(syncBtn, syncThisUser));
}

export function openAccountPanel(account: Account, opener: HTMLElement): void {
  show(account, null);
  $('apMsg').replaceChildren();
  openDialog(dialog('accDlg'), opener);
  void readDetails(account);
}

function readDetails(account: Account): Promise<void> {
  shown = account;
  $('apRoles').replaceChildren(h('p', { class: 'muted' }, 'Looking up where the roles come from…'));
  return call('explainUser', { email: account.email }).then(
    (x) => {
      if (shown !== account) return;
      show(x.account ?? account, x);
    },
    (e) => {
      if (shown !== account) return;
      $('apRoles').replaceChildren();
      sayError($('apMsg'), e);
    },
  );
}

/** Fills the panel from the account (the list's copy at first, then the server's with the explanation). */
function show(a: Account, x: Explanation | null): void {
  shown = a;
  $('apTitle').textContent = a.name || a.email;
  $('apEmail').textContent = a.email;
  select('apStatus').value = a.status;
  statusHint();
  const perms = currentSettings().permissionNames;
  $('apPerms').replaceChildren(h('legend', null, 'Permissions'),
    ...(perms.length
      ? perms.map((p) => h('label', { class: 'inline' }, h('input', { type: 'checkbox', 'data-perm': p, checked: a.permissions.includes(p) }), ' ' + p))
      : [h('p', { class: 'hint' }, 'No permissions are defined (Settings → Policy).')]));
  facts($('apFacts'), [
    ['Status', badge(a.status, STATUS_LABEL[a.status] || a.status)],
    ['Source', a.source === 'synced' ? 'Synced from Google' : 'Manual (sync never changes it)'],
    ['OU', ouText(a, x)],
    ['Last synced', a.lastSynced ? fmtDate(a.lastSynced) : 'Never'],
  ]);
  $('apGrace').replaceChildren(...graceText(a));
  if (x) $('apRoles').replaceChildren(...rolesView(a, x));
  button('apSyncUser').hidden = a.source !== 'synced';
}

/** Where the user is in Google now: for a deactivated account that is not the OU it was synced from. */
function ouText(a: Account, x: Explanation | null): string {
  if (a.source === 'manual') return '—';
  if (!x) return a.orgUnitPath || '—';
  if (!x.user) return (a.orgUnitPath || '—') + ' (the user is no longer in Google)';
  if (x.user.orgUnitPath !== a.orgUnitPath) return x.user.orgUnitPath + ' now (synced from ' + (a.orgUnitPath || '—') + ')';
  return x.user.orgUnitPath;
}

/** "Deactivated on … · deleted on … unless back in scope", from the settings' grace period. */
function graceText(a: Account): HTMLElement[] {
  if (!a.outOfScopeSince || a.status === 'deleted') return [];
  const since = Date.parse(a.outOfScopeSince);
  const graceDays = currentSettings().graceDays;
  const deleteAt = new Date(since + graceDays * DAY_MS).toISOString();
  return [h('p', { class: 'msg warn', id: 'apGraceText' }, 'Deactivated on ' + fmtDate(a.outOfScopeSince) + ' · deleted on ' + fmtDate(deleteAt) + ' unless back in scope (' + plural(graceDays, 'day') + ' of grace).')];
}

function rolesView(a: Account, x: Explanation): HTMLElement[] {
  const head = h('h3', null, 'Roles');
  if (a.source === 'manual') return [head, h('p', null, (a.roles.join(', ') || 'No role') + ' · set by hand')];
  if (!x.roles.length) return [head, h('p', null, (a.roles.length ? a.roles.join(', ') + ': no rule gives them now. ' : 'No role. ') + x.why)];
  return [head, h('ul', { class: 'reasons', id: 'apRoleList' }, x.roles.map((r) => h('li', null, h('strong', null, r.role), ': ' + r.from.join('; '))))];
}

function statusHint(): void {
  const deleting = select('apStatus').value === 'deleted' && shown?.source === 'synced';
  $('apStatusHint').textContent = deleting ? 'A synced account deleted here comes back on the next sync while the user is in scope, unless excluded (Settings → Policy → Exclude).' : '';
}

function saveAccount(): Promise<void> {
  const a = shown;
  if (!a) return Promise.resolve();
  const status = oneOf(select('apStatus').value, ACCOUNT_STATUSES, a.status);
  const wanted = Array.from($('apPerms').querySelectorAll<HTMLInputElement>('input[data-perm]')).filter((b) => b.checked).map((b) => b.dataset.perm!);
  const grant = wanted.filter((p) => !a.permissions.includes(p));
  const revoke = a.permissions.filter((p) => !wanted.includes(p));
  if (status === a.status && !grant.length && !revoke.length) {
    say($('apMsg'), 'info', 'Nothing to save: the account already has this status and these permissions.', '');
    return Promise.resolve();
  }
  return call('updateAccounts', { ids: [a.id], status, grant, revoke }).then(
    (r) => {
      if (r.failed.length) return say($('apMsg'), 'error', 'Not saved: ' + r.failed[0].message + '.', 'Reload the account and try again.');
      say($('apMsg'), 'ok', 'Saved ' + (a.name || a.email) + '.', '');
      emit('roster');
      return readDetails(a);
    },
    (e) => sayError($('apMsg'), e),
  );
}

function syncThisUser(): Promise<void> {
  const a = shown;
  if (!a) return Promise.resolve();
  return call('syncUser', { email: a.email }).then(
    (r) => {
      const list = r.changes.length ? h('ul', { class: 'changes' }, r.changes.map((c) => changeWithKind(c))) : null;
      const text = r.changes.length ? 'Applied ' + plural(r.applied, 'change') + ' for ' + a.email + '.' : 'Nothing to change for ' + a.email + '; the account is up to date.';
      say($('apMsg'), r.failed.length ? 'error' : 'ok', text, r.failed.map((f) => f.message).join(' '), list);
      if (r.changes.length) {
        void loadState();
        emit('roster');
      }
      return readDetails(a);
    },
    (e) => sayError($('apMsg'), e),
  );
}
