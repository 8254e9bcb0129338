// The CLI against a stand-in /v1 server over real HTTP: requests it sends, output, errors, auth.
//
// A stand-in (test/cli/stand-in-server.ts), not the real server: these tests pin down the
// CLI's side of the contract without sandboxes or a store; the real server is driven through
// the CLI end to end by the lead's tests and test/cli/cli-e2e.test.ts.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, ApiError } from '../../src/cli/api-client.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { run } from './cli-test-io.js';
import type { CaptureOptions } from './cli-test-io.js';
import { startStandIn } from './stand-in-server.js';
import type { StandIn } from './stand-in-server.js';

let server: StandIn;
let tmp: string;
let env: Record<string, string>;

before(async () => {
  server = await startStandIn();
  tmp = mkdtempSync(join(tmpdir(), 'nimbus-cli-api-'));
  env = { NIMBUS_ENDPOINT: server.url, NIMBUS_TOKEN: server.token };
});
after(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  server.requests.length = 0;
});
// After the hooks above, so that the server is closed before the guard looks for leaks.
installLeakGuard();

function cli(argv: string[], options: CaptureOptions = {}): ReturnType<typeof run> {
  return run(argv, { env, cwd: tmp, ...options });
}

/** Writes a one-function nodejs app and returns its directory. */
function writeApp(name: string, handlerBody = 'return { ok: true };'): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'nimbus.yml'),
    `app: ${name}\nfunctions:\n  hello:\n    handler: src/hello.handler\n    memory: 256\n  bye:\n    handler: src/hello.bye\n    runtime: nodejs\n`,
  );
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'src', 'hello.mjs'),
    `export const handler = async () => { ${handlerBody} };\nexport const bye = async () => 'bye';\n`,
  );
  return dir;
}

describe('ApiClient', () => {
  it('uploads code only when HEAD says it is missing, with bearer auth', async () => {
    const client = new ApiClient({ endpoint: `${server.url}/`, token: server.token });
    const bytes = Buffer.from('zip bytes');
    const sha = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    assert.equal(await client.hasCode(sha), false);
    await client.putCode(sha, bytes);
    assert.equal(await client.hasCode(sha), true);
    const put = server.requests.find((r) => r.method === 'PUT')!;
    assert.equal(put.path, `/v1/code/${sha}`);
    assert.equal(put.headers['content-type'], 'application/octet-stream');
    assert.equal(put.headers.authorization, `Bearer ${server.token}`);
    assert.deepEqual(put.body, bytes);
  });

  it('maps error bodies to ApiError with code, message and status', async () => {
    const client = new ApiClient({ endpoint: server.url, token: server.token });
    await assert.rejects(client.deleteFunction('nope-nope'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'ResourceNotFoundException');
      assert.equal(err.status, 404);
      assert.equal(err.message, 'Function not found: nope-nope');
      return true;
    });
  });

  it('encodes path segments and qualifiers', async () => {
    const client = new ApiClient({ endpoint: server.url, token: server.token });
    await assert.rejects(client.invoke('a b/c', { payload: '{}', qualifier: '$LATEST' }));
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/v1/functions/a%20b%2Fc/invoke');
    assert.equal(req.query.get('qualifier'), '$LATEST');
  });

  it('reports an aborted request as Aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const client = new ApiClient({ endpoint: server.url, token: server.token, signal: controller.signal });
    await assert.rejects(client.listFunctions(), { name: 'ApiError', code: 'Aborted' });
  });
});

describe('auth', () => {
  it('uses credentials.json from --data-dir as accessKeyId:secret, or its token', async () => {
    const dataDir = join(tmp, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      join(dataDir, 'credentials.json'),
      JSON.stringify({ accessKeyId: 'AKNB1', secretAccessKey: 's3cret' }),
    );
    const noToken = { NIMBUS_ENDPOINT: server.url };
    let r = await cli(['ls', '--data-dir', dataDir], { env: noToken });
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer AKNB1:s3cret');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error UnrecognizedClientException: The token is not valid\.\n$/);

    writeFileSync(
      join(dataDir, 'credentials.json'),
      JSON.stringify({ accessKeyId: 'AKNB1', secretAccessKey: 's3cret', token: server.token }),
    );
    r = await cli(['ls', '--data-dir', 'data'], { env: noToken });
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['ls'], { env: { ...noToken, NIMBUS_DATA_DIR: dataDir } });
    assert.equal(r.code, 0, r.stderr);
  });

  it('root key env variables win over the data dir', async () => {
    await cli(['ls'], {
      env: {
        NIMBUS_ENDPOINT: server.url,
        NIMBUS_ROOT_ACCESS_KEY_ID: 'AKNBENV',
        NIMBUS_ROOT_SECRET_ACCESS_KEY: 'x',
      },
    });
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer AKNBENV:x');
  });

  it('without credentials it sends none and says how to get some', async () => {
    const r = await cli(['ls'], { env: { NIMBUS_ENDPOINT: server.url } });
    assert.equal(server.requests.at(-1)!.headers.authorization, undefined);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error MissingAuthenticationTokenException: Missing authentication token\. \(no credentials found: set NIMBUS_TOKEN/,
    );
  });
});

