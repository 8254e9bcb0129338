// One generic runner OS process (optionally inside bwrap): spawn, fd-3 frame channel, output and exit.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { encodeFrame, FrameDecoder } from '../frame-protocol.js';
import type { Frame, HostMessage } from '../frame-protocol.js';
import type { InstanceCgroup } from './cgroup-limits.js';
import { processTree } from './rss-watchdog.js';
import type { RunnerCommand } from './runner-commands.js';

/** Callbacks a runner reports to; the pool sets idle ones, an instance replaces them. */
export interface RunnerHandlers {
  onFrame(frame: Frame): void;
  /** Text the process wrote to fd 1 or fd 2 (not captured by the runner itself). */
  onOutput(text: string): void;
  /** The process exited and its pipes are drained. */
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

/** How to start one runner. */
export interface RunnerStartOptions {
  readonly id: string;
  readonly command: RunnerCommand;
  /** `bwrap` path and its arguments (without the command), or undefined to run unsandboxed. */
  readonly bwrap?: { readonly path: string; readonly args: readonly string[] } | undefined;
  /** Start the process as this uid/gid (root dropping to nobody before bwrap). */
  readonly uid?: number | undefined;
  /** Environment for an unsandboxed runner (bwrap sets the sandboxed one itself). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** `prlimit` path and the RLIMIT_NOFILE to start with, if prlimit is available. */
  readonly prlimit?: { readonly path: string; readonly nofile: number } | undefined;
  /** Milliseconds to wait for `ready`. @default 10000 */
  readonly readyTimeoutMs?: number;
}

const NOOP_HANDLERS: RunnerHandlers = { onFrame() {}, onOutput() {}, onExit() {} };

/**
 * File descriptors this server inherited without close-on-exec (e.g. from a supervisor). libuv
 * does not close them in children, so they would leak into every sandbox (one here: a pipe
 * from the job runner, fd 251). Each is overwritten with /dev/null in the child via the stdio
 * array. Computed once; fds the server opens itself are close-on-exec.
 */
let scrubStdio: (number | 'ignore')[] | undefined;
function stdioScrub(): (number | 'ignore')[] {
  if (scrubStdio) return scrubStdio;
  const leaked: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd <= 3 || fd > 1024) continue;
    try {
      const flags = /flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
      if (flags && (parseInt(flags[1] as string, 8) & 0o2000000) === 0) leaked.push(fd);
    } catch {
      // Closed meanwhile (e.g. the readdir handle itself).
    }
  }
  scrubStdio = [];
  if (leaked.length > 0) {
    const devNull = openSync('/dev/null', 'r');
    for (let fd = 4; fd <= Math.max(...leaked); fd++)
      scrubStdio.push(leaked.includes(fd) ? devNull : 'ignore');
  }
  return scrubStdio;
}

/** A started generic runner. */
export class RunnerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  /** Host pid of the spawned process (bwrap, or the runner itself when unsandboxed). */
  readonly pid: number;
  /** RLIMIT_NOFILE the process started with (undefined without prlimit). */
  readonly nofile: number | undefined;
  handlers: RunnerHandlers = NOOP_HANDLERS;
  /** The cgroup the process was moved into, once the backend did so. */
  cgroup: InstanceCgroup | undefined;
  #channel: Duplex;
  #decoder = new FrameDecoder();
  #exited = false;
  #closed: Promise<void>;
  #tree: number[] | undefined;
  readonly #sandboxed: boolean;

  private constructor(id: string, child: ChildProcess, nofile: number | undefined, sandboxed: boolean) {
    this.id = id;
    this.#sandboxed = sandboxed;
    this.child = child;
    this.pid = child.pid as number;
    this.nofile = nofile;
    this.#channel = child.stdio[3] as Duplex;
    this.#channel.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.handlers.onOutput(`[nimbus] ${(err as Error).message}; killing the runner\n`);
        this.kill();
        return;
      }
      for (const frame of frames) this.handlers.onFrame(frame);
    });
    this.#channel.on('error', () => {}); // EPIPE after the runner died: exit handles it.
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => this.handlers.onOutput(text));
    }
    this.#closed = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        this.#exited = true;
        this.#channel.destroy();
        resolve();
        this.handlers.onExit(code, signal);
      };
      child.on('close', finish);
      // 'close' waits for every holder of the pipes; an unsandboxed grandchild may keep them.
      child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 200).unref());
    });
  }

  /** Spawn and wait for the runner's `ready` frame. Rejects if it exits or times out first. */
  static start(options: RunnerStartOptions): Promise<RunnerProcess> {
    const { command } = options;
    let argv: string[] = [command.executable, ...command.args];
    if (options.bwrap) argv = [options.bwrap.path, ...options.bwrap.args, '--', ...argv];
    if (options.prlimit) {
      const n = options.prlimit.nofile;
      argv = [options.prlimit.path, `--nofile=${n}:${n}`, '--', ...argv];
    }
    const child = spawn(argv[0] as string, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', ...stdioScrub()],
      env: options.env,
      cwd: options.cwd,
      // Own process group: one kill(-pid) reaches bwrap and everything it started.
      detached: true,
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    });
    const runner = new RunnerProcess(options.id, child, options.prlimit?.nofile, options.bwrap !== undefined);
    return new Promise((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        runner.kill();
        reject(
          new Error(`runner ${options.id} sent no "ready" within ${options.readyTimeoutMs ?? 10000} ms`),
        );
      }, options.readyTimeoutMs ?? 10000);
      timer.unref();
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      runner.handlers = {
        onFrame(frame) {
          if (frame.header.t !== 'ready') return;
          clearTimeout(timer);
          runner.handlers = NOOP_HANDLERS;
          resolve(runner);
        },
        onOutput(text) {
          if (output.length < 4096) output += text;
        },
        onExit(code, signal) {
          clearTimeout(timer);
          reject(
            new Error(
              `runner ${options.id} exited (${signal ?? `code ${code}`}) before "ready": ${output.trim()}`,
            ),
          );
        },
      };
    });
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Resolves when the process exited and its pipes are drained. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Host pids of the process tree (bwrap, bwrap's pid 1, the runner), discovered once: a
   * generic runner does not fork before its function is loaded.
   */
  treePids(): number[] {
    // Sandboxed: bwrap, bwrap's pid 1, the runner; unsandboxed: the runner alone.
    if (this.#tree === undefined) this.#tree = processTree(this.pid, this.#sandboxed ? 3 : 1);
    return this.#tree;
  }

  send(header: HostMessage, body?: Buffer): void {
    if (!this.#exited) this.#channel.write(encodeFrame(header, body));
  }

  /** SIGKILL the whole process group. Idempotent. */
  kill(): void {
    if (this.#exited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
