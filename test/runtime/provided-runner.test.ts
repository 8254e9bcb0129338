// Tests for src/runtime/runners/provided-runner.mjs: real bootstraps (python urllib and bash+curl) speaking the Lambda Runtime API.
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

const RUNNER = `${RUNNERS_DIR}/provided-runner.mjs`;

/**
 * A custom runtime in Python in the style of AWS's custom-runtime tutorial: it imports the
 * module named by _HANDLER from LAMBDA_TASK_ROOT and loops on /invocation/next. Handlers get
 * (event, headers, call) so tests can probe the Runtime API from inside an invocation.
 */
const PY_BOOTSTRAP = `#!/usr/bin/env python3
import importlib, json, os, sys, traceback, urllib.request, urllib.error

API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]
LAST_STATUS = {"response": None}

def call(method, path, body=None, headers=None):
    req = urllib.request.Request(API + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()

print("bootstrap pid %d" % os.getpid(), flush=True)
if os.environ.get("BOOT_MODE") == "exit-early":
    print("giving up before init is done", flush=True)
    sys.exit(3)

sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
module_name, func_name = os.environ["_HANDLER"].rsplit(".", 1)
try:
    handler = getattr(importlib.import_module(module_name), func_name)
except Exception as e:
    err = {"errorMessage": str(e), "errorType": "Runtime.ImportModuleError",
           "stackTrace": traceback.format_exc().splitlines()}
    status, _, _ = call("POST", "/init/error", json.dumps(err).encode(),
                        {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
    print("init/error status %d" % status, flush=True)
    import time
    time.sleep(30)  # The runner kills us; if it did not, the test would notice the stray process.
    sys.exit(1)

while True:
    status, headers, body = call("GET", "/invocation/next")
    request_id = headers["Lambda-Runtime-Aws-Request-Id"]
    try:
        result = handler(json.loads(body), headers, call, LAST_STATUS)
    except Exception as e:
        err = {"errorMessage": str(e), "errorType": type(e).__name__,
               "stackTrace": traceback.format_exc().splitlines()}
        call("POST", "/invocation/%s/error" % request_id, json.dumps(err).encode(),
             {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
        continue
    status, _, _ = call("POST", "/invocation/%s/response" % request_id, json.dumps(result).encode())
    LAST_STATUS["response"] = status
`;

const FUNCTION_PY = `
import json, os, sys

def echo(event, headers, call, last):
    print("handling", json.dumps(event))
    sys.stderr.write("a warning\\n")
    sys.stdout.flush()
    sys.stderr.flush()
    return {"echo": event, "last_status": last["response"]}

def introspect(event, headers, call, last):
    return {
        "headers": {k.lower(): v for k, v in headers.items()},
        "env": {k: os.environ.get(k) for k in ("AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "_HANDLER",
                                               "GREETING", "AWS_LAMBDA_FUNCTION_NAME", "PATH")},
        "cwd": os.getcwd(),
    }

def fail(event, headers, call, last):
    raise ValueError("bad input: %s" % event.get("why"))

def crash(event, headers, call, last):
    print("about to crash", flush=True)
    os._exit(7)

def probe(event, headers, call, last):
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    wrong = call("POST", "/invocation/not-%s/response" % rid, b"{}")
    again = call("GET", "/invocation/next")
    missing = call("GET", "/2018-06-01/nothing-here")
    init_err = call("POST", "/init/error", b"{}")
    return {
        "wrong_id": [wrong[0], json.loads(wrong[2])],
        "next_again": [again[0], json.loads(again[2])["errorType"]],
        "not_found": missing[0],
        "init_error_after_init": [init_err[0], json.loads(init_err[2])["errorType"]],
    }

def big(event, headers, call, last):
    return "x" * event["size"]

def inspect_sandbox(event, headers, call, last):
    import socket
    out = {"uid": os.getuid(), "cwd": os.getcwd()}
    try:
        open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "new.txt"), "w")
        out["task_writable"] = True
    except OSError:
        out["task_writable"] = False
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("1.1.1.1", 53))
        out["net"] = "connected"
    except OSError:
        out["net"] = "blocked"
    finally:
        s.close()
    return out
`;

const BROKEN_PY = 'raise ImportError("no module named numpy_lite")\n';

