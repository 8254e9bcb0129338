// The start/stop contract of background services (dispatchers, pollers, schedulers).

/** A background service. Both methods are idempotent; `stop` waits for work in flight. */
export interface Lifecycle {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}
