// The Sync tab: last and next run, Sync now (part after part, with progress), Finalize sync.
import type { SyncResult } from '../core/sync';
import { Data, call, errorOf } from './client';
import { labelsOf, withFieldLabel } from './fieldLabels';
import { $, Child, button, h } from './dom';
import { CHECK_LABEL, countsText, fmtDate, localize, plural, sum } from './format';
import { facts, iconBadge, msgBox, outcomeBadge, say, sayError } from './notices';
import { loadState } from './session';
import { currentSettings, currentState, emit, on, store } from './store';
import { busy } from './widgets';

const POLL_MS = 2000;
/** A run longer than this shows its progress bar. */
const PROGRESS_AFTER_MS = 1000;
/** Sync now gives up calling continueSync after this many parts (the hourly run carries on). */
const MAX_PARTS = 500;

type Progress = Partial<Pick<SyncResult, 'part' | 'phase' | 'usersRead' | 'applied' | 'planned'>>;

export function setUpSyncTab(): void {
  on('state', (first) => {
    const running = currentState().running;
    if (first && running) resumeNotice(running);
    renderFacts();
  });
  button('syncBtn').addEventListener('click', () => runSync({}));
  button('finalBtn').addEventListener('click', runFinalize);
}

/** Last and next run, trigger, cooldown, destination; the schedule's rows are repeated under Settings. */
export function renderFacts(): void {
  const st = currentState();
  const schedule = currentSettings().schedule;
  // "Sync this user" entries are not full syncs: the last full one is the first of another trigger.
  const last = (st.history ?? []).find((e) => e.trigger !== 'user');
  const lastSync: [string, Child] = ['Last sync', last ? [outcomeBadge(last.outcome), ' ' + fmtDate(last.finishedAt)] : 'Never'];
  // Every time is in the schedule's own time zone, as the admin chose it (the browser may be elsewhere).
  const nextRun: [string, string] = ['Next run', schedule.mode === 'off' ? 'Scheduled syncs are off' : st.nextRun ? fmtDate(st.nextRun) : '—'];
  const trigger: [string, string] = ['Trigger', st.trigger?.installed ? 'Installed' + (st.trigger.owner ? ' (runs as ' + st.trigger.owner + ')' : '') : 'Not installed — save Settings to install it'];
  const rows: [string, Child][] = [lastSync, nextRun, trigger];
  if (st.cooldownUntil) rows.push(['Cooldown', 'Next manual sync after ' + fmtDate(st.cooldownUntil)]);
  rows.push(['Destination', destinationText()]);
  facts($('syncFacts'), rows);
  facts($('schedFacts'), [nextRun, trigger]);
}

/** Where synced accounts go, from the settings (saveSettings answers with the roster it was called with). */
function destinationText(): string {
  const st = currentState();
  const s = currentSettings();
  if (s.destination !== 'scim') return 'Sheet “' + (st.destination && !/^SCIM/.test(st.destination) ? st.destination : 'Roster') + '” in this spreadsheet';
  const host = /^[a-z]+:\/\/([^/?#]+)/i.exec(s.scim?.baseUrl ?? '');
  const elsewhere = (st.destinationProblems ?? []).some((p) => p.id === 'scimTokenOtherUrl');
  const missing = elsewhere
    ? ' — the token was saved for another address (see Settings)'
    : st.secrets?.scim && !st.secrets.scim.saved && (!st.syncAccount || st.syncAccount === st.user)
      ? ' — no token saved (see Settings)'
      : '';
  return 'SCIM app (' + (host ? host[1] : 'not set up') + ')' + missing;
}

function resumeNotice(running: { part: number; description: string }): void {
  const btn = h('button', { type: 'button', class: 'btn small', onclick: () => runSync(null) }, 'Continue now');
  say($('syncOut'), 'info', 'A sync is part-way (part ' + running.part + '): ' + running.description + '.', 'It continues at the next hourly run, or now:', btn);
}

function progressBox(p: Progress): HTMLDivElement {
  const planned = sum(p.planned);
  const applied = sum(p.applied);
  let what: string;
  if (p.phase === 'read') what = 'Reading the directory: ' + plural(p.usersRead || 0, 'user') + ' read.';
  else if (p.phase === 'apply') what = 'Applying changes: ' + applied + ' of ' + planned + '.';
  else what = p.phase === 'plan' ? 'Planning the changes.' : 'Starting…';
  // A bar for every phase: counted while applying, moving (indeterminate) while reading and planning.
  const bar = p.phase === 'apply' && planned ? h('progress', { max: planned, value: applied, 'aria-label': 'Changes applied' }) : h('progress', { 'aria-label': 'Sync in progress' });
  return msgBox('info', 'Sync in progress (part ' + (p.part || 1) + ')', '', [h('p', null, what), bar]);
}

/** Sync now (`request`), or continue the sync part-way (null): one call per part, each a new execution, until it is no longer in progress. */
export function runSync(request: { allowDestructive?: number } | null): void {
  if (store.syncing) return;
  store.syncing = true;
  const out = $('syncOut');
  const btn = button('syncBtn');
  let polling = false;
  let part = 0;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  // A sync that ends within a second shows its result only; a longer one shows its progress from then on.
  let latest: Progress = { part: 1 };
  let showing = false;
  const show = (p: Progress) => {
    latest = p;
    if (showing && store.syncing) out.replaceChildren(progressBox(p));
  };
  out.replaceChildren();
  const reveal = setTimeout(() => {
    showing = true;
    show(latest);
  }, PROGRESS_AFTER_MS);
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    call('getSyncProgress')
      .then((p) => {
        if (p.running) show(p);
      }, () => undefined)
      .finally(() => (polling = false));
  }, POLL_MS);
  const step = (res: SyncResult): SyncResult | Promise<SyncResult> => {
    if (res.state === 'in-progress' && ++part < MAX_PARTS) {
      show(res);
      return call('continueSync').then(step);
    }
    return res;
  };
  (request ? call('syncNow', request) : call('continueSync'))
    .then(step)
    .then(
      (res) => {
        store.syncing = false;
        showResult(res);
      },
      (e) => {
        store.syncing = false;
        sayError(out, e);
      },
    )
    .finally(() => {
      clearInterval(timer);
      clearTimeout(reveal);
      store.syncing = false;
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
      $('previewOut').replaceChildren();
      void loadState();
      emit('roster');
    });
}

