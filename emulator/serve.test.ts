// The demo server's start-up, as a person meets it.
import { execFile } from 'child_process';
import * as net from 'net';
import * as path from 'path';

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
