// @ts-check
// ESM face of handler-host.cjs (the implementation; see there why it is CommonJS), for thread-worker.mjs.
export { HandlerHost, installLogCapture, pendingLogs, toLambdaError } from './handler-host.cjs';
