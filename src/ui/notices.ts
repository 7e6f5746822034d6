// Messages, badges and field errors: how the sidebar tells an admin what happened and how to fix it.
import type { SyncOutcome } from '../core/model';
import type { CheckStatus } from '../core/finalize';
import { ServerError, errorOf } from './client';
import { $, Child, h } from './dom';
import { OUTCOME_LABEL, localize } from './format';

export type Tone = 'error' | 'warn' | 'ok' | 'info';

const ICON: Record<Tone | CheckStatus | SyncOutcome, string> = {
  error: '✗', warn: '⚠', ok: '✓', info: 'ℹ',
  pass: '✓', fail: '✗', warning: '⚠', notRun: '–',
  success: '✓', failed: '✗', halted: '⚠', partial: '⚠', discarded: '–',
};

export function msgBox(tone: Tone, text: string, fix: string, extra?: Child): HTMLDivElement {
  const label = tone === 'error' ? 'Error: ' : tone === 'warn' ? 'Warning: ' : '';
  return h('div', { class: 'msg ' + tone, role: tone === 'error' ? 'alert' : null },
    h('span', { class: 'ico', 'aria-hidden': 'true' }, ICON[tone]),
    h('div', null,
      h('p', null, h('span', { class: 'sr' }, label), localize(text)),
      fix ? h('p', { class: 'fix' }, 'Fix: ' + localize(fix)) : null,
      extra ?? null));
}

/** Shows a message in `box`, or (box null) in the sticky notice at the top, which can be dismissed. */
export function say(box: HTMLElement | null, tone: Tone, text: string, fix: string, extra?: Child): void {
  if (!box) {
    const notice = $('notice');
    notice.replaceChildren(msgBox(tone, text, fix, [extra ?? null, h('button', { type: 'button', class: 'link', onclick: () => notice.replaceChildren() }, 'Dismiss')]));
    return;
  }
  box.replaceChildren(msgBox(tone, text, fix, extra));
}

export function sayError(box: HTMLElement | null, e: unknown): void {
  const error = errorOf(e);
  say(box, 'error', error.text, error.fix);
}

export function badge(kind: string, label: Child): HTMLSpanElement {
  return h('span', { class: 'badge ' + kind }, label);
}

/** Icon and word, so an outcome never depends on color alone. */
export function iconBadge(kind: CheckStatus | SyncOutcome, word: string): HTMLSpanElement {
  return badge(kind, [h('span', { 'aria-hidden': 'true' }, ICON[kind] + ' '), word]);
}

export function outcomeBadge(outcome: SyncOutcome): HTMLSpanElement {
  return iconBadge(outcome, OUTCOME_LABEL[outcome] || outcome);
}

/** Fills a <dl> with [term, description] pairs. */
export function facts(dl: HTMLElement, rows: [string, Child][]): void {
  dl.replaceChildren(...rows.flatMap(([term, description]) => [h('dt', null, term), h('dd', null, description)]));
}

export function markInvalid(field: HTMLElement, messageId: string): void {
  field.setAttribute('aria-invalid', 'true');
  field.setAttribute('aria-errormessage', messageId);
  field.focus();
}

export function clearInvalid(form: HTMLElement): void {
  form.querySelectorAll('[aria-invalid]').forEach((el) => {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-errormessage');
  });
  form.querySelectorAll('.ferr').forEach((el) => el.remove());
}

/** Marks the field an error is about, with the message right below it (the full message and fix stay where they are). */
export function fieldError(field: HTMLElement, error: ServerError): void {
  const anchor = field.closest('.row, .grid2, #blackouts, fieldset.plain') ?? field;
  const note = h('p', { class: 'ferr', id: 'ferr' }, h('span', { 'aria-hidden': 'true' }, ICON.error + ' '), localize(error.text));
  anchor.insertAdjacentElement('afterend', note);
  markInvalid(field, 'ferr');
}
