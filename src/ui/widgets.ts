// Behaviour shared by the tabs: busy buttons, tab lists with roving focus, modal dialogs, lists shown a page at a time.
import { all, h } from './dom';

/** Disables a button while its call is outstanding. */
export function busy<T>(btn: HTMLButtonElement, work: () => Promise<T> | T): Promise<T> {
  const focused = document.activeElement === btn;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  return Promise.resolve()
    .then(work)
    .finally(() => {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
      // Disabling a focused button drops focus to the page; give it back so keyboard users keep their place.
      if (focused && btn.isConnected && (document.activeElement === document.body || !document.activeElement)) btn.focus();
    });
}

/** A tab list with roving focus (arrows, Home, End); returns the function that selects a tab. */
export function tablist(list: HTMLElement, onSelect: (tab: HTMLElement) => void): (tab: HTMLElement, focus?: boolean) => void {
  const tabs = () => all(list, '[role=tab]', HTMLElement);
  const select = (tab: HTMLElement, focus = false) => {
    for (const t of tabs()) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
    }
    if (focus) tab.focus();
    onSelect(tab);
  };
  list.addEventListener('click', (e) => {
    const tab = e.target instanceof Element ? e.target.closest('[role=tab]') : null;
    if (tab instanceof HTMLElement) select(tab);
  });
  list.addEventListener('keydown', (e) => {
    const every = tabs();
    const i = every.findIndex((t) => t === document.activeElement);
    const moves: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: every.length - 1 };
    const j = moves[e.key];
    if (i < 0 || j === undefined) return;
    e.preventDefault();
    select(every[(j + every.length) % every.length], true);
  });
  return select;
}

function focusables(root: HTMLElement): HTMLElement[] {
  return all(root, 'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])', HTMLElement).filter(
    (el) => !(el as HTMLButtonElement).disabled && el.offsetParent !== null,
  );
}

/** Who opened each dialog, to give focus back when it closes. */
const openers = new WeakMap<HTMLDialogElement, Element | null>();

export function openDialog(dlg: HTMLDialogElement, opener?: Element | null): void {
  openers.set(dlg, opener ?? document.activeElement);
  dlg.showModal();
  focusables(dlg)[0]?.focus();
}

/** Modal dialogs: focus trapped inside and returned to the opener, Escape and [data-close] close. */
export function setUpDialogs(): void {
  for (const dlg of all(document, 'dialog', HTMLDialogElement)) {
    dlg.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        dlg.close();
        return;
      }
      if (e.key !== 'Tab') return;
      const f = focusables(dlg);
      if (!f.length) return;
      const first = f[0];
      const last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    });
    dlg.addEventListener('close', () => {
      const opener = openers.get(dlg);
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    });
    dlg.addEventListener('click', (e) => {
      if (e.target instanceof Element && e.target.hasAttribute('data-close')) dlg.close();
    });
  }
}

/** The next page of a list shown a page at a time: its label and how to show it. */
export interface MorePage {
  label: string;
  show: () => void;
}

/**
 * Appends one page of a list, the rows shown so far kept: the list ends in a button that shows the next
 * page while there is one (the previous page's button goes).
 */
export function appendPage(list: HTMLUListElement, rows: HTMLElement[], more: MorePage | null): void {
  list.querySelector(':scope > li.more')?.remove();
  rows.forEach((row) => list.appendChild(row));
  if (more) list.appendChild(h('li', { class: 'more' }, h('button', { type: 'button', class: 'link', onclick: more.show }, more.label)));
}
