// Bubblewrap sandbox: the bwrap argument list for one runner, and the probe that decides whether it works.

import { spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** Where the function's code appears inside the sandbox (Lambda's `LAMBDA_TASK_ROOT`). */
export const SANDBOX_TASK_ROOT = '/var/task';
/** Where the runner scripts appear inside the sandbox (Lambda's `LAMBDA_RUNTIME_DIR`). */
export const SANDBOX_RUNTIME_DIR = '/var/runtime';
/** PATH inside the sandbox. */
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';
/** Where the directory holding the Nimbus API socket appears inside the sandbox. */
export const SANDBOX_API_DIR = '/run/nimbus';
/** The API socket's path inside the sandbox (the SDK connects here). */
export const SANDBOX_API_SOCKET = `${SANDBOX_API_DIR}/api.sock`;
/** The unprivileged user functions run as (nobody/nogroup), inside and, when we are root, outside. */
export const SANDBOX_UID = 65534;
/** The fd bwrap reads the seccomp program from (`--seccomp 9`); the launcher redirects it from a file. */
export const SECCOMP_FD = 9;
/**
 * Cap of the sandbox's /dev/shm tmpfs in MB (it is `tmpSize` when that is smaller). POSIX shared
 * memory and semaphores (Python's multiprocessing) need a little; without a cap bwrap's /dev is a
 * tmpfs of half the host's RAM that any function could fill. AWS Lambda has no /dev/shm at all.
 */
export const SANDBOX_SHM_MAX_MB = 64;

/**
 * The filesystem is an allowlist, not `--ro-bind / /` with holes: should the sandbox's uid ever
 * map to host root (a root server whose bwrap cannot run as nobody, see {@link probeBwrap}),
 * owner permission bits would let it read root's 0600 files (/etc/shadow, keys) if they were
 * visible at all.
 * Only these /etc entries are shared; everything else (data dirs, /root, /home, the server's
 * cwd, /opt) simply does not exist inside.
 */
const ETC_ALWAYS = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/localtime',
  '/etc/os-release',
  '/etc/alternatives',
  '/etc/mime.types',
  '/etc/hosts',
];
/** Only with network: name resolution and CA certificates (not /etc/ssl/private). */
const ETC_NETWORK = [
  '/etc/resolv.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/ssl/certs',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
];

/** What one sandboxed runner gets. */
export interface SandboxSpec {
  /** Host directory mounted read-only at {@link SANDBOX_TASK_ROOT}. */
  readonly slotDir: string;
  /** Host directory with the runner scripts, mounted read-only at {@link SANDBOX_RUNTIME_DIR}. */
  readonly runnersDir: string;
  /** Size of the private /tmp in MB. */
  readonly tmpSizeMB: number;
  readonly network: boolean;
  /** The whole environment the runner starts with (bwrap clears the rest). */
  readonly env: Readonly<Record<string, string>>;
  /** Host paths of executables outside /usr that must be visible (e.g. a node under /opt). */
  readonly extraBinaries?: readonly string[];
  /**
   * Host directory holding the Nimbus API socket (`api.sock`), mounted read-only at
   * {@link SANDBOX_API_DIR}. Why a directory: the socket is created after runners are pre-started,
   * and a bind of the directory shows it once it exists. Read-only is enough: connect() on a
   * socket needs no write access to the mount, only to the socket's own mode bits.
   */
  readonly apiSocketDir?: string | undefined;
  /**
   * The fd (inherited by bwrap) holding the compiled seccomp program (see seccomp/), passed as
   * `--seccomp FD`. bwrap loads it right before it execs the runner, so its own setup is not
   * filtered; it is never applied to the host.
   */
  readonly seccompFd?: number | undefined;
}

/** Mount a top-level dir (/bin, /lib, ...) the way the host has it: merged-/usr symlink or directory. */
function topLevel(path: string, args: string[]): void {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (st.isDirectory()) args.push('--ro-bind', path, path);
  } catch {
    // Absent on this host.
  }
}

