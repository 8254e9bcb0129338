// Watches a directory tree for changes, skipping ignored folders (node_modules, .git, .nimbus).
import { readdirSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Folder names never watched. */
export const IGNORED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', '.nimbus']);

/** Options for {@link TreeWatcher}. */
export interface TreeWatcherOptions {
  /** Called with the changed path, relative to the root (posix or native separators). */
  readonly onChange: (path: string) => void;
  /** Called when watching fails (e.g. out of inotify watches); watching goes on elsewhere. */
  readonly onError?: (err: Error) => void;
  /** Extra paths (relative to the root) to ignore, besides {@link IGNORED_DIRS} and editor temp files. */
  readonly ignore?: (path: string) => boolean;
}

/** Whether a change at `path` (relative to the watched root) should be ignored. */
export function isIgnoredPath(path: string): boolean {
  const parts = path.split(/[\\/]/);
  if (parts.some((p) => IGNORED_DIRS.has(p))) return true;
  const base = parts[parts.length - 1] ?? '';
  // Editor temp files: vim swap/backup (`.x.swp`, `x~`, `4913`), emacs lock files (`.#x`).
  return /\.sw[px]$/.test(base) || base.endsWith('~') || base.startsWith('.#') || base === '4913';
}

/**
 * A recursive watcher built from one non-recursive `fs.watch` per directory. Why not
 * `fs.watch(root, { recursive: true })`: on Linux, Node 20 emulates it by watching every
 * subdirectory, node_modules included (thousands of inotify watches for a TypeScript app);
 * here ignored folders are never entered. New directories are picked up as they appear.
 */
export class TreeWatcher {
  readonly #root: string;
  readonly #options: TreeWatcherOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  #closed = false;

  constructor(root: string, options: TreeWatcherOptions) {
    this.#root = root;
    this.#options = options;
  }

  /** Starts watching the tree. */
  start(): void {
    this.#watchDir(this.#root);
  }

  /** Number of directories watched. */
  get size(): number {
    return this.#watchers.size;
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  #ignored(path: string): boolean {
    return path !== '' && (isIgnoredPath(path) || (this.#options.ignore?.(path) ?? false));
  }

  #watchDir(dir: string): void {
    if (this.#closed || this.#watchers.has(dir) || this.#ignored(relative(this.#root, dir))) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (event, filename) => this.#onEvent(dir, event, filename));
    } catch (err) {
      // The directory vanished between listing and watching, or we are out of watches.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#options.onError?.(err as Error);
      return;
    }
    watcher.on('error', (err) => {
      this.#unwatch(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#options.onError?.(err);
    });
    this.#watchers.set(dir, watcher);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) this.#watchDir(join(dir, entry.name));
    }
  }

  #unwatch(prefix: string): void {
    for (const [dir, watcher] of this.#watchers) {
      if (dir === prefix || dir.startsWith(prefix + sep)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
  }

  #onEvent(dir: string, event: string, filename: string | Buffer | null): void {
    if (this.#closed) return;
    const full = filename ? join(dir, filename.toString()) : dir;
    const rel = relative(this.#root, full);
    if (this.#ignored(rel)) return;
    if (event === 'rename' && full !== dir) {
      let isDir = false;
      try {
        isDir = statSync(full).isDirectory();
      } catch {
        this.#unwatch(full);
      }
      if (isDir) this.#watchDir(full);
    }
    this.#options.onChange(rel);
  }
}
