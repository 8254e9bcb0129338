// Parallel branches and inline Map iterations as child executions of the durable core: which
// children to start (bounded by MaxConcurrency), how their ends fold into one result, and when
// a failure (or too many, with tolerated failures) ends the state early.

import {
  mapFailureExceeded,
  STATES_ERRORS,
  type Json,
  type MapOutcome,
  type StateMachine,
  type TaskResult,
} from '../asl/index.js';

/** A Parallel or Map state waiting for its children (kept in the parent's state, JSON). */
export interface FanOut {
  readonly kind: 'parallel' | 'map';
  /** The prefix of its children's refs (`<ref>/<index>`); unique per entry of the state. */
  readonly ref: string;
  /** JSON pointer of each child's machine: one per branch, or the Map's processor. */
  readonly machines: readonly string[];
  /** Each child's input (a branch's is the state's input; a Map's, its item's). */
  readonly inputs: readonly Json[];
  /** Results by index (null until its child ends, or for a failed item a Map tolerates). */
  readonly results: readonly Json[];
  /** Which children ended, by index: `1` ended, `0` running or not started. */
  readonly ended: string;
  /** Children started so far (they start in index order). */
  readonly started: number;
  readonly finished: number;
  readonly failed: number;
  /** 0: no limit. */
  readonly maxConcurrency: number;
  readonly toleratedFailureCount?: number | undefined;
  readonly toleratedFailurePercentage?: number | undefined;
  /** A distributed Map's children start with no variables of the parent. */
  readonly distributed?: boolean | undefined;
}

/** A child to start: its index, machine and input. */
export interface ChildLaunch {
  readonly index: number;
  readonly machine: string;
  readonly input: Json;
}

/** The fan-out of a Parallel state: one child per branch, all at once. */
export function parallelFanOut(ref: string, branches: readonly StateMachine[], input: Json): FanOut {
  return {
    kind: 'parallel',
    ref,
    machines: branches.map((b) => b.pointer),
    inputs: branches.map(() => input),
    results: branches.map(() => null),
    ended: '0'.repeat(branches.length),
    started: 0,
    finished: 0,
    failed: 0,
    maxConcurrency: 0,
  };
}

/** The fan-out of an inline Map: one child per item input, MaxConcurrency at a time. */
export function mapFanOut(ref: string, outcome: MapOutcome, itemInputs: readonly Json[]): FanOut {
  return {
    kind: 'map',
    ref,
    machines: [outcome.processor.pointer],
    inputs: itemInputs,
    results: itemInputs.map(() => null),
    ended: '0'.repeat(itemInputs.length),
    started: 0,
    finished: 0,
    failed: 0,
    maxConcurrency: outcome.maxConcurrency,
    toleratedFailureCount: outcome.toleratedFailureCount,
    toleratedFailurePercentage: outcome.toleratedFailurePercentage,
    distributed: outcome.mode === 'DISTRIBUTED',
  };
}

/** Children to start now (up to MaxConcurrency running), and the fan-out after starting them. */
export function launch(fan: FanOut): { fan: FanOut; children: ChildLaunch[] } {
  const running = fan.started - fan.finished;
  const room = fan.maxConcurrency > 0 ? Math.max(0, fan.maxConcurrency - running) : fan.inputs.length;
  const end = Math.min(fan.inputs.length, fan.started + room);
  const children: ChildLaunch[] = [];
  for (let i = fan.started; i < end; i++) {
    children.push({
      index: i,
      machine: fan.machines[fan.kind === 'parallel' ? i : 0]!,
      input: fan.inputs[i]!,
    });
  }
  return { fan: { ...fan, started: end }, children };
}

/** The child's index if `ref` is one of this fan-out's children, else undefined. */
export function childIndex(fan: FanOut, ref: string): number | undefined {
  if (!ref.startsWith(`${fan.ref}/`)) return undefined;
  const n = Number(ref.slice(fan.ref.length + 1));
  return Number.isInteger(n) && n >= 0 && n < fan.inputs.length ? n : undefined;
}

/**
 * Record one child's end. Returns the state's result once it is decided: every child done,
 * or a failure that decides it (a branch; a Map iteration beyond what the Map tolerates).
 */
export function childEnded(
  fan: FanOut,
  index: number,
  end:
    | { readonly ok: true; readonly output: Json }
    | { readonly ok: false; readonly error: string; readonly cause: string },
): { fan: FanOut; result?: TaskResult } {
  if (fan.ended[index] === '1') return { fan }; // Already counted (cannot happen twice).
  const results = [...fan.results];
  // A failed iteration a Map tolerates leaves null in its place.
  results[index] = end.ok ? end.output : null;
  const next: FanOut = {
    ...fan,
    results,
    ended: `${fan.ended.slice(0, index)}1${fan.ended.slice(index + 1)}`,
    finished: fan.finished + 1,
    failed: fan.failed + (end.ok ? 0 : 1),
  };
  if (!end.ok) {
    const tolerant = fan.toleratedFailureCount !== undefined || fan.toleratedFailurePercentage !== undefined;
    if (fan.kind === 'parallel' || !tolerant) {
      // The branch's or iteration's own error, for Retry/Catch to match (as AWS does).
      return { fan: next, result: { ok: false, error: end.error, cause: end.cause } };
    }
    if (mapFailureExceeded(fan, next.failed, fan.inputs.length)) {
      return {
        fan: next,
        result: {
          ok: false,
          error: STATES_ERRORS.ExceedToleratedFailureThreshold,
          cause: `The Map state's iterations failed beyond its tolerated failure threshold (${next.failed} of ${fan.inputs.length} failed).`,
        },
      };
    }
  }
  if (next.finished === fan.inputs.length) return { fan: next, result: { ok: true, value: results } };
  return { fan: next };
}

/** Every sub-machine of `machine` (Parallel branches, Map processors, nested), by JSON pointer. */
export function machinesByPointer(machine: StateMachine): Map<string, StateMachine> {
  const out = new Map<string, StateMachine>();
  const walk = (m: StateMachine) => {
    out.set(m.pointer, m);
    for (const def of m.states.values()) {
      for (const b of def.branches ?? []) walk(b);
      if (def.processor !== undefined) walk(def.processor);
    }
  };
  walk(machine);
  return out;
}
