// History: every sync with its trigger, outcome, counts, duration and parts; a failure shows its fix.
// Each entry opens its sync report: what changed and why, who started it, what was held or failed.
import { CHANGE_KINDS, ChangeKind, HistoryEntry } from '../core/model';
import { Data, call } from './client';
import { $, button, dialog, h, input } from './dom';
import { TRIGGER_LABEL, cap, countsText, fmtDate, fmtDuration, plural, sum } from './format';
import { msgBox, outcomeBadge, sayError } from './notices';
import { loadState } from './session';
import { currentState, on } from './store';
import { busy, openDialog } from './widgets';

type Report = Data<'getSyncReport'>;

const KIND_HEADING: Record<ChangeKind, string> = { create: 'Created', update: 'Updated', deactivate: 'Deactivated', reactivate: 'Reactivated', delete: 'Deleted' };

/** The entry whose report the dialog shows (a late answer for another one is dropped). */
let shown: { startedAt: string; query: string } | null = null;
let searchTimer: ReturnType<typeof setTimeout> | undefined;

export function setUpHistory(): void {
  on('state', renderHistory);
  const refresh = button('histRefresh');
  refresh.addEventListener('click', () => void busy(refresh, loadState));
  input('reportQuery').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => shown && void loadReport(shown.startedAt, input('reportQuery').value.trim()), 250);
  });
}

function renderHistory(): void {
  const list = $('histList');
  const entries = currentState().history ?? [];
  if (!entries.length) return list.replaceChildren(h('li', { class: 'muted' }, 'No sync has run yet.'));
  list.replaceChildren(...entries.map(historyItem));
}

function historyItem(e: HistoryEntry): HTMLLIElement {
  return h('li', { class: 'card hist' },
    h('div', { class: 'head' }, outcomeBadge(e.outcome), h('span', { class: 'small' }, TRIGGER_LABEL[e.trigger] || e.trigger)),
    h('div', { class: 'small' }, h('time', { datetime: e.startedAt }, fmtDate(e.startedAt)), ' · took ' + fmtDuration(e.durationMs) + ' · ' + plural(e.parts, 'part')),
    h('div', null, countsText(e.counts)),
    e.outcome !== 'success' || e.fix ? msgBox(e.outcome === 'failed' ? 'error' : 'warn', e.message, e.fix) : null,
    h('button', { type: 'button', class: 'link', 'aria-label': 'Report of the sync of ' + fmtDate(e.startedAt), onclick: (ev: Event) => openReport(e, ev.currentTarget as HTMLElement) }, 'Report'));
}

/**
 * A run that applied nothing, with no fix to show (so nothing was held or failed either),
 * has no report to read: the entry already says everything.
 */
function changedNothing(e: HistoryEntry): boolean {
  return sum(e.counts) === 0 && (e.outcome === 'failed' || e.outcome === 'discarded' || (e.outcome === 'success' && !e.fix));
}

function openReport(e: HistoryEntry, opener: HTMLElement): void {
  $('reportTitle').textContent = 'Sync of ' + fmtDate(e.startedAt);
  $('reportMsg').replaceChildren();
  input('reportQuery').value = '';
  const dlg = dialog('reportDlg');
  if (changedNothing(e)) {
    shown = null;
    $('reportSearch').hidden = true;
    $('reportBody').replaceChildren(h('p', null, 'This sync changed nothing' + (e.outcome === 'success' ? ': every account was already up to date.' : '.')));
    openDialog(dlg, opener);
    return;
  }
  $('reportSearch').hidden = false;
  $('reportBody').replaceChildren(h('p', { class: 'muted' }, 'Reading the report…'));
  openDialog(dlg, opener);
  void loadReport(e.startedAt, '');
}

function loadReport(startedAt: string, query: string): Promise<void> {
  const asked = { startedAt, query };
  shown = asked;
  return call('getSyncReport', query ? { startedAt, query } : { startedAt }).then(
    (report) => {
      if (shown !== asked) return;
      $('reportMsg').replaceChildren();
      $('reportBody').replaceChildren(...reportView(report, query));
    },
    (err) => {
      if (shown !== asked) return;
      $('reportBody').replaceChildren();
      $('reportSearch').hidden = true;
      sayError($('reportMsg'), err);
    },
  );
}

function reportView(r: Report, query: string): HTMLElement[] {
  const out: HTMLElement[] = [
    h('p', { class: 'head' }, outcomeBadge(r.outcome), ' ' + (TRIGGER_LABEL[r.trigger] || r.trigger)),
    h('p', { class: 'small', id: 'reportWho' }, 'Started by ' + r.startedBy + ' · finished ' + fmtDate(r.finishedAt)),
    h('p', null, countsText(r.counts)),
  ];
  if (query) out.push(h('p', { class: 'small' }, plural(r.changes.length, 'change') + ' of ' + r.listed + ' listed match “' + query + '”.'));
  for (const kind of CHANGE_KINDS) {
    const changes = r.changes.filter((c) => c.kind === kind);
    const omitted = query ? 0 : r.omitted[kind];
    if (!changes.length && !omitted) continue;
    out.push(h('section', { class: 'rkind', 'data-kind': kind, 'aria-label': KIND_HEADING[kind] },
      h('h3', null, KIND_HEADING[kind] + ' (' + r.counts[kind] + ')'),
      h('ul', { class: 'changes' }, changes.map((c) => h('li', null,
        h('div', { class: 'name' }, c.name || c.email), h('div', { class: 'email' }, c.email),
        h('ul', { class: 'reasons' }, c.reasons.map((why) => h('li', null, cap(why))))))),
      omitted ? h('p', { class: 'small' }, omitted + ' more not listed.') : null));
  }
  if (r.heldTotal) out.push(h('section', { class: 'rkind', 'data-kind': 'held', 'aria-label': 'Held' },
    h('h3', null, 'Held (' + r.heldTotal + ')'),
    h('ul', { class: 'changes' }, r.held.map((x) => h('li', null, h('div', { class: 'email' }, x.email), h('div', { class: 'small' }, cap(x.why))))),
    r.heldTotal > r.held.length ? h('p', { class: 'small' }, r.heldTotal - r.held.length + ' more not listed.') : null));
  if (r.failed.length) out.push(h('section', { class: 'rkind', 'data-kind': 'failed', 'aria-label': 'Not written' },
    h('h3', null, 'Not written (' + r.failed.length + ')'),
    h('ul', { class: 'changes' }, r.failed.map((x) => h('li', null, h('div', { class: 'email' }, x.email), h('div', { class: 'small' }, x.message))))));
  if (query && !r.changes.length) out.push(h('p', { class: 'muted' }, 'No change matches “' + query + '”.'));
  return out;
}