const files = (bootstrap = PY_BOOTSTRAP) => ({
  bootstrap: { content: bootstrap, mode: 0o755 },
  'function.py': FUNCTION_PY,
  'broken.py': BROKEN_PY,
});

/** Starts a runner on a fresh task dir, loads it, runs `fn`, and always cleans up. */
async function withProvided(
  handler: string,
  fn: (h: RunnerHarness, load: () => ReturnType<RunnerHarness['load']>, dir: string) => Promise<void>,
  opts: Partial<LoadOptions> & { files?: Parameters<typeof writeTaskDir>[0] } = {},
): Promise<void> {
  const task = writeTaskDir(opts.files ?? files());
  const h = new RunnerHarness(process.execPath, [RUNNER]);
  try {
    await h.ready();
    await fn(h, () => h.load({ handler, taskRoot: task.dir, ...opts }), task.dir);
  } finally {
    await h.close();
    task.cleanup();
  }
}

function bootstrapPid(text: string): number {
  const m = /bootstrap pid (\d+)/.exec(text);
  assert.ok(m, `no bootstrap pid in ${JSON.stringify(text)}`);
  return Number(m[1]);
}

async function assertGone(pid: number): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) assert.fail(`process ${pid} is still running`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('python bootstrap: echo, several sequential invocations, per-invocation logs, init log frame', async (t) => {
  let pid = 0;
  await withProvided('function.echo', async (h, load) => {
    const loaded = await load();
    assert.equal(loaded.header.t, 'loaded', JSON.stringify(loaded.header));
    assert.equal(typeof loaded.header.initMs, 'number');
    pid = bootstrapPid(loaded.logFrames.join(''));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await h.invoke({ n: i });
      times.push(performance.now() - t0);
      assert.equal(r.header.ok, true, JSON.stringify(r.header.error));
      assert.deepEqual(r.value, { echo: { n: i }, last_status: i === 0 ? null : 202 });
      assert.match(r.header.logs, new RegExp(`handling \\{"n": ${i}\\}\\n`));
      assert.match(r.header.logs, /a warning\n/);
      assert.equal(r.header.logs.match(/handling/g)?.length, 1, 'only this invocation’s output');
      assert.ok(r.header.maxRssMB > 1, `maxRssMB ${r.header.maxRssMB}`);
    }
    times.sort((a, b) => a - b);
    t.diagnostic(
      `provided (python bootstrap): init ${loaded.header.initMs} ms, warm p50 ${times[2]!.toFixed(2)} ms`,
    );
    await h.close();
    assert.deepEqual(await h.exited, { code: 0, signal: null }, 'exits by itself on fd 3 EOF');
  });
  // Closing fd 3 retires the runner and its bootstrap.
  await assertGone(pid);
});

test('headers, environment and cwd seen by the bootstrap', async () => {
  await withProvided(
    'function.introspect',
    async (h, load, dir) => {
      assert.equal((await load()).header.t, 'loaded');
      const deadlineMs = Date.now() + 12_345;
      const clientContext = Buffer.from(JSON.stringify({ custom: { who: 'zoë' } })).toString('base64');
      const traceId = 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1';
      const r = await h.invoke({}, { id: 'req-hdr-1', deadlineMs, clientContext, traceId });
      assert.equal(r.header.ok, true, JSON.stringify(r.header.error));
      const v = r.value as { headers: Record<string, string>; env: Record<string, string>; cwd: string };
      assert.equal(v.headers['lambda-runtime-aws-request-id'], 'req-hdr-1');
      assert.equal(v.headers['lambda-runtime-deadline-ms'], String(deadlineMs));
      assert.equal(
        v.headers['lambda-runtime-invoked-function-arn'],
        'arn:aws:lambda:local:000000000000:function:hdr-fn',
      );
      assert.equal(v.headers['lambda-runtime-trace-id'], traceId);
      assert.equal(v.headers['content-type'], 'application/json');
      // The header carries the JSON; urllib decodes header bytes as latin1.
      assert.deepEqual(
        JSON.parse(Buffer.from(v.headers['lambda-runtime-client-context']!, 'latin1').toString()),
        {
          custom: { who: 'zoë' },
        },
      );
      assert.match(v.env.AWS_LAMBDA_RUNTIME_API!, /^127\.0\.0\.1:\d+$/);
      assert.equal(v.env.LAMBDA_TASK_ROOT, dir);
      assert.equal(v.env._HANDLER, 'function.introspect');
      assert.equal(v.env.GREETING, 'hello');
      assert.equal(v.env.AWS_LAMBDA_FUNCTION_NAME, 'hdr-fn');
      assert.equal(v.cwd, dir);
      // Without a trace id from the host the runner makes one up; no client context → no header.
      const r2 = await h.invoke({});
      const v2 = r2.value as { headers: Record<string, string> };
      assert.match(
        v2.headers['lambda-runtime-trace-id']!,
        /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/,
      );
      assert.equal(v2.headers['lambda-runtime-client-context'], undefined);
    },
    { functionName: 'hdr-fn', env: { GREETING: 'hello' } },
  );
});