describe('nimbus deploy', () => {
  it('bundles, uploads new blobs, deploys with prune and prints a table', async () => {
    const dir = writeApp('shop');
    const r = await cli(['deploy', dir]);
    assert.equal(r.code, 0, r.stderr);
    const methods = server.requests.map((q) => `${q.method} ${q.path.replace(/[0-9a-f]{64}/, 'SHA')}`);
    // Both functions bundle the same file into the same bytes: one blob, checked and sent once.
    assert.deepEqual(methods, ['HEAD /v1/code/SHA', 'PUT /v1/code/SHA', 'POST /v1/apps/shop/deploy']);
    const body = JSON.parse(server.requests.at(-1)!.body.toString()) as {
      functions: Array<{
        name: string;
        codeSha256: string;
        codeSize: number;
        config: Record<string, unknown>;
      }>;
      prune: boolean;
    };
    assert.equal(body.prune, true);
    assert.deepEqual(
      body.functions.map((f) => f.name),
      ['hello', 'bye'],
    );
    const hello = body.functions[0]!;
    assert.equal(hello.config.memory, 256);
    assert.equal(hello.config.runtime, 'nodejs');
    assert.match(
      String(hello.config.handler),
      /^index\.handler$/,
      'the bundle handler replaces the written one',
    );
    assert.equal(server.code.get(hello.codeSha256)!.length, hello.codeSize);
    assert.match(r.stdout, /^FUNCTION +VERSION +CODE\nshop-hello +\$LATEST +[0-9a-f]{12}\nshop-bye /);
    assert.match(r.stdout, /✓ deployed shop: 2 functions in /);
    assert.match(r.stderr, /✓ hello {2}\d+(\.\d)? (B|KB) {2}uploaded\n/);
    assert.ok(!r.stderr.includes('\u001b'), 'no escape codes when not on a terminal');
  });

  it('skips blobs the server already has; --json prints the response', async () => {
    const dir = writeApp('shop');
    const r = await cli(['deploy', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      server.requests.map((q) => q.method),
      ['HEAD', 'POST'],
    );
    const res = JSON.parse(r.stdout) as {
      app: string;
      functions: Array<{ fullName: string; version: string }>;
    };
    assert.equal(res.app, 'shop');
    assert.deepEqual(
      res.functions.map((f) => [f.fullName, f.version]),
      [
        ['shop-hello', '$LATEST'],
        ['shop-bye', '$LATEST'],
      ],
    );
    assert.match(r.stderr, /unchanged/);
  });

  it('an invalid nimbus.yml prints file:line and uploads nothing', async () => {
    const dir = join(tmp, 'broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'nimbus.yml'),
      'app: broken\nfunctions:\n  hello:\n    handler: index.handler\n    memory: lots\n',
    );
    const r = await cli(['deploy', dir]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error InvalidConfigError: [\s\S]*nimbus\.yml:5:13: functions\.hello\.memory must be/,
    );
    assert.equal(r.stdout, '');
    assert.deepEqual(server.requests, []);
  });

  it('a missing handler file is a BundleError and uploads nothing', async () => {
    const dir = join(tmp, 'nohandler');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'nimbus.yml'),
      'app: nohandler\nfunctions:\n  hello:\n    handler: missing.handler\n',
    );
    const r = await cli(['deploy', dir]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /✗ bundling hello failed\nerror BundleError: functions\.hello: handler file not found/,
    );
    assert.deepEqual(server.requests, []);
  });

  it('a directory without nimbus.yml is an error', async () => {
    const r = await cli(['deploy', join(tmp, 'does-not-exist')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error /);
    assert.deepEqual(server.requests, []);
  });
});

