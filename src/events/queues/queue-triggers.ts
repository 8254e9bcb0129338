// Queue triggers: stored with the deploy (so they survive restarts and every node runs them),
// and one poller per trigger on this node, reconciled with the store on changes and periodically.

import type { QueueOperations } from '../../services/queues/queue-types.js';
import type { ServiceContext } from '../../services/service-context.js';
import type { QueueStore, QueueTriggerRecord } from '../../store/ports/queues.js';
import { QueuePoller } from './queue-poller.js';
import type { QueueTriggerSettings } from './queue-trigger-config.js';

/** How often the stored triggers are re-read (to pick up deploys made on other nodes). */
const REFRESH_INTERVAL_MS = 5000;

/** Runs this node's pollers for the stored queue triggers. */
export class QueueTriggers {
  readonly #ctx: ServiceContext;
  readonly #queues: QueueOperations;
  readonly #pollers = new Map<string, { key: string; poller: QueuePoller }>();
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> = Promise.resolve();

  constructor(ctx: ServiceContext, queues: QueueOperations) {
    this.#ctx = ctx;
    this.#queues = queues;
  }

  /** Where the triggers are stored. */
  get store(): QueueStore {
    return this.#ctx.store.queues;
  }

  /** Starts polling for the stored triggers and re-reads them every few seconds. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), REFRESH_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops every poller, waiting for their batches in flight. Idempotent. */
  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#refreshing;
    const pollers = [...this.#pollers.values()];
    this.#pollers.clear();
    await Promise.all(pollers.map((p) => p.poller.stop()));
  }

  /** Re-reads the stored triggers: starts new ones, stops removed or changed ones. */
  refresh(): Promise<void> {
    const next = this.#refreshing
      .then(() => this.#reconcile())
      .catch((err: unknown) => this.#ctx.onError(err));
    this.#refreshing = next;
    return next;
  }

  async #reconcile(): Promise<void> {
    if (!this.#running) return;
    const stored = await this.#ctx.store.queues.listTriggers();
    if (!this.#running) return;
    const wanted = new Map<string, QueueTriggerRecord>();
    for (const t of stored) {
      const settings = JSON.parse(t.settings) as QueueTriggerSettings;
      if (settings.enabled) wanted.set(t.id, t);
    }
    const stopping: Array<Promise<void>> = [];
    for (const [id, running] of this.#pollers) {
      const t = wanted.get(id);
      if (t === undefined || keyOf(t) !== running.key) {
        this.#pollers.delete(id);
        stopping.push(running.poller.stop());
      }
    }
    for (const [id, t] of wanted) {
      if (this.#pollers.has(id)) continue;
      const poller = new QueuePoller(
        this.#ctx,
        this.#queues,
        t,
        JSON.parse(t.settings) as QueueTriggerSettings,
      );
      this.#pollers.set(id, { key: keyOf(t), poller });
      poller.start();
    }
    await Promise.all(stopping);
  }
}

function keyOf(t: QueueTriggerRecord): string {
  return `${t.functionName}\n${t.queue}\n${t.settings}`;
}
