// Spawns the benchmark's child processes (Nimbus server, bare baseline) and stops them all on exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ServerProcessInfo, ServerProcessOptions } from './server-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const live = new Set<ChildProcess>();

/** A running child with the JSON line it printed. */
export interface Child<T> {
  readonly info: T;
  readonly pid: number;
  /** Close stdin (the child shuts down cleanly), SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Extra node flags for the server child, e.g. `--cpu-prof` (from BENCH_SERVER_NODE_ARGS). */
const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function startChild<T>(script: string, args: string[], nodeArgs: string[] = []): Promise<Child<T>> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(here, script), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  live.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => live.delete(child));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  let stopping: Promise<void> | undefined;
  return {
    info: JSON.parse(first) as T,
    pid: child.pid!,
    stop: (graceMs = 15_000) =>
      (stopping ??= (async () => {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** Start a Nimbus server in its own process. */
export function startServerProcess(options: ServerProcessOptions): Promise<Child<ServerProcessInfo>> {
  return startChild<ServerProcessInfo>('server-process.ts', [JSON.stringify(options)], serverNodeArgs);
}

/** Start the bare node:http baseline in its own process. */
export function startBareServer(): Promise<Child<{ url: string; pid: number }>> {
  return startChild('bare-server.ts', []);
}

/** Stop every child still running (servers close their instances and temp dirs). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.stdin?.end();
          setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
}
