// @ts-check
// Generic Node.js runner: started before any function is assigned, speaks PROTOCOL.md frames on fd 3.
//
// Startup is on the empty-pool cold-start path, so this loads nothing node has not already
// loaded at bootstrap before `ready` (measured as CPU time of the sandboxed process, 2 cores,
// node 20, p50 of 30, interleaved; the machine was shared, so absolute figures vary):
// - CommonJS, not ESM: an ESM entry point costs ≈5 ms more even counting the later import() of
//   an ESM handler (CJS main + import() 35.0 ms vs ESM main + import 39.8 ms).
// - fd 3 is a libuv pipe handle from the `pipe_wrap` binding (what net.Socket wraps), not a
//   net.Socket: node:net pulls in node:stream and costs ≈7.5 ms (25.8 → 33.2 ms for a runner
//   that only says ready and reads one frame; with the bare handle 25.2 ms). The binding's
//   surface used here (open, readStart, onread + streamBaseState, writeBuffer + WriteWrap) is
//   what net.Socket itself relies on and has not changed since node 12; if it is missing, the
//   runner falls back to net.Socket. (A thread-pool fs.read loop was tried first: a read(2)
//   blocked in a pool thread makes process.exit() hang, since exit joins the pool.)
'use strict';

const { writeSync } = require('node:fs');

const EMPTY = Buffer.alloc(0);
const CHANNEL_FD = 3;

/**
 * The fd-3 channel: `write` queues one whole buffer (libuv writes it at once when the socket has
 * room, so frames never interleave); `onData` gets each chunk read; EOF or an error (the host
 * closed it: the instance is being disposed) exits.
 * @param {(chunk: Buffer) => void} onData
 * @returns {{ write(buf: Buffer): void }}
 */
function openChannel(onData) {
  const bare = openBareChannel(onData);
  if (bare) return bare;
  const { Socket } = require('node:net');
  const socket = new Socket({ fd: CHANNEL_FD, readable: true, writable: true });
  socket.on('data', onData);
  socket.on('end', () => process.exit(0));
  socket.on('error', () => process.exit(0));
  return { write: (buf) => void socket.write(buf) };
}

/**
 * @param {(chunk: Buffer) => void} onData
 * @returns {{ write(buf: Buffer): void } | null}
 */
function openBareChannel(onData) {
  /** @type {any} */ let pipeWrap;
  /** @type {any} */ let streamWrap;
  try {
    // process.binding is documentation-deprecated only for these two (no runtime warning).
    pipeWrap = /** @type {any} */ (process).binding('pipe_wrap');
    streamWrap = /** @type {any} */ (process).binding('stream_wrap');
  } catch {
    return null;
  }
  const { Pipe, constants } = pipeWrap ?? {};
  const { WriteWrap, streamBaseState: state, kReadBytesOrError, kArrayBufferOffset } = streamWrap ?? {};
  if (typeof Pipe !== 'function' || typeof WriteWrap !== 'function' || state === undefined) return null;
  if (typeof kReadBytesOrError !== 'number' || typeof kArrayBufferOffset !== 'number') return null;
  const pipe = new Pipe(constants.SOCKET);
  if (pipe.open(CHANNEL_FD) !== 0) return null;
  pipe.onread = (/** @type {ArrayBuffer | undefined} */ arrayBuffer) => {
    const n = state[kReadBytesOrError];
    if (n > 0 && arrayBuffer) onData(Buffer.from(arrayBuffer, state[kArrayBufferOffset], n));
    else if (n < 0) process.exit(0); // UV_EOF or a read error
  };
  if (pipe.readStart() !== 0) process.exit(0);
  /** @this {any} */
  function afterWrite(/** @type {number} */ status) {
    this.buffer = null;
    if (status < 0) process.exit(0);
  }
  return {
    write(buf) {
      const req = new WriteWrap();
      req.handle = pipe;
      req.oncomplete = afterWrite;
      req.async = false;
      req.buffer = buf; // kept alive until libuv is done with it
      if (pipe.writeBuffer(req, buf) !== 0) process.exit(0); // EPIPE: the host is gone
    },
  };
}

/** @type {Buffer[]} */
let chunks = [];
let buffered = 0;
const channel = openChannel(onData);

/** @param {object} header @param {Buffer} [body] */
function send(header, body = EMPTY) {
  const json = JSON.stringify(header);
  const headerLength = Buffer.byteLength(json);
  const frame = Buffer.allocUnsafe(8 + headerLength + body.length);
  frame.writeUInt32BE(headerLength, 0);
  frame.writeUInt32BE(body.length, 4);
  frame.write(json, 8, 'utf8');
  body.copy(frame, 8 + headerLength);
  channel.write(frame);
}

// Before loading anything else: the host prepares the `load` while the rest of this loads.
send({ t: 'ready', pid: process.pid });

const {
  HandlerHost,
  capturedDroppedBytes,
  installLogCapture,
  pendingLogs,
  toLambdaError,
} = require('./handler-host.cjs');

/** @typedef {import('./handler-host.cjs').LambdaError} LambdaError */

/** Write directly to fd 2 (the host attributes it to the invocation in flight); survives an exit. */
function writeStderr(/** @type {string} */ text) {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nothing left to tell.
  }
}

/** @type {InstanceType<typeof HandlerHost> | null} */
let host = null;
/** @type {string | null} request in flight */
let inFlight = null;

/** @param {string} text */
const sendLog = (text) => send({ t: 'log', data: text });
installLogCapture(sendLog);

