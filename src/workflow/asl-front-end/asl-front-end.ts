// The ASL front end of the durable execution core: drives the pure step API of src/workflow/asl
// (evaluateState/completeState) and turns its outcomes into recorded decisions (tasks, timers,
// and child executions for Parallel branches and inline Map iterations, see fan-out.ts).

import { NimbusError } from '../../errors.js';
import {
  applyAssign,
  completeState,
  enterState,
  evaluateState,
  formatInvalidDefinition,
  innerScopes,
  parseDefinition,
  type Json,
  type StateFrame,
  type StateMachine,
  type StateOutcome,
  type StepInput,
  type TaskResult,
  type TransitionOutcome,
  STATES_ERRORS,
} from '../asl/index.js';
import type {
  Completion,
  NewChild,
  NewHistoryEvent,
  NewTask,
  NewTimer,
} from '../../store/ports/workflows.js';
import type { DecideContext, Decision, FrontEnd } from '../core/front-end.js';
import {
  childEnded,
  childIndex,
  launch,
  machinesByPointer,
  mapFanOut,
  parallelFanOut,
  type ChildLaunch,
  type FanOut,
} from './fan-out.js';

/** The top-level execution's facts, which a child (branch, iteration) reports as `$$.Execution`. */
interface RootFacts {
  readonly id: string;
  readonly name: string;
  readonly startTime: string;
  /** The execution's input, kept only when the definition reads `$$.Execution.Input`. */
  readonly input?: Json | undefined;
}

/** What the ASL front end keeps between steps (JSON). */
interface AslState {
  readonly frame: StateFrame;
  readonly variables: Json[];
  /** What the execution waits for: a task (ref), a retry backoff, a Wait timer or children. */
  readonly waiting?:
    { readonly kind: 'task' | 'retry' | 'wait' | 'children'; readonly ref: string } | undefined;
  /** Set in a child execution: the JSON pointer of the branch or processor it runs. */
  readonly machine?: string | undefined;
  /** Set in a child execution: its top-level execution's facts. */
  readonly root?: RootFacts | undefined;
  /** A Parallel or Map state's children (while waiting for them). */
  readonly fan?: FanOut | undefined;
  /** The task token minted for a `.waitForTaskToken` state. */
  readonly taskToken?: string | undefined;
  /** A Wait's transition, taken when its timer fires. */
  readonly then?: TransitionOutcome | undefined;
  /** Whether the running task's result is Lambda's `Payload` envelope (lambda:invoke). */
  readonly wrap?: boolean | undefined;
}

/** Transitions decided in one step before it is committed (a loop of Pass/Choice states). */
const MAX_TRANSITIONS_PER_STEP = 100;

const machines = new Map<string, StateMachine>();
const subMachines = new WeakMap<StateMachine, Map<string, StateMachine>>();

function machineOf(definition: string): StateMachine {
  let m = machines.get(definition);
  if (m === undefined) {
    const parsed = parseDefinition(definition);
    if (!parsed.ok) throw new NimbusError('InvalidDefinition', formatInvalidDefinition(parsed.diagnostics));
    if (machines.size > 200) machines.clear();
    m = parsed.machine;
    machines.set(definition, m);
  }
  return m;
}

/** The machine at `pointer` (a Parallel branch or Map processor), or the top one. */
function machineAt(definition: string, pointer: string | undefined): StateMachine {
  const top = machineOf(definition);
  if (pointer === undefined) return top;
  let index = subMachines.get(top);
  if (index === undefined) {
    index = machinesByPointer(top);
    subMachines.set(top, index);
  }
  const m = index.get(pointer);
  if (m === undefined) throw new Error(`no branch or item processor at ${pointer} in this definition`);
  return m;
}

const ev = (type: string, details: Record<string, unknown> = {}): NewHistoryEvent => ({
  type,
  details: JSON.stringify(details),
});

/** The function a Task resource names, and whether its result is wrapped as lambda:invoke's. */
function resolveTask(
  resource: string,
  parameters: Json,
): { functionName: string; payload: Json; wrap: boolean } {
  const base = resource.replace(/\.(waitForTaskToken|sync(:2)?)$/, '');
  if (base === 'arn:aws:states:::lambda:invoke') {
    const p = (parameters ?? {}) as Record<string, Json>;
    const fn = p.FunctionName;
    if (typeof fn !== 'string') throw new Error('lambda:invoke needs Parameters.FunctionName');
    return {
      functionName: functionName(fn),
      payload: p.Payload ?? null,
      wrap: !resource.endsWith('.waitForTaskToken'),
    };
  }
  return { functionName: functionName(base), payload: parameters, wrap: false };
}

