// Settings → Destination → Test connection: read-only probes of the saved SCIM app (nothing in the
// app changes), shown as a short table: what the app advertises and honours, the rate limit seen, and
// which role mappings will work, with the fix of each row that does not.
import { Data, call } from './client';
import { $, button, h } from './dom';
import { CHECK_LABEL, localize } from './format';
import { iconBadge, msgBox, sayError } from './notices';
import { store } from './store';
import { busy } from './widgets';

type Report = Data<'testScimConnection'>;

export function setUpConnectionTest(): void {
  button('testConnection').addEventListener('click', () => void runTest());
}

function runTest(): Promise<void> {
  const out = $('connectionOut');
  out.replaceChildren(h('p', { class: 'muted' }, 'Testing the connection…'));
  return busy(button('testConnection'), () =>
    call('testScimConnection').then((report) => out.replaceChildren(...reportView(report)), (e) => sayError(out, e)));
}

function reportView(report: Report): HTMLElement[] {
  const summary = report.ok
    ? msgBox('ok', 'The app can be synced with these settings.', '')
    : msgBox('error', 'The app cannot be synced with these settings yet.', localize(report.fix));
  const unsaved = store.dirty ? h('p', { class: 'small muted' }, 'The saved settings were tested: save your changes, then test again.') : null;
  return [
    summary,
    ...(unsaved ? [unsaved] : []),
    h('table', { class: 'connection', 'aria-label': 'Connection test' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Check'), h('th', { scope: 'col' }, 'Result'))),
      h('tbody', null, report.rows.map((r) =>
        h('tr', { 'data-row': r.item },
          h('th', { scope: 'row' }, r.item, h('br'), iconBadge(r.status, CHECK_LABEL[r.status])),
          h('td', null, localize(r.found), r.fix ? h('p', { class: 'small fix' }, h('strong', null, 'Fix: '), localize(r.fix)) : null))))),
  ];
}
