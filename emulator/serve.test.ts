// The demo server's start-up, as a person meets it.
import { execFile, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { startEmulator } from './serve';

test('a busy port gives one line with the fix, not a stack trace', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(tsx, [path.join(__dirname, 'serve.ts')], { env: { ...process.env, PORT: String(port) }, timeout: 60_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
    child.stdin?.end();
  });
  blocker.close();
  expect(run).toEqual({ code: 1, stderr: `Port ${port} is in use; start with PORT=${port + 1} npm start\n` });
});

test('npm start -- --fresh starts unlinked (the first-open screens), with two demo admins and the clock moving with real time', async () => {
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [path.join(__dirname, 'serve.ts'), '--fresh'], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        const m = /not linked yet\) at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const rpc = async (fn: string) => ((await (await fetch(`${url}rpc/${fn}`, { method: 'POST', body: '{"args":[]}', headers: { 'Content-Type': 'application/json' } })).json()) as any).result;
    expect((await rpc('getSetupStatus')).data).toMatchObject({ linked: false, canReadDirectory: true });
    const sheets = (await (await fetch(`${url}api/sheets`)).json()) as any;
    expect(sheets).toMatchObject({ story: [], realTime: true, cooldownZero: false });
    expect(sheets.admins).toHaveLength(2);
    const before = Date.parse(sheets.now);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = (await (await fetch(`${url}api/sheets`)).json()) as any;
    expect(Date.parse(later.now) - before).toBeGreaterThanOrEqual(1000);
  } finally {
    child.kill();
  }
});

test('npm start (the demo, preconfigured) sets the cooldown to 0 and says so, so a second Sync now is never trapped', async () => {
  const emu = await startEmulator({ port: 0, realTime: true });
  try {
    const state = emu.runtime.runFromBrowser('getState', []) as { ok: boolean; data: { settings: { cooldownMinutes: number } } };
    expect(state.data.settings.cooldownMinutes).toBe(0);
    const sheets = (await (await fetch(`${emu.url}api/sheets`)).json()) as { realTime: boolean; cooldownZero: boolean; story: string[] };
    expect(sheets).toMatchObject({ realTime: true, cooldownZero: true, story: ['link', 'map'] });
    for (let i = 0; i < 2; i++) {
      let r = emu.runtime.runFromBrowser('syncNow', [{}]) as { ok: boolean; data: { state: string } };
      while (r.data.state === 'in-progress') r = emu.runtime.runFromBrowser('continueSync', []) as typeof r;
      expect(r.data.state).toBe('done');
    }
  } finally {
    await emu.close();
  }
});
