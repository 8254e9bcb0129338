// Which invoke failures are the platform's (throttles, no capacity, an instance that could not
// start) rather than the function's, and the backoff every event source retries them with.

import { isNimbusError } from '../errors.js';

/**
 * True when an error thrown by `InvokeService.invoke` is a platform-side failure: a throttle
 * (`TooManyRequestsException`: the function's maxConcurrency or the node's memory budget), a
 * retryable internal error (`ServiceException`: shutting down, code not fetched), or a failure
 * that is no NimbusError at all (a runner that could not be spawned). As on Lambda, these are
 * retried with backoff until the event's maximum age and do not count against the function's
 * retry attempts, which are for function errors. A deleted function (`ResourceNotFoundException`)
 * and the other non-retryable codes (a response over 6 MB, a runtime this node lacks) are not:
 * retrying the same event would fail the same way.
 */
export function isPlatformFailure(err: unknown): boolean {
  if (!isNimbusError(err)) return true;
  return err.retryable;
}

/** Options of {@link platformBackoffMs}. */
export interface PlatformBackoff {
  /** First delay, ms. */
  readonly baseMs: number;
  /** Longest delay, ms. */
  readonly maxMs: number;
}

/**
 * The delay before retry number `n` (1 for the first) of a platform-side failure: exponential
 * from `baseMs`, capped at `maxMs`, with "equal jitter" (a uniform draw in the upper half), so
 * events throttled together do not come back together. Whole ms (stores keep epoch ms as
 * integers).
 */
export function platformBackoffMs(
  n: number,
  backoff: PlatformBackoff,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(Math.max(n - 1, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
