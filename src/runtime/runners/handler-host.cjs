// @ts-check
// Lambda handler loading, invocation and log capture, shared by node-runner.cjs and thread-worker.mjs.
//
// Plain JS (checked through JSDoc) because it runs inside the sandbox, where no TS loader exists.
// CommonJS, and only modules node has loaded at bootstrap anyway (fs, path, url, util): measured
// on an empty-pool cold start, an ESM entry point costs ≈5 ms more CPU than CommonJS even when the
// handler is then import()ed, and `import ... from 'node:fs'` in ESM builds the module's ESM
// facade, which reads every lazy getter (fs.promises, fs.ReadStream → all of node:stream).
// handler-host.mjs re-exports this for ESM importers.
'use strict';

const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { format } = require('node:util');

/** Milliseconds from a monotonic clock (process.hrtime: `performance` is a lazily loaded global). */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * @typedef {{ errorType: string, errorMessage: string, trace?: string[] }} LambdaError
 * @typedef {{ ok: true, initMs: number, logs: string } | { ok: false, error: LambdaError, logs: string }} LoadOutcome
 * @typedef {{ ok: true, body: string, logs: string } | { ok: false, error: LambdaError, logs: string }} InvokeOutcome
 * @typedef {{
 *   handler: string, taskRoot: string, functionName: string, functionVersion: string,
 *   memoryMB: number, invokedFunctionArn: string, logGroupName: string, logStreamName: string
 * }} LoadOptions
 */

// ---------------------------------------------------------------- log capture

/** Request id printed in captured lines; Lambda prints `undefined` for init-time output. */
let currentRequestId = 'undefined';
/** @type {string[] | null} chunks captured for the invocation (or init) in flight; null when idle */
let captured = null;
/** @type {(text: string) => void} where output goes while idle */
let idleSink = () => {};
/** Characters captured for the invocation in flight; capped like the other runners (1 MiB). */
let capturedSize = 0;
/** The host keeps the same 1 MiB (MAX_LOG_BYTES in src/runtime/process/output-budget.ts). */
const MAX_LOGS = 1024 * 1024;
/** UTF-8 bytes of output dropped over MAX_LOGS by the capture in flight (the REPORT line counts them). */
let droppedBytes = 0;

/**
 * Incremental flushing (optional, per HandlerHost): captured text is handed to `flushTo` once
 * FLUSH_CHARS are pending or FLUSH_MS after the last flush, so a runner killed on timeout has
 * already sent what the function printed. A fast invocation that prints little flushes nothing
 * (its logs travel in its result, one frame). A handler that prints and then spins without
 * yielding or printing again cannot be flushed from JS: that tail is still lost on a kill.
 */
const FLUSH_CHARS = 8 * 1024;
const FLUSH_MS = 50;
/** @type {((text: string) => void) | null} where the capture in flight flushes to, if anywhere */
let flushTo = null;
/** Characters captured since the last flush, and when that was (Date.now()). */
let unflushed = 0;
let lastFlush = 0;
/** @type {NodeJS.Timeout | undefined} flushes a capture that stays quiet, while it runs */
let flushTimer;

/** @param {string} text */
function sink(text) {
  if (captured === null) {
    idleSink(text);
  } else if (capturedSize < MAX_LOGS) {
    capturedSize += text.length;
    if (capturedSize < MAX_LOGS) {
      captured.push(text);
    } else {
      const keep = text.length - (capturedSize - MAX_LOGS);
      droppedBytes += Buffer.byteLength(text) - Buffer.byteLength(text.slice(0, keep));
      captured.push(`${text.slice(0, keep)}\n[nimbus] log output truncated at 1 MiB\n`);
    }
    if (flushTo !== null) {
      unflushed += text.length;
      if (unflushed >= FLUSH_CHARS || Date.now() - lastFlush >= FLUSH_MS) flushCaptured();
    }
  } else {
    droppedBytes += Buffer.byteLength(text);
  }
}

