// Parked launchers: tiny shells already inside a fresh cgroup, so runners start inside theirs.

import type { ChildProcess } from 'node:child_process';
import type { CgroupManager, InstanceCgroup } from './cgroup-limits.js';
import { spawnLauncher } from './runner-process.js';
import type { RunnerStartOptions } from './runner-process.js';

/** A launcher that is inside its (not yet limited) cgroup and waits for its command. */
export interface Launcher {
  readonly child: ChildProcess;
  readonly cgroup: InstanceCgroup;
}

let nextLauncherId = 0;

/**
 * Keeps `target` launchers parked. Why: moving a process into a cgroup costs ≈10 ms of wall
 * time whatever its size (see {@link CgroupManager.create}), and a process forked inside a
 * cgroup stays there with no move at all. Moving the runner after it was ready put that 10 ms
 * (and a blocked event loop) on every empty-pool cold start; moving a parked `sh` ahead of time,
 * on the thread pool, takes it off the path. Handing one over costs one pipe write.
 */
export class LauncherPool {
  readonly #cgroups: CgroupManager;
  readonly #spawnOptions: Pick<RunnerStartOptions, 'uid' | 'env' | 'cwd'>;
  readonly #target: number;
  /** Parked (or still being moved) launchers, oldest first. */
  #parked: Promise<Launcher>[] = [];
  /** Every launcher not yet handed over, to clean up on close. */
  readonly #owned = new Set<Launcher>();
  #closed = false;

  constructor(
    cgroups: CgroupManager,
    spawnOptions: Pick<RunnerStartOptions, 'uid' | 'env' | 'cwd'>,
    target: number,
  ) {
    this.#cgroups = cgroups;
    this.#spawnOptions = spawnOptions;
    this.#target = target;
  }

  /** Parked launchers (ready or still being moved). */
  get parked(): number {
    return this.#parked.length;
  }

  /**
   * A launcher inside its own cgroup: the oldest parked one, else a new one (then this waits for
   * the move). The caller owns the result: it must start a runner in it or kill it and
   * `cgroup.remove()`.
   */
  async take(): Promise<Launcher> {
    for (;;) {
      if (this.#closed) throw new Error('launcher pool is closed');
      const launcher = await (this.#parked.shift() ?? this.#park());
      this.#owned.delete(launcher);
      if (launcher.child.exitCode === null && launcher.child.signalCode === null) return launcher;
      await discardLauncher(launcher); // died while parked (killed from outside): take another
    }
  }

  /** Park launchers up to the target, in the background. */
  topUp(): void {
    while (!this.#closed && this.#parked.length < this.#target) {
      const parking = this.#park();
      parking.catch(() => {
        // A launcher that could not be parked is dropped; the next take parks a new one and
        // reports that error instead.
        const at = this.#parked.indexOf(parking);
        if (at >= 0) this.#parked.splice(at, 1);
      });
      this.#parked.push(parking);
    }
  }

  /** Kill every launcher not handed over and remove their cgroups. */
  async close(): Promise<void> {
    this.#closed = true;
    const parking = this.#parked;
    this.#parked = [];
    await Promise.allSettled(parking);
    await Promise.all([...this.#owned].map((l) => discardLauncher(l)));
    this.#owned.clear();
  }

  async #park(): Promise<Launcher> {
    const cgroup = this.#cgroups.create(`instance-${++nextLauncherId}`);
    let child: ChildProcess;
    try {
      child = spawnLauncher(this.#spawnOptions);
    } catch (err) {
      await cgroup.remove();
      throw err;
    }
    const launcher: Launcher = { child, cgroup };
    this.#owned.add(launcher);
    try {
      if (child.pid === undefined) {
        // spawn reports failures (EAGAIN, ENOENT) asynchronously, without a pid.
        throw await new Promise<Error>((resolve) => child.once('error', resolve));
      }
      await cgroup.adopt(child.pid);
    } catch (err) {
      this.#owned.delete(launcher);
      await discardLauncher(launcher);
      throw err;
    }
    return launcher;
  }
}

/** Kill a launcher that will not be used, wait for it, and remove its cgroup. */
export async function discardLauncher(launcher: Launcher): Promise<void> {
  const { child } = launcher;
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const closed = new Promise((resolve) => child.once('close', resolve));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await closed;
  }
  child.stdin?.destroy();
  await launcher.cgroup.remove();
}
