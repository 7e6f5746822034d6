// Test connection: what a SCIM app advertises and what it really honours, found
// with read-only requests only (nothing in the app changes), as rows for a short
// table in the sidebar. The same probe of groups makes Finalize fail before the
// first sync when the token may not manage the groups the mapping needs.
import { UserError, msg, toMessage } from '../../core/messages';
import { ScimSettings } from './scimSettings';
import { eqFilter } from './patch';
import { ScimClient, ScimResponse, errorDetail } from './client';
import { AppProfileData } from './appProfile';
import type { ConnectionReport, ConnectionRow } from '../../core/ports';

export type { ConnectionReport, ConnectionRow };

/** A userName no real account has, for a filter probe that can only find nothing. */
const PROBE_USER = 'roster-sync-connection-test@invalid.example';

const yes = (b: boolean) => (b ? 'yes' : 'no');
const listed = (r: ScimResponse) => r.status === 200 && !!r.body && Array.isArray(r.body.Resources ?? []);

export function testConnection(client: ScimClient, settings: ScimSettings, learnt: AppProfileData, appGroupsSelected = 0): ConnectionReport {
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
    ...(filterWorks ? {} : { fix: 'Nothing to do: syncs read every user of the app instead, which costs more requests.' }),
  });
  rows.push(pagingRow(paged));
  rows.push(bulkRow(caps.bulk.supported, caps.bulk.maxOperations, !!learnt.bulkRefused));
  // Groups are read, never created here: a token that may not list them cannot manage them either.
  const [groups] = client.send([{ method: 'GET', path: '/Groups?startIndex=1&count=1' }]);
  const groupsListed = listed(groups);
  const groupsRefused = groupsListed ? null : toMessage(groupsProblem(client, groups));
  rows.push({
    item: 'Groups',
    status: groupsListed ? 'pass' : settings.roleMapping === 'groups' || appGroupsSelected ? 'fail' : 'warning',
    found: groupsListed ? 'honoured: the token may list groups.' : `not available: ${groupsRefused!.text}`,
    ...(groupsRefused ? { fix: groupsRefused.fix } : {}),
  });
  const rate = learnt.pace?.ratePerSec ?? client.pacer.memory().ratePerSec;
  rows.push({ item: 'Rate limit', status: 'pass', found: rate ? `about ${Math.round(rate * 60)} requests a minute are used.` : 'none seen.' });
  if (client.quota) rows.push({ item: 'Apps Script web requests today', status: client.quota.left() > 0 ? 'pass' : 'warning', found: `${client.quota.usage()}.` });
  rows.push(...mappingRows(settings, learnt, groupsListed, groupsRefused));
  if (appGroupsSelected) {
    const selected = `${appGroupsSelected} selected Google Group${appGroupsSelected === 1 ? '' : 's'}`;
    rows.push(groupsListed
      ? { item: 'App groups', status: 'pass', found: `will work: the ${selected} become SCIM groups at the next sync.` }
      : { item: 'App groups', status: 'fail', found: `will not work: the ${selected} need a token that may manage groups.`, fix: groupsRefused?.fix ?? '' });
  }
  for (const r of rows) if (r.status === 'fail' && r.fix && !fix) fix = r.fix;
  return { ok: !rows.some((r) => r.status === 'fail'), rows, fix };
}

function pagingRow(paged: ScimResponse): ConnectionRow {
  const pageSize = listed(paged) ? (paged.body.Resources ?? []).length : 0;
  const pageTotal = listed(paged) && typeof paged.body.totalResults === 'number' ? paged.body.totalResults : null;
  const capped = pageTotal !== null && pageSize < Math.min(200, pageTotal);
  const ok = listed(paged) && pageTotal !== null;
  return {
    item: 'Paging',
    status: ok ? 'pass' : 'warning',
    found: !listed(paged)
      ? `a page of 200 was refused (HTTP ${paged.status}).`
      : `${capped ? `pages of at most ${pageSize}` : 'pages of 200 answered'}${pageTotal === null ? '; the app does not say how many users it holds (no totalResults)' : ''}.`,
    ...(ok ? {} : { fix: 'Nothing to do: syncs read the app page after page to its end, and never use a list whose pages repeat.' }),
  };
}

/** Bulk is a write: it is not tried here, only what a sync learnt of it is reported. */
function bulkRow(advertised: boolean, maxOperations: number, refused: boolean): ConnectionRow {
  if (!advertised) return { item: 'Bulk', status: 'pass', found: 'not offered: requests are sent one by one, in parallel within the app\'s rate limit.' };
  if (refused) return { item: 'Bulk', status: 'warning', found: 'advertised, but refused when a sync tried it: requests are sent one by one.', fix: 'Nothing to do: remembered for this app.' };
  return { item: 'Bulk', status: 'pass', found: `advertised (up to ${maxOperations} operations); used by syncs, not tried here (a Bulk request writes).` };
}

/** Which ways of mapping roles will work with this app and token, the one chosen first. */
function mappingRows(settings: ScimSettings, learnt: AppProfileData, groupsListed: boolean, groupsRefused: { text: string; fix: string } | null): ConnectionRow[] {
  const chosen = (mapping: ScimSettings['roleMapping']) => (settings.roleMapping === mapping ? ' (chosen)' : '');
  const attribute: ConnectionRow = {
    item: 'Roles (roles attribute)',
    status: 'pass',
    found: `will work${chosen('roles')}${learnt.rolePatch === 'whole' ? '; the app refuses value-filtered PATCH paths, so roles are replaced as a whole list' : ''}.`,
  };
  const groups: ConnectionRow = groupsListed
    ? { item: 'Groups (roles as groups)', status: 'pass', found: `will work${chosen('groups')}: groups missing in the app are created at the first sync.` }
    : {
        item: 'Groups (roles as groups)',
        status: settings.roleMapping === 'groups' ? 'fail' : 'warning',
        found: `will not work${chosen('groups')}: the token may not list groups.`,
        fix: groupsRefused?.fix ?? '',
      };
  return settings.roleMapping === 'groups' ? [groups, attribute] : [attribute, groups];
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
