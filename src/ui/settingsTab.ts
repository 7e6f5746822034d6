// Settings: destination (sheet or SCIM app, with its token), schedule, blackouts, policy, sync account.
// A refused save names its field (error.field, a path such as schedule.timeZone); the form marks it.
import { defaultScimSettings, ScimAttributeMap, ScimSettings } from '../destinations/scim/scimSettings';
import { ServerError, SettingsDraft, call, errorOf } from './client';
import { $, all, button, checkedValue, fillSelect, form, h, input, oneOf, select, textarea } from './dom';
import { labelsOf, settingLabels, withFieldLabel } from './fieldLabels';
import { lines } from './format';
import { clearInvalid, fieldError, say, sayError } from './notices';
import { applyState, loadState } from './session';
import { currentSettings, currentState, on, store } from './store';
import { renderFacts } from './syncTab';
import { busy } from './widgets';
import { attributeControl, readAttributes, renderAttributes, setUpAttributes } from './attributesPart';

const ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu', 'America/Toronto', 'America/Vancouver', 'America/Mexico_City', 'America/Sao_Paulo', 'Europe/London', 'Europe/Dublin', 'Europe/Paris', 'Europe/Berlin', 'Europe/Madrid', 'Europe/Rome', 'Africa/Johannesburg', 'Asia/Dubai', 'Asia/Kolkata', 'Asia/Singapore', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland', 'UTC'];

/** The control of each settings path the server can name (list entries such as exclude[2] go to their list). */
const FIELDS: Record<string, string> = {
  'schedule.mode': 'sModeDaily', 'schedule.hour': 'sHour', 'schedule.timeZone': 'sTz', 'schedule.blackouts': 'addBlackout',
  graceDays: 'pGrace', 'threshold.kind': 'pThrKind', 'threshold.value': 'pThr', 'threshold.windowHours': 'pWindow', privilegedGrantLimit: 'pPrivLimit',
  exclude: 'pExclude', suspendedUsers: 'pSusp', archivedUsers: 'pArch',
  permissionNames: 'pPerms', admins: 'pAdmins', cooldownMinutes: 'pCooldown', notifyOnFailure: 'pNotify', incremental: 'sIncremental', reportEmail: 'pReport',
  destination: 'dSheet', scim: 'dBase', 'scim.baseUrl': 'dBase', 'scim.roleMapping': 'dMapRoles', 'scim.attributes': 'dUserName',
  'scim.attributes.userName': 'dUserName', 'scim.attributes.externalId': 'dExternalId', 'scim.attributes.name': 'dName',
  'scim.attributes.emails': 'dEmails', 'scim.attributes.active': 'dActive', 'scim.maxMembersPerPatch': 'dMax',
};

type Choices<T extends string> = { id: string; options: Record<T, string> };
/** Each SCIM attribute's select and its choices, keyed by the server's own values. */
const ATTRIBUTES: { [A in keyof ScimAttributeMap]: Choices<ScimAttributeMap[A]> } = {
  userName: { id: 'dUserName', options: { email: 'Primary email', emailLocalPart: 'Part before @', googleId: 'Google user id' } },
  externalId: { id: 'dExternalId', options: { googleId: 'Google user id', email: 'Email', none: 'Not sent' } },
  name: { id: 'dName', options: { full: 'Display name and full name', displayName: 'Display name only', none: 'Not sent' } },
  emails: { id: 'dEmails', options: { work: 'Primary email, as work', none: 'Not sent' } },
  active: { id: 'dActive', options: { active: 'Follows the account status', none: 'Not sent (no active flag)' } },
};
const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTES) as (keyof ScimAttributeMap)[];

const TOKEN_LABELS = labelsOf({ token: 'Bearer token' });

const MAP_HINT: Record<ScimSettings['roleMapping'], string> = {
  roles: 'Each user’s roles attribute lists their roles (roles: [{value: "teacher"}]); roles the app set itself are left alone.',
  groups: 'Users join and leave one SCIM Group per role; missing groups are created. An empty name uses the role’s own name.',
};

