// Deterministic code bundle archive: files → one gzip blob whose sha256 identifies the code.
//
// Format (before gzip), all integers unsigned 32-bit big-endian:
//
//   "NIMBUSB1"                       8-byte magic (format version 1)
//   count                            number of entries
//   count × { pathLength, path (UTF-8, '/'-separated, relative),
//             mode (0o644 or 0o755), size, size bytes of data }
//
// Entries are sorted by path (byte order of the UTF-8 encoding) and modes are normalised to
// 0644/0755, so the same files always give the same bytes. gzip runs at a fixed level with
// mtime 0 (Node's default) and the OS byte forced to 255 ("unknown"), so the blob, and with it
// the sha256, does not depend on the machine. It can differ between zlib builds (a Node
// upgrade), which costs a duplicate blob, never a wrong one: the sha always names the bytes.
// Why not zip/tar: zip stores timestamps and tar stores owners and mtimes; stripping those is
// more code than this format, and nothing outside Nimbus reads the blob.

import { createHash, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, gunzip, gunzipSync, gzipSync } from 'node:zlib';
import { NimbusError } from '../errors.js';

/** One file of a bundle. */
export interface BundleFile {
  readonly data: Buffer;
  /** Unix mode bits; anything executable is stored as 0o755, everything else as 0o644. */
  readonly mode: number;
}

/** The files of a bundle by relative path (`index.mjs`, `lib/util.py`). */
export type BundleFiles = Map<string, BundleFile>;

/** A packed bundle. */
export interface PackedBundle {
  readonly bytes: Buffer;
  /** sha256 of `bytes`, lowercase hex: the bundle's content address. */
  readonly sha256: string;
}

const MAGIC = Buffer.from('NIMBUSB1', 'latin1');
const gunzipAsync = promisify(gunzip);
/** Largest unpacked bundle accepted: Lambda's 250 MB unzipped limit plus headroom. */
export const MAX_UNPACKED_BYTES = 300 * 1024 * 1024;
// Measured on a 1.07 MB bundle (zod + yaml) plus its 0.62 MB map, 2 cores, Node 20: level 6
// gives 275 KB in 33 ms, level 9 gives 271 KB (-1.6%) in 87 ms, level 1 gives 361 KB in 9 ms.
// Unpacking takes 2.5-3.5 ms at any level. Level 6 is the knee.
const GZIP_LEVEL = 6;

/** Serialises files into a deterministic gzip blob and its sha256. */
export function packBundle(files: ReadonlyMap<string, BundleFile>): PackedBundle {
  const entries = [...files.entries()]
    .map(([path, file]) => ({ path: Buffer.from(checkBundlePath(path), 'utf8'), file }))
    .sort((a, b) => Buffer.compare(a.path, b.path));
  const parts: Buffer[] = [MAGIC, u32(entries.length)];
  for (const { path, file } of entries) {
    parts.push(u32(path.length), path, u32(normalizeMode(file.mode)), u32(file.data.length), file.data);
  }
  const bytes = gzipSync(Buffer.concat(parts), { level: GZIP_LEVEL, strategy: constants.Z_DEFAULT_STRATEGY });
  bytes[9] = 255; // gzip OS byte: zlib writes the build platform's code; make it the same everywhere.
  return { bytes, sha256: sha256Hex(bytes) };
}

/**
 * Parses a blob made by {@link packBundle}.
 * @throws NimbusError `BundleError` for a corrupt blob, a path escaping the bundle (`..`,
 *   absolute), a duplicate path, or more than {@link MAX_UNPACKED_BYTES}.
 */
export function unpackBundle(bytes: Buffer): BundleFiles {
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (err) {
    throw bundleError(`not a gzip stream or larger than ${MAX_UNPACKED_BYTES} bytes unpacked`, err);
  }
  return parseEntries(raw, true);
}

/**
 * {@link unpackBundle} with the inflating on libuv's thread pool, so the event loop keeps serving
 * other requests. The files' `data` are views into one inflated buffer, not copies: every caller
 * (the deploy check, the code cache) drops them at once, and copying 60 bundles' files was half
 * of a deploy's main-thread time spent on bundles.
 */
export async function unpackBundleAsync(bytes: Buffer): Promise<BundleFiles> {
  let raw: Buffer;
  try {
    raw = await gunzipAsync(bytes, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (err) {
    throw bundleError(`not a gzip stream or larger than ${MAX_UNPACKED_BYTES} bytes unpacked`, err);
  }
  return parseEntries(raw, false);
}

/** sha256 of bytes as lowercase hex, computed off the event loop (WebCrypto runs on the thread pool). */
export async function sha256HexAsync(bytes: Buffer): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

function parseEntries(raw: Buffer, copy: boolean): BundleFiles {
  if (raw.length < 12 || !raw.subarray(0, 8).equals(MAGIC)) throw bundleError('bad magic');
  let offset = 8;
  const read = (length: number): Buffer => {
    if (offset + length > raw.length) throw bundleError('truncated');
    const out = raw.subarray(offset, offset + length);
    offset += length;
    return out;
  };
  const readU32 = (): number => read(4).readUInt32BE(0);
  const count = readU32();
  const files: BundleFiles = new Map();
  for (let i = 0; i < count; i++) {
    const path = checkBundlePath(read(readU32()).toString('utf8'));
    const mode = normalizeMode(readU32());
    // A copy, when kept, so one retained file does not pin the whole bundle in memory.
    const view = read(readU32());
    const data = copy ? Buffer.from(view) : view;
    if (files.has(path)) throw bundleError(`duplicate path ${JSON.stringify(path)}`);
    files.set(path, { data, mode });
  }
  if (offset !== raw.length) throw bundleError('trailing bytes');
  return files;
}

/**
 * Returns `path` if it is a safe relative bundle path: `/`-separated, no empty, `.` or `..`
 * segments, not absolute, no backslashes or NUL.
 * @throws NimbusError `BundleError` otherwise.
 */
export function checkBundlePath(path: string): string {
  const bad =
    path.length === 0 ||
    path.length > 4096 ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.includes('\0') ||
    path.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) {
    throw new NimbusError(
      'BundleError',
      `Invalid path in code bundle: ${JSON.stringify(path)}; bundle paths must be relative and stay inside the bundle (no "..", no leading "/").`,
    );
  }
  return path;
}

/** 0o755 when any execute bit is set, else 0o644. */
export function normalizeMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644;
}

/** sha256 of bytes as lowercase hex. */
export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function bundleError(why: string, cause?: unknown): NimbusError {
  return new NimbusError('BundleError', `Corrupt code bundle (${why}); redeploy the function.`, { cause });
}