describe('nimbus ls', () => {
  it('prints a table, filters by app, and prints JSON', async () => {
    writeApp('shop');
    await cli(['deploy', 'shop']);
    let r = await cli(['ls']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^FUNCTION +RUNTIME +MEMORY +TIMEOUT +CODE +ISOLATION +LAST MODIFIED\n/);
    assert.match(
      r.stdout,
      /\nshop-hello +nodejs +256 MB +3 s +\d+(\.\d)? (B|KB) +process +2026-11-22 06:40:12\n/,
    );
    r = await cli(['ls', '--app', 'nothing']);
    assert.equal(server.requests.at(-1)!.query.get('app'), 'nothing');
    assert.match(r.stdout, /^no functions in app nothing/);
    r = await cli(['--json', 'ls', '--app', 'shop']);
    const parsed = JSON.parse(r.stdout) as { functions: Array<{ fullName: string }> };
    assert.deepEqual(parsed.functions.map((f) => f.fullName).sort(), ['shop-bye', 'shop-hello']);
  });
});

describe('nimbus invoke', () => {
  before(async () => {
    writeApp('demo');
    const r = await cli(['deploy', 'demo']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('sends {} by default and prints the raw result', async () => {
    const r = await cli(['invoke', 'demo-hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"message":"Hello, world!","qualifier":null}\n');
    const req = server.requests.at(-1)!;
    assert.equal(req.body.toString(), '{}');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.query.get('async'), null);
  });

  it('sends --data, inline or from a file, and --qualifier', async () => {
    let r = await cli(['invoke', 'demo-hello', '--data', '{"name":"Ada"}', '-q', 'live']);
    assert.equal(r.stdout, '{"message":"Hello, Ada!","qualifier":"live"}\n');
    writeFileSync(join(tmp, 'event.json'), '{ "name": "Grace" }\n');
    r = await cli(['invoke', 'demo-hello', '--data', '@event.json']);
    assert.equal(
      server.requests.at(-1)!.body.toString(),
      '{ "name": "Grace" }\n',
      'the file is sent as written',
    );
    assert.match(r.stdout, /Hello, Grace!/);
  });

  it('pretty-prints on a terminal', async () => {
    const r = await cli(['invoke', 'demo-hello'], { tty: true, env: { ...env, NO_COLOR: '1' } });
    assert.equal(r.stdout, '{\n  "message": "Hello, world!",\n  "qualifier": null\n}\n');
  });

  it('a function error prints its JSON on stdout and exits 1', async () => {
    const r = await cli(['invoke', 'demo-hello', '--data', '{"fail":true}']);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), {
      errorType: 'Error',
      errorMessage: 'boom',
      trace: ['Error: boom'],
    });
    assert.match(r.stderr, /^error function Unhandled: Error: boom \(request req-42\)\n$/);
  });

  it('--log prints the decoded log tail on stderr', async () => {
    const r = await cli(['invoke', 'demo-hello', '--log']);
    assert.equal(r.code, 0);
    assert.equal(server.requests.at(-1)!.query.get('log'), 'tail');
    assert.equal(r.stderr, 'START\nsaying hello\nEND\n');
    assert.match(r.stdout, /Hello, world!/);
  });

  it('--async prints the invocation id and how to check it', async () => {
    let r = await cli(['invoke', 'demo-hello', '--async']);
    assert.equal(r.code, 0);
    assert.equal(server.requests.at(-1)!.query.get('async'), 'true');
    assert.equal(r.stdout, 'inv-123\n');
    assert.match(r.stderr, /nimbus invocations inv-123/);
    r = await cli(['invoke', 'demo-hello', '--async', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), { invocationId: 'inv-123' });
  });

  it('--idempotency-key is sent as X-Nimbus-Idempotency-Key, and only with --async', async () => {
    let r = await cli(['invoke', 'demo-hello', '--async', '--idempotency-key', 'order-42']);
    assert.equal(r.code, 0);
    assert.equal(server.requests.at(-1)!.headers['x-nimbus-idempotency-key'], 'order-42');
    r = await cli(['invoke', 'demo-hello', '--idempotency-key', 'order-42']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /only with --async/);
  });

  it('an unknown function is an API error, exit 1', async () => {
    const r = await cli(['invoke', 'demo-nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'error ResourceNotFoundException: Function not found: demo-nope\n');
  });
});

describe('nimbus logs', () => {
  before(async () => {
    writeApp('logapp');
    await cli(['deploy', 'logapp']);
    const now = Date.now();
    server.logLines.push(
      {
        id: 1,
        timestamp: now - 3_600_000,
        requestId: 'aaaaaaaa-1',
        stream: 'stdout',
        message: 'old line\n',
        version: '$LATEST',
      },
      {
        id: 2,
        timestamp: now - 1000,
        requestId: 'bbbbbbbb-2',
        stream: 'stderr',
        message: 'recent line',
        version: '1',
      },
    );
  });

  it('prints lines, with --since as epoch ms (default: the last 10 minutes)', async () => {
    let r = await cli(['logs', 'logapp-hello', '--since', '2h']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} {2}\$LATEST {2}aaaaaaaa {2}old line\n.* {2}1 {2}bbbbbbbb {2}recent line\n$/,
    );
    const before = Date.now();
    r = await cli(['logs', 'logapp-hello']);
    const since = Number(server.requests.at(-1)!.query.get('since'));
    assert.ok(Math.abs(before - 600_000 - since) < 5000, `since=${since}`);
    assert.doesNotMatch(r.stdout, /old line/);
    assert.match(r.stdout, /recent line/);
  });

  it('--json prints one JSON object per line', async () => {
    const r = await cli(['logs', 'logapp-hello', '--json', '--since', '2h']);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number });
    assert.deepEqual(
      lines.map((l) => l.id),
      [1, 2],
    );
  });

  it('--follow polls with after=<last id> until aborted', async () => {
    const controller = new AbortController();
    const pending = cli(['logs', 'logapp-hello', '-f', '--since', '2h'], { signal: controller.signal });
    const waitFor = async (pred: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => server.requests.some((q) => q.query.get('after') === '2'));
    server.logLines.push({
      id: 3,
      timestamp: Date.now(),
      requestId: 'cccccccc',
      stream: 'stdout',
      message: 'new line',
      version: '$LATEST',
    });
    await waitFor(() => server.requests.some((q) => q.query.get('after') === '3'));
    controller.abort();
    const r = await pending;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /old line\n.*recent line\n.*new line\n$/);
    assert.equal(server.logLines.pop()!.id, 3);
  });
});

