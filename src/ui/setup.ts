// The first-open screens: link Roster Sync with my account, or ask a Workspace admin to.
import { Data, call, errorOf } from './client';
import { labelsOf, withFieldLabel } from './fieldLabels';
import { $, h } from './dom';
import { msgBox, sayError } from './notices';
import { SYNC_ACCOUNT_PRIVILEGES } from '../core/messages';
import type { State } from './store';
import { busy } from './widgets';

type SetupStatus = Data<'getSetupStatus'>;

/** `onLinked` receives the state once this user has linked Roster Sync. */
export function renderSetup(setup: SetupStatus, onLinked: (st: State) => void): void {
  $('setup').hidden = false;
  $('notice').replaceChildren();
  const intro = h('p', null, 'Roster Sync is not linked to the Google Workspace directory yet. A Workspace admin links it once; scheduled syncs then run as that account.');
  const body = $('setupBody');
  if (setup.canReadDirectory) body.replaceChildren(intro, ...dedicatedAccount(), ...linkWithMyAccount(setup.user, onLinked));
  else body.replaceChildren(intro, ...notAnAdmin(setup), askAnAdmin());
}

/**
 * The least-privilege way, recommended first: an account that exists only to sync, with a custom
 * admin role that can read the directory and nothing else.
 */
function dedicatedAccount(): HTMLElement[] {
  return [
    h('h3', null, 'Recommended: a dedicated read-only sync account'),
    h('p', { class: 'small' }, 'Scheduled syncs run as the account that links Roster Sync. Create an account used only for syncing (for example roster-sync@ your domain), and in the Google Admin console (Account → Admin roles → Create new role) give it a role with exactly these Admin API privileges:'),
    h('ul', { class: 'reasons', id: 'syncPrivileges' }, SYNC_ACCOUNT_PRIVILEGES.map((p) => h('li', null, p))),
    h('p', { class: 'small' }, 'Then sign in as that account, open Roster Sync in this spreadsheet, and use it for syncing below.'),
  ];
}

function linkWithMyAccount(user: string, onLinked: (st: State) => void): HTMLElement[] {
  const out = h('div', { 'aria-live': 'polite' });
  const use = h('button', { type: 'button', class: 'btn', id: 'useMine' }, 'I am a Workspace admin — use my account for syncing');
  use.addEventListener('click', () => {
    void busy(use, () => call('useMyAccountForSync', {}).then(onLinked, (e) => sayError(out, e)));
  });
  return [h('h3', null, 'Or use this account'), h('p', { class: 'small' }, 'You (' + user + ') can read the directory. Syncs will run as you, with all of your admin rights.'), h('div', { class: 'actions' }, use), out];
}

/** Someone who cannot read the directory is not in error: a Workspace admin links Roster Sync, so ask one. */
function notAnAdmin(setup: SetupStatus): HTMLElement[] {
  const why = setup.problem ? h('details', { class: 'small' }, h('summary', null, 'Why can I not link it myself?'), h('p', null, setup.problem.text), h('p', null, setup.problem.fix)) : null;
  return [h('p', null, 'Your account (' + setup.user + ') cannot read the Google Workspace directory, so a Workspace admin links Roster Sync. Ask one below.'), ...(why ? [why] : [])];
}

/** A ready request to a Workspace admin (no Gmail scope: the user sends or copies it). */
function askAnAdmin(): HTMLFormElement {
  const email = h('input', { type: 'email', id: 'askEmail', autocomplete: 'off' });
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Write the request');
  const ask = h('form', { novalidate: true },
    h('h3', null, 'Ask an admin'), h('label', { for: 'askEmail' }, 'Workspace admin’s email'), email,
    h('div', { class: 'actions' }, submit), result);
  ask.addEventListener('submit', (e) => {
    e.preventDefault();
    void busy(submit, () =>
      call('askAdminMessage', { adminEmail: email.value.trim() }).then((m) => {
        const text = h('textarea', { id: 'askBody', readonly: true, rows: 8 });
        text.value = 'Subject: ' + m.subject + '\n\n' + m.body;
        result.replaceChildren(
          msgBox('ok', 'Your request to ' + m.to + ' is ready. Send it by email, or copy it into a chat.', ''),
          h('label', { for: 'askBody' }, 'Message'), text,
          /^mailto:/i.test(m.mailto) ? h('p', null, h('a', { href: m.mailto }, 'Open it in your email app')) : '');
      }, (err) => sayError(result, withFieldLabel(errorOf(err), labelsOf({ adminEmail: 'Workspace admin’s email' })))),
    );
  });
  return ask;
}
