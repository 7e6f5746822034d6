// Who may take which SCIM userName, decided before anything is sent. Apps match
// userName case-insensitively (RFC 7643 §4.1.1: caseExact false), and a POST or
// PATCH that takes a userName another app user holds is refused with 409, or worse
// answered by adopting that user. So: two directory users never claim one userName;
// a userName held by another person's app account is never taken; and renames that
// free and take userNames (two people swapping emails) are ordered, a cycle staged
// through a temporary userName, so one sync leaves every app account with its own
// person's identity.

export interface IdentityClaim {
  /** The account's ids before and after the change (an adopted manual account has two). */
  accountIds: string[];
  email: string;
  /** The app user this change writes, when it exists. */
  scimId: string | null;
  /** null for a deletion (it frees its userName). */
  userName: string | null;
  /** The email this change leaves on an active app user; null when it leaves none (deleted, deactivated, not sent). */
  activeEmail: string | null;
}

export type IdentityBlock =
  | { kind: 'collision'; userName: string; emails: string[] }
  | { kind: 'taken'; userName: string; holder: string; holderId: string }
  | { kind: 'emailTaken'; holder: string };

export interface IdentityPlan {
  /** Claims (by index) that must not be sent, and why. */
  blocked: Map<number, IdentityBlock>;
  /** Claims sent one round later, once the userName they take is freed. */
  wait: Set<number>;
  /** Renames that first take a temporary userName (they free a userName and wait for one). */
  stage: Set<number>;
}

export interface AppUsers {
  /** userName (lower case) → SCIM id of the app user holding it. */
  holderOf: Map<string, string>;
  /** The account linked to an app user, when one is. */
  owner(scimId: string): { accountId: string; email: string } | null;
  /** email (lower case) → SCIM ids of the active app users showing it. */
  activeByEmail: ReadonlyMap<string, Iterable<string>>;
}

/**
 * The app's users by userName and by the email an active user shows, built once per execution and
 * kept current user by user as writes are answered (a 100,000-user app is not re-indexed per batch).
 */
export class IdentityIndex {
  readonly holderOf = new Map<string, string>();
  readonly activeByEmail = new Map<string, Set<string>>();
  private readonly keysOf = new Map<string, { userName: string; email: string }>();

  constructor(users: Map<string, any>, private readonly emailOf: (raw: any) => string) {
    for (const [sid, raw] of users) this.add(sid, raw);
  }

  /** Re-reads one app user (null: it is gone). */
  refresh(sid: string, raw: any | null): void {
    const old = this.keysOf.get(sid);
    if (old) {
      if (this.holderOf.get(old.userName) === sid) this.holderOf.delete(old.userName);
      const holders = this.activeByEmail.get(old.email);
      holders?.delete(sid);
      if (holders && !holders.size) this.activeByEmail.delete(old.email);
      this.keysOf.delete(sid);
    }
    if (raw) this.add(sid, raw);
  }

  private add(sid: string, raw: any): void {
    const userName = raw.userName === undefined ? '' : key(String(raw.userName));
    const email = raw.active === false ? '' : this.emailOf(raw);
    if (userName) this.holderOf.set(userName, sid);
    if (email) {
      if (!this.activeByEmail.has(email)) this.activeByEmail.set(email, new Set());
      this.activeByEmail.get(email)!.add(sid);
    }
    this.keysOf.set(sid, { userName, email });
  }
}

const key = (userName: string) => userName.trim().toLowerCase();

export function planIdentities(claims: IdentityClaim[], app: AppUsers): IdentityPlan {
  const blocked = new Map<number, IdentityBlock>();
  const currentOf = new Map<string, string>(); // scimId → userName it holds now
  for (const [name, sid] of app.holderOf) currentOf.set(sid, name);
  const byScimId = new Map<string, number>();
  claims.forEach((c, i) => c.scimId && byScimId.set(c.scimId, i));

  // 1. Two claims of one userName: whoever holds it already keeps it; nobody else gets it.
  const claimants = new Map<string, number[]>();
  claims.forEach((c, i) => {
    if (c.userName === null) return;
    const k = key(c.userName);
    claimants.set(k, [...(claimants.get(k) ?? []), i]);
  });
  for (const [name, list] of claimants) {
    if (list.length < 2) continue;
    const keeper = list.find((i) => claims[i].scimId !== null && currentOf.get(claims[i].scimId!) === name);
    const emails = list.map((i) => claims[i].email);
    for (const i of list) {
      if (i === keeper) continue;
      if (keeper === undefined) blocked.set(i, { kind: 'collision', userName: claims[i].userName!, emails });
      else blocked.set(i, { kind: 'taken', userName: claims[i].userName!, holder: claims[keeper].email, holderId: claims[keeper].accountIds[1] });
    }
  }

  // 2. A userName held by another app user: freed in this batch (deleted or renamed away), or not to be taken.
  const frees = new Map<number, number[]>(); // freeing claim → the claims waiting for it
  claims.forEach((c, i) => {
    if (c.userName === null || blocked.has(i)) return;
    const holder = app.holderOf.get(key(c.userName));
    if (!holder || holder === c.scimId) return;
    const mover = byScimId.get(holder);
    const moving = mover !== undefined && !blocked.has(mover) && (claims[mover].userName === null || key(claims[mover].userName!) !== key(c.userName));
    if (moving) {
      frees.set(mover!, [...(frees.get(mover!) ?? []), i]);
      return;
    }
    const owner = app.owner(holder);
    if (owner && !c.accountIds.includes(owner.accountId)) blocked.set(i, { kind: 'taken', userName: c.userName, holder: owner.email || owner.accountId, holderId: owner.accountId });
    // An app user nobody is linked to: the POST's 409 finds it and the usual adoption rules apply.
  });

  // 3. An email another person's active app account shows is never given to a second one.
  claims.forEach((c, i) => {
    if (c.activeEmail === null || blocked.has(i)) return;
    for (const holder of app.activeByEmail.get(key(c.activeEmail)) ?? []) {
      if (holder === c.scimId) continue;
      const mover = byScimId.get(holder);
      if (mover !== undefined && !blocked.has(mover) && (claims[mover].activeEmail === null || key(claims[mover].activeEmail!) !== key(c.activeEmail))) continue;
      const owner = app.owner(holder);
      if (owner && c.accountIds.includes(owner.accountId)) continue;
      blocked.set(i, { kind: 'emailTaken', holder: owner ? owner.email || owner.accountId : c.activeEmail });
      return;
    }
  });

  const wait = new Set<number>();
  for (const waiting of frees.values()) for (const i of waiting) if (!blocked.has(i)) wait.add(i);
  // A rename that frees a userName but must itself wait (a swap, a cycle) steps aside first.
  const stage = new Set<number>();
  for (const freer of frees.keys()) if (wait.has(freer) && claims[freer].userName !== null) stage.add(freer);
  return { blocked, wait, stage };
}

/** A temporary userName in the shape of the final one (an email stays an email), unique per app user. */
export function temporaryUserName(userName: string, tag: string): string {
  const at = userName.lastIndexOf('@');
  if (at > 0) return `${userName.slice(0, at)}.renaming-${tag}${userName.slice(at)}`;
  return `${userName}.renaming-${tag}`;
}