export function setUpSettings(): void {
  fillSelect(select('sHour'), Array.from({ length: 24 }, (_, i): [string, string] => [String(i), (i < 10 ? '0' : '') + i + ':00']));
  $('tzList').replaceChildren(...ZONES.map((z) => h('option', { value: z })));
  for (const name of ATTRIBUTE_NAMES) fillSelect(select(ATTRIBUTES[name].id), Object.entries(ATTRIBUTES[name].options));
  on('state', () => {
    renderSettings(false);
    renderSyncAccount();
  });
  button('addBlackout').addEventListener('click', () => {
    const today = new Date().toISOString().slice(0, 10);
    const row = blackoutRow({ start: today, end: today });
    $('blackouts').appendChild(row);
    store.dirty = true;
    row.querySelector('input')?.focus();
  });
  const settingsForm = form('settingsForm');
  // The token field is not part of the settings: typing in it does not make them "changed".
  const isTokenField = (e: Event) => e.target === input('dToken');
  settingsForm.addEventListener('input', (e) => {
    if (!isTokenField(e)) store.dirty = true;
  });
  settingsForm.addEventListener('change', (e) => {
    if (!isTokenField(e)) store.dirty = true;
    syncHourState();
    syncDestinationState();
  });
  settingsForm.addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
  button('resetSettings').addEventListener('click', () => {
    clearInvalid(settingsForm);
    renderSettings(true);
    $('settingsMsg').replaceChildren();
  });
  setUpToken();
  setUpNewRoster();
  setUpAttributes();
}

function blackoutRow(b: { start: string; end: string }): HTMLLIElement {
  const n = $('blackouts').children.length + 1;
  const li: HTMLLIElement = h('li', { class: 'blackout' },
    h('div', null, h('label', null, 'From', h('input', { type: 'date', class: 'bStart', value: b.start, 'aria-label': 'Blackout ' + n + ' first day' }))),
    h('div', null, h('label', null, 'To', h('input', { type: 'date', class: 'bEnd', value: b.end, 'aria-label': 'Blackout ' + n + ' last day' }))),
    h('button', { type: 'button', class: 'btn small', 'aria-label': 'Remove blackout ' + n, title: 'Remove', onclick: () => {
      li.remove();
      store.dirty = true;
    } }, '✕'));
  return li;
}

/** Shows the saved settings; unsaved changes are kept unless `force` (Discard changes). */
function renderSettings(force: boolean): void {
  renderToken();
  const s = currentSettings();
  // The exclude list also changes from Accounts (Delete and exclude): always show the saved one.
  if (store.dirty && !force) {
    textarea('pExclude').value = s.exclude.join('\n');
    return;
  }
  const sc = s.schedule;
  for (const r of all(document, '[name=mode]', HTMLInputElement)) r.checked = r.value === sc.mode;
  select('sHour').value = String(sc.hour);
  input('sTz').value = sc.timeZone;
  // One at a time: each row numbers itself from the rows before it.
  $('blackouts').replaceChildren();
  sc.blackouts.forEach((b) => $('blackouts').appendChild(blackoutRow(b)));
  input('pGrace').value = String(s.graceDays);
  input('pThr').value = String(s.threshold.value);
  select('pThrKind').value = s.threshold.kind;
  input('pWindow').value = String(s.threshold.windowHours);
  input('pPrivLimit').value = String(s.privilegedGrantLimit);
  $('pPrivRoles').textContent = s.privilegedRoles.join(', ') || 'none';
  textarea('pExclude').value = s.exclude.join('\n');
  select('pSusp').value = s.suspendedUsers;
  select('pArch').value = s.archivedUsers;
  textarea('pPerms').value = s.permissionNames.join('\n');
  textarea('pAdmins').value = s.admins.join('\n');
  input('pCooldown').value = String(s.cooldownMinutes);
  input('pNotify').checked = s.notifyOnFailure;
  input('sIncremental').checked = s.incremental;
  renderAttributes();
  input('pReport').checked = s.reportEmail;
  renderDestination();
  syncHourState();
  store.dirty = false;
  store.formRevision = s.revision;
}

function renderDestination(): void {
  const s = currentSettings();
  const sc = s.scim ?? defaultScimSettings();
  const attrs = { ...defaultScimSettings().attributes, ...sc.attributes };
  for (const r of all(document, '[name=destination]', HTMLInputElement)) r.checked = r.value === (s.destination || 'sheet');
  input('dBase').value = sc.baseUrl || '';
  for (const r of all(document, '[name=roleMapping]', HTMLInputElement)) r.checked = r.value === sc.roleMapping;
  for (const name of ATTRIBUTE_NAMES) select(ATTRIBUTES[name].id).value = attrs[name];
  input('dMax').value = String(sc.maxMembersPerPatch);
  input('dToken').value = '';
  renderRoleGroups(sc.roleGroups || {});
  syncDestinationState();
}

