// @ts-check
// Nimbus `provided` runner: serves the AWS Lambda Runtime API on loopback to a function's `bootstrap` and bridges it to the host's fd 3 frames (PROTOCOL.md).
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const API = '/2018-06-01/runtime';
/** AWS's limit for a buffered response (interop.MaxPayloadSize: 6 MiB + 100 bytes). */
const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
// Why a cap: logs travel inside the JSON frame header; a runaway bootstrap must not produce a
// header of hundreds of MB. Same limit as the python runner.
const MAX_LOG_CHARS = 1024 * 1024;

/**
 * @typedef {{ errorType: string, errorMessage: string, trace?: string[] }} LambdaError
 * @typedef {{ id: string, body: Buffer, deadlineMs: number, clientContext?: string, traceId?: string }} Invocation
 * @typedef {{ t: string, [k: string]: unknown }} Header
 * @typedef {{ ok: true, body: Buffer } | { ok: false, error: LambdaError }} Outcome
 */

// ---------------------------------------------------------------------------------------------
// Framing over fd 3

const channel = new net.Socket({ fd: 3, readable: true, writable: true });

/** @param {object} header @param {Buffer} [body] @param {() => void} [cb] */
function send(header, body = Buffer.alloc(0), cb) {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(h.length, 0);
  prefix.writeUInt32BE(body.length, 4);
  channel.write(Buffer.concat([prefix, h, body]), cb);
}

/** @type {Buffer} */
let inbuf = Buffer.alloc(0);
channel.on('data', (/** @type {Buffer} */ chunk) => {
  inbuf = inbuf.length === 0 ? chunk : Buffer.concat([inbuf, chunk]);
  while (inbuf.length >= 8) {
    const hlen = inbuf.readUInt32BE(0);
    const blen = inbuf.readUInt32BE(4);
    if (inbuf.length < 8 + hlen + blen) break;
    /** @type {Header} */
    const header = JSON.parse(inbuf.subarray(8, 8 + hlen).toString('utf8'));
    const body = Buffer.from(inbuf.subarray(8 + hlen, 8 + hlen + blen));
    inbuf = inbuf.subarray(8 + hlen + blen);
    onFrame(header, body);
  }
});
// Host closed the channel (or died): nothing more will come, so retire everything.
channel.on('end', () => shutdown(0));
channel.on('error', () => shutdown(0));

// ---------------------------------------------------------------------------------------------
// State

/** @type {Header | undefined} */
let cfg;
/** @type {'new' | 'init' | 'ready' | 'failed' | 'exiting'} */
let phase = 'new';
let loadStarted = 0;
let maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
/** @type {http.Server | undefined} */
let server;
/** @type {import('node:child_process').ChildProcess | undefined} */
let bootstrap;
let bootstrapPid = 0;
let lastRssMB = 0;
/** Invocation received from the host but not yet handed to the bootstrap. */
/** @type {Invocation | undefined} */
let pending;
/** Invocation handed to the bootstrap, awaiting /response or /error. */
/** @type {Invocation | undefined} */
let current;
/** Invocation whose outcome is known but whose result frame is not sent yet. */
/** @type {{ inv: Invocation, outcome: Outcome } | undefined} */
let finishing;
/** A parked GET /next. */
/** @type {http.ServerResponse | undefined} */
let waitingNext;

/** Captured bootstrap output: per invocation, or during init; undefined means idle. */
/** @type {string[] | undefined} */
let logParts;
let logChars = 0;
let logDropped = 0;

function startCapture() {
  logParts = [];
  logChars = 0;
  logDropped = 0;
}

function stopCapture() {
  let text = (logParts ?? []).join('');
  if (logDropped) text += `\n[nimbus: ${logDropped} more bytes of log output were truncated]\n`;
  logParts = undefined;
  return text;
}

/** @param {string} text */
function appendLog(text) {
  if (!text) return;
  if (logParts) {
    if (logChars + text.length > MAX_LOG_CHARS) {
      const keep = Math.max(0, MAX_LOG_CHARS - logChars);
      logDropped += Buffer.byteLength(text.slice(keep));
      text = text.slice(0, keep);
    }
    logParts.push(text);
    logChars += text.length;
  } else if (phase !== 'exiting') {
    send({ t: 'log', data: text });
  }
}