/** Bytes dropped over the cap since the capture in flight (or the last one) started. */
function capturedDroppedBytes() {
  return droppedBytes;
}

/** Hand the captured text so far to `flushTo` and keep capturing. */
function flushCaptured() {
  if (captured === null || flushTo === null) return;
  lastFlush = Date.now();
  unflushed = 0;
  if (captured.length === 0) return;
  const text = captured.join('');
  captured = [];
  flushTo(text);
}

function onFlushTimer() {
  if (captured === null || flushTo === null) return;
  if (Date.now() - lastFlush >= FLUSH_MS) flushCaptured();
  flushTimer = setTimeout(onFlushTimer, Math.max(1, FLUSH_MS - (Date.now() - lastFlush)));
}

/** @param {((text: string) => void) | null} [flush] incremental flushing target, if any */
function startCapture(flush = null) {
  captured = [];
  capturedSize = 0;
  droppedBytes = 0;
  flushTo = flush;
  if (flush !== null) {
    unflushed = 0;
    lastFlush = Date.now();
    flushTimer = setTimeout(onFlushTimer, FLUSH_MS);
  }
}

/** End the capture in flight: what is still captured is the caller's to return. */
function stopCapture() {
  captured = null;
  flushTo = null;
  if (flushTimer !== undefined) {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }
}