function showResult(res: SyncResult): void {
  const out = $('syncOut');
  const counts = h('p', null, 'Applied: ' + countsText(res.applied));
  switch (res.state) {
    case 'done':
      return say(out, res.fix ? 'warn' : 'ok', 'Sync finished. ' + res.message, res.fix, res.fix ? counts : null);
    case 'halted':
      return say(out, 'warn', res.message, res.fix, applyAnyway(res.destructive ?? 0));
    case 'busy':
      // The server names what holds the roster (a sync part, an account edit, a part Google killed).
      return say(out, 'warn', res.message, res.fix);
    case 'refused':
      // The cooldown: the message says when a full sync may run; one account can be synced now.
      return say(out, 'warn', res.message, res.fix, res.id === 'cooldown' ? syncOneUserForm() : null);
    case 'in-progress':
      return say(out, 'warn', 'The sync is still in progress after ' + MAX_PARTS + ' parts: ' + res.message, 'It continues at the next hourly run.');
    case 'failed':
      return say(out, 'error', res.message, res.fix, sum(res.applied) ? counts : null);
  }
}

/** "Sync this user" right where a full sync was refused by the cooldown. */
function syncOneUserForm(): HTMLFormElement {
  const field = h('input', { id: 'cdEmail', type: 'email', autocomplete: 'off', placeholder: 'name@school.edu' });
  const submit = h('button', { type: 'submit', class: 'btn small' }, 'Sync this user');
  const result = h('div', { 'aria-live': 'polite' });
  const f = h('form', { class: 'cdUser', novalidate: true },
    h('div', { class: 'row' }, h('div', { class: 'grow' }, h('label', { for: 'cdEmail' }, 'Email of one user to sync now'), field), submit), result);
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    const email = field.value.trim();
    if (!email) {
      field.setAttribute('aria-invalid', 'true');
      return say(result, 'error', 'Type the email of the user to sync.', '');
    }
    field.removeAttribute('aria-invalid');
    void busy(submit, () =>
      call('syncUser', { email }).then((r) => {
        const text = r.changes.length ? 'Applied ' + plural(r.applied, 'change') + ' for ' + email + '.' : 'Nothing to change for ' + email + '; the account is up to date.';
        say(result, r.failed.length ? 'error' : 'ok', text, r.failed.map((x) => x.message).join(' '));
        if (r.changes.length) {
          void loadState();
          emit('roster');
        }
      }, (err) => sayError(result, withFieldLabel(errorOf(err), labelsOf({ email: 'Email of one user to sync now' })))));
  });
  return f;
}

/** The one-time confirmation of a sync the threshold halted. */
export function applyAnyway(destructive: number): HTMLButtonElement {
  return h('button', { type: 'button', class: 'btn small danger', onclick: () => runSync({ allowDestructive: destructive }) }, 'Apply anyway (' + plural(destructive, 'account') + ')');
}

function runFinalize(): Promise<void> {
  const out = $('finalOut');
  out.replaceChildren(h('p', { class: 'muted' }, 'Running the checks…'));
  return busy(button('finalBtn'), () =>
    call('runFinalizeChecks').then((r) => {
      out.replaceChildren(...checkList(r));
      // The facts above (trigger, last sync) may have changed since the state was read: read it again.
      return loadState();
    }, (e) => sayError(out, e)));
}

type CheckView = Data<'runFinalizeChecks'>['checks'][number];

function checkList(r: Data<'runFinalizeChecks'>): HTMLElement[] {
  const attention = r.checks.filter((c) => c.status === 'fail' || c.status === 'warning').length;
  const skipped = r.checks.filter((c) => c.status === 'notRun').length;
  const summary = attention
    ? plural(attention, 'check') + (attention === 1 ? ' needs' : ' need') + ' attention' + (skipped ? '; ' + skipped + ' not run until ' + (attention === 1 ? 'it passes' : 'they pass') : '') + '.'
    : 'All ' + r.checks.length + ' checks passed.';
  return [
    h('p', { id: 'finalSummary' }, summary),
    h('ul', { 'aria-label': 'Finalize checks' }, r.checks.map((c) =>
      h('li', { class: 'card check', 'data-check': c.id },
        h('div', { class: 'head' }, h('span', { class: 'name' }, c.title), iconBadge(c.status, CHECK_LABEL[c.status] || c.status)),
        c.found ? h('p', { class: 'small' }, (c.status === 'notRun' ? '' : 'Found: ') + localize(c.found)) : null,
        c.fix ? h('p', { class: 'small' }, h('strong', null, 'Fix: '), localize(c.fix)) : null,
        c.action ? actionButton(c) : null))),
  ];
}

/** A fix that is one action: the button does it, then the checks run again. */
function actionButton(c: CheckView): HTMLButtonElement | null {
  if (c.action !== 'reinstallTrigger') return null;
  const btn = h('button', { type: 'button', class: 'btn small primary' }, 'Reinstall the trigger');
  btn.addEventListener('click', () => void busy(btn, () => call('reinstallTrigger').then(() => runFinalize(), (e) => sayError($('finalOut'), e))));
  return btn;
}
