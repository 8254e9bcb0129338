// @ts-check
// Lambda handler loading, invocation and log capture, shared by node-runner.mjs and thread-worker.mjs.
//
// Plain JS (checked through JSDoc) because it runs inside the sandbox, where no TS loader exists.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { format } from 'node:util';

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
const MAX_LOGS = 1024 * 1024;

/** @param {string} text */
function sink(text) {
  if (captured === null) {
    idleSink(text);
  } else if (capturedSize < MAX_LOGS) {
    capturedSize += text.length;
    captured.push(
      capturedSize < MAX_LOGS
        ? text
        : `${text.slice(0, text.length - (capturedSize - MAX_LOGS))}\n[nimbus] log output truncated at 1 MiB\n`,
    );
  }
}

function startCapture() {
  captured = [];
  capturedSize = 0;
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
export function installLogCapture(onIdleOutput) {
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

/** Captured text so far, for a runner that must flush it before dying. */
export function pendingLogs() {
  return captured === null ? '' : captured.join('');
}

// ---------------------------------------------------------------- errors

/**
 * Serialize anything thrown or passed to a callback into the Lambda error shape.
 * @param {unknown} err
 * @returns {LambdaError}
 */
export function toLambdaError(err) {
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
export class HandlerHost {
  /** @param {LoadOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {Function | null} */
    this.fn = null;
  }

  /**
   * Import the handler module (ESM or CJS; Node applies package.json `type`) and find the export.
   * @returns {Promise<LoadOutcome>}
   */
  async load() {
    const start = performance.now();
    startCapture();
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
        mod = await import(pathToFileURL(file).href);
      } catch (err) {
        return this.#loadFail(classifyImportError(err));
      }
      /** @type {any} */
      let fn = mod;
      // A CJS module's exports arrive as `default`; named-export detection is heuristic.
      for (const key of path) fn = fn?.[key] ?? (fn === mod ? mod.default?.[key] : undefined);
      if (typeof fn !== 'function') {
        return this.#loadFail({
          errorType: 'Runtime.HandlerNotFound',
          errorMessage:
            fn === undefined
              ? `${dir}${moduleName}.${path.join('.')} is undefined or not exported`
              : `${dir}${moduleName}.${path.join('.')} is not a function`,
          trace: [],
        });
      }
      this.fn = fn;
      const logs = captured.join('');
      return { ok: true, initMs: performance.now() - start, logs };
    } catch (err) {
      return this.#loadFail(toLambdaError(err));
    } finally {
      captured = null;
    }
  }

  /** @param {LambdaError} error @returns {LoadOutcome} */
  #loadFail(error) {
    return { ok: false, error, logs: captured?.join('') ?? '' };
  }

  /**
   * Run one invocation. Never rejects: function faults come back as `{ ok: false }`.
   * @param {string} requestId @param {string} eventJson @param {number} deadlineMs @param {string} [clientContext]
   * @returns {Promise<InvokeOutcome>}
   */
  async invoke(requestId, eventJson, deadlineMs, clientContext) {
    const fn = this.fn;
    if (fn === null) throw new Error('invoke before a successful load');
    startCapture();
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
      captured = null;
      currentRequestId = 'undefined';
    }
  }

  /** @param {LambdaError} error @returns {InvokeOutcome} */
  #fail(error) {
    return { ok: false, error, logs: captured?.join('') ?? '' };
  }
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
