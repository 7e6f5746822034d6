// Settings → Attributes and app groups: the mapping table (one row per attribute: name, source,
// OU pattern and part, transform, SCIM attribute) and the Google Groups pushed to the app.
// The server validates every row (core/attributes.ts) and names the field of a refused one.
import type { AttributeMapping, Transform } from '../core/attributes';
import type { DirectoryGroup } from '../core/model';
import { call, errorOf } from './client';
import { $, all, button, h, input, oneOf, textarea } from './dom';
import { lines } from './format';
import { say, sayError } from './notices';
import { currentSettings, store } from './store';
import { groupAbout, setUpGroupSearch } from './groupSearch';

const SOURCES = [
  'externalIds.organization', 'organizations.title', 'organizations.department', 'organizations.costCenter', 'relations.manager',
  'phones.work', 'locations.buildingId', 'name.givenName', 'name.familyName', 'primaryEmail', 'orgUnitPath', 'constant', 'customSchemas.',
];
const SCIM_TARGETS = [
  'title', 'userType', 'nickName', 'locale', 'preferredLanguage',
  ...['employeeNumber', 'department', 'organization', 'division', 'costCenter', 'manager'].map((a) => 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:' + a),
];
const TRANSFORMS: [Transform | '', string][] = [['', 'As is'], ['lower', 'lower case'], ['upper', 'UPPER CASE'], ['localPart', 'Part before @'], ['gradeFromYear', 'Grade from graduation year']];
const TRANSFORM_VALUES = TRANSFORMS.map(([v]) => v);

export function setUpAttributes(): void {
  $('attrSources').replaceChildren(...SOURCES.map((s) => h('option', { value: s })));
  $('attrScim').replaceChildren(...SCIM_TARGETS.map((s) => h('option', { value: s })));
  button('addAttribute').addEventListener('click', () => {
    const row = attributeRow({ name: '', source: '' }, $('attributeRows').children.length + 1);
    $('attributeRows').appendChild(row);
    store.dirty = true;
    row.querySelector('input')?.focus();
  });
  button('checkAppGroups').addEventListener('click', () => void deselected(false));
  setUpGroupSearch(input('appGroupQuery'), $('appGroupList'), appGroupItem, () => $('appGroupsMsg'));
}

/** A group found by the search: choosing it adds its email to the app groups. */
function appGroupItem(g: DirectoryGroup): HTMLLIElement {
  return h('li', null, h('button', { type: 'button', class: 'pick', 'aria-label': 'Add ' + g.email, onclick: () => addAppGroup(g.email) }, g.email, h('br'), h('span', { class: 'small' }, groupAbout(g))));
}

function addAppGroup(email: string): void {
  const list = textarea('pAppGroups');
  const emails = lines(list.value);
  if (!emails.includes(email)) list.value = [...emails, email].join('\n');
  store.dirty = true;
  say($('appGroupsMsg'), 'info', 'Added ' + email + '; save the settings to push it to the app.', '');
}

/** Shows the saved mapping table and app groups. */
export function renderAttributes(): void {
  const s = currentSettings();
  $('attributeRows').replaceChildren(...(s.attributes ?? []).map((a, i) => attributeRow(a, i + 1)));
  textarea('pAppGroups').value = (s.appGroups ?? []).join('\n');
}

/** The table and the app groups as the form holds them (the server checks them on save). */
export function readAttributes(): { attributes: AttributeMapping[]; appGroups: string[] } {
  const attributes = all($('attributeRows'), 'tr', HTMLTableRowElement).map((tr): AttributeMapping => {
    const value = (cls: string) => tr.querySelector<HTMLInputElement | HTMLSelectElement>('.' + cls)?.value.trim() ?? '';
    const row: AttributeMapping = { name: value('aName'), source: value('aSource') };
    if (value('aPattern')) row.pattern = value('aPattern');
    // One box holds a pattern's part, or a constant's value: the source says which.
    if (row.source === 'constant') row.value = value('aPart');
    else if (value('aPart')) row.part = value('aPart');
    const transform = oneOf(value('aTransform'), TRANSFORM_VALUES, '');
    if (transform) row.transform = transform;
    if (value('aScim')) row.scim = value('aScim');
    return row;
  });
  return { attributes, appGroups: lines(textarea('pAppGroups').value) };
}

/** The control of a field the server named: attributes[2].pattern → that row's pattern box. */
export function attributeControl(field: string): HTMLElement | null {
  if (/^appGroups/.test(field)) return textarea('pAppGroups');
  const m = /^attributes(?:\[(\d+)\](?:\.(\w+))?)?/.exec(field);
  if (!m) return null;
  const row = m[1] === undefined ? null : $('attributeRows').children[Number(m[1])];
  if (!row) return button('addAttribute');
  const cls = { name: 'aName', source: 'aSource', pattern: 'aPattern', part: 'aPart', value: 'aPart', transform: 'aTransform', scim: 'aScim' }[m[2] ?? 'name'] ?? 'aName';
  return row.querySelector<HTMLElement>('.' + cls) ?? row.querySelector<HTMLElement>('input');
}

/** Row `n` (from 1) of the table: its controls are labelled "Attribute n …". */
function attributeRow(a: AttributeMapping, n: number): HTMLTableRowElement {
  const text = (cls: string, value: string | undefined, label: string, extra: Record<string, string> = {}) =>
    h('td', null, h('input', { type: 'text', class: cls, value: value ?? '', 'aria-label': 'Attribute ' + n + ' ' + label, spellcheck: 'false', autocomplete: 'off', ...extra }));
  const transform = h('select', { class: 'aTransform', 'aria-label': 'Attribute ' + n + ' transform' }, ...TRANSFORMS.map(([v, label]) => h('option', { value: v }, label)));
  transform.value = a.transform ?? '';
  const tr: HTMLTableRowElement = h('tr', null,
    text('aName', a.name, 'name', { placeholder: 'Grade' }),
    text('aSource', a.source, 'source', { list: 'attrSources', placeholder: 'orgUnitPath' }),
    text('aPattern', a.pattern, 'OU pattern', { placeholder: '/Students/{school}/Grade {grade}' }),
    text('aPart', a.part ?? a.value, 'part (or constant value)', { placeholder: 'grade' }),
    h('td', null, transform),
    text('aScim', a.scim, 'SCIM attribute', { list: 'attrScim', placeholder: 'not sent' }),
    h('td', null, h('button', { type: 'button', class: 'btn small', 'aria-label': 'Remove attribute ' + n, title: 'Remove', onclick: () => {
      tr.remove();
      store.dirty = true;
    } }, '✕')));
  return tr;
}

/** Lists the app groups no longer selected, and removes them from the app when the admin confirms. */
async function deselected(remove: boolean): Promise<void> {
  const box = $('appGroupsMsg');
  try {
    const { groups } = await call('removeDeselectedAppGroups', { remove });
    if (!groups.length) return say(box, 'ok', 'No app group is waiting for removal.', '');
    const names = groups.map((g) => '“' + g.name + '”').join(', ');
    if (remove) {
      const failed = groups.filter((g) => !g.removed);
      return failed.length ? say(box, 'error', failed[0].problem, '') : say(box, 'ok', 'Removed from the app: ' + names + '.', '');
    }
    say(box, 'warn', 'No longer selected, still in the app: ' + names + '.', '');
    box.appendChild(h('button', { type: 'button', class: 'btn small', onclick: () => void deselected(true) }, 'Remove them from the app'));
  } catch (e) {
    sayError(box, errorOf(e));
  }
}
