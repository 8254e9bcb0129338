// @ts-check
// Worker-thread entry of the `thread` tier: one pre-started worker runs one function via handler-host.mjs.
//
// Lives next to the runners because it is plain JS shipped as-is (scripts/copy-assets.mjs copies this dir).

import { parentPort } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { HandlerHost, installLogCapture } from './handler-host.mjs';

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
/** @type {HandlerHost | null} */
let host = null;

installLogCapture((text) => port.postMessage({ t: 'log', data: text }));

/** Heap in use by this worker's isolate (the whole process's RSS would say nothing about it). */
function usedMB() {
  const s = getHeapStatistics();
  return Math.round((s.used_heap_size + s.external_memory) / 104857.6) / 10;
}

port.on('message', async (/** @type {any} */ msg) => {
  if (msg.t === 'load') {
    // worker_threads gives each worker its own process.env copy: changes stay in this worker.
    for (const key of Object.keys(process.env)) if (!(key in msg.env)) delete process.env[key];
    for (const [key, value] of Object.entries(msg.env)) process.env[key] = value;
    host = new HandlerHost(msg);
    const outcome = await host.load();
    if (outcome.ok) {
      if (outcome.logs) port.postMessage({ t: 'log', data: outcome.logs });
      port.postMessage({ t: 'loaded', initMs: outcome.initMs });
    } else {
      port.postMessage({ t: 'load-error', error: outcome.error, logs: outcome.logs });
    }
  } else if (msg.t === 'invoke') {
    if (host === null || host.fn === null) {
      const error = { errorType: 'Runtime.InvalidState', errorMessage: 'invoke before a successful load' };
      port.postMessage({ t: 'result', id: msg.id, ok: false, error, logs: '', maxRssMB: usedMB() });
      return;
    }
    const outcome = await host.invoke(msg.id, msg.event, msg.deadlineMs, msg.clientContext, msg.traceId);
    port.postMessage({ t: 'result', id: msg.id, maxRssMB: usedMB(), ...outcome });
  }
});

port.postMessage({ t: 'ready' });