/** One group-name field per role (groups mapping). */
function renderRoleGroups(names: Record<string, string>): void {
  const fields = currentSettings().roles.map((role) => {
    const id = 'dGroup-' + role;
    return h('div', null, h('label', { for: id }, 'Group for ' + role),
      h('input', { type: 'text', id, class: 'roleGroup', 'data-role': role, maxlength: 200, autocomplete: 'off', spellcheck: 'false', placeholder: role, value: names[role] || '' }));
  });
  $('roleGroups').replaceChildren(...fields, h('p', { class: 'hint' }, 'Group names as the app shows them (displayName).'));
}

function roleMapping(): ScimSettings['roleMapping'] | null {
  const value = checkedValue('roleMapping');
  return value === null ? null : oneOf(value, ['roles', 'groups'] as const, 'roles');
}

function syncDestinationState(): void {
  const mapping = roleMapping();
  $('scimPart').hidden = !input('dScim').checked;
  $('sheetPart').hidden = input('dScim').checked;
  $('roleGroups').hidden = mapping !== 'groups';
  $('hMap').textContent = MAP_HINT[mapping ?? 'roles'];
}

function syncHourState(): void {
  select('sHour').disabled = !input('sModeDaily').checked;
}

/** An empty number field is sent as null: the server names it. */
function num(id: string): number | null {
  const v = input(id).value.trim();
  return v === '' ? null : Number(v);
}

function readScim(): NonNullable<SettingsDraft['scim']> {
  const groups: Record<string, string> = {};
  for (const field of all($('roleGroups'), '.roleGroup', HTMLInputElement)) if (field.value.trim()) groups[field.dataset.role ?? ''] = field.value.trim();
  const attribute = <A extends keyof ScimAttributeMap>(name: A): ScimAttributeMap[A] => {
    const choices = ATTRIBUTES[name].options;
    const keys = Object.keys(choices) as ScimAttributeMap[A][];
    return oneOf(select(ATTRIBUTES[name].id).value, keys, keys[0]);
  };
  const attributes: ScimAttributeMap = { userName: attribute('userName'), externalId: attribute('externalId'), name: attribute('name'), emails: attribute('emails'), active: attribute('active') };
  return { baseUrl: input('dBase').value.trim(), roleMapping: roleMapping() ?? 'roles', roleGroups: groups, attributes, maxMembersPerPatch: num('dMax') };
}

function readSettings(): SettingsDraft {
  const saved = currentSettings();
  const scim = input('dScim').checked;
  const blackouts = Array.from($('blackouts').children).map((li) => ({
    start: li.querySelector<HTMLInputElement>('.bStart')?.value ?? '',
    end: li.querySelector<HTMLInputElement>('.bEnd')?.value ?? '',
  }));
  return {
    ...saved,
    // The revision the form was filled from: a save based on older settings is refused, never merged silently.
    revision: store.formRevision ?? saved.revision,
    schedule: { mode: oneOf(checkedValue('mode'), ['daily', 'hourly', 'off'] as const, 'off'), hour: Number(select('sHour').value), timeZone: input('sTz').value.trim(), blackouts },
    graceDays: num('pGrace'),
    threshold: { kind: oneOf(select('pThrKind').value, ['percent', 'count'] as const, 'percent'), value: num('pThr'), windowHours: num('pWindow') },
    privilegedGrantLimit: num('pPrivLimit'),
    exclude: lines(textarea('pExclude').value),
    suspendedUsers: oneOf(select('pSusp').value, ['suspend', 'deprovision'] as const, 'suspend'),
    archivedUsers: oneOf(select('pArch').value, ['suspend', 'deprovision'] as const, 'suspend'),
    permissionNames: lines(textarea('pPerms').value),
    admins: lines(textarea('pAdmins').value),
    cooldownMinutes: num('pCooldown'),
    notifyOnFailure: input('pNotify').checked,
    incremental: input('sIncremental').checked,
    reportEmail: input('pReport').checked,
    // With the sheet chosen, the (hidden) SCIM fields are not sent: the saved SCIM settings are kept as they were.
    destination: scim ? 'scim' : 'sheet',
    scim: scim ? readScim() : saved.scim || null,
    ...readAttributes(),
  };
}

