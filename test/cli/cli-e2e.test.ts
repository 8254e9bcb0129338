// End to end: the real `nimbus` CLI in child processes against a real server started by `nimbus start`/`dev`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installLeakGuard } from '../helpers/leak-guard.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// Resolved here because the CLI runs with other working directories, where `--import tsx` would not resolve.
const TSX = import.meta.resolve('tsx');

/** Env for spawned CLIs: no NIMBUS_* from the shell, no colour. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...extra };
  return env;
}

function spawnCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env });
}

/** Runs the CLI to completion. */
function nimbus(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, cwd, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running CLI (start/dev) whose output can be awaited. */
class LongRunning {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawnCli(args, cwd, env);
    this.child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Waits until stdout matches `pattern` (fails after `timeoutMs` or if the process exits). */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        assert.fail(`no ${pattern} in output.\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ctrl-C, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    return this.exited;
  }
}

describe('nimbus start + client commands', () => {
  let dir: string;
  let server: LongRunning;
  let env: NodeJS.ProcessEnv;
  const dataDir = (): string => join(dir, 'data');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nimbus-cli-e2e-'));
    server = new LongRunning(['start', '--port', '0', '--data-dir', 'data'], dir, baseEnv());
    const [, url] = await server.waitFor(/Nimbus listening on (http:\/\/\S+)\n/);
    // Client commands find the root credentials in the data dir, as on a developer's machine.
    env = baseEnv({ NIMBUS_ENDPOINT: url!, NIMBUS_DATA_DIR: dataDir() });
  });

  after(async () => {
    const code = await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, server.stderr);
  });

  it('prints the root credentials once, on first start', () => {
    assert.match(server.stdout, /Root credentials \(generated now; they are not shown again\):/);
    const creds = JSON.parse(readFileSync(join(dataDir(), 'credentials.json'), 'utf8')) as {
      accessKeyId: string;
    };
    assert.match(server.stdout, new RegExp(`access key id +${creds.accessKeyId}`));
  });

  it('init, deploy, invoke, logs, ls, versions, alias, rm', async () => {
    let r = await nimbus(['init', 'shop', '--runtime', 'nodejs'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    // A handler that can also fail on demand.
    writeFileSync(
      join(dir, 'shop', 'handler.mjs'),
      `export const handler = async (event) => {
  if (event.fail) throw new TypeError('asked to fail');
  console.log('hello from the handler');
  return { message: \`Hello, \${event.name ?? 'world'}!\` };
};
`,
    );

    r = await nimbus(['deploy', 'shop'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /shop-hello +\$LATEST/);

    r = await nimbus(['invoke', 'shop-hello', '--data', '{"name":"Ada"}', '--log'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { message: 'Hello, Ada!' });
    assert.match(r.stderr, /hello from the handler/);

    r = await nimbus(['invoke', 'shop-hello', '--data', '{"fail":true}'], dir, env);
    assert.equal(r.code, 1);
    const error = JSON.parse(r.stdout) as { errorType: string; errorMessage: string };
    assert.equal(error.errorType, 'TypeError');
    assert.equal(error.errorMessage, 'asked to fail');
    assert.match(r.stderr, /^error function Unhandled: TypeError: asked to fail/);

    r = await nimbus(['invoke', 'shop-hello', '--async'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\S+\n$/);

    r = await nimbus(['logs', 'shop-hello', '--since', '10m'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from the handler/);

    r = await nimbus(['ls', '--json'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as { functions: Array<{ fullName: string; runtime: string }> };
    assert.deepEqual(
      listed.functions.map((f) => [f.fullName, f.runtime]),
      [['shop-hello', 'nodejs']],
    );

    r = await nimbus(['versions', 'publish', 'shop-hello', '--description', 'v1'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /published shop-hello:1/);
    r = await nimbus(['alias', 'set', 'shop-hello', 'live', '1'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    r = await nimbus(['invoke', 'shop-hello', '--qualifier', 'live'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { message: 'Hello, world!' });
    r = await nimbus(['alias', 'ls', 'shop-hello'], dir, env);
    assert.match(r.stdout, /\nlive +1\n/);

    r = await nimbus(['rm', 'shop-hello'], dir, env);
    assert.equal(r.code, 0, r.stderr);
    r = await nimbus(['invoke', 'shop-hello'], dir, env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error ResourceNotFoundException: /);
    r = await nimbus(['ls'], dir, env);
    assert.match(r.stdout, /^no functions deployed/);
  });

  it('refuses a wrong token with the server error code', async () => {
    const r = await nimbus(['ls'], dir, { ...env, NIMBUS_TOKEN: 'nbt_wrong' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error (UnrecognizedClientException|AccessDeniedException): /);
  });
});

describe('nimbus dev', () => {
  it('deploys, redeploys on change, reports errors without exiting, stops on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-cli-dev-'));
    let dev: LongRunning | undefined;
    try {
      const init = await nimbus(['init', 'app', '--runtime', 'typescript'], dir, baseEnv());
      assert.equal(init.code, 0, init.stderr);
      dev = new LongRunning(['dev', 'app', '--port', '0'], dir, baseEnv());
      const [, url] = await dev.waitFor(/Nimbus listening on (http:\/\/\S+)\n/);
      await dev.waitFor(/watching .* for changes/);
      const env = baseEnv({ NIMBUS_ENDPOINT: url!, NIMBUS_DATA_DIR: join(dir, '.nimbus') });
      let r = await nimbus(['invoke', 'app-hello'], dir, env);
      assert.deepEqual(JSON.parse(r.stdout), { message: 'Hello, world!' });

      const handler = join(dir, 'app', 'handler.ts');
      appendFileSync(handler, 'export const broken = ;\n');
      await waitForStderr(dev, /error BundleError: /);
      // One write that both fixes the syntax error and changes the answer.
      writeFileSync(
        handler,
        readFileSync(handler, 'utf8')
          .replace('return { message:', 'return { version: 2, message:')
          .replace(/export const broken.*\n/, ''),
      );
      await dev.waitFor(/redeployed app \(1 function/);
      r = await nimbus(['invoke', 'app-hello', '--data', '{"name":"Bo"}'], dir, env);
      assert.deepEqual(JSON.parse(r.stdout), { version: 2, message: 'Hello, Bo!' });
    } finally {
      const code = dev ? await dev.stop() : null;
      rmSync(dir, { recursive: true, force: true });
      if (dev) assert.equal(code, 0, dev.stderr);
    }
  });
});

async function waitForStderr(p: LongRunning, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!pattern.test(p.stderr)) {
    if (Date.now() > deadline) assert.fail(`no ${pattern} in stderr:\n${p.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

installLeakGuard();
