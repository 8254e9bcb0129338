// Test helper: drives a validated state machine to completion in memory with the step API
// (tasks answered by a table of handlers, waits and retry delays recorded, not slept).

import assert from 'node:assert/strict';
import {
  applyAssign,
  completeState,
  enterState,
  evaluateState,
  innerScopes,
  mapFailureExceeded,
  parseDefinition,
  STATES_ERRORS,
  type AslEnvironment,
  type ExecutionFacts,
  type Json,
  type JsonObject,
  type StateMachine,
  type TaskResult,
} from '../../../src/workflow/asl/index.js';

/** A task handler: returns the result or throws `{ error, cause }`. */
export type TaskHandler = (parameters: Json, resource: string) => Json | Promise<Json>;

/** What a run produced. */
export interface RunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  /** Retry delays and Wait targets, in order. */
  readonly delays: number[];
  readonly waits: string[];
  /** Task calls made: resource and parameters. */
  readonly tasks: Array<{ resource: string; parameters: Json }>;
  readonly visited: string[];
}

export const EXECUTION: ExecutionFacts = {
  id: 'arn:aws:states:us-east-1:123456789012:execution:demo:run-1',
  input: {},
  name: 'run-1',
  roleArn: 'arn:aws:iam::123456789012:role/demo',
  startTime: '2024-01-01T00:00:00.000Z',
  stateMachineId: 'arn:aws:states:us-east-1:123456789012:stateMachine:demo',
  stateMachineName: 'demo',
};

export const FIXED_ENV: AslEnvironment = {
  now: () => new Date('2024-01-01T00:00:00.000Z'),
  random: () => 0.5,
  uuid: () => '00000000-0000-4000-8000-000000000000',
};

/** Parses `definition` (asserting it is valid) and runs it on `input`. */
export async function runDefinition(
  definition: unknown,
  input: Json,
  tasks: Record<string, TaskHandler> = {},
  env: AslEnvironment = FIXED_ENV,
): Promise<RunResult> {
  const parsed = parseDefinition(definition);
  assert.ok(parsed.ok, `definition should be valid: ${JSON.stringify(parsed.diagnostics)}`);
  const result: RunResult = { status: 'SUCCEEDED', delays: [], waits: [], tasks: [], visited: [] };
  const out = await runMachine(parsed.machine, input, [{}], tasks, env, result, { ...EXECUTION, input });
  return { ...result, ...out };
}

async function runMachine(
  machine: StateMachine,
  input: Json,
  scopes: JsonObject[],
  tasks: Record<string, TaskHandler>,
  env: AslEnvironment,
  log: RunResult,
  execution: ExecutionFacts,
): Promise<Pick<RunResult, 'status' | 'output' | 'error' | 'cause'>> {
  let frame = enterState(machine.startAt, input, env.now());
  for (let steps = 0; steps < 1000; steps++) {
    log.visited.push(frame.stateName);
    const step = () => ({ machine, frame, execution, variables: scopes, env, taskToken: 'token-1' });
    let outcome = await evaluateState(step());
    for (;;) {
      if (outcome.kind === 'task') {
        log.tasks.push({ resource: outcome.resource, parameters: outcome.parameters });
        const handler = tasks[outcome.resource];
        let result: TaskResult;
        try {
          if (!handler) throw { error: 'States.TaskFailed', cause: `no handler for ${outcome.resource}` };
          result = { ok: true, value: await handler(outcome.parameters, outcome.resource) };
        } catch (err) {
          const e = err as { error: string; cause: string };
          result = { ok: false, error: e.error, cause: e.cause };
        }
        outcome = await completeState(step(), result);
      } else if (outcome.kind === 'parallel') {
        const results = [];
        let failed: { error: string; cause: string } | undefined;
        for (const branch of outcome.branches) {
          const r = await runMachine(branch, outcome.input, innerScopes(scopes), tasks, env, log, execution);
          if (r.status === 'FAILED') {
            failed = { error: r.error ?? '', cause: r.cause ?? '' };
            break;
          }
          results.push(r.output!);
        }
        outcome = await completeState(
          step(),
          failed ? { ok: false, ...failed } : { ok: true, value: results },
        );
      } else if (outcome.kind === 'map') {
        const results: Json[] = [];
        let failures = 0;
        let last: { error: string; cause: string } | undefined;
        for (const item of outcome.itemInputs ?? []) {
          const r = await runMachine(
            outcome.processor,
            item,
            innerScopes(scopes, outcome),
            tasks,
            env,
            log,
            execution,
          );
          if (r.status === 'FAILED') {
            failures++;
            last = { error: r.error ?? '', cause: r.cause ?? '' };
            results.push(null);
          } else results.push(r.output!);
        }
        const total = outcome.itemInputs?.length ?? 0;
        const tolerant =
          outcome.toleratedFailureCount !== undefined || outcome.toleratedFailurePercentage !== undefined;
        const fail = mapFailureExceeded(outcome, failures, total);
        outcome = await completeState(
          step(),
          fail
            ? tolerant
              ? {
                  ok: false,
                  error: STATES_ERRORS.ExceedToleratedFailureThreshold,
                  cause: `${failures} of ${total} items failed`,
                }
              : { ok: false, error: last!.error, cause: last!.cause }
            : { ok: true, value: results },
        );
      } else if (outcome.kind === 'retry') {
        log.delays.push(outcome.delaySeconds);
        frame = outcome.frame;
        outcome = await evaluateState(step());
      } else if (outcome.kind === 'wait') {
        log.waits.push(outcome.until);
        outcome = outcome.then;
      } else break;
    }
    if (outcome.kind === 'fail') return { status: 'FAILED', error: outcome.error, cause: outcome.cause };
    if (outcome.kind === 'end') {
      applyAssign(scopes, outcome.assign);
      return { status: 'SUCCEEDED', output: outcome.output };
    }
    if (outcome.kind !== 'next') throw new Error(`unexpected outcome ${outcome.kind}`);
    const next = applyAssign(scopes, outcome.assign);
    scopes.splice(0, scopes.length, ...next);
    frame = enterState(outcome.next!, outcome.output, env.now());
  }
  throw new Error('too many steps');
}
