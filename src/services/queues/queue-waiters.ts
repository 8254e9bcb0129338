// Long-poll wake-ups: receivers waiting on a queue are woken by local sends at once, and by sends
// on other nodes through the store's LISTEN/NOTIFY when it has it; otherwise they poll.

/** Waiting receivers per queue. */
export class QueueWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Wake every receiver waiting on `queue`. */
  wake(queue: string): void {
    const set = this.#waiting.get(queue);
    if (set === undefined) return;
    this.#waiting.delete(queue);
    for (const resolve of set) resolve();
  }

  /** Wake every receiver of every queue (stopping). */
  wakeAll(): void {
    for (const queue of [...this.#waiting.keys()]) this.wake(queue);
  }

  /**
   * Resolves when `queue` is woken, after `ms`, or when `signal` aborts, whichever is first.
   * Leaves no timer or listener behind.
   */
  wait(queue: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let set = this.#waiting.get(queue);
      if (set === undefined) this.#waiting.set(queue, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        const current = this.#waiting.get(queue);
        current?.delete(done);
        if (current?.size === 0) this.#waiting.delete(queue);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}