describe('nimbus versions, alias and rm', () => {
  before(async () => {
    writeApp('ver');
    await cli(['deploy', 'ver']);
  });

  it('lists and publishes versions', async () => {
    let r = await cli(['versions', 'ver-hello']);
    assert.match(r.stdout, /^no published versions/);
    r = await cli(['versions', 'publish', 'ver-hello', '--description', 'first']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { description: 'first' });
    assert.match(r.stdout, /✓ published ver-hello:1 \(code [0-9a-f]{12}\)/);
    r = await cli(['versions', 'publish', 'ver-hello', '--json']);
    assert.equal((JSON.parse(r.stdout) as { version: string }).version, '2');
    r = await cli(['versions', 'ver-hello']);
    assert.match(
      r.stdout,
      /^VERSION +CODE +CREATED +DESCRIPTION\n1 +[0-9a-f]{12} +2026-11-22 06:40:12 +first\n2 /,
    );
  });

  it('sets, lists and removes aliases, with a weighted second version', async () => {
    let r = await cli([
      'alias',
      'set',
      'ver-hello',
      'live',
      '1',
      '--weight',
      '2=0.25',
      '--description',
      'canary',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const req = server.requests.at(-1)!;
    assert.equal(req.method, 'PUT');
    assert.equal(req.path, '/v1/functions/ver-hello/aliases/live');
    assert.deepEqual(JSON.parse(req.body.toString()), {
      version: '1',
      additionalVersion: { version: '2', weight: 0.25 },
      description: 'canary',
    });
    assert.equal(r.stdout, '✓ ver-hello:live → 1 (75%), 2 (25%)\n');
    await cli(['alias', 'set', 'ver-hello', 'stable', '2']);
    assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { version: '2' });
    r = await cli(['alias', 'ls', 'ver-hello']);
    assert.match(r.stdout, /^ALIAS +VERSION +DESCRIPTION\nlive +1 \(75%\), 2 \(25%\) +canary\nstable +2\n$/);
    r = await cli(['alias', 'rm', 'ver-hello', 'live']);
    assert.equal(r.stdout, '✓ deleted alias ver-hello:live\n');
    assert.equal(server.requests.at(-1)!.method, 'DELETE');
    r = await cli(['alias', 'rm', 'ver-hello', 'live']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error ResourceNotFoundException: Alias not found: live/);
  });

  it('removes a function, then the app', async () => {
    let r = await cli(['rm', 'ver-bye']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '✓ deleted function ver-bye\n');
    assert.ok(!server.functions.has('ver-bye'));
    r = await cli(['rm', 'ver-bye', '--json']);
    assert.equal(r.code, 1);
    r = await cli(['rm', '--app', 'ver', '--json']);
    assert.equal(r.code, 0);
    assert.equal(server.requests.at(-1)!.path, '/v1/apps/ver');
    assert.deepEqual(JSON.parse(r.stdout), { app: 'ver', deleted: true });
    assert.ok(!server.functions.has('ver-hello'));
  });
});
