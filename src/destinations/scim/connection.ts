// Test connection: what a SCIM app advertises and what it really honours, found
// with read-only requests only (nothing in the app changes), as rows for a short
// table in the sidebar. The same probe of groups makes Finalize fail before the
// first sync when the token may not manage the groups the mapping needs.
import { UserError, msg, toMessage } from '../../core/messages';
import { ScimSettings } from './scimSettings';
import { eqFilter } from './patch';
import { ScimClient, ScimResponse, errorDetail } from './client';
import { AppProfileData } from './appProfile';

export interface ConnectionRow {
  /** What was checked, e.g. "Filter". */
  item: string;
  status: 'pass' | 'warning' | 'fail';
  /** What was found, in an admin's words. */
  found: string;
}

export interface ConnectionReport {
  ok: boolean;
  rows: ConnectionRow[];
  /** The fix of the first failing row ('' when none fails). */
  fix: string;
}

/** A userName no real account has, for a filter probe that can only find nothing. */
const PROBE_USER = 'roster-sync-connection-test@invalid.example';

const yes = (b: boolean) => (b ? 'yes' : 'no');
const listed = (r: ScimResponse) => r.status === 200 && !!r.body && Array.isArray(r.body.Resources ?? []);

export function testConnection(client: ScimClient, settings: ScimSettings, learnt: AppProfileData): ConnectionReport {
  const rows: ConnectionRow[] = [];
  let fix = '';
  const fail = (item: string, error: unknown) => {
    const m = toMessage(error);
    rows.push({ item, status: 'fail', found: m.text });
    if (!fix) fix = m.fix;
  };
  let caps;
  try {
    caps = client.capabilities();
  } catch (error) {
    fail('Reachable, token accepted', error);
    return { ok: false, rows, fix };
  }
  const [users, filtered, paged] = client.send([
    { method: 'GET', path: '/Users?startIndex=1&count=1' },
    { method: 'GET', path: `/Users?filter=${encodeURIComponent(eqFilter('userName', PROBE_USER))}&startIndex=1&count=1` },
    { method: 'GET', path: '/Users?startIndex=1&count=200' },
  ]);
  try {
    if (!listed(users)) {
      client.failFor(users, '/Users');
      throw new UserError(msg('scimNotScim', { url: client.baseUrl, detail: `GET /Users answered HTTP ${users.status}` }));
    }
  } catch (error) {
    fail('Reachable, token accepted', error);
    return { ok: false, rows, fix };
  }
  const total = users.body.totalResults;
  rows.push({ item: 'Reachable, token accepted', status: 'pass', found: `${client.host} answered GET /Users${typeof total === 'number' ? ` (${total} users)` : ''}.` });
  rows.push({
    item: 'Advertised',
    status: 'pass',
    found: `PATCH: ${yes(caps.patch)}, Bulk: ${caps.bulk.supported ? `yes (up to ${caps.bulk.maxOperations} operations)` : 'no'}, filter: ${caps.filter.supported ? `yes (up to ${caps.filter.maxResults} results)` : 'no'}.`,
  });
  const filterWorks = listed(filtered) && (filtered.body.Resources ?? []).length === 0;
  rows.push({
    item: 'Filter (userName eq)',
    status: filterWorks ? 'pass' : 'warning',
    found: filterWorks ? 'honoured.' : `not honoured (HTTP ${filtered.status}: ${errorDetail(filtered)}); users are matched from the full list instead.`,
  });
  const pageSize = listed(paged) ? (paged.body.Resources ?? []).length : 0;
  const pageTotal = listed(paged) && typeof paged.body.totalResults === 'number' ? paged.body.totalResults : null;
  const capped = pageTotal !== null && pageSize < Math.min(200, pageTotal);
  rows.push({
    item: 'Paging',
    status: listed(paged) && pageTotal !== null ? 'pass' : 'warning',
    found: !listed(paged)
      ? `a page of 200 was refused (HTTP ${paged.status}).`
      : `${capped ? `pages of at most ${pageSize}` : 'pages of 200 answered'}${pageTotal === null ? '; the app does not say how many users it holds (no totalResults)' : ''}.`,
  });
  if (settings.roleMapping === 'groups') {
    const [groups] = client.send([{ method: 'GET', path: '/Groups?startIndex=1&count=1' }]);
    if (listed(groups)) rows.push({ item: 'Groups (roles as groups)', status: 'pass', found: 'the token may list groups; groups are created at the first sync when missing.' });
    else fail('Groups (roles as groups)', groupsProblem(client, groups));
  }
  const rate = learnt.pace?.ratePerSec ?? client.pacer.memory().ratePerSec;
  rows.push({ item: 'Rate limit', status: 'pass', found: rate ? `about ${Math.round(rate * 60)} requests a minute are used.` : 'none seen.' });
  rows.push({
    item: 'Roles',
    status: 'pass',
    found: settings.roleMapping === 'groups' ? 'as SCIM groups.' : learnt.rolePatch === 'whole' ? 'as the roles attribute, replaced as a whole list (the app refuses value-filtered PATCH paths).' : 'as the roles attribute.',
  });
  return { ok: !rows.some((r) => r.status === 'fail'), rows, fix };
}

/** The message for a token that may not read groups (or an app without Groups). */
export function groupsProblem(client: ScimClient, r: ScimResponse): UserError {
  try {
    client.failFor(r, '/Groups');
  } catch (error) {
    if (error instanceof UserError) return error;
  }
  return new UserError(msg('scimForbidden', { host: client.host, detail: `/Groups answered HTTP ${r.status}: ${errorDetail(r)}; roles cannot map to groups` }));
}
