// The few impure things the language needs (clock, randomness, ids), injected so steps are
// deterministic in tests and replayable by the executor.

import { randomUUID } from 'node:crypto';

/** Clock, randomness and id source used while evaluating states. */
export interface AslEnvironment {
  /** The current time (Wait `Seconds`, `$now()` in JSONata). */
  now(): Date;
  /** A number in [0, 1): jitter, `States.MathRandom`, `$random()`. */
  random(): number;
  /** A fresh v4 UUID: `States.UUID()`, `$uuid()`. */
  uuid(): string;
}

/** The real clock, Math.random and crypto.randomUUID. */
export const defaultEnvironment: AslEnvironment = {
  now: () => new Date(),
  random: () => Math.random(),
  uuid: () => randomUUID(),
};

/** A seeded generator in [0, 1) (mulberry32), for `States.MathRandom` and `$random` with a seed. */
export function seededRandom(seed: number): () => number {
  let a = Math.trunc(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
