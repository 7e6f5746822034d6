// Explain a user (rules, roles and where they come from, the next change) and Sync this user.
import { Data, call, errorOf } from './client';
import { labelsOf, withFieldLabel } from './fieldLabels';
import { $, button, dialog, form, h, input } from './dom';
import { STATUS_LABEL, plural } from './format';
import { badge, msgBox, say, sayError } from './notices';
import { changeWithKind } from './preview';
import { loadState } from './session';
import { emit } from './store';
import { busy, openDialog } from './widgets';

/** The email the dialog explains now (a late answer for another one is dropped). */
let explained = '';

export function setUpExplain(): void {
  form('explainForm').addEventListener('submit', (e) => {
    e.preventDefault();
    const field = input('explainEmail');
    const email = field.value.trim();
    if (!email) {
      field.setAttribute('aria-invalid', 'true');
      return say($('syncOut'), 'error', 'Type the email of the user to explain.', '');
    }
    field.removeAttribute('aria-invalid');
    void explain(email, field);
  });
  button('syncUserBtn').addEventListener('click', () => syncThisUser());
}

export function explain(email: string, opener: HTMLElement): Promise<void> {
  explained = email;
  $('explainTitle').textContent = 'Explain ' + email;
  $('explainBody').replaceChildren(h('p', { class: 'muted' }, 'Looking up ' + email + '…'));
  $('explainMsg').replaceChildren();
  button('syncUserBtn').disabled = true;
  openDialog(dialog('explainDlg'), opener);
  return call('explainUser', { email }).then(
    (x) => {
      if (explained !== email) return;
      button('syncUserBtn').disabled = false;
      $('explainBody').replaceChildren(...explanation(x));
    },
    (e) => {
      $('explainBody').replaceChildren();
      sayError($('explainMsg'), withFieldLabel(errorOf(e), labelsOf({ email: 'User email' })));
    },
  );
}

function explanation(x: Data<'explainUser'>): HTMLElement[] {
  const u = x.user;
  const acc = x.account;
  const out: HTMLElement[] = [];
  out.push(h('h3', null, 'In Google'), u ? h('p', null, u.name + ' · ' + u.orgUnitPath + (u.suspended ? ' · suspended' : '') + (u.archived ? ' · archived' : '')) : h('p', null, 'Not in the Google directory.'));
  out.push(h('h3', null, 'Account'), acc ? h('p', null, badge(acc.status, STATUS_LABEL[acc.status] || acc.status), ' ' + (acc.roles.join(', ') || 'no role') + ' · ' + acc.source) : h('p', null, 'No account in the roster yet.'));
  out.push(msgBox(x.inScope ? 'ok' : 'warn', x.why, ''));
  out.push(h('h3', null, 'Matched rules'), x.matchedRules.length ? h('ul', { class: 'reasons' }, x.matchedRules.map((r) => h('li', null, r.description))) : h('p', { class: 'muted' }, 'No rule matches.'));
  out.push(h('h3', null, 'Roles and where they come from'), x.roles.length ? h('ul', { class: 'reasons' }, x.roles.map((r) => h('li', null, h('strong', null, r.role), ': ' + r.from.join('; ')))) : h('p', { class: 'muted' }, 'No roles.'));
  if (x.attributes.length) {
    out.push(h('h3', null, 'Attributes and where they come from'),
      h('ul', { class: 'reasons' }, x.attributes.map((a) => h('li', null, h('strong', null, a.name), ': ' + (a.problem ? 'cannot be derived — ' + a.problem : (a.value || '(empty)') + ' (from ' + a.from + ')')))));
  }
  if (x.localDecision) out.push(msgBox('info', x.localDecision, ''));
  if (x.recreated) out.push(recreatedChoice(x.recreated));
  for (const problem of x.ruleProblems) out.push(msgBox('warn', problem, ''));
  out.push(h('h3', null, 'The next sync would'),
    x.changes.length || x.held.length
      ? h('ul', { class: 'changes' }, x.changes.map((c) => changeWithKind(c)), x.held.map((held) => changeWithKind(held.change, 'Held: ' + held.why)))
      : h('p', { class: 'muted' }, 'Change nothing.'));
  return out;
}

/** A Google user re-created with the address of a deleted one: the admin chooses what happens to the old app account. */
function recreatedChoice(old: { accountId: string; text: string; fix: string }): HTMLElement {
  const adopt = h('button', { type: 'button', class: 'btn small' }, 'Give the old app account to this user');
  adopt.addEventListener('click', () => syncThisUser(old.accountId));
  const remove = h('button', { type: 'button', class: 'btn small' }, 'Delete the old account');
  remove.addEventListener('click', () => {
    void busy(remove, () =>
      call('updateAccounts', { ids: [old.accountId], status: 'deleted' }).then((r) => {
        emit('roster');
        if (r.failed.length) return say($('explainMsg'), 'error', 'The old account was not deleted: ' + r.failed[0].message + '.', 'Explain the user again and retry.');
        syncThisUser();
      }, (e) => sayError($('explainMsg'), e)),
    );
  });
  return msgBox('warn', old.text, old.fix, [adopt, ' ', remove]);
}

function syncThisUser(adopt?: string): void {
  const btn = button('syncUserBtn');
  const email = explained;
  void busy(btn, () =>
    call('syncUser', adopt ? { email, adopt } : { email }).then((r) => {
      const list = r.changes.length ? h('ul', { class: 'changes' }, r.changes.map((c) => changeWithKind(c))) : null;
      const failed = r.failed.map((f) => f.message).join(' ');
      const text = r.changes.length ? 'Applied ' + plural(r.applied, 'change') + ' for ' + email + '.' : 'Nothing to change for ' + email + '; the account is up to date.';
      say($('explainMsg'), r.failed.length ? 'error' : 'ok', text, failed, list);
      if (r.changes.length) void loadState(); // History has a "Single user" entry
      emit('roster');
    }, (e) => sayError($('explainMsg'), e)),
  );
}
