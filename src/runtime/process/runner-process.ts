// One generic runner OS process (optionally inside bwrap): spawn, fd-3 frame channel, output and exit.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { encodeFrame, FrameDecoder } from '../frame-protocol.js';
import type { Frame, HostMessage } from '../frame-protocol.js';
import type { InstanceCgroup } from './cgroup-limits.js';
import type { RunnerCommand } from './runner-commands.js';

/** Callbacks a runner reports to; the pool sets idle ones, an instance replaces them. */
export interface RunnerHandlers {
  onFrame(frame: Frame): void;
  /**
   * Bytes the process wrote to fd 1 or fd 2 (not captured by the runner itself), as read: the
   * pipes are never paused, so a flood is drained at pipe speed and the handler decides what to
   * keep (see output-budget.ts). Raw bytes, so what is dropped is never decoded.
   */
  onOutput(chunk: Buffer, fd: number): void;
  /** The process exited and its pipes are drained. */
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

/** How to start one runner. */
export interface RunnerStartOptions {
  readonly id: string;
  readonly command: RunnerCommand;
  /** `bwrap` path and its arguments (without the command), or undefined to run unsandboxed. */
  readonly bwrap?:
    | {
        readonly path: string;
        readonly args: readonly string[];
        /** Files bwrap gets open read-only on these fds (fd → host path): the seccomp program. */
        readonly fdFiles?: Readonly<Record<number, string>> | undefined;
      }
    | undefined;
  /** Start the process as this uid/gid (root dropping to nobody before bwrap). */
  readonly uid?: number | undefined;
  /** Environment for an unsandboxed runner (bwrap sets the sandboxed one itself). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** `prlimit` path and the RLIMIT_NOFILE to start with, if prlimit is available. */
  readonly prlimit?: { readonly path: string; readonly nofile: number } | undefined;
  /**
   * A parked launcher ({@link spawnLauncher}) to run the command in instead of spawning: it was
   * spawned with the same `uid`, `env` and `cwd`. RLIMIT_NOFILE is then set by its shell
   * (`ulimit -n`, soft and hard like prlimit), so `prlimit` is not used.
   */
  readonly launcher?: { readonly child: ChildProcess; readonly nofile: number } | undefined;
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

/** The stdio of every runner: fd 3 is the frame channel, leaked fds are overwritten. */
function runnerStdio(stdin: 'ignore' | 'pipe'): ('ignore' | 'pipe' | number)[] {
  return [stdin, 'pipe', 'pipe', 'pipe', ...stdioScrub()];
}

/**
 * What a parked launcher runs: read the command from stdin up to EOF, then `eval` it (it ends in
 * `exec`, so the runner keeps the launcher's pid, process group, stdio and cgroup). Builtins
 * only; a parked launcher is ≈0.2 MB PSS (0.1 MB private). EOF without a command (the host
 * died or closed it) evaluates nothing and exits.
 */
const LAUNCHER_SCRIPT = 'c=; while IFS= read -r l; do c="$c$l\n"; done; eval "$c"';

/** Quote one argument for sh. */
function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * Spawn a launcher: `sh` waiting on stdin for the runner command, with a runner's stdio, uid,
 * env and cwd. The caller moves it into the runner's cgroup before handing it to
 * {@link RunnerProcess.start}, so bwrap and the runner are born inside the cgroup.
 */
export function spawnLauncher(options: Pick<RunnerStartOptions, 'uid' | 'env' | 'cwd'>): ChildProcess {
  return spawn('/bin/sh', ['-c', LAUNCHER_SCRIPT], {
    stdio: runnerStdio('pipe'),
    env: options.env,
    cwd: options.cwd,
    detached: true,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
}

/** A started generic runner. */
export class RunnerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  /** Host pid of the spawned process (bwrap, or the runner itself when unsandboxed). */
  readonly pid: number;
  /** RLIMIT_NOFILE the process started with (undefined without prlimit). */
  readonly nofile: number | undefined;
  /** Whether it runs inside bwrap (its own pid namespace). */
  readonly sandboxed: boolean;
  handlers: RunnerHandlers = NOOP_HANDLERS;
  /** The cgroup the process was moved into, once the backend did so. */
  cgroup: InstanceCgroup | undefined;
  #channel: Duplex;
  #decoder = new FrameDecoder();
  #exited = false;
  #closed: Promise<void>;

  private constructor(id: string, child: ChildProcess, nofile: number | undefined, sandboxed: boolean) {
    this.id = id;
    this.sandboxed = sandboxed;
    this.child = child;
    this.pid = child.pid as number;
    this.nofile = nofile;
    this.#channel = child.stdio[3] as Duplex;
    this.#channel.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.handlers.onOutput(Buffer.from(`[nimbus] ${(err as Error).message}; killing the runner\n`), 2);
        this.kill();
        return;
      }
      for (const frame of frames) this.handlers.onFrame(frame);
    });
    this.#channel.on('error', () => {}); // EPIPE after the runner died: exit handles it.
    child.stdout?.on('data', (chunk: Buffer) => this.handlers.onOutput(chunk, 1));
    child.stderr?.on('data', (chunk: Buffer) => this.handlers.onOutput(chunk, 2));
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
    let child: ChildProcess;
    let nofile: number | undefined;
    if (options.launcher) {
      child = options.launcher.child;
      nofile = options.launcher.nofile;
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`runner ${options.id}: its launcher exited while parked`));
      }
      // `ulimit -n N` sets soft and hard like `prlimit --nofile=N:N`, one exec fewer.
      // `N<file` is opened by the launcher, which already runs as the sandbox's host user.
      const fdFiles = Object.entries(options.bwrap?.fdFiles ?? {}).map(
        ([fd, path]) => ` ${fd}<${shellQuote(path)}`,
      );
      const script = `ulimit -n ${nofile} || exit 126\nexec ${argv.map(shellQuote).join(' ')} </dev/null${fdFiles.join('')}\n`;
      child.stdin?.on('error', () => {}); // EPIPE if it died meanwhile: the exit reports it.
      child.stdin?.end(script);
    } else {
      if (options.prlimit) {
        const n = options.prlimit.nofile;
        argv = [options.prlimit.path, `--nofile=${n}:${n}`, '--', ...argv];
      }
      nofile = options.prlimit?.nofile;
      const stdio = runnerStdio('ignore');
      const opened: number[] = [];
      for (const [target, path] of Object.entries(options.bwrap?.fdFiles ?? {})) {
        for (let i = stdio.length; i < Number(target); i++) stdio[i] = 'ignore';
        const fd = openSync(path, 'r');
        opened.push(fd);
        stdio[Number(target)] = fd;
      }
      child = spawn(argv[0] as string, argv.slice(1), {
        stdio,
        env: options.env,
        cwd: options.cwd,
        // Own process group: one kill(-pid) reaches bwrap and everything it started.
        detached: true,
        ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
      });
      for (const fd of opened) closeSync(fd);
    }
    const runner = new RunnerProcess(options.id, child, nofile, options.bwrap !== undefined);
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
        onOutput(chunk) {
          if (output.length < 4096) output += chunk.toString('utf8', 0, Math.min(chunk.length, 4096));
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