/** The bwrap arguments (without the `bwrap` itself or the command) for one runner. */
export function bwrapArgs(spec: SandboxSpec): string[] {
  const args: string[] = ['--ro-bind', '/usr', '/usr'];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) topLevel(dir, args);
  for (const path of spec.network ? [...ETC_ALWAYS, ...ETC_NETWORK] : ETC_ALWAYS) {
    args.push('--ro-bind-try', path, path);
  }
  for (const bin of spec.extraBinaries ?? []) args.push('--ro-bind', bin, bin);
  if (spec.apiSocketDir !== undefined) args.push('--ro-bind-try', spec.apiSocketDir, SANDBOX_API_DIR);
  args.push(
    '--ro-bind',
    spec.runnersDir,
    SANDBOX_RUNTIME_DIR,
    '--ro-bind',
    spec.slotDir,
    SANDBOX_TASK_ROOT,
    '--proc',
    '/proc',
    // Global sysctls and the sysrq trigger read-only whatever uid the sandbox maps to (bwrap
    // covers them itself only when they look writable to it). The source is the host's procfs,
    // but /proc/sys shows the namespaces of the process that reads it: the sandbox's own.
    '--ro-bind',
    '/proc/sys',
    '/proc/sys',
    '--ro-bind-try', // absent on kernels without CONFIG_MAGIC_SYSRQ
    '/proc/sysrq-trigger',
    '/proc/sysrq-trigger',
    '--dev',
    '/dev',
    // bwrap ≥ 0.5 applies --size to the next --tmpfs (checked: 0.8.0 here).
    '--size',
    String(Math.min(spec.tmpSizeMB, SANDBOX_SHM_MAX_MB) * 1024 * 1024),
    '--tmpfs',
    '/dev/shm',
    // --dev's tmpfs (half the host's RAM, owned by the sandbox user) read-only: the device
    // nodes stay writable (they are separate bind mounts), nothing else under /dev is.
    '--remount-ro',
    '/dev',
    '--size',
    String(spec.tmpSizeMB * 1024 * 1024),
    '--tmpfs',
    '/tmp',
    '--unshare-all',
    // Explicit so --disable-userns is accepted when bwrap runs as root.
    '--unshare-user',
    '--disable-userns',
  );
  if (spec.network) args.push('--share-net');
  args.push(
    '--hostname',
    'nimbus',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--new-session',
    '--chdir',
    SANDBOX_TASK_ROOT,
    '--clearenv',
  );
  for (const [key, value] of Object.entries(spec.env)) args.push('--setenv', key, value);
  if (spec.seccompFd !== undefined) args.push('--seccomp', String(spec.seccompFd));
  // bwrap's root is a writable tmpfs until this: nothing outside /tmp may be written.
  args.push('--remount-ro', '/');
  return args;
}

/** Host executables the sandbox must see that are not under /usr (e.g. node from nvm or /opt). */
export function binariesOutsideUsr(paths: readonly string[]): string[] {
  return paths.map((p) => realpathSync(p)).filter((p) => !p.startsWith('/usr/'));
}

/** Result of {@link probeBwrap}. */
export type BwrapProbe =
  | {
      readonly ok: true;
      readonly bwrap: string;
      /** Start bwrap as {@link SANDBOX_UID} (the server is root and that works). */
      readonly runAsNobody: boolean;
      /**
       * Why bwrap could not start as an unprivileged user when the server is root (then it runs
       * as root and the sandbox's uid maps to host root); undefined when it could, or when the
       * server is not root (the sandbox then maps to the server's own uid).
       */
      readonly hostRootReason?: string | undefined;
    }
  | { readonly ok: false; readonly reason: string };

/** The first `dir/name` that exists and is executable, or undefined. */
export function findExecutable(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Keep looking.
    }
  }
  return undefined;
}

function runProbe(
  bwrap: string,
  args: string[],
  asNobody: boolean,
  seccompFile: string | undefined,
): Promise<string | null> {
  return new Promise((resolve) => {
    let seccomp: number | undefined;
    try {
      if (seccompFile !== undefined) seccomp = openSync(seccompFile, 'r');
    } catch (err) {
      resolve((err as Error).message);
      return;
    }
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe'];
    if (seccomp !== undefined) {
      for (let fd = 3; fd < SECCOMP_FD; fd++) stdio[fd] = 'ignore';
      stdio[SECCOMP_FD] = seccomp;
    }
    const child = spawn(bwrap, args, {
      stdio,
      ...(asNobody ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : {}),
    });
    if (seccomp !== undefined) closeSync(seccomp);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code) => resolve(code === 0 ? null : stderr.trim() || `exit code ${code}`));
  });
}

