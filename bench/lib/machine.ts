// Describes the machine a benchmark ran on: cores, CPU model, RAM, node and kernel versions.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';

/** Facts about this machine, as label → value. */
export function machineFacts(): Array<[string, string]> {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux.
  }
  return [
    ['nproc', String(availableParallelism())],
    ['CPU', cpu],
    ['RAM', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['node', process.version],
    ['kernel', release()],
    ['code', codeState()],
  ];
}

/** The commit measured, and the files under src/ changed on top of it (read-only git). */
function codeState(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const head = git('rev-parse', '--short', 'HEAD').trim();
    // Porcelain lines are `XY path`: two status columns, a space, the path.
    const dirty = git('status', '--porcelain', '--', 'src')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return dirty.length ? `${head} + uncommitted changes in ${dirty.join(', ')}` : head;
  } catch {
    return 'unknown (no git)';
  }
}
