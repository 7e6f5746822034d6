// Mappings: the rules (OU or group → role), an OU tree loaded a level at a time, a group search,
// and how many users each rule matches now.
import type { DirectoryGroup } from '../core/model';
import type { OrgUnitView } from '../core/api';
import type { Rule } from '../core/settings';
import { call, errorOf } from './client';
import { settingLabels, withFieldLabel } from './fieldLabels';
import { $, all, button, fillSelect, form, h, input, select } from './dom';
import { plural } from './format';
import { say, sayError } from './notices';
import { preview } from './preview';
import { applyState, loadState } from './session';
import { currentSettings, on, store } from './store';
import { busy } from './widgets';
import { groupAbout, setUpGroupSearch } from './groupSearch';

/** The rule form: the rule being edited (null: adding one), and what is chosen. */
const draft = { editing: null as string | null, type: 'ou' as Rule['type'], ou: '', group: '', seq: 0 };
/** Child OUs already loaded, by parent path. */
const children = new Map<string, OrgUnitView[]>();

export function impliedText(role: string): string {
  const also = currentSettings().impliedRoles[role] ?? [];
  return also.length ? role + ' also grants ' + also.join(', ') + '.' : '';
}

/** A role as a role select offers it: "admin (also teacher)". */
export function roleLabel(role: string): string {
  return role + (impliedText(role) ? ' (also ' + currentSettings().impliedRoles[role].join(', ') + ')' : '');
}

export function describeRule(rule: Rule): string {
  return rule.type === 'ou' ? 'OU ' + rule.orgUnitPath + (rule.includeSubOrgUnits ? ' and sub-OUs' : ' only') : 'Group ' + rule.groupEmail;
}

export function setUpMappings(): void {
  on('state', () => {
    renderRules();
    renderRoleChoice();
  });
  on('matches', renderRules);
  const countBtn = button('countBtn');
  countBtn.addEventListener('click', () => void preview(countBtn, $('ruleMsg')));
  button('ruleCancel').addEventListener('click', () => {
    resetRuleForm();
    $('ruleFormMsg').replaceChildren();
  });
  for (const radio of all(document, '[name=ruleType]', HTMLInputElement)) radio.addEventListener('change', () => setRuleType(radio.value === 'group' ? 'group' : 'ou'));
  select('ruleRole').addEventListener('change', roleHint);
  form('ruleForm').addEventListener('submit', (e) => {
    e.preventDefault();
    submitRule();
  });
  setUpOuSearch();
  setUpGroupSearch(input('groupQuery'), $('groupList'), groupItem, () => $('ruleFormMsg'));
}

/** First opening of the tab: the top of the OU tree. */
export function openMappings(): void {
  if (store.loaded.tree) return;
  store.loaded.tree = true;
  void loadOuChildren('/', $('ouTree'));
}

function roleHint(): void {
  $('ruleRoleHint').textContent = impliedText(select('ruleRole').value);
}

function renderRoleChoice(): void {
  const roles = currentSettings().roles;
  fillSelect(select('ruleRole'), roles.map((r): [string, string] => [r, roleLabel(r)]));
  roleHint();
  $('impliedNote').textContent = roles.map(impliedText).filter(Boolean).join(' ');
}

function renderRules(): void {
  const list = $('ruleList');
  const rules = currentSettings().rules;
  if (!rules.length) return list.replaceChildren(h('li', { class: 'muted' }, 'No rules yet: nothing is synced until you add one below.'));
  list.replaceChildren(...rules.map(ruleCard));
}

function ruleCard(rule: Rule): HTMLLIElement {
  const n = store.matches?.[rule.id];
  const implied = impliedText(rule.role);
  const remove = h('button', { type: 'button', class: 'btn small', 'aria-label': 'Remove rule ' + describeRule(rule) }, 'Remove');
  remove.addEventListener('click', () => removeRule(rule, remove));
  return h('li', { class: 'card rule', 'data-rule': rule.id },
    h('div', null,
      h('div', { class: 'name' }, describeRule(rule)),
      h('div', { class: 'small' }, '→ ' + rule.role + (implied ? ' (' + implied.replace(/\.$/, '') + ')' : '')),
      h('div', { class: 'small match' }, n === undefined || n === null ? 'Matches: not counted yet' : 'Matches ' + plural(n, 'user') + ' now')),
    h('div', { class: 'btns' },
      h('button', { type: 'button', class: 'btn small', 'aria-label': 'Edit rule ' + describeRule(rule), onclick: () => editRule(rule) }, 'Edit'),
      remove));
}

