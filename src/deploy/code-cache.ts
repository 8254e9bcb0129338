// Unpacked code bundles on this node: `<root>/<sha256>/`, each unpacked once, atomically.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NimbusError } from '../errors.js';
import { sha256HexAsync, unpackBundleAsync } from './bundle-archive.js';

/** Where the cache reads blobs from: the subset of `CodeStore` it needs. */
export interface CodeBlobSource {
  get(sha256: string): Promise<Buffer | undefined>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Unpacks code bundles into `<root>/<sha256>/` for runtimes to load. Directories are 0755 and
 * files 0644/0755 whatever the umask, so sandboxes running as uid 65534 can read them.
 * A directory that exists is complete: it appears by rename only after every file is written.
 */
export class CodeCache {
  readonly #root: string;
  readonly #store: CodeBlobSource;
  // One unpack per sha at a time in this process; other processes are handled by the rename.
  readonly #inflight = new Map<string, Promise<string>>();

  /**
   * @param root directory holding the unpacked bundles (normally `<dataDir>/code`); created on demand.
   * @param store where blobs come from when a bundle is not unpacked yet.
   */
  constructor(root: string, store: CodeBlobSource) {
    this.#root = root;
    this.#store = store;
  }

  /**
   * The directory holding the unpacked bundle `sha256`, unpacking it first if needed.
   * @throws NimbusError `ResourceNotFoundException` when the store has no such blob,
   *   `ServiceException` when the blob does not match its sha256, `BundleError` when it is corrupt.
   */
  async dir(sha256: string): Promise<string> {
    if (!SHA256_HEX.test(sha256)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `Invalid code sha256 ${JSON.stringify(sha256)}; expected 64 lowercase hex digits.`,
      );
    }
    // Registered before the first await, so concurrent callers share one check and one unpack.
    let work = this.#inflight.get(sha256);
    if (!work) {
      work = this.#ensure(sha256).finally(() => this.#inflight.delete(sha256));
      this.#inflight.set(sha256, work);
    }
    return work;
  }

  async #ensure(sha256: string): Promise<string> {
    const target = join(this.#root, sha256);
    if (await isDir(target)) return target;
    const blob = await this.#store.get(sha256);
    if (!blob) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `Code bundle ${sha256} is not in the store; redeploy the function with \`nimbus deploy\`.`,
      );
    }
    // Hashing and inflating run on the thread pool: a cold start of a big bundle must not hold
    // the event loop (and with it every warm request) while it unpacks.
    const actual = await sha256HexAsync(blob);
    if (actual !== sha256) {
      throw new NimbusError(
        'ServiceException',
        `Code bundle ${sha256} in the store is corrupt (its sha256 is ${actual}); redeploy the function with \`nimbus deploy\`.`,
      );
    }
    const files = await unpackBundleAsync(blob);
    await mkdir(this.#root, { recursive: true, mode: 0o755 });
    // A temp sibling on the same filesystem, so the final rename is atomic.
    const temp = join(
      this.#root,
      `.tmp-${sha256.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    try {
      await mkdir(temp, { mode: 0o755 });
      await chmod(temp, 0o755);
      const made = new Set<string>([temp]);
      for (const [path, file] of files) {
        const full = join(temp, path);
        await makeDirs(dirname(full), made);
        await writeFile(full, file.data, { mode: file.mode });
        await chmod(full, file.mode); // The umask may have masked bits off.
      }
      try {
        await rename(temp, target);
      } catch (err) {
        // Another process finished the same bundle first; its copy is identical.
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDir(target))) {
          await rm(temp, { recursive: true, force: true });
          return target;
        }
        throw err;
      }
      return target;
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      throw err;
    }
  }
}

async function makeDirs(dir: string, made: Set<string>): Promise<void> {
  if (made.has(dir)) return;
  await makeDirs(dirname(dir), made);
  await mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await chmod(dir, 0o755);
  made.add(dir);
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
