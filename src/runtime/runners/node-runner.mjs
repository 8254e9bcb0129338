// @ts-check
// Generic Node.js runner: started before any function is assigned, speaks PROTOCOL.md frames on fd 3.

import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { HandlerHost, installLogCapture, pendingLogs, toLambdaError } from './handler-host.mjs';

/** @typedef {import('./handler-host.mjs').LambdaError} LambdaError */

const channel = new Socket({ fd: 3, readable: true, writable: true });
const EMPTY = Buffer.alloc(0);

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

/** Write directly to fd 2 (the host attributes it to the invocation in flight); survives an exit. */
function writeStderr(/** @type {string} */ text) {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nothing left to tell.
  }
}

/** @type {HandlerHost | null} */
let host = null;
/** @type {string | null} request in flight */
let inFlight = null;

installLogCapture((text) => send({ t: 'log', data: text }));

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
  host = new HandlerHost(msg);
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
  const outcome = await host.invoke(msg.id, body.toString('utf8'), msg.deadlineMs, msg.clientContext);
  inFlight = null;
  if (outcome.ok) {
    send(
      { t: 'result', id: msg.id, ok: true, logs: outcome.logs, maxRssMB: maxRssMB() },
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
    });
  }
}

function maxRssMB() {
  return Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
}

// ---------------------------------------------------------------- frame decoding

/** @type {Buffer[]} */
let chunks = [];
let buffered = 0;

channel.on('data', (/** @type {Buffer} */ chunk) => {
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
});

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

// The host closing the channel means the instance is being disposed.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(0));

send({ t: 'ready', pid: process.pid });

/**
 * With `--warm-up` (pre-started runners only): run one throw-away load and invoke while idle, so
 * the first real ones find V8's lazily compiled code paths (import(), JSON, the handler host) and
 * heap pages ready. Without it the runner is started for a load that is already waiting, which
 * would queue behind the warm-up (measured +5–10 ms on an empty-pool cold start).
 */
const warm = process.argv.includes('--warm-up')
  ? (async () => {
      const h = new HandlerHost({
        handler: 'warmup.handler',
        taskRoot: new URL('.', import.meta.url).pathname,
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
