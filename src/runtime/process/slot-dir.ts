// Per-runner slot directories: an empty dir bind-mounted at /var/task, filled with the code on load.

import { readFileSync } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Fill `slot` with the files of `codeDir`: hard links where possible (≈10 µs per file, no data
 * copied), copies across devices or when a file is not world-readable (the sandbox user must
 * read it, and chmod on a hard link would change the stored original). Directory structure,
 * exec bits and symlinks are kept. Symlinks are recreated as-is; inside the sandbox they resolve
 * against the sandbox's own filesystem, so they cannot reach host files.
 */
export async function populateSlot(codeDir: string, slot: string): Promise<void> {
  const entries = await readdir(codeDir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = join(codeDir, entry.name);
      const to = join(slot, entry.name);
      if (entry.isDirectory()) {
        await mkdir(to, { mode: 0o755 });
        await chmod(to, 0o755);
        await populateSlot(from, to);
      } else if (entry.isSymbolicLink()) {
        await symlink(await readlink(from), to);
      } else if (entry.isFile()) {
        const st = await lstat(from);
        if ((st.mode & 0o004) !== 0) {
          try {
            await link(from, to);
            return;
          } catch {
            // EXDEV (other device) or EPERM (protected_hardlinks): copy instead.
          }
        }
        await copyFile(from, to);
        await chmod(to, (st.mode & 0o777) | 0o444 | (st.mode & 0o100 ? 0o111 : 0));
      }
      // Sockets, fifos and devices are not code: skipped.
    }),
  );
}

/** Create an empty slot directory readable by the sandbox user. */
export async function createSlot(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
}

/** Delete a slot directory and everything in it. */
export async function removeSlot(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or undefined
 * when the process does not exist. With the pid it names one process for the life of the boot,
 * where a pid alone is soon reused (in a container the server is often pid 1 at every start).
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let nextOwnerDir = 0;

/**
 * The name of a new directory under the run dir owned by this process (one per backend):
 * `<pid>.<start time>.<n>`, so the next start can tell a live owner from a dead one.
 */
export function ownerDirName(): string {
  return `${process.pid}.${startTime(process.pid) ?? '0'}.${++nextOwnerDir}`;
}

/**
 * Remove the directories a process that no longer runs left under `runDir` (a server killed
 * with SIGKILL leaves its slots, runner copies and seccomp file behind). Only names of the
 * {@link ownerDirName} form are considered; a directory whose process still runs (another
 * server sharing the run dir, or another backend of this one) is left alone. Returns the names
 * removed.
 */
export async function removeStaleOwnerDirs(runDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const m = /^(\d+)\.(\d+)\.\d+$/.exec(name);
    return m !== null && startTime(Number(m[1])) !== m[2];
  });
  await Promise.all(stale.map((name) => rm(join(runDir, name), { recursive: true, force: true })));
  return stale;
}