/** What {@link probeBwrap} builds a sandbox from: the directories a runner will really get. */
export interface BwrapProbeOptions {
  readonly runnersDir: string;
  /** An existing slot directory (e.g. the slots dir itself). */
  readonly slotProbeDir: string;
  /** The compiled seccomp program (bwrap gets it on {@link SECCOMP_FD}), if any. */
  readonly seccompFile: string | undefined;
  readonly apiSocketDir?: string | undefined;
  /** Use this bwrap instead of the one on PATH. */
  readonly bwrapPath?: string | undefined;
}

/**
 * Check that bwrap exists and can build the sandbox we use, with the real runner, slot and API
 * socket directories and the seccomp filter (so a directory nobody cannot traverse is caught
 * here, not on first invoke). When the server is root, bwrap must run as nobody: bwrap started
 * by root maps the sandbox's uid to host root (`65534 0 1` in uid_map), whose only limits are
 * the dropped capabilities; as nobody, the sandbox is an ordinary unprivileged user on the host.
 * Only if that fails is bwrap tried as root, and the result says why ({@link BwrapProbe}).
 */
export async function probeBwrap(options: BwrapProbeOptions): Promise<BwrapProbe> {
  const { bwrapPath } = options;
  const bwrap =
    bwrapPath ?? findExecutable('bwrap', (process.env.PATH ?? '/usr/bin:/bin').split(':').concat('/usr/bin'));
  if (bwrap === undefined || (bwrapPath !== undefined && !existsSync(bwrapPath))) {
    return { ok: false, reason: `bwrap (bubblewrap) is not installed${bwrapPath ? ` at ${bwrapPath}` : ''}` };
  }
  const args = [
    ...bwrapArgs({
      slotDir: options.slotProbeDir,
      runnersDir: options.runnersDir,
      tmpSizeMB: 1,
      network: false,
      env: { PATH: SANDBOX_PATH },
      extraBinaries: binariesOutsideUsr([process.execPath]),
      apiSocketDir: options.apiSocketDir,
      seccompFd: options.seccompFile === undefined ? undefined : SECCOMP_FD,
    }),
    realpathSync(process.execPath),
    '-e',
    '0',
  ];
  if (process.getuid?.() !== 0) {
    const err = await runProbe(bwrap, args, false, options.seccompFile);
    return err === null
      ? { ok: true, bwrap, runAsNobody: false }
      : { ok: false, reason: `bwrap cannot create the sandbox: ${err}` };
  }
  const unreachable = [options.slotProbeDir, options.runnersDir, options.apiSocketDir, options.seccompFile]
    .filter((p): p is string => p !== undefined)
    .find((p) => !sandboxUserCanReach(p));
  const asNobody = unreachable
    ? `${unreachable} is not reachable by uid ${SANDBOX_UID}`
    : await runProbe(bwrap, args, true, options.seccompFile);
  if (asNobody === null) return { ok: true, bwrap, runAsNobody: true };
  const asRoot = await runProbe(bwrap, args, false, options.seccompFile);
  if (asRoot === null) return { ok: true, bwrap, runAsNobody: false, hostRootReason: asNobody };
  return {
    ok: false,
    reason: `bwrap cannot create the sandbox: ${asRoot} (as uid ${SANDBOX_UID}: ${asNobody})`,
  };
}

/**
 * Whether uid/gid {@link SANDBOX_UID} may traverse every ancestor of `path` (bwrap as nobody
 * must open it): by the "other" bit, or the group bit of a directory whose group is the
 * sandbox's (how {@link makeSandboxDir} restricts the run directory to that user).
 */
function sandboxUserCanReach(path: string): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      const st = statSync(dir);
      const ok =
        (st.mode & 0o001) !== 0 ||
        (st.gid === SANDBOX_UID && (st.mode & 0o010) !== 0) ||
        (st.uid === SANDBOX_UID && (st.mode & 0o100) !== 0);
      if (!ok) return false;
    } catch {
      return false;
    }
    if (dir === '/') return true;
  }
}

/**
 * Create `dir` (and parents) as a directory of the sandbox run tree: reachable by the sandbox's
 * host user and nobody else. When the server is root that user is {@link SANDBOX_UID}: the
 * directory is root-owned, group {@link SANDBOX_UID} (nogroup), mode 0710, so bwrap started as
 * nobody may pass through it but other host users may not, and nobody may not list it. When
 * the server is not root, the sandbox maps to the server's own uid: mode 0700. Existing
 * directories are brought to that mode and group.
 */
export function makeSandboxDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) {
    chownSync(dir, 0, SANDBOX_UID);
    chmodSync(dir, 0o710);
  } else {
    chmodSync(dir, 0o700);
  }
}