/** @param {string} level @param {unknown[]} args */
function logLine(level, args) {
  sink(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${format(...args)}\n`);
}

/**
 * Replace `write` on a stdout/stderr stream so user output is captured per invocation.
 * @param {NodeJS.WriteStream} stream
 */
function patchWrite(stream) {
  /** @type {any} */ (stream).write = function write(
    /** @type {string | Uint8Array} */ chunk,
    /** @type {any} */ encoding,
    /** @type {any} */ cb,
  ) {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(done);
    return true;
  };
}

/**
 * Install console and stdout/stderr capture once per process or worker. `process.stdout` is
 * created lazily by Node (building it loads tty/net code, ≈1 ms), so the getter is wrapped
 * instead of touching the stream at startup.
 * @param {(text: string) => void} onIdleOutput receives output produced while no invocation runs
 */
function installLogCapture(onIdleOutput) {
  idleSink = onIdleOutput;
  const c = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (console));
  c.log = (/** @type {unknown[]} */ ...a) => logLine('INFO', a);
  c.info = (/** @type {unknown[]} */ ...a) => logLine('INFO', a);
  c.warn = (/** @type {unknown[]} */ ...a) => logLine('WARN', a);
  c.error = (/** @type {unknown[]} */ ...a) => logLine('ERROR', a);
  c.debug = (/** @type {unknown[]} */ ...a) => logLine('DEBUG', a);
  c.trace = (/** @type {unknown[]} */ ...a) => {
    const stack = (new Error().stack ?? '').split('\n').slice(2).join('\n');
    logLine('TRACE', [`Trace: ${format(...a)}\n${stack}`]);
  };
  for (const name of /** @type {const} */ (['stdout', 'stderr'])) {
    const desc = Object.getOwnPropertyDescriptor(process, name);
    if (desc?.get) {
      const get = desc.get;
      /** @type {NodeJS.WriteStream | undefined} */
      let stream;
      Object.defineProperty(process, name, {
        configurable: true,
        enumerable: desc.enumerable ?? false,
        get() {
          if (stream === undefined) {
            stream = get.call(process);
            patchWrite(/** @type {NodeJS.WriteStream} */ (stream));
          }
          return stream;
        },
      });
    } else if (desc?.value) {
      patchWrite(desc.value);
    }
  }
}

/** Captured text not yet flushed, for a runner that must write it out before dying. */
function pendingLogs() {
  return captured === null ? '' : captured.join('');
}

// ---------------------------------------------------------------- errors

/**
 * Serialize anything thrown or passed to a callback into the Lambda error shape.
 * @param {unknown} err
 * @returns {LambdaError}
 */
function toLambdaError(err) {
  if (
    err instanceof Error ||
    (typeof err === 'object' && err !== null && 'stack' in err && 'message' in err)
  ) {
    const e = /** @type {Error} */ (err);
    return {
      errorType: String(e.name || e.constructor?.name || 'Error'),
      errorMessage: String(e.message ?? ''),
      trace: String(e.stack ?? '').split('\n'),
    };
  }
  if (typeof err === 'string') return { errorType: 'string', errorMessage: err, trace: [] };
  let message;
  try {
    message = JSON.stringify(err) ?? String(err);
  } catch {
    message = String(err);
  }
  return { errorType: typeof err, errorMessage: message, trace: [] };
}

/**
 * @param {string} errorType @param {unknown} err @param {string} [message]
 * @returns {LambdaError}
 */
function runtimeError(errorType, err, message) {
  const base = toLambdaError(err);
  return {
    errorType,
    errorMessage: message ?? `${base.errorType}: ${base.errorMessage}`,
    trace: base.trace ?? [],
  };
}

// ---------------------------------------------------------------- context

/** The Lambda `context` object; methods live on the prototype so a context costs one allocation. */
class LambdaContext {
  /**
   * @param {LoadOptions} o @param {string} requestId @param {number} deadlineMs
   * @param {unknown} clientContext @param {(err: unknown, result?: unknown) => void} done
   */
  constructor(o, requestId, deadlineMs, clientContext, done) {
    this.callbackWaitsForEmptyEventLoop = true;
    this.functionName = o.functionName;
    this.functionVersion = o.functionVersion;
    this.invokedFunctionArn = o.invokedFunctionArn;
    this.memoryLimitInMB = String(o.memoryMB);
    this.awsRequestId = requestId;
    this.logGroupName = o.logGroupName;
    this.logStreamName = o.logStreamName;
    this.clientContext = clientContext;
    this.identity = undefined;
    this._deadlineMs = deadlineMs;
    this._done = done;
  }
  getRemainingTimeInMillis() {
    return Math.max(0, this._deadlineMs - Date.now());
  }
  /** @param {unknown} [err] @param {unknown} [result] */
  done(err, result) {
    this._done(err, result);
  }
  /** @param {unknown} [result] */
  succeed(result) {
    this._done(null, result);
  }
  /** @param {unknown} [err] */
  fail(err) {
    this._done(err ?? new Error('handled'));
  }
}

/** @param {string | undefined} b64 */
function decodeClientContext(b64) {
  if (!b64) return undefined;
  try {
    return JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- handler host

const EXTENSIONS = ['.js', '.mjs', '.cjs'];

/** Loads one function's handler and runs its invocations, one at a time. */
class HandlerHost {
  /**
   * @param {LoadOptions} options
   * @param {{ flushLogs?: (text: string) => void }} [io] `flushLogs`: receives captured output
   *   incrementally during load and invocations (see FLUSH_MS); without it, all of it comes
   *   back in the outcome.
   */
  constructor(options, io = {}) {
    this.options = options;
    this.flushLogs = io.flushLogs ?? null;
    /** @type {Function | null} */
    this.fn = null;
  }

  /**
   * Load the handler module (ESM or CJS; Node applies package.json `type`) and find the export.
   * @returns {Promise<LoadOutcome>}
   */
  async load() {
    const start = nowMs();
    startCapture(this.flushLogs);
    currentRequestId = 'undefined';
    try {
      const { handler, taskRoot } = this.options;
      const slash = handler.lastIndexOf('/');
      const dir = handler.slice(0, slash + 1);
      const [moduleName = '', ...path] = handler.slice(slash + 1).split('.');
      if (path.length === 0 || moduleName === '') {
        return this.#loadFail({
          errorType: 'Runtime.MalformedHandlerName',
          errorMessage: `Bad handler ${handler}: expected "file.export", e.g. "index.handler"`,
          trace: [],
        });
      }
      const base = join(taskRoot, dir, moduleName);
      const file = EXTENSIONS.map((ext) => base + ext).find((f) => existsSync(f));
      if (file === undefined) {
        return this.#loadFail({
          errorType: 'Runtime.ImportModuleError',
          errorMessage: `Error: Cannot find module '${dir}${moduleName}' (looked for ${EXTENSIONS.map((e) => moduleName + e).join(', ')} in ${join(taskRoot, dir)})`,
          trace: [],
        });
      }
      /** @type {any} */
      let mod;
      try {
        mod = await loadModule(file);
      } catch (err) {
        return this.#loadFail(classifyImportError(err));
      }
      /** @type {any} */
      let fn = mod;
      // A CJS module's exports arrive as `default`; named-export detection is heuristic.
      for (const key of path) fn = fn?.[key] ?? (fn === mod ? mod.default?.[key] : undefined);
      // `x.default` of a require()d `module.exports = app`: what import() would call `default`.
      if (fn === undefined && path.length === 1 && path[0] === 'default' && isWebApp(mod)) fn = mod;
      if (typeof fn !== 'function' && isWebApp(fn)) {
        // Web-standard handler (`export default app` with `fetch`): see web-handler.cjs, loaded
        // only here so plain Lambda handlers never pay for it.
        fn = require('./web-handler.cjs').adaptWebHandler(fn);
      }
      if (typeof fn !== 'function') {
        const name = `${dir}${moduleName}.${path.join('.')}`;
        const hint =
          fn === undefined && (isWebApp(mod?.default) || isWebApp(mod))
            ? `; the module's default export has fetch() (a Web-standard handler): set the handler to ${dir}${moduleName}.default`
            : '';
        return this.#loadFail({
          errorType: 'Runtime.HandlerNotFound',
          errorMessage:
            fn === undefined
              ? `${name} is undefined or not exported${hint}`
              : `${name} is not a function (nor an object with a fetch() method)`,
          trace: [],
        });
      }
      this.fn = fn;
      const logs = captured.join('');
      return { ok: true, initMs: nowMs() - start, logs };
    } catch (err) {
      return this.#loadFail(toLambdaError(err));
    } finally {
      stopCapture();
    }
  }

  /** @param {LambdaError} error @returns {LoadOutcome} */
  #loadFail(error) {
    return { ok: false, error, logs: captured?.join('') ?? '' };
  }

  /**
   * Run one invocation. Never rejects: function faults come back as `{ ok: false }`.
   * @param {string} requestId @param {string} eventJson @param {number} deadlineMs @param {string} [clientContext]
   * @param {string} [traceId] X-Ray header of this invocation (with the recursion lineage)
   * @returns {Promise<InvokeOutcome>}
   */
  async invoke(requestId, eventJson, deadlineMs, clientContext, traceId) {
    const fn = this.fn;
    if (fn === null) throw new Error('invoke before a successful load');
    // Per invocation, as Lambda's Node runtime does: SDKs read it when they send a request, so
    // calls made by this invocation carry its lineage (recursive loop detection).
    if (typeof traceId === 'string' && traceId !== '') process.env._X_AMZN_TRACE_ID = traceId;
    else delete process.env._X_AMZN_TRACE_ID;
    startCapture(this.flushLogs);
    currentRequestId = requestId;
    try {
      let event;
      try {
        event = eventJson.length === 0 ? null : JSON.parse(eventJson);
      } catch (err) {
        return this.#fail(runtimeError('Runtime.UnmarshalError', err));
      }
      /** @type {unknown} */
      let result;
      try {
        result = await callHandler(fn, event, this.options, requestId, deadlineMs, clientContext);
      } catch (err) {
        return this.#fail(toLambdaError(err));
      }
      let body;
      try {
        body = JSON.stringify(result ?? null) ?? 'null';
      } catch (err) {
        return this.#fail(
          runtimeError(
            'Runtime.MarshalError',
            err,
            `Unable to stringify response body: ${String(/** @type {Error} */ (err)?.message ?? err)}`,
          ),
        );
      }
      return { ok: true, body, logs: captured.join('') };
    } finally {
      stopCapture();
      currentRequestId = 'undefined';
    }
  }

  /** @param {LambdaError} error @returns {InvokeOutcome} */
  #fail(error) {
    return { ok: false, error, logs: captured?.join('') ?? '' };
  }
}

