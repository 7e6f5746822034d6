// Building the page. Every value from the server goes in as text (text nodes, attributes),
// never as HTML: there is no innerHTML in the sidebar.

export type Child = Node | string | number | null | undefined | false | Child[];
export type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** Builds an element; string children become text nodes, so data is never parsed as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const kid of kids) add(el, kid);
  return el;
}

function add(el: Node, kid: Child): void {
  if (kid === null || kid === undefined || kid === false) return;
  if (Array.isArray(kid)) kid.forEach((k) => add(el, k));
  else el.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
}

/** The element with this id (the markup in sidebar.html has it). */
export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The sidebar has no #${id}`);
  return el;
}

/** The element with this id, checked to be of the expected kind (an input, a select…). */
export function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const el = $(id);
  if (!(el instanceof kind)) throw new Error(`#${id} is not a ${kind.name}`);
  return el;
}

export const input = (id: string) => byId(id, HTMLInputElement);
export const select = (id: string) => byId(id, HTMLSelectElement);
export const button = (id: string) => byId(id, HTMLButtonElement);
export const textarea = (id: string) => byId(id, HTMLTextAreaElement);
export const dialog = (id: string) => byId(id, HTMLDialogElement);
export const form = (id: string) => byId(id, HTMLFormElement);

/** Every element under `root` matching `selector`, as an array of the expected kind. */
export function all<T extends Element>(root: ParentNode, selector: string, kind: { new (): T; prototype: T }): T[] {
  return Array.from(root.querySelectorAll(selector)).filter((el): el is T => el instanceof kind);
}

/** The value of the checked radio button of a group, or null. */
export function checkedValue(name: string): string | null {
  const checked = document.querySelector(`input[name="${name}"]:checked`);
  return checked instanceof HTMLInputElement ? checked.value : null;
}

/** `value` when it is one of `options`, else `fallback`: a form value narrowed to the server's type. */
export function oneOf<T extends string>(value: string | null, options: readonly T[], fallback: T): T {
  return options.find((o) => o === value) ?? fallback;
}

/** Fills a <select> with [value, label] options, keeping its value when it is still offered. */
export function fillSelect(el: HTMLSelectElement, options: [string, string][]): void {
  const keep = el.value;
  el.replaceChildren(...options.map(([value, label]) => h('option', { value }, label)));
  if (options.some(([value]) => value === keep)) el.value = keep;
}
