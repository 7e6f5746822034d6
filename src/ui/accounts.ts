// Accounts: tabs by role, search, status filter, paging, bulk changes, + Add account, Explain from a row.
import { ACCOUNT_STATUSES, Account, AccountStatus } from '../core/model';
import { Requests, call, errorOf } from './client';
import { $, button, dialog, fillSelect, form, h, input, oneOf, select } from './dom';
import { STATUS_LABEL, cap, plural } from './format';
import { openAccountPanel } from './accountPanel';
import { explain } from './explain';
import { labelsOf, withFieldLabel } from './fieldLabels';
import { impliedText, roleLabel } from './mappings';
import { badge, clearInvalid, markInvalid, say, sayError } from './notices';
import { loadState } from './session';
import { currentSettings, on, store } from './store';
import { busy, openDialog, tablist } from './widgets';

const PAGE = 50;

/** The list as the admin filtered it, and the accounts they selected in it (kept across its pages, never across lists). */
const view = {
  tab: 'all',
  status: 'any' as AccountStatus | 'any',
  query: '',
  offset: 0,
  total: 0,
  rows: [] as Account[],
  counts: {} as Record<string, number>,
  seq: 0,
  selected: new Map<string, Account>(),
};

/** The add-account form's fields and their labels, by the input name the server's errors use. */
const ADD_FIELDS: Record<keyof Requests['addAccount'], string> = { name: 'addName', email: 'addEmail', role: 'addRole' };
const ADD_LABELS = labelsOf({ name: 'Name', email: 'Email', role: 'Role' } satisfies Record<keyof Requests['addAccount'], string>);

export function setUpAccounts(): void {
  fillSelect(select('accStatus'), [['any', 'Any'], ...ACCOUNT_STATUSES.map((s): [string, string] => [s, STATUS_LABEL[s]])]);
  fillSelect(select('bulkStatus'), ACCOUNT_STATUSES.map((s): [string, string] => [s, STATUS_LABEL[s]]));
  on('state', () => {
    renderChoices();
    renderRoleTabs();
  });
  on('roster', () => {
    if (store.loaded.accounts) void loadAccounts();
  });
  tablist($('roleTabs'), (t) => {
    const tab = t.dataset.tab ?? 'all';
    if (tab === view.tab) {
      // The same list again: back to its first page, selection kept.
      view.offset = 0;
      return void loadAccounts();
    }
    view.tab = tab;
    showNewList();
  });
  setUpFilters();
  setUpBulk();
  setUpAddAccount();
}

/** First opening of the tab. */
export function openAccounts(): void {
  if (store.loaded.accounts) return;
  store.loaded.accounts = true;
  void loadAccounts();
}

function renderRoleTabs(): void {
  const roles = [...currentSettings().roles, 'all'];
  const box = $('roleTabs');
  if (box.dataset.roles === roles.join()) return updateTabCounts();
  box.dataset.roles = roles.join();
  if (!roles.includes(view.tab)) view.tab = 'all';
  box.replaceChildren(...roles.map((r) =>
    h('button', { type: 'button', role: 'tab', 'data-tab': r, 'aria-controls': 'accList', 'aria-selected': String(r === view.tab), tabindex: r === view.tab ? 0 : -1 })));
  updateTabCounts();
}

function updateTabCounts(): void {
  $('roleTabs').querySelectorAll<HTMLElement>('[role=tab]').forEach((t) => {
    const role = t.dataset.tab ?? 'all';
    const count = view.counts.all === undefined ? '' : ' (' + (view.counts[role] || 0) + ')';
    t.textContent = (role === 'all' ? 'All' : cap(role) + 's') + count;
  });
}

function loadAccounts(): Promise<void> {
  const seq = ++view.seq;
  const list = $('accList');
  list.setAttribute('aria-busy', 'true');
  return call('getAccounts', { tab: view.tab, status: view.status, query: view.query, offset: view.offset, limit: PAGE })
    .then((r) => {
      if (seq !== view.seq) return;
      // The page emptied (accounts deleted elsewhere): show the last page that has rows.
      if (!r.rows.length && r.total && view.offset) {
        view.offset = Math.floor((r.total - 1) / PAGE) * PAGE;
        return loadAccounts();
      }
      view.total = r.total;
      view.rows = r.rows;
      view.counts = r.tabCounts;
      renderAccounts();
    }, (e) => {
      if (seq === view.seq) sayError($('accMsg'), e);
    })
    .finally(() => {
      if (seq === view.seq) list.removeAttribute('aria-busy');
    });
}

