// The leftover reaper's task-count shortcut (warm path) never lets a leftover live on unseen: a
// count that did not change skips the listing, and the listing it owes runs within a second when
// the instance is idle (the case of a worker thread ending while a child is started).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { installLeakGuard } from '../helpers/leak-guard.js';
import type { InstanceCgroup } from '../../src/runtime/process/cgroup-limits.js';
import { LeftoverReaper } from '../../src/runtime/process/leftover-reaper.js';

installLeakGuard();

/** A cgroup whose task count never changes and whose pid list the test sets. */
function fakeCgroup(list: () => number[]): InstanceCgroup {
  return { taskCount: () => 7, pids: list } as unknown as InstanceCgroup;
}

function exited(child: ChildProcess, withinMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), withinMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// A pid that is never alive: kept, so never signalled.
const KEPT = 2 ** 22 + 1;

test('an unchanged task count skips the listing; the owed listing kills the leftover once idle', async () => {
  const leftover = spawn('sleep', ['30'], { stdio: 'ignore' });
  let pids = [KEPT];
  const reaper = new LeftoverReaper({
    rootPid: process.pid,
    cgroup: fakeCgroup(() => pids),
    sandboxed: true,
    isIdle: () => true,
  });
  try {
    reaper.keepCurrent();
    pids = [KEPT, leftover.pid as number];
    assert.equal(reaper.reap(), 0, 'the shortcut: same task count, no listing');
    assert.equal(await exited(leftover, 3000), true, 'the deferred listing killed the leftover');
    assert.equal(leftover.signalCode, 'SIGKILL');
  } finally {
    reaper.close();
    leftover.kill('SIGKILL');
  }
});

test('the owed listing waits while an invocation runs; the next reap lists fully', async () => {
  const leftover = spawn('sleep', ['30'], { stdio: 'ignore' });
  let pids = [KEPT];
  let idle = false;
  const reaper = new LeftoverReaper({
    rootPid: process.pid,
    cgroup: fakeCgroup(() => pids),
    sandboxed: true,
    isIdle: () => idle,
  });
  try {
    reaper.keepCurrent();
    pids = [KEPT, leftover.pid as number];
    assert.equal(reaper.reap(), 0);
    // Busy when the deferred listing comes due: it must not kill what the invocation runs.
    assert.equal(await exited(leftover, 1500), false);
    // The invocation ends more than a second after the last full listing: this reap lists.
    idle = true;
    assert.equal(reaper.reap(), 1);
    assert.equal(await exited(leftover, 2000), true);
  } finally {
    reaper.close();
    leftover.kill('SIGKILL');
  }
});
