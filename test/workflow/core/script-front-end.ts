// A tiny front end for engine tests: a definition is a list of steps (task, wait, callback,
// children), run in order on a JSON value, with a per-task retry and a backoff timer.

import type { Decision, DecideContext, FrontEnd } from '../../../src/workflow/core/front-end.js';
import type { Completion, NewHistoryEvent } from '../../../src/store/ports/workflows.js';

/** One step of a script. */
export type ScriptStep =
  | { task: string; retry?: { max: number; delayMs: number } }
  | { wait: number }
  | { callback: { heartbeatSeconds?: number; timeoutMs?: number } }
  | { children: number };

/** A script: top-level steps, and the steps each child runs. */
export interface Script {
  steps: ScriptStep[];
  child?: ScriptStep[];
  timeoutMs?: number;
}

interface ScriptState {
  i: number;
  value: unknown;
  attempt: number;
  child: boolean;
  waiting?: string;
  results?: unknown[];
}

const ev = (type: string, details: unknown = {}): NewHistoryEvent => ({
  type,
  details: JSON.stringify(details),
});

/** The script front end (name `script`). */
export const scriptFrontEnd: FrontEnd = {
  name: 'script',
  validate(definition) {
    const s = JSON.parse(definition) as Script;
    if (!Array.isArray(s.steps)) throw new Error('steps must be an array');
  },
  begin({ input, now, workflow }) {
    const s = JSON.parse(workflow.definition) as Script;
    const state: ScriptState = { i: 0, value: JSON.parse(input), attempt: 0, child: false };
    return {
      state: JSON.stringify(state),
      events: [ev('ExecutionStarted', { input })],
      deadlineAt: s.timeoutMs === undefined ? undefined : now + s.timeoutMs,
    };
  },
  decide(ctx: DecideContext): Decision {
    const script = JSON.parse(ctx.workflow.definition) as Script;
    const st = JSON.parse(ctx.execution.state) as ScriptState;
    const steps = (st.child ? script.child : script.steps) ?? [];
    const events: NewHistoryEvent[] = [];
    const out: { -readonly [K in keyof Decision]: Decision[K] } = { events, state: '' };
    const consumed: Completion[] = [];
    for (const c of ctx.completions) {
      consumed.push(c);
      const step = steps[st.i];
      if (c.kind === 'task' && c.ref === st.waiting) {
        st.waiting = undefined;
        if (c.status === 'SUCCEEDED') {
          events.push(ev('TaskSucceeded', { output: c.result }));
          st.value = JSON.parse(c.result ?? 'null');
          st.i++;
          st.attempt = 0;
        } else {
          events.push(ev('TaskFailed', { error: c.error, cause: c.cause }));
          const retry = step !== undefined && 'task' in step ? step.retry : undefined;
          if (retry !== undefined && st.attempt < retry.max) {
            st.attempt++;
            st.waiting = `retry${st.i}.${st.attempt}`;
            out.timers = [{ id: ctx.newToken(), ref: st.waiting, dueAt: ctx.now + retry.delayMs }];
          } else {
            events.push(ev('ExecutionFailed', { error: c.error, cause: c.cause }));
            return {
              ...out,
              state: JSON.stringify(st),
              consumed,
              end: { status: 'FAILED', error: c.error, cause: c.cause },
            };
          }
        }
      } else if (c.kind === 'timer' && c.ref === st.waiting) {
        st.waiting = undefined;
        if (c.ref.startsWith('wait')) st.i++;
        events.push(ev(c.ref.startsWith('wait') ? 'WaitStateExited' : 'RetryTimerFired'));
      } else if (c.kind === 'child') {
        const idx = Number(c.ref.slice(c.ref.indexOf('#') + 1));
        st.results![idx] = c.status === 'SUCCEEDED' ? JSON.parse(c.output ?? 'null') : { failed: c.error };
        if (st.results!.every((r) => r !== null)) {
          st.value = st.results;
          st.results = undefined;
          st.waiting = undefined;
          st.i++;
        }
      }
    }
    out.consumed = consumed;
    if (st.waiting === undefined) {
      const step = steps[st.i];
      const ref = `s${st.i}.${st.attempt}`;
      if (step === undefined) {
        events.push(ev('ExecutionSucceeded', { output: JSON.stringify(st.value) }));
        out.end = { status: 'SUCCEEDED', output: JSON.stringify(st.value) };
      } else if ('task' in step) {
        events.push(ev('TaskScheduled', { resource: step.task }));
        st.waiting = ref;
        out.tasks = [
          {
            token: ctx.newToken(),
            ref,
            stateName: `step${st.i}`,
            invoke: {
              functionName: step.task,
              payload: JSON.stringify({ value: st.value, attempt: st.attempt }),
            },
            callback: false,
          },
        ];
      } else if ('wait' in step) {
        events.push(ev('WaitStateEntered', { dueAt: ctx.now + step.wait }));
        st.waiting = `wait${st.i}`;
        out.timers = [{ id: ctx.newToken(), ref: st.waiting, dueAt: ctx.now + step.wait }];
      } else if ('callback' in step) {
        st.waiting = ref;
        out.tasks = [
          {
            token: ctx.newToken(),
            ref,
            callback: true,
            heartbeatSeconds: step.callback.heartbeatSeconds,
            timeoutAt: step.callback.timeoutMs === undefined ? undefined : ctx.now + step.callback.timeoutMs,
          },
        ];
      } else {
        st.waiting = `children${st.i}`;
        st.results = Array.from({ length: step.children }, () => null);
        const child: ScriptState = { i: 0, value: null, attempt: 0, child: true };
        out.children = Array.from({ length: step.children }, (_, k) => ({
          id: `${ctx.execution.id}/${st.i}#${k}`,
          ref: `c${st.i}#${k}`,
          name: `${ctx.execution.name}/${st.i}#${k}`,
          input: JSON.stringify(k),
          state: JSON.stringify({ ...child, value: k }),
        }));
      }
    }
    out.state = JSON.stringify(st);
    return out;
  },
};