/**
 * A Web-standard app: an object (a Hono app, `{ fetch }`) with a `fetch` method. A function is
 * always a Lambda handler, even one with a `fetch` property.
 * @param {unknown} v
 */
function isWebApp(v) {
  return typeof v === 'object' && v !== null && typeof (/** @type {any} */ (v).fetch) === 'function';
}

/**
 * CommonJS with require(), ESM with import(), as Lambda's own Node runtime does. Besides being
 * what functions are tested against there, require() skips initialising the ESM loader, which
 * costs ≈5 ms of CPU on a cold start. A `.js` file is ESM when its package.json says
 * `"type": "module"`: require() refuses it with ERR_REQUIRE_ESM (node < 22) before running any
 * of it, and then it is imported.
 * @param {string} file
 */
async function loadModule(file) {
  if (!file.endsWith('.mjs')) {
    try {
      return require(file);
    } catch (err) {
      const e = /** @type {{ code?: string, message?: string }} */ (err ?? {});
      const refusedThisFile =
        (e.code === 'ERR_REQUIRE_ESM' && String(e.message).includes(`${file} `)) ||
        e.code === 'ERR_REQUIRE_ASYNC_MODULE';
      if (!refusedThisFile) throw err;
    }
  }
  return import(pathToFileURL(file).href);
}

