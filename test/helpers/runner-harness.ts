// Minimal test host for runner processes: spawns one, speaks the fd-3 frame protocol (PROTOCOL.md) with its own tiny codec.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';

export const RUNNERS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/runtime/runners');

export interface Frame {
  readonly header: Record<string, unknown> & { t: string };
  readonly body: Buffer;
}

export function encodeFrame(header: object, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(h.length, 0);
  prefix.writeUInt32BE(body.length, 4);
  return Buffer.concat([prefix, h, body]);
}

/** Incremental decoder: feed chunks, get whole frames. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    for (;;) {
      if (this.buf.length < 8) break;
      const hlen = this.buf.readUInt32BE(0);
      const blen = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + hlen + blen) break;
      const header = JSON.parse(this.buf.subarray(8, 8 + hlen).toString('utf8')) as Frame['header'];
      const body = Buffer.from(this.buf.subarray(8 + hlen, 8 + hlen + blen));
      this.buf = this.buf.subarray(8 + hlen + blen);
      out.push({ header, body });
    }
    return out;
  }
}

export interface LoadOptions {
  handler: string;
  taskRoot: string;
  env?: Record<string, string>;
  functionName?: string;
  memoryMB?: number;
  /** Extra (optional) load fields, e.g. `maxResponseBytes`. */
  extra?: Record<string, unknown>;
}

export interface InvokeOptions {
  id?: string;
  deadlineMs?: number;
  clientContext?: string;
  traceId?: string;
  /** Raw body bytes instead of JSON.stringify(event). */
  raw?: Buffer;
}

export interface RunnerError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface LoadOutcome {
  header: Frame['header'] & { error?: RunnerError; logs?: string; initMs?: number };
  /** `log` frames received before the outcome (init output). */
  logFrames: string[];
}

export interface InvokeOutcome {
  header: Frame['header'] & { ok: boolean; error?: RunnerError; logs: string; maxRssMB: number; id: string };
  body: Buffer;
  /** Body parsed as JSON when ok. */
  value: unknown;
}

let seq = 0;

export class RunnerHarness {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** All `log` frames seen so far. */
  readonly logFrames: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly fd3: Duplex;
  private readonly decoder = new FrameDecoder();
  private readonly queue: Frame[] = [];
  private waiter: { resolve: (f: Frame) => void; reject: (e: Error) => void } | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private fd3Closed = false;
  readonly loadDefaults = {
    functionName: 'test-fn',
    functionVersion: '$LATEST',
    memoryMB: 128,
    region: 'local',
  };

