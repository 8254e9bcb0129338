// Leak guard: fails the test file that leaves child processes, servers or timers behind.
import { after } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

/** Pids of live (non-zombie) direct children of this process. */
export function childPids(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === process.pid && rest[0] !== 'Z') out.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

const WATCHED = new Set([
  'Timeout',
  'TCPServerWrap',
  'PipeServerWrap',
  'ProcessWrap',
  'FSEventWrap',
  'StatWatcher',
]);

function watchedResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (WATCHED.has(r)) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return counts;
}

/**
 * Call once per test file, after registering the file's own top-level `after` hooks (node:test
 * runs top-level hooks in registration order; hooks inside `describe` blocks run first anyway). After all its tests, waits briefly for things to wind
 * down, then fails if child processes, servers, watchers or timers outlive the tests.
 */
export function installLeakGuard(): void {
  const baseline = watchedResources();
  after(async () => {
    const deadline = Date.now() + 3000;
    let children: number[];
    let leaked: string[];
    for (;;) {
      children = childPids();
      leaked = [];
      for (const [kind, n] of watchedResources()) {
        const extra = n - (baseline.get(kind) ?? 0);
        if (extra > 0) leaked.push(`${extra} × ${kind}`);
      }
      if ((children.length === 0 && leaked.length === 0) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50).unref());
    }
    const describe = (pid: number) => {
      try {
        return `${pid} (${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 120)})`;
      } catch {
        return String(pid);
      }
    };
    assert.deepEqual(children, [], `test file leaked child processes: ${children.map(describe).join(', ')}`);
    assert.deepEqual(leaked, [], `test file leaked resources: ${leaked.join(', ')}`);
  });
}
