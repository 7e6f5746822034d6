// Starts the SCIM test server (server.ts) in a child process and drives it over IPC.
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { LoggedRequest, Switches } from './server';

export interface ServerState {
  users: Record<string, any>[];
  groups: Record<string, any>[];
  log: LoggedRequest[];
  switches: Switches;
}

export interface ScimTestServer {
  /** The SCIM base URL, e.g. http://127.0.0.1:41234/scim/v2 */
  baseUrl: string;
  port: number;
  set(switches: Partial<Switches>): Promise<void>;
  state(): Promise<ServerState>;
  /** Users (and groups by member userName) put straight into the app, as if created there. */
  seed(users: Record<string, any>[], groups?: { displayName: string; memberUserNames?: string[] }[]): Promise<void>;
  /** Puts back users and groups exactly as state() returned them (ids, members, meta), e.g. an exported app. */
  restore(store: { users: Record<string, any>[]; groups: Record<string, any>[] }): Promise<void>;
  /** A change made in the app itself (an app admin); null deletes the user. */
  mutate(userName: string, patch: Record<string, any> | null): Promise<void>;
  clearLog(): Promise<void>;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

export async function startScimServer(switches: Partial<Switches> = {}): Promise<ScimTestServer> {
  const child: ChildProcess = fork(join(__dirname, 'server.ts'), [], {
    // tsx (a devDependency) runs the TypeScript server; resolved from the project root.
    execArgv: ['--import', 'tsx'],
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SCIM test server did not start within 30 s')), 30_000);
    child.on('message', (m: any) => {
      if (m?.type === 'ready') {
        clearTimeout(timer);
        resolve(m.port);
        return;
      }
      const w = waiting.get(m?.id);
      if (!w) return;
      waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the SCIM test server exited (${code})`));
      for (const w of waiting.values()) w.reject(new Error('the SCIM test server exited'));
    });
  });
  const send = (cmd: Record<string, unknown>) =>
    new Promise<any>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ ...cmd, id });
    });
  const server: ScimTestServer = {
    baseUrl: `http://127.0.0.1:${port}/scim/v2`,
    port,
    set: async (s) => void (await send({ type: 'set', switches: s })),
    state: () => send({ type: 'state' }),
    seed: async (users, groups = []) => void (await send({ type: 'seed', users, groups })),
    restore: async (store) => void (await send({ type: 'restore', store: { users: store.users, groups: store.groups } })),
    mutate: async (userName, patch) => void (await send({ type: 'mutate', userName, patch })),
    clearLog: async () => void (await send({ type: 'clearLog' })),
    clear: async () => void (await send({ type: 'clear' })),
    stop: async () => {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      });
    },
  };
  if (Object.keys(switches).length) await server.set(switches);
  return server;
}