// Why wait a turn: the bootstrap writes its output to a pipe before it sends the HTTP request
// that ends the invocation, but both fds can become readable in the same poll phase; one
// setImmediate lets the pipe data land in this invocation's logs rather than the next one's.
const settle = () => new Promise((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------
// Memory

/** @param {number} pid */
function vmHwmKB(pid) {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** @param {number} pid @param {number} depth @returns {number[]} */
function descendants(pid, depth = 0) {
  if (depth > 8) return [];
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return kids.flatMap((k) => [Number(k), ...descendants(Number(k), depth + 1)]);
  } catch {
    return [];
  }
}

/**
 * Peak RSS of the function: the bootstrap and its live descendants (summed VmHWM). Why not this
 * runner: on Lambda the Runtime API server lives outside the function's memory accounting.
 */
function maxRssMB() {
  if (bootstrapPid && bootstrap?.exitCode === null && bootstrap.signalCode === null) {
    const kb = [bootstrapPid, ...descendants(bootstrapPid)].reduce((sum, p) => sum + vmHwmKB(p), 0);
    if (kb > 0) lastRssMB = Math.max(lastRssMB, Math.round(kb / 102.4) / 10);
  }
  return lastRssMB;
}

// ---------------------------------------------------------------------------------------------
// Host messages

/** @param {Header} header @param {Buffer} body */
function onFrame(header, body) {
  if (header.t === 'load') onLoad(header);
  else if (header.t === 'invoke') onInvoke(header, body);
  // Unknown message types are ignored so the host can add optional messages later.
}

/** @param {string} errorType @param {string} errorMessage @returns {LambdaError} */
const err = (errorType, errorMessage) => ({ errorType, errorMessage, trace: [] });

/** @param {LambdaError} error @param {string} [logs] */
function loadFailed(error, logs) {
  if (phase === 'failed' || phase === 'exiting') return;
  phase = 'failed';
  send({ t: 'load-error', error, logs: logs ?? stopCapture() });
  // Why stay alive after a load error: exiting could race the host reading the frame; the host
  // disposes of the runner (closing fd 3 ends this process).
  killBootstrap();
  closeServer();
}

/** @param {Header} header */
function onLoad(header) {
  if (cfg) {
    send({ t: 'load-error', error: err('Runtime.InvalidState', 'runner already loaded'), logs: '' });
    return;
  }
  cfg = header;
  phase = 'init';
  loadStarted = performance.now();
  if (typeof header.maxResponseBytes === 'number' && header.maxResponseBytes > 0) {
    maxResponseBytes = header.maxResponseBytes;
  }
  startCapture();
  const taskRoot = String(header.taskRoot ?? process.cwd());
  const entry = join(taskRoot, 'bootstrap');
  let isFile = false;
  try {
    isFile = statSync(entry).isFile();
  } catch {
    // Missing: reported below.
  }
  if (!isFile) {
    // AWS's wording (it also looks in /opt, which Nimbus has no layers for).
    loadFailed(err('Runtime.InvalidEntrypoint', `Couldn't find valid bootstrap(s): [${entry}]`));
    return;
  }
  try {
    accessSync(entry, fsConstants.X_OK);
  } catch {
    loadFailed(err('Runtime.InvalidEntrypoint', `fork/exec ${entry}: permission denied`));
    return;
  }

  const srv = http.createServer({ requestTimeout: 0 }, onRequest);
  server = srv;
  // Why no timeouts: /next is a long poll of unbounded length, and a keep-alive connection left
  // idle while the function works must still be usable for its /response (a server-side idle
  // close would race the client's reuse and surface as ECONNRESET in the bootstrap).
  srv.keepAliveTimeout = 0;
  srv.on('error', (e) => loadFailed(err('Runtime.InternalError', `runtime API server: ${e.message}`)));
  srv.listen(0, '127.0.0.1', () => {
    const address = srv.address();
    if (phase !== 'init' || !address || typeof address === 'string') return;
    startBootstrap(entry, taskRoot, address.port);
  });
}

/** @param {string} entry @param {string} taskRoot @param {number} port */
function startBootstrap(entry, taskRoot, port) {
  if (!cfg) return;
  const region = str(cfg.region);
  /** @type {Record<string, string | undefined>} */
  const reserved = {
    AWS_LAMBDA_FUNCTION_NAME: str(cfg.functionName),
    AWS_LAMBDA_FUNCTION_VERSION: str(cfg.functionVersion),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: str(cfg.memoryMB),
    AWS_LAMBDA_LOG_GROUP_NAME: str(cfg.logGroupName),
    AWS_LAMBDA_LOG_STREAM_NAME: str(cfg.logStreamName),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
  /** @type {Record<string, string>} */
  const env = {};
  // The runner's own environment is already the clean one the host built (it wins over the
  // reserved defaults, as in the python runner); a PATH is always present on Lambda and shell
  // bootstraps are useless without one.
  for (const [k, v] of Object.entries({
    PATH: '/usr/local/bin:/usr/bin:/bin',
    ...reserved,
    ...process.env,
  })) {
    if (v !== undefined && v !== '') env[k] = v;
  }
  const userEnv = /** @type {Record<string, unknown>} */ (cfg.env ?? {});
  for (const [k, v] of Object.entries(userEnv)) env[k] = String(v);
  env.AWS_LAMBDA_RUNTIME_API = `127.0.0.1:${port}`;
  env.LAMBDA_TASK_ROOT = taskRoot;
  env._HANDLER = String(cfg.handler ?? '');

  const child = spawn(entry, [], { cwd: taskRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  bootstrap = child;
  bootstrapPid = child.pid ?? 0;
  let closed = false;
  const closedPromise = new Promise((resolve) =>
    child.on('close', () => {
      closed = true;
      resolve(undefined);
    }),
  );
  child.stdout?.setEncoding('utf8').on('data', appendLog);
  child.stderr?.setEncoding('utf8').on('data', appendLog);
  child.on('error', (e) => {
    // spawn itself failed (e.g. ENOEXEC, a vanished file): no 'exit' follows.
    const code = /** @type {NodeJS.ErrnoException} */ (e).code ?? 'error';
    loadFailed(err('Runtime.InvalidEntrypoint', `fork/exec ${entry}: ${code}: ${e.message}`));
  });
  child.on('exit', async (code, signal) => {
    maxRssMB();
    // Why wait for 'close' (bounded): output written just before exiting is still in the pipes;
    // a grandchild holding them open must not stall the report.
    if (!closed) await Promise.race([closedPromise, new Promise((r) => setTimeout(r, 100))]);
    onBootstrapExit(code, signal);
  });
}

/** @param {unknown} v */
const str = (v) => (v === undefined || v === null || v === '' ? undefined : String(v));

/** @param {number | null} code @param {NodeJS.Signals | null} signal */
function onBootstrapExit(code, signal) {
  const how = signal ? `signal: ${signalName(signal)}` : `exit status ${code}`;
  const message = `Runtime exited with error: ${how}`;
  if (phase === 'init') {
    loadFailed(err('Runtime.ExitError', message));
  } else if (phase === 'ready') {
    phase = 'exiting';
    const done = finishing;
    finishing = undefined;
    const inv = current ?? pending;
    if (done) {
      // The bootstrap answered, then exited before the result went out: report the answer.
      sendOutcome(done.inv, done.outcome, () => shutdown(0));
    } else if (inv) {
      const logs = stopCapture();
      const frame = {
        t: 'result',
        id: inv.id,
        ok: false,
        error: err('Runtime.ExitError', `RequestId: ${inv.id} Error: ${message}`),
        logs,
        maxRssMB: lastRssMB,
      };
      // The host replaces an instance whose runner exits; this one has no function left to run.
      send(frame, undefined, () => shutdown(0));
    } else {
      send({ t: 'log', data: `${message}\n` }, undefined, () => shutdown(0));
    }
  }
}

/** @param {NodeJS.Signals} signal */
function signalName(signal) {
  // Go's wording, as Lambda prints it: "signal: killed", "signal: segmentation fault".
  /** @type {Record<string, string>} */
  const names = {
    SIGKILL: 'killed',
    SIGSEGV: 'segmentation fault',
    SIGTERM: 'terminated',
    SIGABRT: 'aborted',
  };
  return names[signal] ?? signal;
}

/** @param {Header} header @param {Buffer} body */
function onInvoke(header, body) {
  const id = String(header.id ?? '');
  if (phase !== 'ready' || current || pending || finishing) {
    const why = phase === 'ready' ? 'an invocation is already in flight' : `runner is ${phase}, not ready`;
    send({
      t: 'result',
      id,
      ok: false,
      error: err('Runtime.InvalidState', why),
      logs: '',
      maxRssMB: lastRssMB,
    });
    return;
  }
  /** @type {Invocation} */
  const inv = {
    id,
    body,
    deadlineMs: typeof header.deadlineMs === 'number' ? header.deadlineMs : Date.now() + 900_000,
    clientContext: typeof header.clientContext === 'string' ? header.clientContext : undefined,
    traceId: typeof header.traceId === 'string' ? header.traceId : undefined,
  };
  startCapture();
  const res = waitingNext;
  waitingNext = undefined;
  // A poll whose connection already dropped cannot carry the event; the next /next will.
  if (res && !res.destroyed) {
    deliver(res, inv);
  } else {
    pending = inv;
  }
}

/** @param {http.ServerResponse} res @param {Invocation} inv */
function deliver(res, inv) {
  pending = undefined;
  current = inv;
  /** @type {Record<string, string>} */
  const headers = {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Aws-Request-Id': inv.id,
    'Lambda-Runtime-Deadline-Ms': String(Math.floor(inv.deadlineMs)),
    'Lambda-Runtime-Invoked-Function-Arn': String(cfg?.invokedFunctionArn ?? ''),
    'Lambda-Runtime-Trace-Id': inv.traceId ?? newTraceId(),
  };
  if (inv.clientContext) {
    // Why latin1: the host sends base64 and the Runtime API carries the JSON itself; latin1 puts
    // the UTF-8 bytes on the wire unchanged, and control characters (only ever JSON whitespace)
    // are not allowed in a header value.
    const json = Buffer.from(inv.clientContext, 'base64').toString('latin1');
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    headers['Lambda-Runtime-Client-Context'] = json.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ');
  }
  res.writeHead(200, { ...headers, 'Content-Length': String(inv.body.length) });
  res.end(inv.body);
}

function newTraceId() {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/** @param {Invocation} inv @param {Outcome} outcome */
async function finish(inv, outcome) {
  current = undefined;
  const entry = { inv, outcome };
  finishing = entry;
  await settle();
  if (finishing !== entry) return; // The bootstrap-exit path has reported it.
  finishing = undefined;
  sendOutcome(inv, outcome);
}

/** @param {Invocation} inv @param {Outcome} outcome @param {() => void} [cb] */
function sendOutcome(inv, outcome, cb) {
  const logs = stopCapture();
  const rss = maxRssMB();
  // logDropped keeps the count of the capture just stopped until the next one starts.
  const droppedBytes = logDropped;
  if (outcome.ok)
    send({ t: 'result', id: inv.id, ok: true, logs, maxRssMB: rss, droppedBytes }, outcome.body, cb);
  else
    send(
      { t: 'result', id: inv.id, ok: false, error: outcome.error, logs, maxRssMB: rss, droppedBytes },
      undefined,
      cb,
    );
}

// ---------------------------------------------------------------------------------------------
// Runtime API

/** @param {http.ServerResponse} res @param {number} status @param {object} body */
function json(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

/** @param {http.ServerResponse} res @param {string} from @param {string} to */
function invalidState(res, from, to) {
  json(res, 403, {
    errorType: 'InvalidStateTransition',
    errorMessage: `State transition from ${from} to ${to} failed for runtime. Error: State transition is not allowed`,
  });
}

/** @param {http.IncomingMessage} req @param {number} limit @returns {Promise<{ body: Buffer, tooLarge: boolean }>} */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const parts = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      // Why keep draining when too large: replying before the body is read makes the client see
      // EPIPE/ECONNRESET instead of the 413.
      if (!tooLarge) parts.push(chunk);
    });
    req.on('end', () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(parts), tooLarge }));
    req.on('error', reject);
  });
}

