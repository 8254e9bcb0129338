// Bubblewrap sandbox: the bwrap argument list for one runner, and the probe that decides whether it works.

import { spawn } from 'node:child_process';
import { accessSync, constants, lstatSync, readlinkSync, realpathSync, existsSync } from 'node:fs';
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

/**
 * The filesystem is an allowlist, not `--ro-bind / /` with holes: when the server runs as root
 * without a second user available, the sandbox's uid maps to host root, and owner permission
 * bits would then let it read root's 0600 files (/etc/shadow, keys) if they were visible at all.
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
    '--dev',
    '/dev',
    // bwrap ≥ 0.5 applies --size to the next --tmpfs (checked: 0.8.0 here).
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
  | { readonly ok: true; readonly bwrap: string; readonly runAsNobody: boolean }
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

function runProbe(bwrap: string, args: string[], asNobody: boolean): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(bwrap, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(asNobody ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code) => resolve(code === 0 ? null : stderr.trim() || `exit code ${code}`));
  });
}

/**
 * Check that bwrap exists and can build the sandbox we use, with the real runner and slot
 * directories (so a slot dir nobody cannot traverse is caught here, not on first invoke). When
 * the server is root, first try running bwrap itself as nobody: then the sandbox is an ordinary
 * unprivileged user on the host too, not host-root-without-capabilities.
 */
export async function probeBwrap(
  runnersDir: string,
  slotProbeDir: string,
  bwrapPath?: string,
): Promise<BwrapProbe> {
  const bwrap =
    bwrapPath ?? findExecutable('bwrap', (process.env.PATH ?? '/usr/bin:/bin').split(':').concat('/usr/bin'));
  if (bwrap === undefined || (bwrapPath !== undefined && !existsSync(bwrapPath))) {
    return { ok: false, reason: `bwrap (bubblewrap) is not installed${bwrapPath ? ` at ${bwrapPath}` : ''}` };
  }
  const args = [
    ...bwrapArgs({
      slotDir: slotProbeDir,
      runnersDir,
      tmpSizeMB: 1,
      network: false,
      env: { PATH: SANDBOX_PATH },
      extraBinaries: binariesOutsideUsr([process.execPath]),
    }),
    realpathSync(process.execPath),
    '-e',
    '0',
  ];
  const isRoot = process.getuid?.() === 0;
  if (isRoot && everyoneCanReach(slotProbeDir) && everyoneCanReach(runnersDir)) {
    const err = await runProbe(bwrap, args, true);
    if (err === null) return { ok: true, bwrap, runAsNobody: true };
  }
  const err = await runProbe(bwrap, args, false);
  if (err === null) return { ok: true, bwrap, runAsNobody: false };
  return { ok: false, reason: `bwrap cannot create the sandbox: ${err}` };
}

/** Whether "others" may traverse every ancestor of `path` (bwrap as nobody must open it). */
function everyoneCanReach(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      if ((lstatSync(dir).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dir === '/') return true;
  }
}
