// Per-runner slot directories: an empty dir bind-mounted at /var/task, filled with the code on load.

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
