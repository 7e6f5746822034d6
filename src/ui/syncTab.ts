// The Sync tab: last and next run, Sync now (part after part, with progress), Finalize sync.
import type { SyncResult } from '../core/sync';
import { Data, call } from './client';
import { $, Child, button, h } from './dom';
import { CHECK_LABEL, countsText, fmtDate, localize, plural, sum } from './format';
import { facts, iconBadge, msgBox, outcomeBadge, say, sayError } from './notices';
import { loadState } from './session';
import { currentSettings, currentState, emit, on, store } from './store';
import { busy } from './widgets';

const POLL_MS = 2000;
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
  const missing = st.secrets?.scim && !st.secrets.scim.saved && (!st.syncAccount || st.syncAccount === st.user) ? ' — no token saved (see Settings)' : '';
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
  const bar = p.phase === 'apply' && planned ? h('progress', { max: planned, value: applied, 'aria-label': 'Changes applied' }) : null;
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
  out.replaceChildren(progressBox({ part: 1 }));
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    call('getSyncProgress')
      .then((p) => {
        if (store.syncing && p.running) out.replaceChildren(progressBox(p));
      }, () => undefined)
      .finally(() => (polling = false));
  }, POLL_MS);
  const step = (res: SyncResult): SyncResult | Promise<SyncResult> => {
    if (res.state === 'in-progress' && ++part < MAX_PARTS) {
      out.replaceChildren(progressBox(res));
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
      return say(out, 'warn', res.id === 'alreadyRunning' ? res.message : 'A sync is already running. ' + res.message, res.fix);
    case 'refused':
      return say(out, 'warn', res.message, res.fix);
    case 'in-progress':
      return say(out, 'warn', 'The sync is still in progress after ' + MAX_PARTS + ' parts: ' + res.message, 'It continues at the next hourly run.');
    case 'failed':
      return say(out, 'error', res.message, res.fix, sum(res.applied) ? counts : null);
  }
}

/** The one-time confirmation of a sync the threshold halted. */
export function applyAnyway(destructive: number): HTMLButtonElement {
  return h('button', { type: 'button', class: 'btn small danger', onclick: () => runSync({ allowDestructive: destructive }) }, 'Apply anyway (' + plural(destructive, 'account') + ')');
}

function runFinalize(): void {
  const out = $('finalOut');
  out.replaceChildren(h('p', { class: 'muted' }, 'Running the checks…'));
  void busy(button('finalBtn'), () => call('runFinalizeChecks').then((r) => out.replaceChildren(...checkList(r)), (e) => sayError(out, e)));
}

function checkList(r: Data<'runFinalizeChecks'>): HTMLElement[] {
  const failed = r.checks.filter((c) => c.status !== 'pass').length;
  const summary = failed ? plural(failed, 'check') + (failed === 1 ? ' needs' : ' need') + ' attention.' : 'All ' + r.checks.length + ' checks passed.';
  return [
    h('p', null, summary),
    h('ul', { 'aria-label': 'Finalize checks' }, r.checks.map((c) =>
      h('li', { class: 'card check' },
        h('div', { class: 'head' }, h('span', { class: 'name' }, c.title), iconBadge(c.status, CHECK_LABEL[c.status] || c.status)),
        c.found ? h('p', { class: 'small' }, 'Found: ' + localize(c.found)) : null,
        c.fix ? h('p', { class: 'small' }, h('strong', null, 'Fix: '), localize(c.fix)) : null))),
  ];
}
