// The RuntimeBackend contract suite: every tier must pass it (process-backend.test.ts, thread-backend.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionInitError } from '../../src/runtime/runtime-backend.js';
import type {
  FunctionInstance,
  InstanceInvokeResult,
  RuntimeBackend,
} from '../../src/runtime/runtime-backend.js';
import { cleanupFixtures, codeDir, json, request, spec } from './runtime-fixtures.js';

function ok(r: InstanceInvokeResult): Buffer {
  if (!r.ok) assert.fail(`expected success, got ${r.error.errorType}: ${r.error.errorMessage}\n${r.logs}`);
  return r.payload;
}

function failed(r: InstanceInvokeResult): Extract<InstanceInvokeResult, { ok: false }> {
  if (r.ok) assert.fail(`expected an error, got ${r.payload.toString()}`);
  return r;
}

async function initError(p: Promise<unknown>): Promise<FunctionInitError> {
  const err = await p.then(
    () => assert.fail('spawn should have failed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FunctionInitError, `expected FunctionInitError, got ${String(err)}`);
  return err;
}

/** Run the contract against the backend `make` creates (closed after the suite). */
export function runBackendContract(name: string, make: () => Promise<RuntimeBackend>): void {
  describe(`RuntimeBackend contract: ${name}`, () => {
    let backend: RuntimeBackend;
    const instances: FunctionInstance[] = [];
    const spawn = async (...args: Parameters<typeof spec>): Promise<FunctionInstance> => {
      const inst = await backend.spawn(spec(...args));
      instances.push(inst);
      return inst;
    };

    before(async () => {
      backend = await make();
    });
    after(async () => {
      await Promise.all(instances.map((i) => i.dispose()));
      assert.equal(backend.liveInstances(), 0);
      await backend.close();
      await backend.close(); // idempotent
      cleanupFixtures();
    });

    it('runs hello world and reuses the instance', async () => {
      const dir = codeDir({ 'index.mjs': 'export const handler = async (e) => ({ hello: e.name });' });
      const inst = await spawn(dir);
      assert.equal(inst.alive, true);
      assert.equal(typeof inst.initDurationMs, 'number');
      for (const n of ['a', 'b', 'c']) {
        const r = await inst.invoke(request({ name: n }));
        assert.deepEqual(json(ok(r)), { hello: n });
        assert.equal(r.reusable, true);
        assert.ok(r.maxMemoryUsedMB >= 0);
      }
      await inst.dispose();
      await inst.dispose();
      assert.equal(inst.alive, false);
      await assert.rejects(inst.invoke(request()));
    });

    it('supports callback, CJS, ESM-in-.js, nested paths, and undefined → null', async () => {
      const dir = codeDir({
        'cb.js':
          'exports.handler = function (e, ctx, callback) { setTimeout(() => callback(null, { cb: e.x }), 5); };',
        'lib/app.cjs': 'module.exports.main = async () => "cjs";',
        'esm/package.json': '{"type":"module"}',
        'esm/h.js': 'export async function handler() { return "esm-js"; }',
        'legacy.js': 'exports.handler = (e, ctx) => { ctx.succeed("legacy"); };',
        'undef.mjs': 'export const handler = async () => {};',
        'cberr.js': 'exports.handler = (e, ctx, cb) => cb(new RangeError("bad range"));',
      });
      const check = async (handler: string, expected: unknown): Promise<void> => {
        const inst = await spawn(dir, { handler });
        assert.deepEqual(json(ok(await inst.invoke(request({ x: 7 })))), expected, handler);
      };
      await check('cb.handler', { cb: 7 });
      await check('lib/app.main', 'cjs');
      await check('esm/h.handler', 'esm-js');
      await check('legacy.handler', 'legacy');
      await check('undef.handler', null);
      const inst = await spawn(dir, { handler: 'cberr.handler' });
      const r = failed(await inst.invoke(request()));
      assert.equal(r.error.errorType, 'RangeError');
      assert.equal(r.error.errorMessage, 'bad range');
    });

    it('passes a Lambda context with a decreasing remaining time', async () => {
      const dir = codeDir({
        'index.mjs': `export const handler = async (e, c) => {
          const r1 = c.getRemainingTimeInMillis();
          await new Promise((r) => setTimeout(r, 50));
          const r2 = c.getRemainingTimeInMillis();
          return { r1, r2, id: c.awsRequestId, fn: c.functionName, ver: c.functionVersion, mem: c.memoryLimitInMB,
            arn: c.invokedFunctionArn, group: c.logGroupName, stream: c.logStreamName, cc: c.clientContext ?? null,
            wait: c.callbackWaitsForEmptyEventLoop };
        };`,
      });
      const inst = await spawn(dir, { memory: 256 }, 'ctx-fn');
      const req = {
        ...request({}, 2),
        clientContext: Buffer.from(JSON.stringify({ custom: { a: 1 } })).toString('base64'),
      };
      const c = json(ok(await inst.invoke(req))) as Record<string, unknown>;
      assert.equal(c.id, req.requestId);
      assert.equal(c.fn, 'ctx-fn');
      assert.equal(c.ver, '$LATEST');
      assert.equal(c.mem, '256');
      assert.equal(c.arn, 'arn:aws:lambda:local:000000000000:function:ctx-fn');
      assert.equal(c.group, '/aws/lambda/ctx-fn');
      assert.match(String(c.stream), /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
      assert.deepEqual(c.cc, { custom: { a: 1 } });
      assert.equal(c.wait, true);
      const r1 = c.r1 as number;
      const r2 = c.r2 as number;
      assert.ok(r1 <= 2000 && r1 > 1500, `r1 ${r1}`);
      assert.ok(r2 <= r1 - 40, `r2 ${r2} should be ~50 ms below r1 ${r1}`);
    });

    it('returns function errors in the Lambda shape and stays usable', async () => {
      const dir = codeDir({
        'index.mjs': `export const handler = async (e) => {
          if (e.fail === 'type') throw new TypeError('not a thing');
          if (e.fail === 'custom') { const err = new Error('custom'); err.name = 'MyError'; throw err; }
          if (e.fail === 'string') throw 'just a string';
          if (e.fail === 'bigint') return { n: 1n };
          return 'fine';
        };`,
      });
      const inst = await spawn(dir);
      const t = failed(await inst.invoke(request({ fail: 'type' })));
      assert.equal(t.error.errorType, 'TypeError');
      assert.equal(t.error.errorMessage, 'not a thing');
      assert.ok(Array.isArray(t.error.trace) && t.error.trace[0] === 'TypeError: not a thing');
      assert.equal(t.reusable, true);
      assert.equal(failed(await inst.invoke(request({ fail: 'custom' }))).error.errorType, 'MyError');
      assert.deepEqual(
        failed(await inst.invoke(request({ fail: 'string' }))).error.errorMessage,
        'just a string',
      );
      assert.equal(
        failed(await inst.invoke(request({ fail: 'bigint' }))).error.errorType,
        'Runtime.MarshalError',
      );
      assert.deepEqual(json(ok(await inst.invoke(request({})))), 'fine');
    });

    it('reports init failures as FunctionInitError with Lambda error types', async () => {
      const dir = codeDir({
        'syntax.mjs': 'export const handler = async () => { return 1 +; };',
        'noexport.mjs': 'export const other = 1;',
        'notfn.mjs': 'export const handler = 42;',
        'throws.mjs': 'console.log("initialising"); throw new Error("init boom");',
        'badimport.mjs': 'import "nonexistent-package-xyz"; export const handler = () => 1;',
      });
      const type = async (handler: string): Promise<FunctionInitError> =>
        initError(backend.spawn(spec(dir, { handler })));
      assert.equal((await type('syntax.handler')).lambdaError.errorType, 'Runtime.UserCodeSyntaxError');
      assert.equal((await type('noexport.handler')).lambdaError.errorType, 'Runtime.HandlerNotFound');
      assert.equal((await type('notfn.handler')).lambdaError.errorType, 'Runtime.HandlerNotFound');
      assert.equal((await type('missing.handler')).lambdaError.errorType, 'Runtime.ImportModuleError');
      assert.equal((await type('badimport.handler')).lambdaError.errorType, 'Runtime.ImportModuleError');
      const thrown = await type('throws.handler');
      assert.equal(thrown.lambdaError.errorType, 'Error');
      assert.equal(thrown.lambdaError.errorMessage, 'init boom');
      assert.match(thrown.logs, /initialising/);
      assert.equal(backend.liveInstances(), instances.filter((i) => i.alive).length);
    });

    it('times out, replaces the instance, and the next one works', async () => {
      const dir = codeDir({
        'index.mjs': `export const handler = async (e) => {
          console.log('before');
          if (e.spin) for (;;) {}
          if (e.sleep) await new Promise((r) => setTimeout(r, 10_000));
          return 'done';
        };`,
      });
      for (const event of [{ sleep: true }, { spin: true }]) {
        const inst = await spawn(dir, { timeout: 1 });
        const started = Date.now();
        const r = failed(await inst.invoke(request(event, 1)));
        const took = Date.now() - started;
        assert.ok(took >= 900 && took < 2500, `timeout took ${took} ms`);
        assert.equal(r.error.errorType, 'Sandbox.Timedout');
        assert.equal(r.error.errorMessage, 'Task timed out after 1.00 seconds');
        assert.equal(r.reusable, false);
        assert.equal(inst.alive, false);
        await inst.dispose();
      }
      const next = await spawn(dir, { timeout: 1 });
      assert.equal(json(ok(await next.invoke(request({}, 1)))), 'done');
    });

    it('reports process.exit and crashes as Runtime.ExitError', async () => {
      const dir = codeDir({
        'index.mjs': `export const handler = async (e) => {
          console.log('about to exit');
          if (e.exit !== undefined) process.exit(e.exit);
          if (e.later) setTimeout(() => { throw new Error('after return'); }, 20);
          if (e.async) { setTimeout(() => { throw new Error('async boom'); }, 5); await new Promise((r) => setTimeout(r, 1000)); }
          return 'returned';
        };`,
      });
      const a = await spawn(dir);
      const r = failed(await a.invoke(request({ exit: 3 })));
      assert.equal(r.error.errorType, 'Runtime.ExitError');
      assert.match(r.error.errorMessage, /^RequestId: \S+ Error: Runtime exited with error: exit status 3$/);
      assert.equal(r.reusable, false);
      assert.equal(a.alive, false);

      const b = await spawn(dir);
      const crash = failed(await b.invoke(request({ async: true })));
      assert.equal(crash.error.errorType, 'Runtime.ExitError');
      assert.match(crash.logs, /async boom/);
      assert.equal(b.alive, false);

      const c = await spawn(dir);
      assert.equal(json(ok(await c.invoke(request({ later: true })))), 'returned');
      for (let i = 0; i < 100 && c.alive; i++) await new Promise((res) => setTimeout(res, 20));
      assert.equal(c.alive, false, 'an uncaught exception after return kills the instance');
      await assert.rejects(c.invoke(request()));
    });

    it('fails only the invocation that allocates far beyond its memory', async () => {
      const dir = codeDir({
        'index.mjs': `export const handler = async (e) => {
          if (!e.big) return 'small';
          const keep = [];
          // Up to 4 GB of JS heap in 1 MB arrays.
          for (let i = 0; i < 4096; i++) keep.push(new Array(131072).fill(i));
          return keep.length;
        };`,
      });
      const inst = await spawn(dir, { memory: 128, timeout: 20 });
      const r = failed(await inst.invoke(request({ big: true }, 20)));
      assert.equal(r.error.errorType, 'Runtime.OutOfMemory', `${r.error.errorType}: ${r.error.errorMessage}`);
      assert.equal(r.reusable, false);
      assert.equal(inst.alive, false);
      const next = await spawn(dir, { memory: 128 });
      assert.equal(json(ok(await next.invoke(request({ big: false })))), 'small');
    });

    it('captures logs per invocation with the request id', async () => {
      const dir = codeDir({
        'index.mjs': `export const handler = async (e) => {
          console.log('hello', { n: e.n });
          console.info('info line');
          console.warn('careful');
          console.error(new Error('shown').message);
          process.stdout.write('raw out\\n');
          return e.n;
        };`,
      });
      const inst = await spawn(dir);
      const req = request({ n: 1 });
      const r = await inst.invoke(req);
      ok(r);
      const ts = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
      assert.match(r.logs, new RegExp(`^${ts}\\t${req.requestId}\\tINFO\\thello { n: 1 }$`, 'm'));
      assert.match(r.logs, new RegExp(`^${ts}\\t${req.requestId}\\tINFO\\tinfo line$`, 'm'));
      assert.match(r.logs, new RegExp(`^${ts}\\t${req.requestId}\\tWARN\\tcareful$`, 'm'));
      assert.match(r.logs, new RegExp(`^${ts}\\t${req.requestId}\\tERROR\\tshown$`, 'm'));
      assert.match(r.logs, /^raw out$/m);
      const r2 = await inst.invoke(request({ n: 2 }));
      assert.ok(!r2.logs.includes(req.requestId), 'logs do not leak into the next invocation');
      assert.match(r2.logs, /hello { n: 2 }/);
    });

    it('shows the function its environment and the Lambda variables', async () => {
      const dir = codeDir({
        'index.mjs': 'export const handler = async () => ({ ...process.env });',
      });
      const inst = await spawn(
        dir,
        { environment: { GREETING: 'hi', TABLE: 'users' }, memory: 192 },
        'env-fn',
      );
      const env = json(ok(await inst.invoke(request()))) as Record<string, string>;
      assert.equal(env.GREETING, 'hi');
      assert.equal(env.TABLE, 'users');
      assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'env-fn');
      assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '192');
      assert.equal(env.AWS_REGION, 'local');
      assert.equal(env._HANDLER, 'index.handler');
      assert.equal(env.NIMBUS_TEST_SERVER_SECRET, undefined, 'the server environment is not inherited');
    });
  });
}
