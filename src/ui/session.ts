// Reading the server's state and deciding what the sidebar shows: the tabs, or a first-open screen.
import { call } from './client';
import { $, all } from './dom';
import { say, sayError } from './notices';
import { renderSetup } from './setup';
import { State, emit, store } from './store';

export function loadState(): Promise<void> {
  return call('getState').then(applyState, (e) => sayError(null, e));
}

export function applyState(st: State): void {
  store.state = st;
  $('who').textContent = st.user ? 'Signed in as ' + st.user : 'Signed in';
  if (!st.canConfigure) {
    showFirstOpen(st);
    return;
  }
  $('setup').hidden = true;
  const first = !store.settings;
  store.settings = st.settings ?? st.defaults ?? null;
  if (st.settingsError) say(null, 'error', st.settingsError.text, st.settingsError.fix);
  if (first) {
    $('tabs').hidden = false;
    $('p-sync').hidden = false;
  }
  emit('state', first);
}

/** Not linked yet: the first-open screen. Linked, but not an admin of it: the message and nothing else. */
function showFirstOpen(st: State): void {
  $('tabs').hidden = true;
  for (const panel of all(document, 'main > section', HTMLElement)) panel.hidden = true;
  const refusal = st.message ?? { text: 'You do not have permission to change Roster Sync.', fix: '' };
  const denied = () => {
    $('setup').hidden = false;
    $('setupTitle').textContent = 'Roster Sync';
    say($('setupBody'), 'error', refusal.text, refusal.fix);
  };
  // getState says whether Roster Sync is linked; only the first-open screen needs getSetupStatus (can you read the directory?).
  if (st.linked === true) return denied();
  void call('getSetupStatus').then((setup) => (setup.linked ? denied() : renderSetup(setup, applyState)), denied);
}