  constructor(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    this.fd3 = this.child.stdio[3] as Duplex;
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.fd3.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) {
        if (f.header.t === 'log') this.logFrames.push(String(f.header.data));
        this.queue.push(f);
      }
      this.flush();
    });
    this.fd3.on('error', () => {
      // EPIPE/ECONNRESET after the runner exits; 'close' follows and fails any waiter.
    });
    this.fd3.on('close', () => {
      this.fd3Closed = true;
      this.flush();
    });
    this.exited = new Promise((resolveExit) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolveExit(this.exitInfo);
      });
    });
  }

  private flush(): void {
    if (!this.waiter) return;
    const f = this.queue.shift();
    if (f) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(f);
    } else if (this.fd3Closed) {
      // Why wait for 'close' rather than 'exit': frames written just before exiting are
      // delivered after the exit event.
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(
        new Error(`runner closed fd 3 (exit ${JSON.stringify(this.exitInfo)}); stderr: ${this.stderr}`),
      );
    }
  }

  /** Next frame of any type. */
  next(timeoutMs = 10_000): Promise<Frame> {
    return new Promise((resolveFrame, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out waiting for a frame; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiter = {
        resolve: (f) => {
          clearTimeout(timer);
          resolveFrame(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.flush();
    });
  }

  /** Next frame that is not a `log` frame; log frames skipped are returned alongside. */
  async nextNonLog(timeoutMs?: number): Promise<{ frame: Frame; logs: string[] }> {
    const logs: string[] = [];
    for (;;) {
      const f = await this.next(timeoutMs);
      if (f.header.t === 'log') logs.push(String(f.header.data));
      else return { frame: f, logs };
    }
  }

  send(header: object, body?: Buffer): void {
    this.fd3.write(encodeFrame(header, body));
  }

  async ready(): Promise<Frame['header']> {
    const { frame } = await this.nextNonLog();
    if (frame.header.t !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(frame.header)}`);
    return frame.header;
  }

  async load(opts: LoadOptions): Promise<LoadOutcome> {
    const functionName = opts.functionName ?? this.loadDefaults.functionName;
    this.send({
      t: 'load',
      handler: opts.handler,
      taskRoot: opts.taskRoot,
      functionName,
      functionVersion: this.loadDefaults.functionVersion,
      memoryMB: opts.memoryMB ?? this.loadDefaults.memoryMB,
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
      region: this.loadDefaults.region,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: '2026/11/22/[$LATEST]0123456789abcdef',
      env: opts.env ?? {},
      ...opts.extra,
    });
    const { frame, logs } = await this.nextNonLog();
    return { header: frame.header as LoadOutcome['header'], logFrames: logs };
  }

  async invoke(event: unknown, opts: InvokeOptions = {}, timeoutMs?: number): Promise<InvokeOutcome> {
    const id = opts.id ?? `req-${process.pid}-${++seq}`;
    const header: Record<string, unknown> = {
      t: 'invoke',
      id,
      deadlineMs: opts.deadlineMs ?? Date.now() + 30_000,
    };
    if (opts.clientContext !== undefined) header.clientContext = opts.clientContext;
    if (opts.traceId !== undefined) header.traceId = opts.traceId;
    this.send(header, opts.raw ?? Buffer.from(JSON.stringify(event), 'utf8'));
    const { frame } = await this.nextNonLog(timeoutMs);
    const h = frame.header as InvokeOutcome['header'];
    if (h.t !== 'result' || h.id !== id) throw new Error(`unexpected frame ${JSON.stringify(h)}`);
    let value: unknown;
    if (h.ok && frame.body.length > 0) {
      try {
        value = JSON.parse(frame.body.toString('utf8'));
      } catch {
        value = undefined;
      }
    }
    return { header: h, body: frame.body, value };
  }

  /** Close fd 3 (the runner should exit on EOF); SIGKILL if it has not exited within graceMs. */
  async close(graceMs = 2000): Promise<void> {
    if (!this.fd3.destroyed) this.fd3.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.fd3.destroy();
  }
}

/** A temp dir with the given files (path → content; `{ mode }` to chmod), removed by the returned cleanup. */
export function writeTaskDir(files: Record<string, string | { content: string; mode: number }>): {
  dir: string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-runner-test-'));
  for (const [rel, spec] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    const content = typeof spec === 'string' ? spec : spec.content;
    writeFileSync(p, content);
    if (typeof spec !== 'string') chmodSync(p, spec.mode);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const TASK_ROOT_IN_SANDBOX = '/var/task';

/** Where {@link bwrapArgs} makes the runner scripts visible. */
export const RUNNERS_IN_SANDBOX = '/var/runtime';

/**
 * bubblewrap argv for running `command` like the process backend will: read-only root, the
 * code read-only at /var/task, private /tmp, uid 65534, clean env, no network (loopback only).
 * Why a tmpfs /var: the host root is bound read-only, so bwrap cannot create /var/task in it;
 * /var is remounted read-only after the code is bound.
 */
export function bwrapArgs(codeDir: string, command: string[], env: Record<string, string> = {}): string[] {
  const args = [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--tmpfs', '/tmp',
    '--tmpfs', '/var',
    '--ro-bind', codeDir, TASK_ROOT_IN_SANDBOX,
    // The runners too: the checkout may live under /tmp (CI clones there), which is masked.
    '--ro-bind', RUNNERS_DIR, RUNNERS_IN_SANDBOX,
    '--remount-ro', '/var',
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--uid', '65534',
    '--gid', '65534',
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin',
    '--chdir', '/',
  ]; // prettier-ignore
  for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
  args.push('--', ...command);
  return args;
}

/** Whether bubblewrap can create a user namespace here (it cannot in some CI containers). */
export async function bwrapAvailable(): Promise<boolean> {
  return new Promise((resolveOk) => {
    const p = spawn('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--uid', '65534', '--', 'true'], {
      stdio: 'ignore',
    });
    p.on('error', () => resolveOk(false));
    p.on('exit', (code) => resolveOk(code === 0));
  });
}