/**
 * Call the handler with Lambda's two contracts: a returned promise (async handlers) or the
 * callback (handlers declaring three parameters, or calling `context.done/succeed/fail`).
 * Resolves on whichever comes first; it does not wait for the event loop to drain.
 * @param {Function} fn @param {unknown} event @param {LoadOptions} options @param {string} requestId
 * @param {number} deadlineMs @param {string | undefined} clientContext
 */
function callHandler(fn, event, options, requestId, deadlineMs, clientContext) {
  return new Promise((resolve, reject) => {
    let settled = false;
    /** @param {unknown} err @param {unknown} [value] */
    const done = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(value);
    };
    const context = new LambdaContext(
      options,
      requestId,
      deadlineMs,
      decodeClientContext(clientContext),
      done,
    );
    let ret;
    try {
      ret = fn(event, context, done);
    } catch (err) {
      done(err ?? new Error('handler threw a nullish value'));
      return;
    }
    if (ret !== null && typeof ret === 'object' && typeof (/** @type {any} */ (ret).then) === 'function') {
      /** @type {PromiseLike<unknown>} */ (ret).then(
        (v) => done(null, v),
        (err) => done(err ?? new Error('handler rejected with a nullish value')),
      );
    } else if (fn.length < 3) {
      done(null, ret);
    }
  });
}

/**
 * Map an import failure to Lambda's init error types.
 * @param {unknown} err
 * @returns {LambdaError}
 */
function classifyImportError(err) {
  const e = /** @type {{ name?: string, code?: string, message?: string }} */ (err ?? {});
  if (e.name === 'SyntaxError') return runtimeError('Runtime.UserCodeSyntaxError', err);
  if (
    e.code === 'ERR_MODULE_NOT_FOUND' ||
    e.code === 'MODULE_NOT_FOUND' ||
    e.code === 'ERR_UNSUPPORTED_DIR_IMPORT'
  ) {
    return runtimeError('Runtime.ImportModuleError', err);
  }
  return toLambdaError(err);
}

module.exports = { HandlerHost, capturedDroppedBytes, installLogCapture, pendingLogs, toLambdaError };
