// Tests for src/runtime/runners/python-runner.py: real python3 processes driven over fd 3 by the test harness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { installLeakGuard } from '../helpers/leak-guard.js';
import {
  RUNNERS_DIR,
  RUNNERS_IN_SANDBOX,
  RunnerHarness,
  TASK_ROOT_IN_SANDBOX,
  bwrapArgs,
  bwrapAvailable,
  writeTaskDir,
  type LoadOptions,
} from '../helpers/runner-harness.js';

installLeakGuard();

const RUNNER = `${RUNNERS_DIR}/python-runner.py`;

/** Writes `files` to a temp task root, starts a runner, loads `handler`, runs `fn`, cleans up. */
async function withPython(
  files: Record<string, string>,
  fn: (h: RunnerHarness, load: () => ReturnType<RunnerHarness['load']>, dir: string) => Promise<void>,
  opts: Partial<LoadOptions> & { python?: string } = {},
): Promise<void> {
  const task = writeTaskDir(files);
  const h = new RunnerHarness(opts.python ?? 'python3', ['-u', RUNNER]);
  try {
    await h.ready();
    await fn(h, () => h.load({ handler: 'app.handler', taskRoot: task.dir, ...opts }), task.dir);
  } finally {
    await h.close();
    task.cleanup();
  }
}

test('hello: ready, load, invoke, None → null, timings', async (t) => {
  const started = performance.now();
  const task = writeTaskDir({
    'app.py':
      'def handler(event, context):\n    return {"hello": event["name"]}\n\ndef none(event, context):\n    pass\n',
  });
  const h = new RunnerHarness('python3', ['-u', RUNNER]);
  try {
    const ready = await h.ready();
    const readyMs = performance.now() - started;
    assert.equal(ready.pid, h.child.pid);
    const loaded = await h.load({ handler: 'app.handler', taskRoot: task.dir });
    assert.equal(loaded.header.t, 'loaded');
    assert.equal(typeof loaded.header.initMs, 'number');
    const r = await h.invoke({ name: 'nimbus' });
    assert.equal(r.header.ok, true);
    assert.deepEqual(r.value, { hello: 'nimbus' });
    assert.ok(r.header.maxRssMB > 1 && r.header.maxRssMB < 500, `maxRssMB ${r.header.maxRssMB}`);
    assert.equal(r.header.logs, '');
    const warm: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await h.invoke({ name: String(i) });
      warm.push(performance.now() - t0);
    }
    warm.sort((a, b) => a - b);
    t.diagnostic(
      `python3 (PATH): ready ${readyMs.toFixed(1)} ms, init ${loaded.header.initMs} ms, warm p50 ${warm[10]!.toFixed(3)} ms`,
    );
  } finally {
    await h.close();
  }
  // Closing fd 3 is a graceful dispose: the runner exits by itself, not by the harness's SIGKILL.
  assert.deepEqual(await h.exited, { code: 0, signal: null });
  // A handler returning None produces the body `null`.
  const h2 = new RunnerHarness('python3', ['-u', RUNNER]);
  try {
    await h2.ready();
    assert.equal((await h2.load({ handler: 'app.none', taskRoot: task.dir })).header.t, 'loaded');
    const r = await h2.invoke({});
    assert.equal(r.header.ok, true);
    assert.equal(r.body.toString(), 'null');
  } finally {
    await h2.close();
    task.cleanup();
  }
});

test('context fields', async () => {
  const app = `
import json
def handler(event, context):
    cc = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "client_custom": cc.custom if cc else None,
        "client_app_title": cc.client.app_title if cc and cc.client else None,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
    }
`;
  await withPython(
    { 'app.py': app },
    async (h, load) => {
      assert.equal((await load()).header.t, 'loaded');
      const clientContext = Buffer.from(
        JSON.stringify({ client: { app_title: 'demo' }, custom: { k: 'v' }, env: { platform: 'x' } }),
      ).toString('base64');
      const r = await h.invoke({}, { id: 'req-ctx-1', deadlineMs: Date.now() + 5000, clientContext });
      assert.equal(r.header.ok, true, JSON.stringify(r.header.error));
      const v = r.value as Record<string, unknown>;
      assert.equal(v.aws_request_id, 'req-ctx-1');
      assert.equal(v.function_name, 'ctx-fn');
      assert.equal(v.function_version, '$LATEST');
      assert.equal(v.memory_limit_in_mb, '256');
      assert.equal(v.invoked_function_arn, 'arn:aws:lambda:local:000000000000:function:ctx-fn');
      assert.equal(v.log_group_name, '/aws/lambda/ctx-fn');
      assert.equal(v.log_stream_name, '2026/11/22/[$LATEST]0123456789abcdef');
      assert.ok(
        (v.remaining as number) > 4000 && (v.remaining as number) <= 5000,
        `remaining ${v.remaining}`,
      );
      assert.deepEqual(v.client_custom, { k: 'v' });
      assert.equal(v.client_app_title, 'demo');
      assert.deepEqual(v.identity, [null, null]);
      // Without a client context the attribute is None.
      const r2 = await h.invoke({});
      assert.equal((r2.value as Record<string, unknown>).client_custom, null);
    },
    { functionName: 'ctx-fn', memoryMB: 256 },
  );
});

