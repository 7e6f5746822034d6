// Preview: the next sync's plan, not applied. Counts first; each kind expands into its changes and reasons.
import { CHANGE_KINDS } from '../core/model';
import type { ChangeView } from '../core/api';
import { Data, call } from './client';
import { $, button, h } from './dom';
import { KIND_LABEL, fmtDate, plural } from './format';
import { badge, msgBox, sayError } from './notices';
import { emit, store } from './store';
import { applyAnyway } from './syncTab';
import { appendPage, busy } from './widgets';

type PlanView = Data<'previewSync'>;

/** Changes shown at a time in an expanded list. */
const SHOW = 50;

export function setUpPreview(): void {
  const btn = button('previewBtn');
  btn.addEventListener('click', () => void preview(btn, null));
}

/** Runs a preview from `btn`; its errors go to `box` (else under the Sync tab's preview). */
export function preview(btn: HTMLButtonElement, box: HTMLElement | null): Promise<PlanView | void> {
  return busy(btn, () =>
    call('previewSync').then(
      (plan) => {
        store.matches = plan.ruleMatches;
        renderPreview(plan);
        emit('matches');
        if (box) box.replaceChildren();
        return plan;
      },
      (e) => sayError(box ?? $('previewOut'), e),
    ),
  );
}

function renderPreview(plan: PlanView): void {
  const out = $('previewOut');
  out.replaceChildren(
    h('h2', null, 'Preview (nothing applied yet)'),
    h('p', { class: 'small' }, plural(plan.total, 'change') + ' · ' + plan.inScopeUsers + ' of ' + plural(plan.directoryUsers, 'directory user') + ' in scope · ' +
      (plan.suspendedUnsynced ? plan.suspendedUnsynced + ' more matched but suspended or archived in Google, so not synced · ' : '') + fmtDate(plan.createdAt)),
  );
  if (plan.blocked) out.appendChild(msgBox('warn', plan.blocked.message, 'Review the changes below. If they are expected, confirm them once:', applyAnyway(plan.blocked.destructive)));
  for (const problem of plan.ruleProblems) out.appendChild(msgBox('warn', problem, 'Fix the rule under Mappings.'));
  for (const kind of CHANGE_KINDS) {
    const list = plan.changes.filter((c) => c.kind === kind);
    const note = plan.truncated.includes(kind) ? 'Showing the first ' + list.length + ' of ' + plan.counts[kind] + '.' : '';
    out.appendChild(disclosure(KIND_LABEL[kind], plan.counts[kind], list, (c) => changeItem(c), note));
  }
  if (plan.attributeProblemCount) {
    const note = plan.attributeProblems.length < plan.attributeProblemCount ? 'Showing the first ' + plan.attributeProblems.length + ' of ' + plan.attributeProblemCount + '.' : '';
    out.appendChild(msgBox('warn', plural(plan.attributeProblemCount, 'attribute value') + ' cannot be derived; those accounts keep their last value.', 'Check the OU pattern under Settings → Attributes, or the users’ OUs.'));
    out.appendChild(disclosure('Cannot derive', plan.attributeProblemCount, plan.attributeProblems, (p) => h('li', null, h('div', { class: 'email' }, p.email), h('div', { class: 'small' }, p.attribute + ': ' + p.problem)), note));
  }
  if (plan.held.length) {
    out.appendChild(msgBox('warn', plural(plan.held.length, 'change') + (plan.ruleProblems.length ? ' held back while a rule is broken.' : ' held back.'), plan.held[0].why));
    out.appendChild(disclosure('Held', plan.held.length, plan.held, (x) => changeItem(x.change, x.why), ''));
  }
}

/** A count that expands into its (paged) list on demand. */
function disclosure<T>(label: string, count: number, items: T[], render: (item: T) => HTMLElement, note: string): HTMLDivElement {
  const list = h('ul', { class: 'changes', hidden: true });
  let shown = 0;
  const fill = () => {
    const rows = items.slice(shown, shown + SHOW).map(render);
    shown = Math.min(items.length, shown + SHOW);
    appendPage(list, rows, shown < items.length ? { label: 'Show ' + Math.min(SHOW, items.length - shown) + ' more', show: fill } : null);
    if (shown === items.length && note) list.appendChild(h('li', { class: 'small' }, note));
  };
  const btn = h('button', { type: 'button', class: 'btn kind', 'aria-expanded': 'false', disabled: !count }, h('span', null, label), h('span', { class: 'n' }, String(count)));
  btn.addEventListener('click', () => {
    const open = btn.getAttribute('aria-expanded') !== 'true';
    if (open && !shown) fill();
    btn.setAttribute('aria-expanded', String(open));
    list.hidden = !open;
  });
  return h('div', { style: 'margin:4px 0' }, btn, list);
}

/** One change: who, what changes (roles, status) and every reason. */
export function changeItem(c: ChangeView, why?: string): HTMLLIElement {
  const detail: string[] = [];
  if (c.kind === 'update' && c.rolesBefore.join() !== c.rolesAfter.join()) detail.push('Roles: ' + (c.rolesBefore.join(', ') || 'none') + ' → ' + (c.rolesAfter.join(', ') || 'none'));
  if (c.statusBefore && c.statusBefore !== c.statusAfter) detail.push('Status: ' + c.statusBefore + ' → ' + c.statusAfter);
  return h('li', null,
    h('div', { class: 'name' }, c.name || c.email), h('div', { class: 'email' }, c.email),
    detail.length ? h('div', { class: 'small' }, detail.join(' · ')) : null,
    h('ul', { class: 'reasons' }, c.reasons.map((r) => h('li', null, r)), why ? h('li', null, why) : null));
}

/** A change with its kind in front (Explain, Sync this user). */
export function changeWithKind(c: ChangeView, why?: string): HTMLLIElement {
  const li = changeItem(c, why);
  li.insertBefore(badge(c.kind, KIND_LABEL[c.kind]), li.firstChild);
  return li;
}
