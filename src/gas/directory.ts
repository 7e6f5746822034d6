// AdminDirectory (Admin SDK Directory API advanced service) behind the DirectoryPort.
import { AppGroup, DirectoryGroup, DirectoryUser, OrgUnit } from '../core/model';
import { DirectoryPort, MemberRef, Page } from '../core/ports';
import { withRetry } from '../core/retry';
import { DirectoryError, classifyGoogleError, isTransient } from '../core/googleErrors';
import { customSchemasOf, extractFields, fieldSelectors } from '../core/attributes';

const CUSTOMER = 'my_customer';
// A `fields` selector must name nextPageToken, or Google drops it and paging stops at page one.
const USER_PARTS = 'id,primaryEmail,name/fullName,orgUnitPath,suspended,archived';
const USER_FIELDS = `nextPageToken,users(${USER_PARTS})`;
const MEMBER_FIELDS = 'nextPageToken,members(id,email,type,status)';
const GROUP_FIELDS = 'nextPageToken,groups(email,name,directMembersCount)';
const OU_FIELDS = 'organizationUnits(orgUnitPath,name,parentOrgUnitPath)';

/** The advanced service, or the error Apps Script gives when it is not enabled in the project. */
function admin(): GoogleAppsScript.AdminDirectory {
  if (typeof AdminDirectory === 'undefined' || !AdminDirectory) throw new Error('AdminDirectory is not defined: accessNotConfigured');
  return AdminDirectory;
}

type RawUser = GoogleAppsScript.AdminDirectory.Schema.User;

/**
 * What users.list / users.get are asked for: the fields sync always reads, plus only those the attribute
 * mapping names. Custom schema fields come back only with projection=custom and the schemas named in
 * customFieldMask (projection "basic", the default, includes no custom fields).
 */
function userRequest(sources: string[] | undefined, list: boolean): Record<string, string> {
  if (!sources?.length) return { fields: list ? USER_FIELDS : USER_PARTS };
  const parts = [USER_PARTS, ...fieldSelectors(sources)].join(',');
  const request: Record<string, string> = { fields: list ? `nextPageToken,users(${parts})` : parts };
  const schemas = customSchemasOf(sources);
  if (schemas.length) {
    request.projection = 'custom';
    request.customFieldMask = schemas.join(',');
  }
  return request;
}

function toUser(u: RawUser, sources?: string[]): DirectoryUser {
  const user: DirectoryUser = {
    id: String(u.id ?? ''),
    email: String(u.primaryEmail ?? '').toLowerCase(),
    name: String(u.name?.fullName ?? ''),
    orgUnitPath: String(u.orgUnitPath ?? '/'),
    suspended: Boolean(u.suspended),
    archived: Boolean(u.archived),
  };
  if (sources?.length) user.fields = extractFields(u as Record<string, unknown>, sources);
  return user;
}

export class GasDirectory implements DirectoryPort {
  constructor(private readonly sleep: (ms: number) => void) {}

  private call<T>(request: () => T): T {
    try {
      return withRetry(request, { attempts: 5, baseDelayMs: 1000, maxDelayMs: 16000, sleep: this.sleep, isRetryable: isTransient });
    } catch (error) {
      throw new DirectoryError(classifyGoogleError(error));
    }
  }

  listUsersPage(pageToken: string | null, sources?: string[]): Page<DirectoryUser> {
    const r = this.call(() => admin().Users!.list({ customer: CUSTOMER, maxResults: 500, pageToken: pageToken ?? undefined, ...userRequest(sources, true) }));
    return { items: (r.users ?? []).map((u) => toUser(u, sources)), nextPageToken: r.nextPageToken || null };
  }

  listOrgUnits(): OrgUnit[] {
    const r = this.call(() => admin().Orgunits!.list(CUSTOMER, { type: 'all', fields: OU_FIELDS }));
    return (r.organizationUnits ?? []).map((o) => ({ orgUnitPath: String(o.orgUnitPath), name: String(o.name ?? ''), parentOrgUnitPath: String(o.parentOrgUnitPath ?? '/') }));
  }

  listMembersPage(groupEmail: string, pageToken: string | null): Page<MemberRef> | null {
    try {
      const r = this.call(() => admin().Members!.list(groupEmail, { maxResults: 200, pageToken: pageToken ?? undefined, fields: MEMBER_FIELDS }));
      const items: MemberRef[] = (r.members ?? [])
        .map((m) => ({ type: (['USER', 'GROUP', 'CUSTOMER'].includes(String(m.type)) ? m.type : 'OTHER') as MemberRef['type'], id: String(m.id ?? ''), email: String(m.email ?? '').toLowerCase() }));
      return { items, nextPageToken: r.nextPageToken || null };
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }

  getGroup(email: string): AppGroup | null {
    try {
      const g = this.call(() => admin().Groups!.get(email));
      const primary = String(g.email ?? email).toLowerCase();
      return { id: String(g.id ?? ''), email: primary, name: String(g.name ?? primary), key: email.toLowerCase() };
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }

  listGroupsPage(query: string, pageToken: string | null): Page<DirectoryGroup> {
    const options: Record<string, unknown> = { customer: CUSTOMER, maxResults: 200, pageToken: pageToken ?? undefined, fields: GROUP_FIELDS };
    if (query) options.query = `email:${query.replace(/['"\\]/g, '')}*`;
    const r = this.call(() => admin().Groups!.list(options));
    return {
      items: (r.groups ?? []).map((g) => ({ email: String(g.email ?? '').toLowerCase(), name: String(g.name ?? ''), directMembersCount: Number(g.directMembersCount ?? 0) })),
      nextPageToken: r.nextPageToken || null,
    };
  }

  getUser(email: string, sources?: string[]): DirectoryUser | null {
    try {
      return toUser(this.call(() => admin().Users!.get(email, userRequest(sources, false))), sources);
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }

  ouHasUsers(orgUnitPath: string): boolean {
    const query = `orgUnitPath='${orgUnitPath.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const r = this.call(() => admin().Users!.list({ customer: CUSTOMER, maxResults: 1, query, fields: 'users(id)' }));
    return (r.users ?? []).length > 0;
  }

  hasMember(groupEmail: string, userEmail: string): boolean | null {
    try {
      return Boolean(this.call(() => admin().Members!.hasMember(groupEmail, userEmail)).isMember);
    } catch (error) {
      if (error instanceof DirectoryError && error.info.failure === 'notFound') return null;
      throw error;
    }
  }
}