/** `name`, `name:qualifier` or a Lambda function ARN → the function's full name. */
function functionName(ref: string): string {
  const arn = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(?::.+)?$/.exec(ref);
  return arn ? arn[1]! : ref.split(':')[0]!;
}

/** A task's recorded result as the step API takes it (lambda:invoke wraps it in `Payload`). */
function parseResult(text: string | undefined, wrap: boolean): TaskResult {
  let value: Json;
  try {
    value = JSON.parse(text ?? 'null') as Json;
  } catch {
    return {
      ok: false,
      error: 'States.TaskFailed',
      cause: 'The function returned a result that is not JSON.',
    };
  }
  return { ok: true, value: wrap ? { ExecutedVersion: '$LATEST', Payload: value, StatusCode: 200 } : value };
}

/** The ASL front end (`asl`). */
export const aslFrontEnd: FrontEnd = {
  name: 'asl',
  validate(definition) {
    machineOf(definition);
  },
  begin({ workflow, input, now }) {
    const machine = machineOf(workflow.definition);
    const state: AslState = {
      frame: enterState(machine.startAt, JSON.parse(input) as Json, new Date(now)),
      variables: [{}],
    };
    return {
      state: JSON.stringify(state),
      events: [ev('ExecutionStarted', { input, stateMachineArn: workflow.name })],
      deadlineAt: machine.timeoutSeconds === undefined ? undefined : now + machine.timeoutSeconds * 1000,
    };
  },
  async decide(ctx: DecideContext): Promise<Decision> {
    let st = JSON.parse(ctx.execution.state) as AslState;
    const machine = machineAt(ctx.workflow.definition, st.machine);
    const events: NewHistoryEvent[] = [];
    const tasks: NewTask[] = [];
    const timers: NewTimer[] = [];
    const children: NewChild[] = [];
    const now = new Date(ctx.now);
    const root: RootFacts = st.root ?? {
      id: ctx.execution.id,
      name: ctx.execution.name,
      startTime: new Date(ctx.execution.startedAt).toISOString(),
    };
    let executionInput: Json | undefined;
    const step = (s: AslState, taskToken?: string): StepInput => ({
      machine,
      frame: s.frame,
      variables: s.variables as StepInput['variables'],
      execution: {
        id: root.id,
        input:
          st.root !== undefined
            ? (st.root.input ?? null)
            : (executionInput ??= JSON.parse(ctx.execution.input) as Json),
        name: root.name,
        roleArn: '',
        startTime: root.startTime,
        stateMachineId: ctx.workflow.name,
        stateMachineName: ctx.workflow.name,
      },
      env: { now: () => now, random: Math.random, uuid: () => crypto.randomUUID() },
      ...(taskToken === undefined ? {} : { taskToken }),
    });
    /** Child executions for `launches` of the fan-out `fan`. */
    const startChildren = (fan: FanOut, launches: readonly ChildLaunch[]) => {
      for (const l of launches) {
        const childState: AslState = {
          frame: enterState(machineAt(ctx.workflow.definition, l.machine).startAt, l.input, now),
          variables: innerScopes(st.variables as StepInput['variables'], {
            mode: fan.distributed === true ? 'DISTRIBUTED' : 'INLINE',
          }),
          machine: l.machine,
          root: {
            ...root,
            // Children see `$$.Execution.Input` only if the definition reads it (it can be 256 KiB).
            ...(ctx.workflow.definition.includes('Execution.Input')
              ? { input: step(st).execution.input }
              : {}),
          },
        };
        // Names are unique per workflow (children included): a random one per child.
        const token = ctx.newToken();
        children.push({
          id: `${ctx.execution.id}/${token}`,
          ref: `${fan.ref}/${l.index}`,
          name: token,
          input: JSON.stringify(l.input),
          state: JSON.stringify(childState),
        });
        events.push(
          ev(fan.kind === 'map' ? 'MapIterationStarted' : 'ParallelBranchStarted', {
            name: st.frame.stateName,
            index: l.index,
          }),
        );
      }
    };

    let outcome: StateOutcome | undefined;
    const consumed: Completion[] = [];
    for (const c of ctx.completions) {
      if (
        c.kind === 'child' &&
        st.waiting?.kind === 'children' &&
        st.fan !== undefined &&
        outcome === undefined
      ) {
        consumed.push(c);
        const index = childIndex(st.fan, c.ref);
        if (index === undefined) continue; // A child of an earlier entry of the state.
        const ok = c.status === 'SUCCEEDED';
        const mapped = st.fan.kind === 'map';
        events.push(
          ev(`${mapped ? 'MapIteration' : 'ParallelBranch'}${ok ? 'Succeeded' : 'Failed'}`, {
            name: st.frame.stateName,
            index,
            ...(ok ? {} : { error: c.error, cause: c.cause }),
          }),
        );
        const ended = childEnded(
          st.fan,
          index,
          ok
            ? { ok: true, output: JSON.parse(c.output ?? 'null') as Json }
            : { ok: false, error: c.error ?? STATES_ERRORS.Runtime, cause: c.cause ?? '' },
        );
        if (ended.result === undefined) {
          st = { ...st, fan: ended.fan };
          continue;
        }
        events.push(
          ev(`${mapped ? 'MapState' : 'ParallelState'}${ended.result.ok ? 'Succeeded' : 'Failed'}`, {
            name: st.frame.stateName,
          }),
        );
        outcome = await completeState(step(st), ended.result);
        st = { ...st, waiting: undefined, fan: undefined };
        continue;
      }
      if (st.waiting === undefined || c.ref !== st.waiting.ref || outcome !== undefined) {
        consumed.push(c); // A late result of a cancelled task or child: nothing waits for it.
        continue;
      }
      consumed.push(c);
      if (c.kind === 'task') {
        let result: TaskResult;
        if (c.status === 'SUCCEEDED') {
          result = parseResult(c.result, st.wrap === true);
          events.push(ev('TaskSucceeded', { output: c.result }));
        } else {
          result = { ok: false, error: c.error ?? 'States.TaskFailed', cause: c.cause ?? '' };
          events.push(
            ev(c.status === 'TIMED_OUT' ? 'TaskTimedOut' : 'TaskFailed', {
              error: result.error,
              cause: result.cause,
            }),
          );
        }
        outcome = await completeState(step(st, st.taskToken), result);
      } else if (c.kind === 'timer' && st.waiting.kind === 'retry') {
        outcome = await evaluateState(step(st));
      } else if (c.kind === 'timer') {
        // The Wait's WaitStateExited is logged with the transition below, as every state's.
        outcome = st.then;
      }
      st = { ...st, waiting: undefined, then: undefined, taskToken: undefined, wrap: undefined };
    }
    if (st.waiting !== undefined) {
      // Children still running: start those MaxConcurrency now has room for.
      if (st.waiting.kind === 'children' && st.fan !== undefined) {
        const more = launch(st.fan);
        st = { ...st, fan: more.fan };
        startChildren(more.fan, more.children);
      }
      return { events, state: JSON.stringify(st), consumed, children };
    }

    if (outcome === undefined) outcome = await enter(st);
    for (let i = 0; i < MAX_TRANSITIONS_PER_STEP; i++) {
      switch (outcome.kind) {
        case 'next': {
          events.push(
            ev(`${typeOf(st)}StateExited`, {
              name: st.frame.stateName,
              output: JSON.stringify(outcome.output),
            }),
          );
          st = {
            frame: enterState(outcome.next!, outcome.output, now),
            variables: applyAssign(st.variables as StepInput['variables'], outcome.assign),
            machine: st.machine,
            root: st.root,
          };
          outcome = await enter(st);
          continue;
        }
        case 'end':
          events.push(
            ev(`${typeOf(st)}StateExited`, {
              name: st.frame.stateName,
              output: JSON.stringify(outcome.output),
            }),
            ev('ExecutionSucceeded', { output: JSON.stringify(outcome.output) }),
          );
          return {
            events,
            state: JSON.stringify(st),
            consumed,
            end: { status: 'SUCCEEDED', output: JSON.stringify(outcome.output) },
          };
        case 'fail':
          events.push(ev('ExecutionFailed', { error: outcome.error, cause: outcome.cause }));
          return {
            events,
            state: JSON.stringify(st),
            consumed,
            end: { status: 'FAILED', error: outcome.error, cause: outcome.cause },
          };
        case 'retry': {
          const ref = `${st.frame.stateName}#retry${outcome.frame.retryCount}`;
          timers.push({ id: ctx.newToken(), ref, dueAt: ctx.now + outcome.delaySeconds * 1000 });
          st = { ...st, frame: outcome.frame, waiting: { kind: 'retry', ref } };
          return { events, state: JSON.stringify(st), consumed, timers };
        }
        case 'wait': {
          const ref = `${st.frame.stateName}#wait`;
          timers.push({ id: ctx.newToken(), ref, dueAt: Date.parse(outcome.until) });
          st = { ...st, waiting: { kind: 'wait', ref }, then: outcome.then };
          return { events, state: JSON.stringify(st), consumed, timers };
        }
        case 'task': {
          const def = machine.states.get(st.frame.stateName)!;
          const callback = String(def.raw.Resource ?? '').endsWith('.waitForTaskToken');
          const target = resolveTask(outcome.resource, outcome.parameters);
          const ref = `${st.frame.stateName}#${st.frame.retryCount}`;
          tasks.push({
            token: st.taskToken ?? ctx.newToken(),
            ref,
            stateName: st.frame.stateName,
            invoke: { functionName: target.functionName, payload: JSON.stringify(target.payload) },
            callback,
            timeoutAt:
              outcome.timeoutSeconds === undefined ? undefined : ctx.now + outcome.timeoutSeconds * 1000,
            heartbeatSeconds: outcome.heartbeatSeconds,
          });
          events.push(
            ev('TaskScheduled', {
              resource: outcome.resource,
              parameters: JSON.stringify(outcome.parameters),
            }),
          );
          st = { ...st, waiting: { kind: 'task', ref }, taskToken: tasks[0]!.token, wrap: target.wrap };
          return { events, state: JSON.stringify(st), consumed, tasks };
        }
        case 'parallel':
        case 'map': {
          let fan: FanOut;
          const ref = `${st.frame.stateName}@${ctx.newToken()}`;
          if (outcome.kind === 'parallel') {
            fan = parallelFanOut(ref, outcome.branches, outcome.input);
          } else if (outcome.itemInputs !== undefined) {
            fan = mapFanOut(ref, outcome, outcome.itemInputs);
          } else {
            outcome = await completeState(step(st), {
              ok: false,
              error: STATES_ERRORS.Runtime,
              cause: 'Map ItemReader (a distributed Map reading a bucket) is not run by this version yet.',
            });
            continue;
          }
          events.push(
            ev(outcome.kind === 'map' ? 'MapStateStarted' : 'ParallelStateStarted', {
              name: st.frame.stateName,
              length: fan.inputs.length,
            }),
          );
          if (fan.inputs.length === 0) {
            events.push(ev('MapStateSucceeded', { name: st.frame.stateName }));
            outcome = await completeState(step(st), { ok: true, value: [] });
            continue;
          }
          st = { ...st, waiting: { kind: 'children', ref } };
          const first = launch(fan);
          st = { ...st, fan: first.fan };
          startChildren(first.fan, first.children);
          return { events, state: JSON.stringify(st), consumed, children };
        }
        default: {
          const unknown: never = outcome;
          throw new Error(`unknown step outcome ${JSON.stringify(unknown)}`);
        }
      }
    }
    // A long chain of instant states: commit progress and continue in the next step.
    return { events, state: JSON.stringify(st), consumed, nextRunAt: ctx.now };

    async function enter(s: AslState): Promise<StateOutcome> {
      events.push(
        ev(`${typeOf(s)}StateEntered`, { name: s.frame.stateName, input: JSON.stringify(s.frame.input) }),
      );
      const def = machine.states.get(s.frame.stateName);
      // `$$.Task.Token` must exist while the parameters are evaluated: mint it before.
      const token =
        def?.type === 'Task' && String(def.raw.Resource ?? '').endsWith('.waitForTaskToken')
          ? ctx.newToken()
          : undefined;
      if (token !== undefined) st = { ...s, taskToken: token };
      return evaluateState(step(s, token));
    }

    function typeOf(s: AslState): string {
      return machine.states.get(s.frame.stateName)?.type ?? 'Unknown';
    }
  },
};
