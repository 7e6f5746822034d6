// The one door to the server: every google.script.run call of the sidebar goes through call().
// Names, arguments and results are typed from the server's own functions (src/main.ts), so a
// renamed function or a changed result fails the type check instead of the sidebar.
import type * as server from '../main';
import type { Envelope } from '../main';
import type { AccountStatus } from '../core/model';
import type { Settings } from '../core/settings';

type ServerFunctions = typeof server;

/** The server functions the sidebar may call: those that answer with an envelope. */
export type Api = {
  [K in keyof ServerFunctions as ReturnType<ServerFunctions[K]> extends Envelope<unknown> ? K : never]: ServerFunctions[K];
};
export type ApiName = keyof Api;

/** What a server function's envelope carries when it succeeds. */
export type Data<K extends ApiName> = ReturnType<Api[K]> extends Envelope<infer T> ? T : never;

/** A failure as the sidebar shows it: the catalog's text and fix, and the field it is about. */
export interface ServerError {
  /** The catalog id of a server's message (none for errors the sidebar makes itself). */
  id?: string;
  text: string;
  fix: string;
  field?: string;
}

/** A settings document as the form reads it: an empty number field is sent as null for the server to name. */
export type SettingsDraft = Omit<Settings, 'graceDays' | 'cooldownMinutes' | 'threshold' | 'scim' | 'privilegedGrantLimit'> & {
  graceDays: number | null;
  cooldownMinutes: number | null;
  threshold: { kind: Settings['threshold']['kind']; value: number | null; windowHours: number | null };
  privilegedGrantLimit: number | null;
  /** Sent once the admin confirmed a save that lowers the protection against mass changes. */
  confirmLowerProtection?: boolean;
  scim?: (Omit<NonNullable<Settings['scim']>, 'maxMembersPerPatch'> & { maxMembersPerPatch: number | null }) | null;
};

/**
 * The argument of each server function that takes one. The server validates every field
 * (src/core/input.ts); these types keep the sidebar from sending what it would refuse.
 */
export interface Requests {
  saveSettings: SettingsDraft;
  syncNow: { allowDestructive?: number };
  listOrgUnits: { parent?: string; query?: string };
  listGroups: { query?: string; pageToken?: string };
  getAccounts: { tab?: string; status?: AccountStatus | 'any'; query?: string; offset?: number; limit?: number };
  updateAccounts: { ids: string[]; status?: AccountStatus; grant?: string[]; revoke?: string[]; exclude?: boolean };
  addAccount: { name: string; email: string; role: string };
  explainUser: { email: string };
  syncUser: { email: string; adopt?: string };
  useMyAccountForSync: { confirmChange?: boolean };
  askAdminMessage: { adminEmail: string };
  saveScimToken: { token: string; baseUrl?: string };
  startNewRoster: { confirm: boolean };
  removeDeselectedAppGroups: { remove?: boolean };
  getSyncReport: { startedAt: string; query?: string };
}
/** The server functions that take an argument. */
type TakingArgument = { [K in ApiName]: Parameters<Api[K]> extends [] ? never : K }[ApiName];
/** Fails the type check when Requests names a function the server does not have, or one that takes no argument. */
type OnlyServerFunctions<K extends TakingArgument> = K;
export type RequestName = OnlyServerFunctions<keyof Requests>;

type ArgumentOf<K extends ApiName> = K extends RequestName ? [request: Requests[K]] : [];

/** google.script.run as far as the sidebar uses it. */
interface ScriptRunner {
  withSuccessHandler(handler: (value: unknown) => void): ScriptRunner;
  withFailureHandler(handler: (error: unknown) => void): ScriptRunner;
}
declare global {
  interface Window {
    google?: { script?: { run?: ScriptRunner } };
  }
}

// google.script.run allows 10 calls in flight; a few are kept for the poller and the user's clicks.
const MAX_IN_FLIGHT = 8;

interface Job {
  name: ApiName;
  args: unknown[];
  resolve: (data: unknown) => void;
  reject: (error: ServerError) => void;
}
const queue: Job[] = [];
let inFlight = 0;

/** Calls a server function; resolves with its envelope's data, rejects with a ServerError. */
export function call<K extends ApiName>(name: K, ...arg: ArgumentOf<K>): Promise<Data<K>> {
  return new Promise<Data<K>>((resolve, reject) => {
    queue.push({ name, args: arg, resolve: resolve as (data: unknown) => void, reject });
    pump();
  });
}

function pump(): void {
  while (inFlight < MAX_IN_FLIGHT && queue.length) send(queue.shift()!);
}

function send(job: Job): void {
  const base = window.google?.script?.run;
  if (!base) {
    job.reject({ text: 'Roster Sync is not connected to Google Sheets.', fix: 'Open it from Extensions → Roster Sync → Open Roster Sync.' });
    return;
  }
  inFlight++;
  const settle = () => {
    inFlight--;
    setTimeout(pump, 0);
  };
  const runner = base
    .withSuccessHandler((answer) => {
      settle();
      const envelope = answer as Envelope<unknown> | null;
      if (envelope && envelope.ok === true) job.resolve(envelope.data);
      else if (envelope && envelope.ok === false && envelope.error && envelope.error.text) job.reject(envelope.error);
      else job.reject({ text: 'The server sent an answer Roster Sync cannot read.', fix: 'Reload the sidebar and try again.' });
    })
    .withFailureHandler((error) => {
      settle();
      const message = error instanceof Error ? error.message : String(error ?? '');
      const detail = message.split('\n')[0].slice(0, 300);
      job.reject({
        text: 'The request could not be completed' + (detail ? ': ' + detail : '.'),
        fix: 'Check your connection and try again. If it keeps happening, reload the sidebar and run Finalize sync.',
      });
    });
  // Every server function is a method of the runner (Apps Script builds them from the script's globals).
  (runner as unknown as Record<ApiName, (...args: unknown[]) => void>)[job.name](...job.args);
}

/** Any rejection as a ServerError: the server's, or the sidebar's own bug in words. */
export function errorOf(e: unknown): ServerError {
  if (e && typeof e === 'object' && typeof (e as ServerError).text === 'string') return e as ServerError;
  const detail = e instanceof Error ? e.message : String(e);
  return { text: 'Something unexpected went wrong in the sidebar: ' + detail, fix: 'Reload the sidebar and try again.' };
}
