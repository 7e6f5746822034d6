// Fake Ui of an editor (Sheets): menus, the sidebar, dialogs, alerts and
// prompts are recorded on UiState for tests and the demo to inspect.
import { Exec } from './exec';
import { htmlData } from './html';

export const SIDEBAR_WIDTH = 300;

export type MenuEntry = { caption: string; functionName: string } | { separator: true } | { submenu: MenuRecord };

export interface MenuRecord {
  name: string;
  addon: boolean;
  items: MenuEntry[];
}

export interface ShownHtml {
  kind: 'sidebar' | 'modal' | 'modeless';
  title: string;
  content: string;
  width: number | null;
  height: number | null;
  execId: number;
}

export interface AlertRecord {
  title: string;
  prompt: string;
  buttons: string;
  kind: 'alert' | 'prompt';
}

export class UiState {
  menus: MenuRecord[] = [];
  sidebar: ShownHtml | null = null;
  dialogs: ShownHtml[] = [];
  alerts: AlertRecord[] = [];
  /** Queued answers for alert()/prompt(): a button name ('YES', 'OK', ...) and optional prompt text. */
  responses: { button: string; text?: string }[] = [];
}

const BUTTON_SETS = { OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO', YES_NO_CANCEL: 'YES_NO_CANCEL' };
const BUTTONS = { CLOSE: 'CLOSE', OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO' };

export function makeUi(exec: Exec, state: UiState): unknown {
  const c = (m: string, args: unknown[] = []) => exec.call(`Ui.${m}`, args);
  const show = (kind: ShownHtml['kind'], output: unknown, title?: string) => {
    const d = htmlData(output);
    if (!d) throw exec.error(`Invalid argument: userInterface`, { name: 'Exception' });
    if (kind === 'sidebar' && d.width !== null && d.width > SIDEBAR_WIDTH) {
      // Google ignores setWidth for sidebars and renders 300px; a wider layout would be cut off.
      throw exec.error(`Sidebar width ${d.width}px exceeds the ${SIDEBAR_WIDTH}px Google renders (setWidth is ignored for sidebars).`);
    }
    const shown: ShownHtml = { kind, title: title ?? d.title, content: d.content, width: d.width, height: d.height, execId: exec.id };
    if (kind === 'sidebar') state.sidebar = shown;
    else state.dialogs.push(shown);
  };
  const ask = (kind: AlertRecord['kind'], a: unknown, b?: unknown, cc?: unknown) => {
    const hasTitle = typeof b === 'string';
    const rec: AlertRecord = {
      kind,
      title: hasTitle ? String(a) : '',
      prompt: String(hasTitle ? b : a),
      buttons: String((hasTitle ? cc : b) ?? (kind === 'alert' ? 'OK' : 'OK')),
    };
    state.alerts.push(rec);
    return state.responses.shift() ?? { button: rec.buttons.startsWith('YES') ? 'YES' : 'OK', text: '' };
  };
  return {
    ButtonSet: BUTTON_SETS,
    Button: BUTTONS,
    createAddonMenu: () => (c('createAddonMenu'), makeMenu(state, { name: 'Add-on', addon: true, items: [] }, true)),
    createMenu: (name: string) => (c('createMenu', [name]), makeMenu(state, { name: String(name), addon: false, items: [] }, true)),
    showSidebar: (output: unknown) => (c('showSidebar'), show('sidebar', output)),
    showModalDialog: (output: unknown, title: string) => (c('showModalDialog'), show('modal', output, String(title))),
    showModelessDialog: (output: unknown, title: string) => (c('showModelessDialog'), show('modeless', output, String(title))),
    alert: (a: unknown, b?: unknown, cc?: unknown) => (c('alert'), ask('alert', a, b, cc).button),
    prompt: (a: unknown, b?: unknown, cc?: unknown) => {
      c('prompt');
      const r = ask('prompt', a, b, cc);
      return { getSelectedButton: () => r.button, getResponseText: () => r.text ?? '' };
    },
  };
}

function makeMenu(state: UiState, rec: MenuRecord, topLevel: boolean): unknown {
  const m: Record<string, unknown> = {};
  Object.assign(m, {
    addItem: (caption: string, functionName: string) => (rec.items.push({ caption: String(caption), functionName: String(functionName) }), m),
    addSeparator: () => (rec.items.push({ separator: true }), m),
    addSubMenu: (sub: { __rec?: MenuRecord }) => {
      if (sub.__rec) rec.items.push({ submenu: sub.__rec });
      return m;
    },
    addToUi: () => {
      if (!topLevel) return;
      state.menus = state.menus.filter((x) => x.name !== rec.name || x.addon !== rec.addon);
      state.menus.push(rec);
    },
  });
  Object.defineProperty(m, '__rec', { value: rec, enumerable: false });
  return m;
}
