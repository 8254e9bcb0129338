// A per-key async mutex: serializes the commits that replace one object (or one upload's parts)
// within this process.

/**
 * Runs functions for the same key one after another. Why: replacing an object reads the old
 * row's file id and upserts the new row; two concurrent replaces of a key that had no row could
 * both see "no old file" and leak one file until the next start's sweep.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Run `fn` once every earlier call for `key` has settled. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.then(fn, fn);
    const tail = current.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