function saveRules(rules: Rule[], box: HTMLElement, okText: string): Promise<boolean> {
  const next = { ...currentSettings(), rules };
  return call('saveSettings', next).then(
    (st) => {
      applyState(st);
      say(box, 'ok', okText, '');
      return true;
    },
    (e) => {
      const error = errorOf(e);
      sayError(box, withFieldLabel(error, settingLabels(next)));
      // Saved by someone else meanwhile: show the saved rules, so the change is made again on top of them.
      if (error.id === 'settingsStale') void loadState();
      return false;
    },
  );
}

function removeRule(rule: Rule, btn: HTMLButtonElement): void {
  const rules = currentSettings().rules.filter((r) => r.id !== rule.id);
  void busy(btn, () => saveRules(rules, $('ruleMsg'), 'Removed the rule ' + describeRule(rule) + '. Preview before the next sync to see its effect.'));
}

function editRule(rule: Rule): void {
  draft.editing = rule.id;
  setRuleType(rule.type);
  select('ruleRole').value = rule.role;
  roleHint();
  if (rule.type === 'ou') {
    chooseOu(rule.orgUnitPath);
    input('ruleSub').checked = rule.includeSubOrgUnits;
  } else chooseGroup(rule.groupEmail);
  $('ruleFormTitle').textContent = 'Edit rule';
  $('ruleSave').textContent = 'Save rule';
  $('ruleCancel').hidden = false;
  $('ruleFormMsg').replaceChildren();
  $('ruleFormTitle').scrollIntoView({ block: 'start' });
  select('ruleRole').focus();
}

function resetRuleForm(): void {
  draft.editing = null;
  chooseOu('');
  chooseGroup('');
  input('ruleSub').checked = true;
  $('ruleFormTitle').textContent = 'Add a rule';
  $('ruleSave').textContent = 'Add rule';
  $('ruleCancel').hidden = true;
}

function setRuleType(type: Rule['type']): void {
  draft.type = type;
  for (const radio of all(document, '[name=ruleType]', HTMLInputElement)) radio.checked = radio.value === type;
  $('ouPart').hidden = type !== 'ou';
  $('groupPart').hidden = type !== 'group';
}

function submitRule(): void {
  const box = $('ruleFormMsg');
  const role = select('ruleRole').value;
  const id = draft.editing || newId();
  let rule: Rule;
  if (draft.type === 'ou') {
    if (!draft.ou) return say(box, 'error', 'Choose an organizational unit first.', 'Browse the tree or search, then pick an OU.');
    rule = { id, type: 'ou', orgUnitPath: draft.ou, includeSubOrgUnits: input('ruleSub').checked, role };
  } else {
    if (!draft.group) return say(box, 'error', 'Choose a group first.', 'Search for the group by the start of its email, then pick it.');
    rule = { id, type: 'group', groupEmail: draft.group, role };
  }
  const editing = draft.editing;
  const current = currentSettings().rules;
  const rules = editing ? current.map((r) => (r.id === editing ? rule : r)) : [...current, rule];
  const okText = (editing ? 'Saved the rule ' : 'Added the rule ') + describeRule(rule) + ' → ' + role + '. Use Count matches or Preview to see who it matches.';
  void busy(button('ruleSave'), () =>
    saveRules(rules, box, okText).then((ok) => {
      if (!ok) return;
      if (store.matches) delete store.matches[rule.id];
      resetRuleForm();
      renderRules();
    }),
  );
}

let lastId = 0;
/** A rule id unique even for two rules added in the same millisecond. */
function newId(): string {
  const t = Math.max(Date.now(), lastId + 1);
  lastId = t;
  return 'r' + t.toString(36);
}

// ---------- OU tree: children are loaded when a node is first expanded ----------

