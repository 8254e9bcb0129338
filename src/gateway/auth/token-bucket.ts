// A token bucket: the per-key rate and burst of a usage plan, held in memory on each node.

/**
 * `rate` tokens per second refill a bucket of `burst` tokens; a request takes one. Why a bucket
 * and not a window: it is what API Gateway documents for throttling (steady rate plus burst),
 * and it needs two numbers per key and no timer.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #at: number;

  constructor(rate: number, burst: number, now = Date.now()) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Take a token: 0 when allowed, otherwise the seconds (≥ 1) until one is available. */
  take(now = Date.now()): number {
    const elapsed = Math.max(0, now - this.#at) / 1000;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.#tokens) / this.rate));
  }
}
