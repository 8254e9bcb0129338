// Sandbox set-up at backend start: runner scripts and seccomp program in the run dir, the bwrap probe, and what to do when it fails.

import { chmodSync, cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NimbusError } from '../../errors.js';
import { probeBwrap, SANDBOX_UID } from './bwrap-sandbox.js';
import type { BackendLogger } from './process-backend.js';
import { compileSandboxFilter } from './seccomp/sandbox-filter.js';
import { hostSeccompArch } from './seccomp/syscall-numbers.js';

/** The sandbox as the probe found it. */
export interface SandboxSetup {
  readonly path: string;
  /** bwrap (and its launcher) start as {@link SANDBOX_UID}: the server is root and that works. */
  readonly runAsNobody: boolean;
  /** The runner scripts as bwrap mounts them (a copy inside the run directory). */
  readonly runnersDir: string;
  /** The compiled seccomp program, or undefined on an architecture without a syscall table. */
  readonly seccompFile: string | undefined;
}

/** What {@link setUpSandbox} needs of the backend's options. */
export interface SandboxSetupOptions {
  readonly sandbox: 'auto' | 'required' | 'off';
  readonly bwrapPath?: string | undefined;
  readonly apiSocketDir?: string | undefined;
  readonly logger?: BackendLogger | undefined;
  /** @default true */
  readonly seccomp?: boolean | undefined;
}

/**
 * Decide how this backend sandboxes: undefined for no sandbox (`off`, or `auto` without a usable
 * bwrap, warned). Throws `SandboxUnavailableError` when `required` cannot be met in full: no
 * bwrap, no seccomp table for this architecture, or a root server whose bwrap cannot run as
 * {@link SANDBOX_UID} (the sandbox would map to host root).
 */
export async function setUpSandbox(
  options: SandboxSetupOptions,
  dirs: { readonly ownDir: string; readonly slotsDir: string; readonly runnersSource: string },
): Promise<SandboxSetup | undefined> {
  const { ownDir, slotsDir } = dirs;
  if (options.sandbox === 'off') return undefined;
  const files = prepareSandboxFiles(ownDir, dirs.runnersSource);
  const setup = options.seccomp === false ? { ...files, seccompFile: undefined } : files;
  if (files.seccompFile === undefined) {
    const why = `no seccomp syscall table for ${process.arch} (only x64 and arm64)`;
    if (options.sandbox === 'required') {
      throw new NimbusError(
        'SandboxUnavailableError',
        `sandbox: required is set but there is ${why}; set sandbox: auto to run without the seccomp filter.`,
      );
    }
    options.logger?.warn(`sandboxes run WITHOUT a seccomp filter: ${why}`);
  }
  const probe = await probeBwrap({
    runnersDir: setup.runnersDir,
    slotProbeDir: slotsDir,
    seccompFile: setup.seccompFile,
    apiSocketDir: options.apiSocketDir,
    bwrapPath: options.bwrapPath,
  });
  if (probe.ok && probe.hostRootReason !== undefined && options.sandbox === 'required') {
    throw new NimbusError(
      'SandboxUnavailableError',
      `sandbox: required is set but bwrap cannot run as uid ${SANDBOX_UID} (${probe.hostRootReason}), and bwrap ` +
        'run by root maps the sandbox to host root. Install the node and python3 interpreters where uid ' +
        `${SANDBOX_UID} can reach them (e.g. /usr), or set sandbox: auto to accept a root-mapped sandbox.`,
    );
  }
  if (probe.ok) {
    if (probe.hostRootReason !== undefined) {
      options.logger?.warn(
        [
          '',
          `!!! WARNING: the server runs as root and bwrap cannot run as uid ${SANDBOX_UID}: ${probe.hostRootReason}.`,
          '!!! Sandboxes run with bwrap started by root, so their uid maps to HOST ROOT (without capabilities,',
          '!!! behind the seccomp filter and a read-only /proc/sys). Run the server as a non-root user, or',
          '!!! make the interpreters reachable by nobody; start with --sandbox required to refuse this.',
          '',
        ].join('\n'),
      );
    }
    return { path: probe.bwrap, runAsNobody: probe.runAsNobody, ...setup };
  }
  if (options.sandbox === 'required') {
    throw new NimbusError(
      'SandboxUnavailableError',
      `sandbox: required is set but ${probe.reason}. Install bubblewrap (apt install bubblewrap) and allow ` +
        'unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or set sandbox: auto.',
    );
  }
  options.logger?.warn(`running functions WITHOUT a sandbox: ${probe.reason}`);
  return undefined;
}

/**
 * Write what every sandbox of this backend mounts or reads into `ownDir`: a copy of the runner
 * scripts (so the install path need not be reachable by the sandbox user and does not show in a
 * sandbox's mountinfo; ≈0.1 MB once per start) and the compiled seccomp program, readable by the
 * launcher, which opens it as the sandbox user (`9<file`).
 */
function prepareSandboxFiles(
  ownDir: string,
  runnersSource: string,
): { runnersDir: string; seccompFile: string | undefined } {
  const runnersDir = join(ownDir, 'runners');
  cpSync(runnersSource, runnersDir, { recursive: true });
  chmodSync(runnersDir, 0o755);
  const arch = hostSeccompArch();
  if (arch === undefined) return { runnersDir, seccompFile: undefined };
  const seccompFile = join(ownDir, 'seccomp.bpf');
  writeFileSync(seccompFile, compileSandboxFilter(arch), { mode: 0o644 });
  return { runnersDir, seccompFile };
}
