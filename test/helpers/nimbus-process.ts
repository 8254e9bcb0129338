// Runs `nimbus start` in a child process for crash tests (SIGKILL, restart on the same data).
//
//   const nodes = new NimbusProcesses();
//   after(() => nodes.killAll());
//   const first = await nodes.start({ dataDir });
//   await nodes.kill(first.child);

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** A started node. */
export interface NimbusProcess {
  readonly child: ChildProcess;
  readonly url: string;
}

/** The child processes of one test file, so `after` can kill whatever is left. */
export class NimbusProcesses {
  readonly #children = new Set<ChildProcess>();

  /** `nimbus start` on a free port; resolves with its URL once it listens. */
  start(options: {
    dataDir: string;
    store?: string | undefined;
    timeoutMs?: number;
  }): Promise<NimbusProcess> {
    const args = ['start', '--port', '0', '--data-dir', options.dataDir];
    if (options.store !== undefined) args.push('--store', options.store);
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`server did not start:\n${out}`)),
        options.timeoutMs ?? 30_000,
      );
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const m = /Nimbus listening on (http:\/\/\S+)\n/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve({ child, url: m[1]! });
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code}) before listening:\n${out}`));
      });
    });
  }

  /** SIGKILL `child` and wait until it is gone. */
  kill(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Kill every child still running. */
  async killAll(): Promise<void> {
    await Promise.all([...this.#children].map((c) => this.kill(c)));
  }
}
