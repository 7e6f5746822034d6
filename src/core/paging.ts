// The one paging helper every full list call goes through.
import { Page } from './ports';

export function collectAll<T>(fetchPage: (pageToken: string | null) => Page<T>, maxPages = 10_000): T[] {
  const all: T[] = [];
  let token: string | null = null;
  for (let pages = 0; pages < maxPages; pages++) {
    const page = fetchPage(token);
    all.push(...page.items);
    token = page.nextPageToken;
    if (!token) return all;
  }
  throw new Error(`paging stopped after ${maxPages} pages`);
}