/** The control for a settings path the server named, e.g. schedule.blackouts[1].end or scim.roleGroups.teacher. */
function controlOf(field: string | undefined): HTMLElement | null {
  if (!field) return null;
  const attribute = attributeControl(field);
  if (attribute) return attribute;
  const blackout = /^schedule\.blackouts\[(\d+)\](?:\.(start|end))?/.exec(field);
  if (blackout) {
    const row = $('blackouts').children[Number(blackout[1])];
    if (row) return row.querySelector<HTMLElement>(blackout[2] === 'end' ? '.bEnd' : '.bStart');
  }
  const group = /^scim\.roleGroups(?:\.([a-z][a-z0-9_-]*))?/.exec(field);
  if (group) return (group[1] && document.getElementById('dGroup-' + group[1])) || document.querySelector<HTMLElement>('#roleGroups .roleGroup');
  const key = field.replace(/\[\d+\].*$/, '');
  return Object.prototype.hasOwnProperty.call(FIELDS, key) ? $(FIELDS[key]) : null;
}

/** Saves the form; a save that lowers the protection against mass changes is sent again only once the admin confirms it. */
function save(confirmLowerProtection = false): void {
  const box = $('settingsMsg');
  clearInvalid(form('settingsForm'));
  const draft: SettingsDraft = { ...readSettings(), ...(confirmLowerProtection ? { confirmLowerProtection: true } : {}) };
  void busy(button('saveSettings'), () =>
    call('saveSettings', draft).then((st) => {
      store.dirty = false;
      applyState(st);
      say(box, 'ok', 'Settings saved.' + (st.trigger?.installed ? ' The schedule trigger is installed.' : ''), '');
    }, (err) => {
      const error = withFieldLabel(errorOf(err), settingLabels(draft));
      if (error.id === 'protectionLowered') {
        say(box, 'warn', error.text, error.fix, h('button', { type: 'button', class: 'btn small danger', onclick: () => save(true) }, 'Confirm and save'));
        return;
      }
      sayError(box, error);
      // Saved by someone else meanwhile: show what is saved now, so the change is made again on top of it.
      if (error.id === 'settingsStale') {
        store.dirty = false;
        void loadState();
        return;
      }
      markField(error);
    }),
  );
}

/** Settings → Destination → Start a new roster: asked twice, since the next sync then recreates every account. */
function setUpNewRoster(): void {
  const box = $('newRosterMsg');
  button('newRoster').addEventListener('click', () => {
    const yes: HTMLButtonElement = h('button', { type: 'button', class: 'btn small danger', onclick: () => {
      void busy(yes, () =>
        call('startNewRoster', { confirm: true }).then((st) => {
          applyState(st);
          say(box, 'ok', 'A new roster was started: the next sync fills it.', '');
        }, (e) => sayError(box, errorOf(e))),
      );
    } }, 'Yes, start a new roster');
    say(box, 'warn', 'The next sync creates every account again; the old roster’s disabled, deleted and manual accounts are not carried over.', '', yes);
  });
}

/** Marks the field a refused save is about, with its message right below it. */
function markField(error: ServerError): void {
  const control = controlOf(error.field);
  if (!control) return;
  if (control.closest('#roleGroups')) $('roleGroups').hidden = false;
  fieldError(control, error);
}

/** Settings → Schedule: the sync account, and "Change sync account?" for an admin who is not it. */
function renderSyncAccount(): void {
  const st = currentState();
  const box = $('acctChange');
  if (!st.syncAccount || st.syncAccount === st.user) return box.replaceChildren();
  const out = h('div', { 'aria-live': 'polite' });
  const go = h('button', { type: 'button', class: 'btn small primary' }, 'Use my account for syncing');
  const confirm = h('div', { id: 'acctConfirm', hidden: true },
    h('p', { class: 'small' }, 'Scheduled syncs run as ' + st.syncAccount + '. To run them as you (' + st.user + '), your account must be able to read the directory; the old account’s trigger retires itself.'),
    go, out);
  const toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': 'acctConfirm' }, 'Change sync account?');
  toggle.addEventListener('click', () => {
    const open = confirm.hidden;
    confirm.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  });
  go.addEventListener('click', () => {
    void busy(go, () =>
      call('useMyAccountForSync', { confirmChange: true }).then((next) => {
        applyState(next);
        say($('settingsMsg'), 'ok', 'Scheduled syncs now run as ' + next.syncAccount + '.', '');
      }, (e) => sayError(out, e)),
    );
  });
  box.replaceChildren(toggle, confirm);
}

