// Retry and Catch: matching error names (States.ALL, States.TaskFailed), the retry decision
// with its backoff delay, and choosing the catcher.

import { isJsonObject, type Json, type JsonObject } from './asl-types.js';
import { STATES_ERRORS, UNCATCHABLE_ERRORS } from './states-errors.js';

/** Retrier defaults from the States language specification. */
export const RETRY_DEFAULTS = { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 } as const;

/** Whether an `ErrorEquals` list matches `error`. */
export function errorMatches(errorEquals: readonly Json[], error: string): boolean {
  if (UNCATCHABLE_ERRORS.has(error)) return false;
  for (const name of errorEquals) {
    if (name === error || name === STATES_ERRORS.ALL) return true;
    // States.TaskFailed matches any error except a timeout.
    if (
      name === STATES_ERRORS.TaskFailed &&
      error !== STATES_ERRORS.Timeout &&
      error !== STATES_ERRORS.HeartbeatTimeout
    )
      return true;
    // A heartbeat timeout is a kind of timeout.
    if (name === STATES_ERRORS.Timeout && error === STATES_ERRORS.HeartbeatTimeout) return true;
  }
  return false;
}

/** The outcome of consulting a state's Retry field. */
export type RetryDecision =
  | {
      readonly retry: true;
      readonly delaySeconds: number;
      readonly attempts: number[];
      readonly retrierIndex: number;
    }
  | { readonly retry: false };

/**
 * Decides whether to retry. `attempts[i]` counts retries already made by retrier i (the
 * executor persists it). The first retrier whose ErrorEquals matches decides; once its
 * MaxAttempts is spent the error goes to Catch, as the specification says.
 */
export function decideRetry(
  retriers: Json | undefined,
  error: string,
  attempts: readonly number[],
  random: () => number,
): RetryDecision {
  if (!Array.isArray(retriers)) return { retry: false };
  for (let i = 0; i < retriers.length; i++) {
    const r = retriers[i];
    if (!isJsonObject(r) || !Array.isArray(r.ErrorEquals) || !errorMatches(r.ErrorEquals, error)) continue;
    const done = attempts[i] ?? 0;
    const max = typeof r.MaxAttempts === 'number' ? r.MaxAttempts : RETRY_DEFAULTS.MaxAttempts;
    if (done >= max) return { retry: false };
    const next = [...attempts];
    while (next.length < retriers.length) next.push(0);
    next[i] = done + 1;
    return { retry: true, delaySeconds: retryDelaySeconds(r, done, random), attempts: next, retrierIndex: i };
  }
  return { retry: false };
}

/**
 * The wait before retry number `attempt + 1`: IntervalSeconds × BackoffRate^attempt, capped by
 * MaxDelaySeconds; with JitterStrategy FULL a uniformly random part of that.
 */
export function retryDelaySeconds(retrier: JsonObject, attempt: number, random: () => number): number {
  const interval =
    typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : RETRY_DEFAULTS.IntervalSeconds;
  const backoff = typeof retrier.BackoffRate === 'number' ? retrier.BackoffRate : RETRY_DEFAULTS.BackoffRate;
  let delay = interval * backoff ** attempt;
  if (typeof retrier.MaxDelaySeconds === 'number') delay = Math.min(delay, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') delay = random() * delay;
  return Math.round(delay * 1000) / 1000;
}

/** The first catcher whose ErrorEquals matches `error`, with its index. */
export function findCatcher(
  catchers: Json | undefined,
  error: string,
): { index: number; catcher: JsonObject } | undefined {
  if (!Array.isArray(catchers)) return undefined;
  for (let i = 0; i < catchers.length; i++) {
    const c = catchers[i];
    if (isJsonObject(c) && Array.isArray(c.ErrorEquals) && errorMatches(c.ErrorEquals, error))
      return { index: i, catcher: c };
  }
  return undefined;
}