test('exceptions: Lambda error shape with a user-code trace; the runner stays usable', async () => {
  const app = `
class PaymentDeclined(Exception):
    pass

def helper(kind):
    if kind == "value":
        raise ValueError("boom")
    if kind == "custom":
        raise PaymentDeclined("card 4242 declined")
    return "fine"

def handler(event, context):
    return helper(event["kind"])
`;
  await withPython({ 'app.py': app }, async (h, load) => {
    assert.equal((await load()).header.t, 'loaded');
    const r = await h.invoke({ kind: 'value' });
    assert.equal(r.header.ok, false);
    assert.equal(r.body.length, 0);
    const e = r.header.error!;
    assert.equal(e.errorType, 'ValueError');
    assert.equal(e.errorMessage, 'boom');
    assert.ok(Array.isArray(e.trace) && e.trace.length === 2, JSON.stringify(e.trace));
    assert.match(e.trace![0]!, /app\.py", line 13, in handler/);
    assert.match(e.trace![1]!, /line 7, in helper\n\s+raise ValueError\("boom"\)/);
    assert.ok(!e.trace!.some((l) => l.includes('python-runner')), 'runner frames are stripped');
    assert.match(
      r.header.logs,
      /^\[ERROR\] ValueError: boom\nTraceback \(most recent call last\):\n {2}File/,
    );

    const c = await h.invoke({ kind: 'custom' });
    assert.equal(c.header.error?.errorType, 'PaymentDeclined');
    assert.equal(c.header.error?.errorMessage, 'card 4242 declined');

    const ok = await h.invoke({ kind: 'none' });
    assert.equal(ok.header.ok, true);
    assert.equal(ok.value, 'fine');
    assert.equal(ok.header.logs, '', 'logs do not leak from the previous invocation');
  });
});

test('load errors: syntax error, missing handler, import errors, init exception, malformed name', async () => {
  const files = {
    'broken.py': 'def handler(event, context)\n    return 1\n',
    'app.py': 'NOT_CALLABLE = 3\ndef handler(event, context):\n    return 1\n',
    'needs_dep.py': 'import requests_that_do_not_exist\ndef handler(e, c):\n    return 1\n',
    'boom.py': 'print("starting up")\nraise RuntimeError("config missing")\n',
    'quits.py': 'import sys\nsys.exit(3)\n',
  };
  const task = writeTaskDir(files);
  const cases: [string, string, RegExp][] = [
    ['broken.handler', 'Runtime.UserCodeSyntaxError', /^Syntax error in module 'broken': .*line 1/],
    ['app.nope', 'Runtime.HandlerNotFound', /^Handler 'nope' missing on module 'app'$/],
    ['app.NOT_CALLABLE', 'Runtime.HandlerNotFound', /^Handler 'NOT_CALLABLE' missing on module 'app'$/],
    [
      'missing.handler',
      'Runtime.ImportModuleError',
      /^Unable to import module 'missing': No module named 'missing'$/,
    ],
    [
      'needs_dep.handler',
      'Runtime.ImportModuleError',
      /^Unable to import module 'needs_dep': No module named 'requests_that_do_not_exist'$/,
    ],
    ['boom.handler', 'RuntimeError', /^config missing$/],
    ['app', 'Runtime.MalformedHandlerName', /^Bad handler 'app'/],
    ['quits.handler', 'Runtime.ExitError', /exit status 3/],
  ];
  try {
    for (const [handler, errorType, message] of cases) {
      const h = new RunnerHarness('python3', ['-u', RUNNER]);
      try {
        await h.ready();
        const out = await h.load({ handler, taskRoot: task.dir });
        assert.equal(out.header.t, 'load-error', handler);
        assert.equal(out.header.error?.errorType, errorType, handler);
        assert.match(out.header.error!.errorMessage, message, handler);
        assert.ok(Array.isArray(out.header.error!.trace), handler);
        assert.match(
          out.header.logs ?? '',
          new RegExp(`\\[ERROR\\] ${errorType.replace('.', '\\.')}: `),
          handler,
        );
        if (handler === 'broken.handler') assert.match(out.header.error!.trace![0]!, /broken\.py" Line 1/);
        if (handler === 'boom.handler') {
          assert.match(out.header.logs ?? '', /^starting up\n/);
          assert.match(out.header.error!.trace!.join(''), /boom\.py", line 2/);
        }
        if (handler === 'quits.handler') {
          assert.equal((await h.exited).code, 3);
        } else {
          // An invoke after a failed load is refused, not run.
          const r = await h.invoke({});
          assert.equal(r.header.error?.errorType, 'Runtime.InvalidState');
        }
      } finally {
        await h.close();
      }
    }
  } finally {
    task.cleanup();
  }
});

test('handler in a sub-directory: src/app.handler', async () => {
  await withPython(
    {
      'src/app.py': 'from src import util\ndef handler(e, c):\n    return util.VALUE\n',
      'src/util.py': 'VALUE = 42\n',
    },
    async (h, load) => {
      assert.equal((await load()).header.t, 'loaded');
      assert.equal((await h.invoke({})).value, 42);
    },
    { handler: 'src/app.handler' },
  );
});

test('logs: print, stderr, logging in Lambda format, per invocation; init output as a log frame', async () => {
  const app = `
import logging, sys
print("cold start")
logger = logging.getLogger()
def handler(event, context):
    print("hello", event["n"])
    sys.stderr.write("to stderr\\n")
    sys.stdout.buffer.write(b"raw bytes\\n")
    logger.info("hidden at the default WARNING level")
    logger.warning("careful %s", event["n"])
    if event["n"] == 2:
        logger.setLevel(logging.INFO)
        logger.info("now visible")
    return event["n"]
`;
  await withPython({ 'app.py': app }, async (h, load) => {
    const loaded = await load();
    assert.equal(loaded.header.t, 'loaded');
    assert.deepEqual(loaded.logFrames, ['cold start\n']);
    const r1 = await h.invoke({ n: 1 }, { id: 'req-log-1' });
    const lines = r1.header.logs.split('\n');
    assert.equal(lines[0], 'hello 1');
    assert.equal(lines[1], 'to stderr');
    assert.equal(lines[2], 'raw bytes');
    assert.match(lines[3]!, /^\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-log-1\tcareful 1$/);
    assert.equal(lines.length, 5, r1.header.logs);
    const r2 = await h.invoke({ n: 2 }, { id: 'req-log-2' });
    assert.ok(!r2.header.logs.includes('hello 1'));
    assert.match(r2.header.logs, /\[INFO\]\t[^\t]+Z\treq-log-2\tnow visible\n$/);
    assert.equal(h.stdout, '', 'nothing escapes to the real stdout');
  });
});

test('env vars from the load message, reserved defaults, TZ', async () => {
  const app = `
import os, time
AT_IMPORT = os.environ.get("GREETING")
def handler(event, context):
    return {
        "at_import": AT_IMPORT,
        "greeting": os.environ.get("GREETING"),
        "fn": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "mem": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
        "root": os.environ.get("LAMBDA_TASK_ROOT"),
        "handler": os.environ.get("_HANDLER"),
        "region": os.environ.get("AWS_REGION"),
        "tz": time.strftime("%Z", time.localtime(0)),
        "cwd": os.getcwd(),
    }
`;
  await withPython(
    { 'app.py': app },
    async (h, load, dir) => {
      assert.equal((await load()).header.t, 'loaded');
      const v = (await h.invoke({})).value as Record<string, string>;
      assert.equal(v.at_import, 'hi');
      assert.equal(v.greeting, 'hi');
      assert.equal(v.fn, 'env-fn');
      assert.equal(v.mem, '128');
      assert.equal(v.root, dir);
      assert.equal(v.handler, 'app.handler');
      assert.equal(v.region, 'local');
      assert.equal(v.tz, 'JST');
      assert.equal(v.cwd, dir);
    },
    { env: { GREETING: 'hi', TZ: 'Asia/Tokyo' }, functionName: 'env-fn' },
  );
});

test('marshalling: unserialisable result, Decimal, invalid event JSON', async () => {
  const app = `
from decimal import Decimal
def handler(event, context):
    if event == "set":
        return {1, 2}
    return {"price": Decimal("1.5")}
`;
  await withPython({ 'app.py': app }, async (h, load) => {
    assert.equal((await load()).header.t, 'loaded');
    const bad = await h.invoke('set');
    assert.equal(bad.header.error?.errorType, 'Runtime.MarshalError');
    assert.match(bad.header.error!.errorMessage, /^Unable to marshal response: .*set/);
    assert.deepEqual((await h.invoke('dec')).value, { price: 1.5 });
    const garbage = await h.invoke(undefined, { raw: Buffer.from('{not json') });
    assert.equal(garbage.header.error?.errorType, 'Runtime.UnmarshalError');
  });
});

test('sys.exit in a handler: Runtime.ExitError, then the runner exits', async () => {
  await withPython(
    { 'app.py': 'import sys\ndef handler(e, c):\n    print("bye")\n    sys.exit(2)\n' },
    async (h, load) => {
      assert.equal((await load()).header.t, 'loaded');
      const r = await h.invoke({});
      assert.equal(r.header.error?.errorType, 'Runtime.ExitError');
      assert.match(r.header.error!.errorMessage, /exit status 2/);
      assert.equal(r.header.logs, 'bye\n');
      assert.equal((await h.exited).code, 2);
    },
  );
});

test('large event and response (5 MB) round-trip', async () => {
  await withPython(
    { 'app.py': 'def handler(e, c):\n    return {"echo": e["blob"], "n": len(e["blob"])}\n' },
    async (h, load) => {
      assert.equal((await load()).header.t, 'loaded');
      const blob = 'x'.repeat(5 * 1024 * 1024);
      const r = await h.invoke({ blob });
      assert.equal(r.header.ok, true);
      assert.equal((r.value as { n: number }).n, blob.length);
    },
  );
});

const PY38 = '/root/.pyenv/versions/3.8.18/bin/python3';
test('runs on Python 3.8', { skip: !existsSync(PY38) && 'python 3.8 not installed' }, async () => {
  await withPython(
    { 'app.py': 'import logging\ndef handler(e, c):\n    logging.warning("w")\n    return e\n' },
    async (h, load) => {
      assert.equal((await load()).header.t, 'loaded');
      const r = await h.invoke({ a: [1, 2] });
      assert.deepEqual(r.value, { a: [1, 2] });
      assert.match(r.header.logs, /^\[WARNING\]\t/);
    },
    { python: PY38 },
  );
});

test('inside bubblewrap: read-only code, private /tmp, uid 65534, no network', async (t) => {
  if (!(await bwrapAvailable())) {
    t.skip('bwrap cannot create namespaces here');
    return;
  }
  const app = `
import os, socket
def handler(event, context):
    out = {"uid": os.getuid(), "cwd": os.getcwd()}
    try:
        open("/var/task/new.txt", "w")
        out["task_writable"] = True
    except OSError as e:
        out["task_writable"] = False
    with open("/tmp/scratch", "w") as f:
        f.write("ok")
    out["tmp"] = sorted(os.listdir("/tmp"))
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("1.1.1.1", 53))
        out["net"] = "connected"
    except OSError as e:
        out["net"] = type(e).__name__
    finally:
        s.close()
    lo = socket.socket()
    lo.bind(("127.0.0.1", 0))
    out["loopback"] = lo.getsockname()[1] > 0
    lo.close()
    out["env_keys"] = sorted(k for k in os.environ if not k.startswith("AWS_") and k not in ("LAMBDA_TASK_ROOT", "_HANDLER"))
    return out
`;
  const task = writeTaskDir({ 'app.py': app });
  const started = performance.now();
  const h = new RunnerHarness(
    'bwrap',
    bwrapArgs(task.dir, ['python3', '-u', `${RUNNERS_IN_SANDBOX}/python-runner.py`]),
  );
  try {
    await h.ready();
    const readyMs = performance.now() - started;
    const loaded = await h.load({
      handler: 'app.handler',
      taskRoot: TASK_ROOT_IN_SANDBOX,
      env: { TZ: 'UTC' },
    });
    assert.equal(loaded.header.t, 'loaded', JSON.stringify(loaded.header));
    const r = await h.invoke({});
    assert.equal(r.header.ok, true, JSON.stringify(r.header.error));
    const v = r.value as Record<string, unknown>;
    assert.equal(v.uid, 65534);
    assert.equal(v.cwd, TASK_ROOT_IN_SANDBOX);
    assert.equal(v.task_writable, false);
    assert.deepEqual(v.tmp, ['scratch']);
    assert.equal(v.net, 'OSError', 'no route out of the network namespace');
    assert.equal(v.loopback, true);
    // Clean environment: python adds LC_CTYPE (PEP 538 locale coercion), bwrap adds PWD.
    assert.deepEqual(
      (v.env_keys as string[]).filter((k) => !['LC_CTYPE', 'PWD'].includes(k)),
      ['PATH', 'TZ'],
    );
    t.diagnostic(`python3 in bwrap: ready ${readyMs.toFixed(1)} ms, init ${loaded.header.initMs} ms`);
  } finally {
    await h.close();
    task.cleanup();
  }
});
