// History: every sync with its trigger, outcome, counts, duration and parts; a failure shows its fix.
import type { HistoryEntry } from '../core/model';
import { $, button, h } from './dom';
import { TRIGGER_LABEL, countsText, fmtDate, fmtDuration, plural } from './format';
import { msgBox, outcomeBadge } from './notices';
import { loadState } from './session';
import { currentState, on } from './store';
import { busy } from './widgets';

export function setUpHistory(): void {
  on('state', renderHistory);
  const refresh = button('histRefresh');
  refresh.addEventListener('click', () => void busy(refresh, loadState));
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
    e.outcome !== 'success' || e.fix ? msgBox(e.outcome === 'failed' ? 'error' : 'warn', e.message, e.fix) : null);
}
