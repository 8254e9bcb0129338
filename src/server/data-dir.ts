// The data directory and the sandbox run directory: where each lives, who may reach it, and why.

import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, realpathSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Create the data directory, mode 0700, and bring an existing one to 0700. It holds the store,
 * `credentials.json`, `master.key`, object bytes and unpacked code: nothing in it is for any other
 * host user, the sandbox's included. What sandboxes mount lives in {@link sandboxRunDir} instead.
 */
export function prepareDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if ((lstatSync(dataDir).mode & 0o077) !== 0) chmodSync(dataDir, 0o700);
}

/**
 * The sandbox run directory of the node whose data dir is `dataDir`: `$TMPDIR/nimbus-run-<hash>`,
 * holding the API socket's directory and each backend's slots, runner scripts and seccomp
 * program (see ProcessBackend). Created here, owned by this user; ProcessBackend then gives it
 * the sandbox user's group (mode 0710 when root).
 *
 * Why outside the data dir: the sandbox's host user must traverse every directory above what it
 * mounts, and the data dir stays 0700; and a bind mount shows its source path in the sandbox's
 * /proc/self/mountinfo (the kernel prints it relative to the filesystem; bwrap cannot hide it),
 * so a slot under the data dir would tell every function where the credentials are. Named by a
 * hash of the data dir so the next start of the same node finds (and cleans) what a killed one
 * left behind.
 *
 * A name in a shared temp dir can be taken first by another user: an existing entry is used
 * only if it is a real directory owned by this user and writable by nobody else.
 */
export function sandboxRunDir(dataDir: string): string {
  const hash = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `nimbus-run-${hash}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
    throw new Error(
      `the sandbox run directory ${dir} exists but is not a directory owned by this user (uid ` +
        `${process.getuid?.()}) and writable only by it; remove it, or set TMPDIR to a directory only this user can write`,
    );
  }
  return dir;
}

/** Remove the run directory when the node stops, if nothing else (another backend) is in it. */
export function removeRunDir(runDir: string): void {
  for (const dir of [join(runDir, 'sock'), runDir]) {
    try {
      rmdirSync(dir);
    } catch {
      // Not empty (in use) or already gone.
    }
  }
}
