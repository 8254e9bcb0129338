// One data dir, one server: an exclusive lock on `<dataDir>/server.lock` held for as long as a
// server runs, and `<dataDir>/server.json` naming the holder (pid, port) for a refused start.
//
// Why a SQLite exclusive lock and not a pid file or a socket: the lock is a kernel (fcntl) lock
// on the file, dropped by the kernel when the process dies, SIGKILL included, so there is no
// stale lock to detect. A pid file created O_EXCL needs stale detection (is the pid alive, is it
// still the same process after pid reuse), and taking over a stale one races: two starters that
// both find it stale can both delete and recreate it and both run. A unix socket bound at
// `<dataDir>/sock/lock` has the same takeover race (a killed server leaves the socket file,
// and unlink + bind is two steps) and the 108-byte path limit. better-sqlite3 is already a
// dependency, and SQLite also refuses a second connection of the same process (plain fcntl
// locks do not), so servers embedded in one process are kept apart too. Not for NFS data dirs,
// where fcntl locks are unreliable (a data dir is expected on a local disk anyway).

import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { NimbusError } from '../errors.js';

/** The lock file (an empty SQLite database, exclusively locked). Never deleted, see {@link lockDataDir}. */
export const LOCK_FILE = 'server.lock';
/** Who holds the lock: `{ pid, port?, url?, startedAt }`, written by the holder. */
export const OWNER_FILE = 'server.json';

/** The server that holds a data dir, as it wrote it in {@link OWNER_FILE}. */
export interface DataDirOwner {
  readonly pid: number;
  /** Epoch ms. */
  readonly startedAt: number;
  /** Set once the server listens. */
  readonly port?: number | undefined;
  readonly url?: string | undefined;
}

/** A held data dir lock. */
export interface DataDirLock {
  /** Record where this server listens (a refused second start names it). */
  listening(url: string, port: number): void;
  /** Give the data dir up (closing the lock file drops the lock). Idempotent. */
  release(): void;
}

/**
 * Take the data dir's lock, or throw `DataDirInUseError` naming the server that holds it (pid
 * and port) and the fix. Call before touching anything in the data dir: whatever a refused
 * server would create or clean up belongs to the running one.
 *
 * The lock file is never deleted: a starter waiting on the old file while a third one created
 * and locked a new file of the same name would both run.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    // An open transaction holding SQLite's EXCLUSIVE lock: no other connection can even read.
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw inUse(dataDir);
    throw err;
  }
  const ownerPath = join(dataDir, OWNER_FILE);
  const startedAt = Date.now();
  let owner: DataDirOwner = { pid: process.pid, startedAt };
  writeOwner(ownerPath, owner);
  let released = false;
  return {
    listening(url, port) {
      if (released) return;
      owner = { ...owner, port, url };
      writeOwner(ownerPath, owner);
    },
    release() {
      if (released) return;
      released = true;
      // Only the owner file this server wrote: another server may hold the lock after us.
      const current = readOwner(dataDir);
      if (current?.pid === process.pid && current.startedAt === startedAt) rmSync(ownerPath, { force: true });
      db.close();
    },
  };
}

/** What {@link OWNER_FILE} says, when it is there and readable. */
export function readOwner(dataDir: string): DataDirOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8')) as Partial<DataDirOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.startedAt !== 'number') return undefined;
    return parsed as DataDirOwner;
  } catch {
    return undefined;
  }
}

function writeOwner(path: string, owner: DataDirOwner): void {
  // Whole or nothing for a concurrent reader: write aside, then rename over.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(dataDir: string): NimbusError {
  const owner = readOwner(dataDir);
  // The holder writes the file right after locking: a missing or dead pid is a server starting.
  const who =
    owner !== undefined && alive(owner.pid)
      ? `another Nimbus server (pid ${owner.pid}, ${owner.port === undefined ? 'still starting' : `port ${owner.port}${owner.url ? `, ${owner.url}` : ''}`})`
      : 'another Nimbus server that is starting';
  return new NimbusError(
    'DataDirInUseError',
    `The data dir ${dataDir} is in use by ${who}. One data dir serves one server: use that server, stop it first, or start this one with another --data-dir.`,
  );
}