let flushed = false;
/** Write output captured in memory (it would vanish with the process) to fd 2, once. */
function flushCaptured() {
  if (flushed) return '';
  flushed = true;
  return pendingLogs();
}
process.on('exit', () => {
  const logs = flushCaptured();
  if (logs) writeStderr(logs);
});

/**
 * Report an uncaught error the way Lambda's Node runtime logs it, then exit: the host turns the
 * exit into `Runtime.ExitError` for the invocation in flight and replaces the instance.
 * @param {string} label @param {LambdaError} error @param {number} code
 */
function fatal(label, error, code) {
  const line = `${new Date().toISOString()}\t${inFlight ?? 'undefined'}\tERROR\t${label} \t${JSON.stringify(error)}\n`;
  writeStderr(flushCaptured() + line);
  // Lambda's Node runtime exits 129 on an uncaught exception and 128 on an unhandled rejection.
  process.exit(code);
}
process.on('uncaughtException', (err) => fatal('Uncaught Exception', toLambdaError(err), 129));
process.on('unhandledRejection', (err) =>
  fatal(
    'Unhandled Promise Rejection',
    { ...toLambdaError(err), errorType: 'Runtime.UnhandledPromiseRejection' },
    128,
  ),
);

/** @param {any} msg */
async function onLoad(msg) {
  await warm;
  // Touch only what changes: each assignment to TZ makes V8 and ICU reload the time zone
  // (measured 5–10 ms in the sandbox), and TZ is usually already right from the start.
  for (const key of Object.keys(process.env)) if (!(key in msg.env)) delete process.env[key];
  for (const [key, value] of Object.entries(msg.env))
    if (process.env[key] !== value) process.env[key] = value;
  try {
    process.chdir(msg.taskRoot);
  } catch {
    // An unreadable task root shows up as an import error below.
  }
  // Captured output is flushed as `log` frames while init and invocations run (see PROTOCOL.md).
  host = new HandlerHost(msg, { flushLogs: sendLog });
  const outcome = await host.load();
  if (outcome.ok) {
    if (outcome.logs) send({ t: 'log', data: outcome.logs });
    send({ t: 'loaded', initMs: Math.round(outcome.initMs * 1000) / 1000 });
  } else {
    send({ t: 'load-error', error: outcome.error, logs: outcome.logs });
  }
}

/** @param {any} msg @param {Buffer} body */
async function onInvoke(msg, body) {
  if (host === null || host.fn === null) {
    /** @type {LambdaError} */
    const error = {
      errorType: 'Runtime.InvalidState',
      errorMessage: 'invoke before a successful load',
      trace: [],
    };
    send({ t: 'result', id: msg.id, ok: false, error, logs: '', maxRssMB: maxRssMB() });
    return;
  }
  inFlight = msg.id;
  const outcome = await host.invoke(
    msg.id,
    body.toString('utf8'),
    msg.deadlineMs,
    msg.clientContext,
    msg.traceId,
  );
  inFlight = null;
  const droppedBytes = capturedDroppedBytes();
  if (outcome.ok) {
    send(
      { t: 'result', id: msg.id, ok: true, logs: outcome.logs, maxRssMB: maxRssMB(), droppedBytes },
      Buffer.from(outcome.body),
    );
  } else {
    send({
      t: 'result',
      id: msg.id,
      ok: false,
      error: outcome.error,
      logs: outcome.logs,
      maxRssMB: maxRssMB(),
      droppedBytes,
    });
  }
}

function maxRssMB() {
  return Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
}

// ---------------------------------------------------------------- frame decoding

/** @param {Buffer} chunk */
function onData(chunk) {
  chunks.push(chunk);
  buffered += chunk.length;
  while (buffered >= 8) {
    let buf = /** @type {Buffer} */ (chunks[0]);
    if (buf.length < 8) buf = flatten();
    const headerLength = buf.readUInt32BE(0);
    const total = 8 + headerLength + buf.readUInt32BE(4);
    if (buffered < total) break;
    if (buf.length < total) buf = flatten();
    const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
    const body = buf.subarray(8 + headerLength, total);
    if (buf.length === total) chunks.shift();
    else chunks[0] = buf.subarray(total);
    buffered -= total;
    dispatch(header, body);
  }
}

function flatten() {
  const all = Buffer.concat(chunks, buffered);
  chunks = [all];
  return all;
}

/** @param {any} header @param {Buffer} body */
function dispatch(header, body) {
  if (header.t === 'load') void onLoad(header);
  else if (header.t === 'invoke') void onInvoke(header, body);
}

/**
 * With `--warm-up` (pre-started runners only): run one throw-away load and invoke while idle, so
 * the first real ones find V8's lazily compiled code paths (import(), JSON, the handler host) and
 * heap pages ready. Without it the runner is started for a load that is already waiting, which
 * would queue behind the warm-up (measured +1.8 ms p50 spawn→loaded).
 */
const warm = process.argv.includes('--warm-up')
  ? (async () => {
      const h = new HandlerHost({
        handler: 'warmup.handler',
        taskRoot: __dirname,
        functionName: 'warmup',
        functionVersion: '$LATEST',
        memoryMB: 128,
        invokedFunctionArn: '',
        logGroupName: '',
        logStreamName: '',
      });
      const loaded = await h.load();
      if (loaded.ok) await h.invoke('warmup', '{"warm":true}', Date.now() + 1000);
    })().catch(() => {})
  : undefined;