function loadOuChildren(parent: string, container: HTMLElement): Promise<void> {
  const known = children.get(parent);
  if (known) return Promise.resolve(renderOuList(known, container));
  container.replaceChildren(h('p', { class: 'small' }, 'Loading…'));
  return call('listOrgUnits', { parent }).then(
    (r) => {
      children.set(parent, r.units);
      renderOuList(r.units, container);
    },
    (e) => {
      container.replaceChildren();
      sayError($('ruleFormMsg'), e);
    },
  );
}

/** Numbers in names compare as numbers: Grade 9 before Grade 10. */
const natural = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
const byNaturalName = (a: OrgUnitView, b: OrgUnitView) => natural.compare(a.name, b.name) || natural.compare(a.path, b.path);
const byNaturalPath = (a: OrgUnitView, b: OrgUnitView) => natural.compare(a.path, b.path);

function renderOuList(units: OrgUnitView[], container: HTMLElement): void {
  const top = container.id === 'ouTree';
  const ul = h('ul');
  if (top) ul.appendChild(ouNode({ path: '/', name: 'Everyone (/)', hasChildren: false }));
  [...units].sort(byNaturalName).forEach((u) => ul.appendChild(ouNode(u)));
  if (!units.length && !top) ul.appendChild(h('li', { class: 'small' }, 'No sub-OUs.'));
  container.replaceChildren(ul);
}

function ouNode(unit: OrgUnitView): HTMLLIElement {
  const expandable = unit.hasChildren;
  const kids = h('div', { hidden: true });
  const twisty = h('button', {
    type: 'button', class: 'twisty' + (expandable ? '' : ' leaf'), 'aria-expanded': expandable ? 'false' : null,
    'aria-label': 'Show sub-OUs of ' + unit.path, tabindex: expandable ? null : -1, 'aria-hidden': expandable ? null : 'true',
  }, '▸');
  if (expandable) {
    twisty.addEventListener('click', () => {
      const open = twisty.getAttribute('aria-expanded') !== 'true';
      twisty.setAttribute('aria-expanded', String(open));
      twisty.textContent = open ? '▾' : '▸';
      kids.hidden = !open;
      if (open && !kids.firstChild) void loadOuChildren(unit.path, kids);
    });
  }
  const pick = h('button', { type: 'button', class: 'pick', 'data-path': unit.path, 'aria-pressed': String(unit.path === draft.ou), title: unit.path, onclick: () => chooseOu(unit.path) }, unit.name);
  return h('li', null, h('div', { class: 'node' }, twisty, pick), kids);
}

function chooseOu(path: string): void {
  draft.ou = path;
  for (const b of all(document, '#ouPart [data-path]', HTMLElement)) b.setAttribute('aria-pressed', String(b.dataset.path === path));
  $('ouChosen').textContent = path ? 'Chosen OU: ' + path : 'No OU chosen.';
}

function setUpOuSearch(): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const query = input('ouQuery');
  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = query.value.trim();
      const seq = ++draft.seq;
      const tree = $('ouTree');
      if (!q) return void loadOuChildren('/', tree);
      call('listOrgUnits', { query: q }).then((r) => {
        if (seq !== draft.seq) return;
        tree.replaceChildren(r.units.length
          ? h('ul', null, [...r.units].sort(byNaturalPath).map((u) => h('li', null, h('button', { type: 'button', class: 'pick', 'data-path': u.path, 'aria-pressed': String(u.path === draft.ou), onclick: () => chooseOu(u.path) }, u.path))))
          : h('p', { class: 'small' }, 'No OU path contains “' + q + '”.'));
      }, (e) => sayError($('ruleFormMsg'), e));
    }, 300);
  });
}

// ---------- group search ----------

function groupItem(g: DirectoryGroup): HTMLLIElement {
  return h('li', null, h('button', { type: 'button', class: 'pick', 'data-group': g.email, 'aria-pressed': String(g.email === draft.group), onclick: () => chooseGroup(g.email) },
    g.email, h('br'), h('span', { class: 'small' }, groupAbout(g))));
}

function chooseGroup(email: string): void {
  draft.group = email;
  for (const b of all(document, '#groupList [data-group]', HTMLElement)) b.setAttribute('aria-pressed', String(b.dataset.group === email));
  $('groupChosen').textContent = email ? 'Chosen group: ' + email : 'No group chosen.';
}