function renderAccounts(): void {
  updateTabCounts();
  const list = $('accList');
  if (!view.rows.length) list.replaceChildren(h('li', { class: 'muted', style: 'padding:8px 0' }, view.query || view.status !== 'any' ? 'No accounts match.' : 'No accounts yet. Add mappings, then Sync now.'));
  else list.replaceChildren(...view.rows.map(accountRow));
  const end = Math.min(view.total, view.offset + view.rows.length);
  $('pageInfo').textContent = view.total ? view.offset + 1 + '–' + end + ' of ' + view.total : '0 accounts';
  button('prevPage').disabled = view.offset <= 0;
  button('nextPage').disabled = end >= view.total;
  updateBulk();
}

function accountRow(a: Account): HTMLLIElement {
  const id = 'sel-' + a.id;
  const box = h('input', { type: 'checkbox', id, checked: view.selected.has(a.id), 'aria-label': 'Select ' + (a.name || a.email) });
  box.addEventListener('change', () => {
    if (box.checked) view.selected.set(a.id, a);
    else view.selected.delete(a.id);
    updateBulk();
  });
  const explainBtn = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Explain ' + a.email }, 'Explain');
  explainBtn.addEventListener('click', () => void explain(a.email, explainBtn));
  return h('li', { class: 'acc', 'data-email': a.email },
    box,
    h('button', { type: 'button', class: 'open', 'aria-label': 'Open ' + (a.name || a.email), onclick: (e: Event) => openAccountPanel(a, e.currentTarget as HTMLElement) },
      h('span', { class: 'name' }, a.name), h('br'), h('span', { class: 'email' }, a.email)),
    explainBtn,
    h('div', { class: 'meta' }, badge(a.status, STATUS_LABEL[a.status] || a.status), ' ' + (a.roles.join(', ') || 'no role') + ' · ' + a.source + (a.permissions.length ? ' · ' + a.permissions.join(', ') : '')));
}

function pageBoxes(): HTMLInputElement[] {
  return Array.from($('accList').querySelectorAll<HTMLInputElement>('input[type=checkbox]'));
}

/**
 * Another role tab, status or search is another list: its selection starts empty, so a bulk change
 * never reaches accounts the admin can no longer see.
 */
function showNewList(): void {
  view.offset = 0;
  view.selected.clear();
  updateBulk();
  void loadAccounts();
}

/** "Ann Lee, Bob Stone, Cy Diaz and 4 more": the accounts a bulk change is about. */
function namesOf(accounts: Account[], shown = 3): string {
  const names = accounts.map((a) => a.name || a.email);
  if (names.length <= shown) return names.length > 1 ? names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] : names.join('');
  return names.slice(0, shown).join(', ') + ' and ' + (names.length - shown) + ' more';
}

function updateBulk(): void {
  const n = view.selected.size;
  $('bulkLabel').textContent = '(' + n + ' selected)';
  const onPage = new Set(view.rows.map((a) => a.id));
  const elsewhere = Array.from(view.selected.keys()).filter((id) => !onPage.has(id)).length;
  $('selNote').hidden = !n;
  $('selElsewhere').textContent = elsewhere ? elsewhere + ' of them on other pages · ' : '';
  button('bulkStatusBtn').disabled = !n;
  button('grantBtn').disabled = button('revokeBtn').disabled = !n || !select('bulkPerm').value;
  const boxes = pageBoxes();
  const on = boxes.filter((b) => b.checked).length;
  const selAll = input('selAll');
  selAll.checked = boxes.length > 0 && on === boxes.length;
  selAll.indeterminate = on > 0 && on < boxes.length;
}

function setUpFilters(): void {
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  input('accQuery').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const query = input('accQuery').value.trim();
      if (query === view.query) return;
      view.query = query;
      showNewList();
    }, 300);
  });
  select('accStatus').addEventListener('change', () => {
    view.status = oneOf(select('accStatus').value, ['any', ...ACCOUNT_STATUSES] as const, 'any');
    showNewList();
  });
  button('clearSel').addEventListener('click', () => {
    view.selected.clear();
    pageBoxes().forEach((b) => (b.checked = false));
    updateBulk();
    input('selAll').focus();
  });
  button('prevPage').addEventListener('click', () => {
    view.offset = Math.max(0, view.offset - PAGE);
    void loadAccounts();
  });
  button('nextPage').addEventListener('click', () => {
    view.offset += PAGE;
    void loadAccounts();
  });
}

type BulkEdit = Omit<Requests['updateAccounts'], 'ids'>;

function bulk(edit: BulkEdit, btn: HTMLButtonElement, done: string): void {
  const chosen = Array.from(view.selected.values());
  const ids = chosen.map((a) => a.id);
  if (!ids.length) return;
  void busy(btn, () =>
    call('updateAccounts', { ...edit, ids }).then((r) => {
      if (r.failed.length) {
        const first = r.failed[0];
        say($('accMsg'), 'warn', done + ': ' + plural(r.updated, 'account') + '; ' + plural(r.failed.length, 'account') + ' could not be changed (first: ' + first.email + ', ' + first.message + ').', 'Reload the list and try those again.');
        view.selected.clear();
        return loadAccounts();
      }
      const which = r.updated === ids.length ? ' (' + namesOf(chosen) + ').' : ' of the ' + ids.length + ' selected (' + namesOf(chosen) + '); the others needed no change.';
      say($('accMsg'), 'ok', done + ': ' + plural(r.updated, 'account') + which, '');
      view.selected.clear();
      if (edit.exclude) void loadState();
      return loadAccounts();
    }, (e) => sayError($('accMsg'), e)),
  );
}

