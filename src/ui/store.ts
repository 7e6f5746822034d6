// The sidebar's shared state: the server's last getState answer and what the tabs need to agree on.
// Tabs do not call each other to re-render; they listen here.
import type { Settings } from '../core/settings';
import type { Data } from './client';

export type State = Data<'getState'>;

interface Store {
  state: State | null;
  /** The saved settings (or the defaults before the first save). */
  settings: Settings | null;
  /** Users each rule matched in the last preview, by rule id. */
  matches: Record<string, number> | null;
  /** A Sync now is running from this sidebar. */
  syncing: boolean;
  /** The settings form has changes not saved yet. */
  dirty: boolean;
  /** Tabs whose data is loaded on first open. */
  loaded: { accounts: boolean; tree: boolean };
}

export const store: Store = { state: null, settings: null, matches: null, syncing: false, dirty: false, loaded: { accounts: false, tree: false } };

/** The last state read; only called once the tabs are shown, which needs one. */
export function currentState(): State {
  if (!store.state) throw new Error('The sidebar has no state yet');
  return store.state;
}

export function currentSettings(): Settings {
  if (!store.settings) throw new Error('The sidebar has no settings yet');
  return store.settings;
}

/** What the tabs listen for, and what each event carries. */
interface Events {
  /** A new state (getState, or a call that answers with it); true when the tabs were just shown. */
  state: boolean;
  /** Accounts may have changed (a sync, a single-user sync). */
  roster: undefined;
  /** A preview counted the users each rule matches (store.matches). */
  matches: undefined;
}
type EventName = keyof Events;

const listeners: { [E in EventName]: ((detail: Events[E]) => void)[] } = { state: [], roster: [], matches: [] };

export function on<E extends EventName>(event: E, listener: (detail: Events[E]) => void): void {
  listeners[event].push(listener);
}

export function emit<E extends EventName>(event: E, ...detail: Events[E] extends undefined ? [] : [Events[E]]): void {
  for (const listener of listeners[event]) listener(detail[0] as Events[E]);
}