/** @param {Buffer} body @param {string | undefined} headerType @param {string} fallbackType @returns {LambdaError} */
function parseErrorBody(body, headerType, fallbackType) {
  /** @type {unknown} */
  let parsed;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const p = /** @type {Record<string, unknown>} */ (parsed);
    const stack = Array.isArray(p.stackTrace) ? p.stackTrace.map(String) : [];
    return {
      errorType: typeof p.errorType === 'string' && p.errorType ? p.errorType : (headerType ?? fallbackType),
      errorMessage: typeof p.errorMessage === 'string' ? p.errorMessage : '',
      trace: stack,
    };
  }
  return { errorType: headerType ?? fallbackType, errorMessage: body.toString('utf8'), trace: [] };
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function onRequest(req, res) {
  try {
    await route(req, res);
  } catch (e) {
    if (!res.headersSent) json(res, 500, { errorType: 'InternalServerError', errorMessage: String(e) });
  }
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function route(req, res) {
  const path = (req.url ?? '').split('?')[0] ?? '';
  const method = req.method ?? 'GET';

  if (path === `${API}/invocation/next`) {
    if (method !== 'GET') return json(res, 405, { errorType: 'MethodNotAllowed', errorMessage: 'Use GET' });
    return onNext(res);
  }
  if (path === `${API}/init/error`) {
    if (method !== 'POST') return json(res, 405, { errorType: 'MethodNotAllowed', errorMessage: 'Use POST' });
    if (phase !== 'init') {
      req.resume();
      return invalidState(res, phase === 'ready' ? 'Ready' : phase, 'InitError');
    }
    const { body } = await readBody(req, maxResponseBytes);
    const headerType = header(req, 'lambda-runtime-function-error-type');
    json(res, 202, { status: 'OK' });
    await settle();
    loadFailed(parseErrorBody(body, headerType, 'Runtime.Unknown'));
    return;
  }
  const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
  if (m) {
    if (method !== 'POST') return json(res, 405, { errorType: 'MethodNotAllowed', errorMessage: 'Use POST' });
    const id = decodeURIComponent(m[1] ?? '');
    const kind = m[2];
    const inv = current;
    // AWS checks the runtime's state first (403), then the request id (400).
    if (!inv) {
      req.resume();
      return invalidState(
        res,
        'Ready',
        kind === 'response' ? 'InvocationResponse' : 'InvocationErrorResponse',
      );
    }
    if (id !== inv.id) {
      req.resume();
      return json(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    }
    const { body, tooLarge } = await readBody(req, maxResponseBytes);
    if (current !== inv) {
      // The bootstrap raced itself (two posts for one id): the first one won.
      return json(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    }
    if (kind === 'response') {
      if (tooLarge) {
        json(res, 413, {
          errorType: 'RequestEntityTooLarge',
          errorMessage: `Exceeded maximum allowed payload size (${maxResponseBytes} bytes).`,
        });
        // As on AWS, the invocation fails and the runtime carries on with /next.
        return finish(inv, {
          ok: false,
          error: err(
            'Function.ResponseSizeTooLarge',
            `Response payload size exceeded maximum allowed payload size (${maxResponseBytes} bytes).`,
          ),
        });
      }
      json(res, 202, { status: 'OK' });
      return finish(inv, { ok: true, body });
    }
    json(res, 202, { status: 'OK' });
    const headerType = header(req, 'lambda-runtime-function-error-type');
    return finish(inv, { ok: false, error: parseErrorBody(body, headerType, 'Unhandled') });
  }
  req.resume();
  json(res, 404, { errorType: 'NotFound', errorMessage: `No route for ${method} ${path}` });
}

/** @param {http.IncomingMessage} req @param {string} name */
function header(req, name) {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

/** @param {http.ServerResponse} res */
async function onNext(res) {
  if (phase === 'init') {
    // AWS considers init done when the runtime first asks for work.
    phase = 'ready';
    const initMs = Math.round((performance.now() - loadStarted) * 1000) / 1000;
    await settle();
    const logs = stopCapture();
    if (logs) send({ t: 'log', data: logs });
    send({ t: 'loaded', initMs });
  }
  if (phase !== 'ready') return invalidState(res, phase, 'InvocationNext');
  if (current || (waitingNext && !waitingNext.destroyed)) {
    // A second /next without a response for the delivered invocation (or two parallel polls).
    return invalidState(res, 'InvocationNext', 'InvocationNext');
  }
  const inv = pending;
  if (inv) return deliver(res, inv);
  waitingNext = res;
  // A poll whose connection drops (the bootstrap gave up) must not receive the next event.
  res.on('close', () => {
    if (waitingNext === res) waitingNext = undefined;
  });
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

function killBootstrap() {
  const child = bootstrap;
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function closeServer() {
  if (!server) return;
  server.close();
  server.closeAllConnections();
  server = undefined;
}

let shuttingDown = false;
/** @param {number} code */
function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  phase = 'exiting';
  const child = bootstrap;
  const alive = child && child.exitCode === null && child.signalCode === null;
  killBootstrap();
  closeServer();
  if (!child || !alive) process.exit(code);
  // Why wait (briefly) for the bootstrap to be reaped: when this process is gone the host may
  // assume the whole instance is, and an unreaped child would linger as an orphan.
  const timer = setTimeout(() => process.exit(code), 500);
  child.once('exit', () => {
    clearTimeout(timer);
    process.exit(code);
  });
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('uncaughtException', (e) => {
  process.stderr.write(`nimbus provided runner crashed: ${e.stack ?? e}\n`);
  shutdown(70);
});

send({ t: 'ready', pid: process.pid });