function setUpBulk(): void {
  input('selAll').addEventListener('change', () => {
    const on = input('selAll').checked;
    for (const a of view.rows) {
      if (on) view.selected.set(a.id, a);
      else view.selected.delete(a.id);
    }
    pageBoxes().forEach((b) => (b.checked = on));
    updateBulk();
  });
  const statusBtn = button('bulkStatusBtn');
  statusBtn.addEventListener('click', () => {
    const status = oneOf(select('bulkStatus').value, ACCOUNT_STATUSES, 'active');
    if (status !== 'deleted') return bulk({ status }, statusBtn, 'Set to ' + STATUS_LABEL[status]);
    confirmDelete(statusBtn);
  });
  button('delExclude').addEventListener('click', () => {
    dialog('delDlg').close();
    bulk({ status: 'deleted', exclude: true }, statusBtn, 'Deleted and excluded');
  });
  button('delOnly').addEventListener('click', () => {
    dialog('delDlg').close();
    bulk({ status: 'deleted' }, statusBtn, 'Deleted');
  });
  const grant = button('grantBtn');
  const revoke = button('revokeBtn');
  grant.addEventListener('click', () => {
    const p = select('bulkPerm').value;
    bulk({ grant: [p] }, grant, 'Granted ' + p);
  });
  revoke.addEventListener('click', () => {
    const p = select('bulkPerm').value;
    bulk({ revoke: [p] }, revoke, 'Revoked ' + p);
  });
  select('bulkPerm').addEventListener('change', updateBulk);
}

/** Deleting synced accounts: they come back on the next sync unless excluded, so the dialog offers both. */
function confirmDelete(opener: HTMLButtonElement): void {
  const chosen = Array.from(view.selected.values());
  const synced = chosen.filter((a) => a.source === 'synced').length;
  $('delTitle').textContent = 'Delete ' + plural(chosen.length, 'account') + '?';
  $('delWho').textContent = namesOf(chosen) + '.';
  $('delText').textContent = synced
    ? plural(synced, 'selected account') + (synced === 1 ? ' is' : ' are') + ' synced from Google and will come back on the next sync unless the user is excluded. “Delete and exclude” also adds ' + (synced === 1 ? 'it' : 'them') + ' to the exclude list.'
    : 'The selected manual accounts will be marked deleted.';
  button('delExclude').hidden = !synced;
  openDialog(dialog('delDlg'), opener);
}

/** The choices that come from the settings: roles for + Add account, permissions for the bulk change. */
function renderChoices(): void {
  const settings = currentSettings();
  fillSelect(select('addRole'), settings.roles.map((r): [string, string] => [r, roleLabel(r)]));
  fillSelect(select('bulkPerm'), settings.permissionNames.map((p): [string, string] => [p, p]));
}

function setUpAddAccount(): void {
  const addForm = form('addForm');
  const role = select('addRole');
  const hint = () => ($('addImplied').textContent = impliedText(role.value));
  button('addBtn').addEventListener('click', (e) => {
    addForm.reset();
    // Opened from a role's tab, the new account is most likely of that role.
    if (currentSettings().roles.includes(view.tab)) role.value = view.tab;
    $('addMsg').replaceChildren();
    clearInvalid(addForm);
    hint();
    openDialog(dialog('addDlg'), e.currentTarget as HTMLElement);
  });
  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const submit = addForm.querySelector<HTMLButtonElement>('[type=submit]')!;
    clearInvalid(addForm);
    void busy(submit, () =>
      call('addAccount', { name: input('addName').value, email: input('addEmail').value.trim(), role: role.value }).then((acc) => {
        dialog('addDlg').close();
        say($('accMsg'), 'ok', 'Added ' + acc.name + ' (' + acc.email + ') as ' + acc.roles.join(', ') + '.', '');
        void loadAccounts();
      }, (err) => {
        const error = withFieldLabel(errorOf(err), ADD_LABELS);
        sayError($('addMsg'), error);
        // The server names the field it refused: point at it.
        const field = error.field;
        const id = field && Object.prototype.hasOwnProperty.call(ADD_FIELDS, field) ? ADD_FIELDS[field as keyof typeof ADD_FIELDS] : null;
        if (id) markInvalid($(id), 'addMsg');
      }),
    );
  });
  role.addEventListener('change', hint);
}