test('function error via /invocation/{id}/error; the instance keeps serving', async () => {
  await withProvided('function.fail', async (h, load) => {
    assert.equal((await load()).header.t, 'loaded');
    const r = await h.invoke({ why: 'negative amount' });
    assert.equal(r.header.ok, false);
    assert.equal(r.header.error?.errorType, 'ValueError');
    assert.equal(r.header.error?.errorMessage, 'bad input: negative amount');
    assert.ok(
      r.header.error?.trace?.some((l) => l.includes('function.py')),
      JSON.stringify(r.header.error),
    );
    const r2 = await h.invoke({ why: 'again' });
    assert.equal(r2.header.error?.errorMessage, 'bad input: again');
  });
});

test('Runtime API status codes: wrong id 400, second /next 403, unknown path 404, late init/error 403', async () => {
  await withProvided('function.probe', async (h, load) => {
    assert.equal((await load()).header.t, 'loaded');
    const r = await h.invoke({});
    assert.equal(r.header.ok, true, JSON.stringify(r.header.error));
    assert.deepEqual(r.value, {
      wrong_id: [400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' }],
      next_again: [403, 'InvalidStateTransition'],
      not_found: 404,
      init_error_after_init: [403, 'InvalidStateTransition'],
    });
  });
});

test('oversized response: 413 to the bootstrap, Function.ResponseSizeTooLarge to the host', async () => {
  await withProvided(
    'function.big',
    async (h, load) => {
      assert.equal((await load()).header.t, 'loaded');
      const r = await h.invoke({ size: 5000 });
      assert.equal(r.header.ok, false);
      assert.equal(r.header.error?.errorType, 'Function.ResponseSizeTooLarge');
      assert.match(r.header.error!.errorMessage, /4096 bytes/);
      const ok = await h.invoke({ size: 10 });
      assert.equal(ok.value, 'xxxxxxxxxx');
    },
    { extra: { maxResponseBytes: 4096 } },
  );
  // The AWS default (6 MiB + 100 bytes) applies without the override.
  await withProvided('function.big', async (h, load) => {
    assert.equal((await load()).header.t, 'loaded');
    assert.equal((await h.invoke({ size: 6 * 1024 * 1024 - 10 })).header.ok, true);
    assert.equal(
      (await h.invoke({ size: 6 * 1024 * 1024 + 200 })).header.error?.errorType,
      'Function.ResponseSizeTooLarge',
    );
  });
});

test('init error via /runtime/init/error fails the load and kills the bootstrap', async () => {
  await withProvided('broken.handler', async (h, load) => {
    const out = await load();
    assert.equal(out.header.t, 'load-error');
    assert.equal(out.header.error?.errorType, 'Runtime.ImportModuleError');
    assert.equal(out.header.error?.errorMessage, 'no module named numpy_lite');
    assert.ok(
      out.header.error?.trace?.some((l) => l.includes('broken.py')),
      JSON.stringify(out.header.error),
    );
    await assertGone(bootstrapPid(out.header.logs ?? ''));
  });
});

test('bootstrap missing or not executable: Runtime.InvalidEntrypoint', async () => {
  await withProvided(
    'x.y',
    async (_h, load, dir) => {
      const out = await load();
      assert.equal(out.header.t, 'load-error');
      assert.equal(out.header.error?.errorType, 'Runtime.InvalidEntrypoint');
      assert.equal(out.header.error?.errorMessage, `Couldn't find valid bootstrap(s): [${dir}/bootstrap]`);
    },
    { files: { 'function.py': FUNCTION_PY } },
  );
  await withProvided(
    'x.y',
    async (_h, load, dir) => {
      const out = await load();
      assert.equal(out.header.error?.errorType, 'Runtime.InvalidEntrypoint');
      assert.equal(out.header.error?.errorMessage, `fork/exec ${dir}/bootstrap: permission denied`);
    },
    { files: { bootstrap: { content: PY_BOOTSTRAP, mode: 0o644 } } },
  );
  // A directory named bootstrap is not an entrypoint either.
  await withProvided('x.y', async (_h, load) => {
    assert.equal((await load()).header.error?.errorType, 'Runtime.InvalidEntrypoint');
  }, { files: { 'bootstrap/readme.txt': 'not a program' } }); // prettier-ignore
});

test('bootstrap exiting before its first /next: Runtime.ExitError load error with its output', async () => {
  await withProvided(
    'function.echo',
    async (h, load) => {
      const out = await load();
      assert.equal(out.header.t, 'load-error');
      assert.equal(out.header.error?.errorType, 'Runtime.ExitError');
      assert.equal(out.header.error?.errorMessage, 'Runtime exited with error: exit status 3');
      assert.match(out.header.logs ?? '', /giving up before init is done/);
      // The runner stays until the host closes fd 3; an invoke is refused meanwhile.
      const r = await h.invoke({});
      assert.equal(r.header.error?.errorType, 'Runtime.InvalidState');
    },
    { env: { BOOT_MODE: 'exit-early' } },
  );
});

test('bootstrap crashing mid-invocation: Runtime.ExitError, then the runner exits', async () => {
  await withProvided('function.crash', async (h, load) => {
    assert.equal((await load()).header.t, 'loaded');
    const r = await h.invoke({}, { id: 'req-crash' });
    assert.equal(r.header.ok, false);
    assert.equal(r.header.error?.errorType, 'Runtime.ExitError');
    assert.equal(
      r.header.error?.errorMessage,
      'RequestId: req-crash Error: Runtime exited with error: exit status 7',
    );
    assert.match(r.header.logs, /about to crash/);
    assert.equal((await h.exited).code, 0);
  });
});

const SHELL_BOOTSTRAP = `#!/bin/bash
# AWS's custom-runtime tutorial shape: bash + curl.
set -euo pipefail
API="http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  echo "shell got $EVENT_DATA"
  curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/response" -d "{\\"echo\\":$EVENT_DATA}"
done
`;

test(
  'bash + curl bootstrap (the AWS tutorial shape)',
  { skip: !existsSync('/usr/bin/curl') && 'no curl' },
  async () => {
    await withProvided(
      'function.handler',
      async (h, load) => {
        assert.equal((await load()).header.t, 'loaded');
        for (let i = 0; i < 3; i++) {
          const r = await h.invoke({ i });
          assert.deepEqual(r.value, { echo: { i } });
          assert.equal(r.header.logs, `shell got {"i":${i}}\n`);
        }
      },
      { files: { bootstrap: { content: SHELL_BOOTSTRAP, mode: 0o755 } } },
    );
  },
);

test('inside bubblewrap: runtime API on private loopback, no other network, read-only code', async (t) => {
  if (!(await bwrapAvailable())) {
    t.skip('bwrap cannot create namespaces here');
    return;
  }
  const task = writeTaskDir(files());
  const started = performance.now();
  const h = new RunnerHarness(
    'bwrap',
    bwrapArgs(task.dir, [process.execPath, `${RUNNERS_IN_SANDBOX}/provided-runner.mjs`]),
  );
  try {
    await h.ready();
    const readyMs = performance.now() - started;
    const loaded = await h.load({ handler: 'function.inspect_sandbox', taskRoot: TASK_ROOT_IN_SANDBOX });
    assert.equal(loaded.header.t, 'loaded', JSON.stringify(loaded.header));
    const r = await h.invoke({});
    assert.equal(r.header.ok, true, JSON.stringify(r.header.error));
    assert.deepEqual(r.value, {
      uid: 65534,
      cwd: TASK_ROOT_IN_SANDBOX,
      task_writable: false,
      net: 'blocked',
    });
    t.diagnostic(`provided runner in bwrap: ready ${readyMs.toFixed(1)} ms, init ${loaded.header.initMs} ms`);
  } finally {
    await h.close();
    task.cleanup();
  }
});
