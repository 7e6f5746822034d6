// The sidebar's script (compiled by scripts/build.mjs and inlined into dist/Sidebar.html).
// Each tab sets itself up and listens to the store; the order of set-up is the order of rendering.
import { setUpAccountPanel } from './accountPanel';
import { setUpAccounts, openAccounts } from './accounts';
import { setUpConnectionTest } from './connectionTest';
import { $, all } from './dom';
import { setUpExplain } from './explain';
import { setUpHistory } from './history';
import { openMappings, setUpMappings } from './mappings';
import { setUpPreview } from './preview';
import { loadState } from './session';
import { setUpSettings } from './settingsTab';
import { setUpSyncTab } from './syncTab';
import { setUpDialogs, tablist } from './widgets';

function setUpTabs(): void {
  const select = tablist($('tabs'), (tab) => {
    const panel = tab.getAttribute('aria-controls');
    for (const p of all(document, 'main > [role=tabpanel]', HTMLElement)) p.hidden = p.id !== panel;
    if (tab.id === 't-accounts') openAccounts();
    if (tab.id === 't-mappings') openMappings();
  });
  select($('t-sync'));
  // The Sync panel shows once the state says the tabs apply (not on a first-open screen).
  $('p-sync').hidden = true;
}

setUpDialogs();
setUpSyncTab();
setUpPreview();
setUpExplain();
setUpMappings();
setUpAccounts();
setUpAccountPanel();
setUpSettings();
setUpConnectionTest();
setUpHistory();
setUpTabs();
void loadState();
