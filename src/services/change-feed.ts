// A resource's change feed: the resource publishes what changed; whoever consumes it (triggers,
// workflows, metering) subscribes from outside, so a resource never imports its consumers.

/** Receives one change; a returned promise is awaited by {@link ChangeFeed.publish}. */
export type ChangeListener<E> = (change: E) => void | Promise<void>;

/**
 * The subscription seam between a resource (src/services) and what reacts to its changes
 * (src/events and later src/workflow), wired together in src/server. Listeners are called in
 * subscription order; one that throws is reported through `onError` and never fails the write
 * that published (the change is already committed, and consumers poll their store anyway).
 */
export class ChangeFeed<E> {
  readonly #listeners = new Set<ChangeListener<E>>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  /** Calls `listener` for every later change; returns the unsubscribe function. */
  subscribe(listener: ChangeListener<E>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener; resolves once each has handled it (failures reported, not thrown). */
  publish(change: E): Promise<void> {
    if (this.#listeners.size === 0) return Promise.resolve();
    const pending: Array<Promise<void>> = [];
    for (const listener of this.#listeners) {
      try {
        const result = listener(change);
        if (result !== undefined) pending.push(result.catch(this.#onError));
      } catch (err) {
        this.#onError(err);
      }
    }
    return pending.length === 0 ? Promise.resolve() : Promise.all(pending).then(() => undefined);
  }
}
