// A search of the domain's groups (listGroups), shown a page at a time: the rule picker's and the app groups'.
import type { DirectoryGroup } from '../core/model';
import { call } from './client';
import { h } from './dom';
import { plural } from './format';
import { sayError } from './notices';
import { appendPage } from './widgets';

/** The wait after the last keystroke before a search is sent. */
const TYPING_PAUSE_MS = 300;

/**
 * Searches as the admin types in `query` (and on its first focus), each group shown by `item` in `list`;
 * only the latest search's answer is shown, and "More groups" appends the next page. Errors go to `errorBox`.
 */
export function setUpGroupSearch(query: HTMLInputElement, list: HTMLElement, item: (g: DirectoryGroup) => HTMLLIElement, errorBox: () => HTMLElement): void {
  let latest = 0;
  const search = (pageToken: string | null): Promise<void> => {
    const q = query.value.trim();
    const mine = ++latest;
    return call('listGroups', { query: q, pageToken: pageToken || '' }).then((r) => {
      if (mine !== latest) return;
      if (!pageToken) list.replaceChildren();
      if (!r.groups.length && !pageToken) return void list.replaceChildren(h('p', { class: 'small' }, 'No group email or name starts with “' + q + '”.'));
      const ul = list.querySelector('ul') ?? list.appendChild(h('ul'));
      const next = r.nextPageToken;
      appendPage(ul, r.groups.map(item), next ? { label: 'More groups', show: () => void search(next) } : null);
    }, (e) => sayError(errorBox(), e));
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void search(null), TYPING_PAUSE_MS);
  });
  query.addEventListener('focus', () => {
    if (!list.firstChild) void search(null);
  });
}

/** A group's name (when it is not its email) and its number of direct members. */
export function groupAbout(g: DirectoryGroup): string {
  return (g.name && g.name !== g.email ? g.name + ' · ' : '') + plural(g.directMembersCount, 'member');
}
