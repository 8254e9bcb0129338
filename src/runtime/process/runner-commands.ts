// The table of generic runner commands per runtime: how each language's runner process is started.

import type { RuntimeName } from '../../functions/function-model.js';
import { findExecutable } from './bwrap-sandbox.js';

/** An executable and its arguments. */
export interface RunnerCommand {
  readonly executable: string;
  readonly args: readonly string[];
}

/** What a command needs to know about where it runs. */
export interface RunnerCommandContext {
  /** The runner scripts directory as the runner sees it (`/var/runtime` when sandboxed). */
  readonly runnersDir: string;
  /** V8 old-space limit in MB, when known at start (only without cgroups, see process-backend). */
  readonly heapMB?: number;
  /**
   * Whether the runner should warm itself up while idle (node only: one throw-away load and
   * invoke). Worth it for pre-started runners, where it is off the critical path; an on-demand
   * runner gets its `load` right after `ready` and would wait for the warm-up first.
   */
  readonly warmUp?: boolean;
}

/**
 * Node flags for generic runners, measured on this machine (2 cores, node 20, sandboxed, idle
 * runner; see bench/runtime-cold-start.ts):
 * - `--max-semi-space-size=1`: the young generation starts at 1 MB semi-spaces but V8 grows them
 *   up to 16 MB under allocation; capping keeps an idle-after-burst runner small. (Costs a few
 *   more scavenges on allocation-heavy handlers.)
 * - `--disable-wasm-trap-handler`: no 10 GB virtual reservation per wasm memory, so address
 *   space stays small and a bounded RLIMIT_AS stays possible.
 * - `--v8-pool-size=1`: one V8 platform worker instead of one per core; fewer threads count
 *   against the pids cgroup and each idle thread costs stack pages.
 * - not `--jitless`: measured no faster to start (31 → 34 ms) and much slower handlers.
 */
export const NODE_RUNNER_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--disable-wasm-trap-handler',
  '--v8-pool-size=1',
];

/** Directories searched for interpreters: those visible inside the sandbox (not e.g. pyenv shims). */
const INTERPRETER_DIRS = ['/usr/local/bin', '/usr/bin', '/bin'];

function nodeCommand(script: string, warms: boolean): (ctx: RunnerCommandContext) => RunnerCommand {
  return (ctx) => ({
    executable: process.execPath,
    args: [
      ...NODE_RUNNER_FLAGS,
      ...(ctx.heapMB === undefined ? [] : [`--max-old-space-size=${ctx.heapMB}`]),
      `${ctx.runnersDir}/${script}`,
      ...(warms && ctx.warmUp === true ? ['--warm-up'] : []),
    ],
  });
}

/**
 * How each runtime's generic runner starts. Every runner speaks PROTOCOL.md on fd 3, so adding a
 * language is one row here plus its runner script in src/runtime/runners/.
 */
export const RUNNER_COMMANDS: Readonly<Record<RuntimeName, (ctx: RunnerCommandContext) => RunnerCommand>> = {
  nodejs: nodeCommand('node-runner.cjs', true),
  python: (ctx) => ({
    executable: findExecutable('python3', INTERPRETER_DIRS) ?? 'python3',
    args: ['-u', `${ctx.runnersDir}/python-runner.py`],
  }),
  provided: nodeCommand('provided-runner.mjs', false),
};

/** Whether a runtime's runner takes the V8 heap flag (only node-based runners do). */
export function takesHeapFlag(runtime: RuntimeName): boolean {
  return runtime === 'nodejs';
}
