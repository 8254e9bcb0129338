// Object bytes on disk: files named by generated ids under `<dataDir>/objects/data/ab/cd/<id>`,
// written through a temp file (hash, check, fsync, rename) so a file under data/ is always whole.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { NimbusError } from '../../errors.js';

/** What a finished write produced. */
export interface WrittenFile {
  readonly fileId: string;
  readonly size: number;
  /** Binary MD5 of the bytes. */
  readonly md5: Buffer;
}

/** Limits and checks of one write. */
export interface WriteChecks {
  /** Declared length (`Content-Length`): any other length fails with IncompleteBody. */
  readonly contentLength?: number | undefined;
  /** Base64 MD5 (`Content-MD5`) the body must have: BadDigest otherwise. */
  readonly contentMd5?: string | undefined;
  /** Bytes allowed; more fails with EntityTooLarge. */
  readonly maxSize: number;
}

const TMP_SUFFIX = '.tmp';

/**
 * The object files of one node. Keys never appear in paths (they may hold `/`, `..`, anything);
 * files are named by random ids and sharded two levels deep (256 × 256 directories) so no
 * directory grows past a few thousand entries at millions of objects.
 */
export class ObjectFiles {
  readonly #dataDir: string;
  readonly #tmpDir: string;
  #tmpReady: Promise<unknown> | undefined;

  /** `root` is `<dataDir>/objects`. */
  constructor(root: string) {
    this.#dataDir = join(root, 'data');
    this.#tmpDir = join(root, 'tmp');
  }

  /** The temp directory (same filesystem as the data, so a rename is atomic). */
  get tmpDir(): string {
    return this.#tmpDir;
  }

