// The seccomp policy of every process-tier sandbox, compiled to classic BPF for bwrap's `--seccomp FD`.

import { BpfAssembler } from './bpf-assembler.js';
import { AUDIT_ARCH, SYSCALLS, X32_SYSCALL_BIT } from './syscall-numbers.js';
import type { SeccompArch } from './syscall-numbers.js';

/** `SECCOMP_RET_*` actions (linux/seccomp.h). */
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

/** `struct seccomp_data` layout: nr, arch, instruction_pointer, args[6] (u64 each). */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Byte offset of the low 32 bits of argument `i` (both supported arches are little-endian). */
const argLow = (i: number): number => 16 + 8 * i;

/**
 * Syscalls refused with EPERM. Docker's default profile is the reference (its allowlist's
 * complement, for what an unprivileged process could otherwise reach), narrowed to what an
 * attacker in a function would use: ptrace and cross-process memory, every mount and namespace
 * call, eBPF, io_uring (a large share of recent kernel privilege escalations), keyrings, perf,
 * userfaultfd (turns kernel races into reliable exploits), modules, kexec, reboot, swap,
 * accounting, clock setting, the kernel log, quotas, file handles, NUMA moves of other
 * processes' pages and the legacy x86 calls. EPERM, not a kill, so code that probes a feature
 * (libuv tries io_uring, glibc tries clone3) falls back instead of dying.
 */
export const DENIED_SYSCALLS: readonly string[] = Object.keys(SYSCALLS).filter(
  (name) => !['clone', 'clone3', 'socket', 'personality'].includes(name),
);

/** `CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET`. */
export const CLONE_NEW_NAMESPACE_FLAGS = 0x7e020000;

/** Socket families a function may create (`AF_UNIX`, `AF_INET`, `AF_INET6`). */
export const ALLOWED_SOCKET_FAMILIES: readonly number[] = [1, 2, 10];
/** Socket types never allowed whatever the family: `SOCK_RAW`, `SOCK_PACKET`. */
const DENIED_SOCKET_TYPES = [3, 10];
/** The type argument carries SOCK_NONBLOCK/SOCK_CLOEXEC above this mask (SOCK_TYPE_MASK). */
const SOCK_TYPE_MASK = 0xf;

/** `personality()` values Docker allows: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE (and both), and the query 0xffffffff. */
const ALLOWED_PERSONAS = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/**
 * The sandbox's seccomp program for `arch`, as the bytes bwrap reads from `--seccomp FD`.
 *
 * Layout: a syscall from another architecture (i386 via `int 0x80` on x86_64, arm32 compat on
 * aarch64) kills the process, since every number below is only meaningful for `arch`; x32
 * syscalls answer ENOSYS; then a binary search over the numbers with a non-default action
 * (≈7 comparisons for any allowed syscall, instead of ≈70 in a linear list: the warm path runs
 * through this on every syscall) ends in allow, EPERM, or an argument check:
 * - `clone` with any `CLONE_NEW*` flag: EPERM (new namespaces are how most container escapes start);
 * - `clone3`: ENOSYS, because its flags live in memory a filter cannot read; glibc then falls back to `clone`;
 * - `socket`: only AF_UNIX, AF_INET and AF_INET6, never SOCK_RAW or SOCK_PACKET (so no AF_PACKET,
 *   AF_NETLINK, AF_ALG, AF_VSOCK...). With `network: false` the sandbox's network namespace has
 *   only loopback, which the `provided` runtime's per-instance Runtime API needs;
 * - `personality`: only the values Docker allows (no READ_IMPLIES_EXEC and friends).
 */
export function compileSandboxFilter(arch: SeccompArch): Buffer {
  const entries: { nr: number; action: string }[] = [];
  const add = (name: string, action: string): void => {
    const nr = SYSCALLS[name]?.[arch];
    if (nr !== undefined) entries.push({ nr, action });
  };
  for (const name of DENIED_SYSCALLS) add(name, 'eperm');
  add('clone', 'clone');
  add('clone3', 'enosys');
  add('socket', 'socket');
  add('personality', 'personality');
  entries.sort((a, b) => a.nr - b.nr);

  const asm = new BpfAssembler();
  asm.loadWord(OFFSET_ARCH).jeq(AUDIT_ARCH[arch], 'arch-ok').ret(RET_KILL_PROCESS);
  asm.label('arch-ok').loadWord(OFFSET_NR);
  if (arch === 'x86_64') asm.jge(X32_SYSCALL_BIT, 'enosys');
  let nextLabel = 0;
  const tree = (lo: number, hi: number): void => {
    // Up to four numbers: a chain of equality tests (shorter than more splitting).
    if (hi - lo <= 4) {
      for (let i = lo; i < hi; i++) asm.jeq(entries[i]!.nr, entries[i]!.action);
      asm.ret(RET_ALLOW);
      return;
    }
    const mid = (lo + hi) >> 1;
    const right = `tree-${nextLabel++}`;
    asm.jge(entries[mid]!.nr, right);
    tree(lo, mid);
    asm.label(right);
    tree(mid, hi);
  };
  tree(0, entries.length);

  // Argument checks, then the shared returns (BPF only jumps forward).
  asm.label('clone').loadWord(argLow(0)).jset(CLONE_NEW_NAMESPACE_FLAGS, 'eperm').ret(RET_ALLOW);

  asm.label('socket').loadWord(argLow(0));
  for (const family of ALLOWED_SOCKET_FAMILIES) asm.jeq(family, 'socket-type');
  asm.ret(RET_ERRNO | EPERM);
  asm.label('socket-type').loadWord(argLow(1)).and(SOCK_TYPE_MASK);
  for (const type of DENIED_SOCKET_TYPES) asm.jeq(type, 'eperm');
  asm.ret(RET_ALLOW);

  asm.label('personality').loadWord(argLow(0));
  for (const persona of ALLOWED_PERSONAS) asm.jeq(persona, 'allow');
  asm.label('eperm').ret(RET_ERRNO | EPERM);
  asm.label('enosys').ret(RET_ERRNO | ENOSYS);
  asm.label('allow').ret(RET_ALLOW);
  return asm.assemble();
}
