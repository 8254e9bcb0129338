// One data dir, one server, with real server processes: a second `nimbus start` or `nimbus dev`
// on a data dir in use is refused (DataDirInUseError naming the running server's pid and port)
// and the running server keeps working (its run dir and API socket untouched); the lock goes
// with a killed server; a busy port is a PortInUseError naming the port and `--port`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { readLocalCredentials } from '../../src/auth/credentials.js';
import { ApiClient } from '../../src/cli/api-client.js';
import { deployApp, stopBundling } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { NimbusProcesses } from '../helpers/nimbus-process.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const root = mkdtempSync(join(tmpdir(), 'nimbus-lock-'));
const nodes = new NimbusProcesses();

after(async () => {
  await nodes.killAll();
  await stopBundling();
  rmSync(root, { recursive: true, force: true });
});
installLeakGuard();

/** Runs the CLI to its exit (it must exit by itself: a refused start does). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a second start or dev on a data dir in use is refused and the running server is untouched', async () => {
  const dataDir = join(root, 'data');
  const appDir = join(root, 'app');
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'nimbus.yml'), 'app: lock\nfunctions:\n  hello:\n    handler: index.handler\n');
  writeFileSync(join(appDir, 'index.js'), 'exports.handler = async () => "hi";\n');

  const first = await nodes.start({ dataDir });
  const port = new URL(first.url).port;
  const creds = readLocalCredentials(dataDir, {});
  assert.ok(creds?.token);
  const client = new ApiClient({ endpoint: first.url, token: creds.token });
  await deployApp(appDir, client, new Spinner(createOutput({ write: () => true } as never, { env: {} })));

  for (const args of [
    ['start', '--port', '0', '--data-dir', dataDir],
    ['dev', appDir, '--port', '0', '--data-dir', dataDir],
  ]) {
    const second = await runCli(args);
    assert.equal(second.code, 1, `${args[0]} exits 1:\n${second.stdout}${second.stderr}`);
    assert.match(
      second.stderr,
      /error DataDirInUseError: The data dir .* is in use by another Nimbus server/,
    );
    assert.match(second.stderr, new RegExp(`pid ${first.child.pid}, port ${port}`));
    assert.match(second.stderr, /--data-dir/);
    assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(second.stdout, /listening/);
  }

  // The first server's first cold start (run dir, slots, API socket) works after the refusals.
  const res = await client.invoke('lock-hello', { payload: '{}' });
  assert.equal(res.kind === 'sync' ? `${res.functionError ?? ''}${res.body}` : res.kind, '"hi"');

  // Killed, its lock goes with it (the kernel drops it): the next start on the data dir runs.
  await nodes.kill(first.child);
  const again = await nodes.start({ dataDir });
  await nodes.kill(again.child);
});

test('a busy port is a PortInUseError naming the port and --port, not a stack trace', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const { port } = blocker.address() as AddressInfo;
  try {
    const res = await runCli(['start', '--port', String(port), '--data-dir', join(root, 'busy')]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`error PortInUseError: port ${port} on 127.0.0.1 is already in use`));
    assert.match(res.stderr, /--port 0 picks a free one/);
    assert.doesNotMatch(res.stderr, /EADDRINUSE|\n\s+at /);
  } finally {
    await new Promise((r) => blocker.close(r));
  }
});