// ---------- SCIM token: sent once to the server, then gone from the page ----------

/** The token is never sent to the page: only whether one is saved, masked. */
function renderToken(): void {
  const st = currentState();
  const t = st.secrets?.scim ?? { saved: false, masked: '' };
  const owner = st.syncAccount;
  $('tokenStatus').textContent = t.saved ? 'Token saved: ' + t.masked : 'No token saved.';
  $('clearToken').hidden = !t.saved;
  $('dTokenLabel').textContent = t.saved ? 'Replace it with a new token' : 'Paste the app’s token';
  $('hToken').textContent =
    'Only the sync account' + (owner ? ' (' + owner + ')' : '') + ' can save it: scheduled syncs read it from that account’s private storage. Saved at once, on its own; never shown again.' +
    (owner && owner !== st.user ? ' You are signed in as ' + st.user + ', so yours would be refused.' : '');
  // A base URL changed since the token was saved: no sync sends the token until it is pasted again.
  const elsewhere = destinationProblem('scimTokenOtherUrl');
  if (elsewhere) say($('tokenProblem'), 'error', elsewhere.text, elsewhere.fix);
  else $('tokenProblem').replaceChildren();
  renderLedger();
}

function destinationProblem(id: string): { id: string; text: string; fix: string } | null {
  return (currentState().destinationProblems ?? []).find((p) => p.id === id) ?? null;
}

/** The links to the app's users were lost with the hidden state sheet: rebuilding them is a deliberate choice. */
function renderLedger(): void {
  const box = $('ledgerProblem');
  const lost = destinationProblem('scimLedgerLost');
  if (!lost) return box.replaceChildren();
  const rebuild = h('button', { type: 'button', class: 'btn small', id: 'rebuildLedger' }, 'Rebuild from the app');
  rebuild.addEventListener('click', () => {
    void busy(rebuild, () =>
      call('rebuildScimLedger').then((r) => {
        const st = currentState();
        st.destinationProblems = (st.destinationProblems ?? []).filter((p) => p.id !== 'scimLedgerLost');
        if (r.message) say(box, 'ok', r.message.text, r.message.fix);
        else box.replaceChildren();
      }, (e) => sayError(box, e)),
    );
  });
  say(box, 'error', lost.text, lost.fix, rebuild);
}

/** Whether the token now matches the saved base URL is the server's to say. */
function refreshProblems(): void {
  void call('getState').then((st) => {
    currentState().destinationProblems = st.destinationProblems;
    renderToken();
    renderFacts();
  });
}

function setUpToken(): void {
  button('saveToken').addEventListener('click', saveToken);
  input('dToken').addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    saveToken();
  });
  const clear = button('clearToken');
  clear.addEventListener('click', () => {
    const box = $('tokenMsg');
    void busy(clear, () =>
      call('clearScimToken').then((view) => {
        currentState().secrets = { ...currentState().secrets, scim: view };
        renderToken();
        renderFacts();
        say(box, 'ok', 'Token removed. Syncs to the app fail until a new one is saved.', '');
        input('dToken').focus();
      }, (e) => sayError(box, e)),
    );
  });
}

function saveToken(): void {
  const field = input('dToken');
  const box = $('tokenMsg');
  const token = field.value;
  field.value = '';
  field.removeAttribute('aria-invalid');
  if (!token.trim()) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
    return say(box, 'error', 'Paste the token first.', 'Copy it from the app’s SCIM or provisioning settings.');
  }
  // The request holds the token; the page keeps no copy of it. It is bound to the base URL in the form: the server sends it there only.
  const baseUrl = input('dBase').value.trim();
  void busy(button('saveToken'), () =>
    call('saveScimToken', { token, baseUrl }).then((view) => {
      currentState().secrets = { ...currentState().secrets, scim: view };
      renderToken();
      renderFacts();
      refreshProblems();
      say(box, 'ok', 'Token saved. Roster Sync will not show it again.', '');
    }, (e) => sayError(box, withFieldLabel(errorOf(e), TOKEN_LABELS))),
  );
}