  /** Absolute path of a stored file. */
  pathOf(fileId: string): string {
    return join(this.#dataDir, fileId.slice(0, 2), fileId.slice(2, 4), fileId);
  }

  /**
   * Stream `body` into a new file, checking length, MD5 and size limit on the way. On any failure
   * (the body errors or is cut off, a check fails) the temp file is removed, nothing is stored,
   * and the error is thrown; the body is left unpiped, not destroyed, so the caller can still
   * answer on the same connection.
   */
  async write(body: Readable, checks: WriteChecks): Promise<WrittenFile> {
    if (checks.contentLength !== undefined && checks.contentLength > checks.maxSize) {
      throw tooLarge(checks.contentLength, checks.maxSize);
    }
    const fileId = newFileId();
    const tmp = await this.#tmpPath(fileId);
    const hash = createHash('md5');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > checks.maxSize) return done(tooLarge(size, checks.maxSize));
        if (checks.contentLength !== undefined && size > checks.contentLength) {
          return done(
            incomplete(`the body is longer than its declared length of ${checks.contentLength} bytes`),
          );
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pump(body, meter, tmp);
      if (checks.contentLength !== undefined && size !== checks.contentLength) {
        throw incomplete(`${size} of the declared ${checks.contentLength} bytes arrived`);
      }
      const md5 = hash.digest();
      if (checks.contentMd5 !== undefined && md5.toString('base64') !== checks.contentMd5) {
        throw new NimbusError(
          'BadDigest',
          `The body's MD5 (${md5.toString('base64')}) does not match the Content-MD5 sent (${checks.contentMd5}); nothing was stored. Resend the object.`,
        );
      }
      await this.#commit(tmp, fileId);
      return { fileId, size, md5 };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Concatenate stored files into a new one (a multipart upload's parts), streaming. */
  async concat(fileIds: readonly string[]): Promise<{ fileId: string; size: number }> {
    const fileId = newFileId();
    const tmp = await this.#tmpPath(fileId);
    const out = createWriteStream(tmp);
    let size = 0;
    try {
      for (const id of fileIds) {
        const input = createReadStream(this.pathOf(id));
        for await (const chunk of input) {
          size += (chunk as Buffer).length;
          if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', r));
        }
      }
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(() => resolve());
      });
      await this.#commit(tmp, fileId);
      return { fileId, size };
    } catch (err) {
      out.destroy();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Copy a stored file to a new id (the kernel copies; nothing passes through the JS heap). */
  async copy(sourceFileId: string): Promise<string> {
    const fileId = newFileId();
    const tmp = await this.#tmpPath(fileId);
    try {
      await copyFile(this.pathOf(sourceFileId), tmp);
      await this.#commit(tmp, fileId);
      return fileId;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Open a stored file for reading `[start, end]` (inclusive). Throws ENOENT if it is gone. */
  async openRead(fileId: string, range?: { start: number; end: number }): Promise<Readable> {
    // Opened now, not lazily: once the descriptor is held, a concurrent replace that unlinks the
    // file cannot cut the read short (the caller retries on ENOENT with the new row).
    const handle = await open(this.pathOf(fileId), 'r');
    return handle.createReadStream(range === undefined ? {} : { start: range.start, end: range.end });
  }

  /** Delete a stored file; a missing one is fine. */
  async remove(fileId: string): Promise<void> {
    await unlink(this.pathOf(fileId)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Names of the temp files present (tests: nothing may be left behind). */
  async tempFiles(): Promise<string[]> {
    return readdir(this.#tmpDir).catch(() => []);
  }

  /**
   * Crash cleanup: delete temp files and data files no row references, when last modified before
   * `before` (files of writes in flight in this process are newer, so they are never touched).
   * `signal` ends the walk early.
   * @returns how many files were deleted.
   */
  async sweep(
    before: number,
    referenced: (fileIds: readonly string[]) => Promise<Set<string>>,
    signal?: AbortSignal,
  ): Promise<number> {
    let removed = 0;
    for (const name of await this.tempFiles()) {
      const path = join(this.#tmpDir, name);
      if (name.endsWith(TMP_SUFFIX) && (await olderThan(path, before))) {
        await unlink(path).catch(() => undefined);
        removed++;
      }
    }
    for (const a of await readdir(this.#dataDir).catch(() => [])) {
      for (const b of await readdir(join(this.#dataDir, a)).catch(() => [])) {
        // Stopping the server ends the walk between directories; the next start resumes it.
        if (signal?.aborted) return removed;
        const dir = join(this.#dataDir, a, b);
        const names = await readdir(dir).catch(() => []);
        if (names.length === 0) continue;
        const known = await referenced(names);
        for (const name of names) {
          if (known.has(name) || !(await olderThan(join(dir, name), before))) continue;
          await unlink(join(dir, name)).catch(() => undefined);
          removed++;
        }
      }
    }
    return removed;
  }

  async #tmpPath(fileId: string): Promise<string> {
    // Created once per process (a syscall saved on every write); a failed attempt is retried.
    this.#tmpReady ??= mkdir(this.#tmpDir, { recursive: true }).catch((err: unknown) => {
      this.#tmpReady = undefined;
      throw err;
    });
    await this.#tmpReady;
    return join(this.#tmpDir, fileId + TMP_SUFFIX);
  }

  /** fsync the temp file, then rename it into place: data/ only ever holds whole files. */
  async #commit(tmp: string, fileId: string): Promise<void> {
    // The fsync before the rename makes the metadata row (committed next) never point at a file
    // whose bytes an OS crash could still lose.
    const handle = await open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const target = this.pathOf(fileId);
    try {
      await rename(tmp, target);
    } catch (err) {
      // The shard directory does not exist yet (rare after the first few thousand objects).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(join(target, '..'), { recursive: true });
      await rename(tmp, target);
    }
  }
}

/** A new random file id: 32 hex characters. */
function newFileId(): string {
  return randomBytes(16).toString('hex');
}

async function olderThan(path: string, before: number): Promise<boolean> {
  try {
    return (await stat(path)).mtimeMs < before;
  } catch {
    return false;
  }
}

/**
 * body → meter → file, without `stream.pipeline`: pipeline destroys the source on error, and
 * destroying an HTTP request kills its socket, so the caller could not answer the error. Here
 * the body is only unpiped; the HTTP layer drains it and replies.
 */
function pump(body: Readable, meter: Transform, path: string): Promise<void> {
  const file = createWriteStream(path);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      body.unpipe(meter);
      meter.destroy();
      file.destroy();
      // Wait for the descriptor to close, so the caller's unlink leaves nothing behind.
      if (file.closed) reject(err);
      else file.once('close', () => reject(err));
    };
    body.on('error', (err: Error) => fail(incomplete(`the body failed: ${err.message}`)));
    // An HTTP request whose connection drops emits 'aborted' (and 'close' without 'end').
    body.once('aborted', () => fail(incomplete('the client closed the connection mid-body')));
    body.once('close', () => {
      if (!body.readableEnded) fail(incomplete('the body stream closed before its end'));
    });
    // A body that failed or was cut off before this call (e.g. while the caller awaited the
    // bucket lookup) emits nothing more: fail now instead of waiting forever.
    if (body.destroyed || body.errored) {
      fail(
        incomplete(
          `the body stream was closed before it was read${body.errored ? ` (${body.errored.message})` : ''}`,
        ),
      );
      return;
    }
    meter.once('error', fail);
    file.once('error', fail);
    file.once('close', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    body.pipe(meter).pipe(file);
  });
}

function tooLarge(size: number, max: number): NimbusError {
  return new NimbusError(
    'EntityTooLarge',
    `The body of ${size}+ bytes exceeds the maximum of ${max} bytes; nothing was stored. Use a multipart upload for larger objects.`,
  );
}

function incomplete(what: string): NimbusError {
  return new NimbusError(
    'IncompleteBody',
    `Incomplete body: ${what}; nothing was stored. Resend the object.`,
  );
}
