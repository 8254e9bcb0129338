// The contracts every background service shares: start/stop, and the logger it reports through.
//
// Why here, at the root beside errors.ts: services/, events/ and workflow/ implement these, and
// server/ composes them; the contracts belong below all of them so imports run one way.

/** A background service. Both methods are idempotent; `stop` waits for work in flight. */
export interface Lifecycle {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

/** Where the server and its background services report. */
export interface ServerLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
