// Syscall numbers the sandbox filter names, for the two architectures Nimbus runs on (x86_64, aarch64).

/** An architecture the seccomp filter can be built for. */
export type SeccompArch = 'x86_64' | 'aarch64';

/** `AUDIT_ARCH_*` values as the kernel puts them in `seccomp_data.arch` (linux/audit.h). */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
};

/**
 * x86_64 syscalls with this bit set are the x32 ABI: same `AUDIT_ARCH_X86_64`, other numbers.
 * The filter refuses them outright (nothing in a sandbox uses x32), so a deny list written in
 * x86_64 numbers cannot be stepped around by calling the x32 twin.
 */
export const X32_SYSCALL_BIT = 0x40000000;

/**
 * Numbers from the kernel's uapi headers (`asm/unistd_64.h` for x86_64, `asm-generic/unistd.h`
 * for aarch64; test/security/sandbox-seccomp.test.ts checks them against the headers when
 * installed). `undefined`: the syscall does not exist on that architecture (legacy x86 calls).
 */
export const SYSCALLS: Readonly<Record<string, Readonly<Record<SeccompArch, number | undefined>>>> = {
  // process inspection and control across process boundaries
  ptrace: { x86_64: 101, aarch64: 117 },
  process_vm_readv: { x86_64: 310, aarch64: 270 },
  process_vm_writev: { x86_64: 311, aarch64: 271 },
  process_madvise: { x86_64: 440, aarch64: 440 },
  kcmp: { x86_64: 312, aarch64: 272 },
  pidfd_getfd: { x86_64: 438, aarch64: 438 },
  // mounts and namespaces
  mount: { x86_64: 165, aarch64: 40 },
  umount2: { x86_64: 166, aarch64: 39 },
  pivot_root: { x86_64: 155, aarch64: 41 },
  chroot: { x86_64: 161, aarch64: 51 },
  move_mount: { x86_64: 429, aarch64: 429 },
  open_tree: { x86_64: 428, aarch64: 428 },
  fsopen: { x86_64: 430, aarch64: 430 },
  fsconfig: { x86_64: 431, aarch64: 431 },
  fsmount: { x86_64: 432, aarch64: 432 },
  fspick: { x86_64: 433, aarch64: 433 },
  mount_setattr: { x86_64: 442, aarch64: 442 },
  unshare: { x86_64: 272, aarch64: 97 },
  setns: { x86_64: 308, aarch64: 268 },
  clone: { x86_64: 56, aarch64: 220 },
  clone3: { x86_64: 435, aarch64: 435 },
  // kernel attack surface: eBPF, io_uring, keyrings, perf, userfaultfd
  bpf: { x86_64: 321, aarch64: 280 },
  io_uring_setup: { x86_64: 425, aarch64: 425 },
  io_uring_enter: { x86_64: 426, aarch64: 426 },
  io_uring_register: { x86_64: 427, aarch64: 427 },
  keyctl: { x86_64: 250, aarch64: 219 },
  add_key: { x86_64: 248, aarch64: 217 },
  request_key: { x86_64: 249, aarch64: 218 },
  perf_event_open: { x86_64: 298, aarch64: 241 },
  userfaultfd: { x86_64: 323, aarch64: 282 },
  fanotify_init: { x86_64: 300, aarch64: 262 },
  // the machine itself: modules, kexec, reboot, swap, accounting, clock, kernel log, quotas
  init_module: { x86_64: 175, aarch64: 105 },
  finit_module: { x86_64: 313, aarch64: 273 },
  delete_module: { x86_64: 176, aarch64: 106 },
  create_module: { x86_64: 174, aarch64: undefined },
  get_kernel_syms: { x86_64: 177, aarch64: undefined },
  query_module: { x86_64: 178, aarch64: undefined },
  kexec_load: { x86_64: 246, aarch64: 104 },
  kexec_file_load: { x86_64: 320, aarch64: 294 },
  reboot: { x86_64: 169, aarch64: 142 },
  swapon: { x86_64: 167, aarch64: 224 },
  swapoff: { x86_64: 168, aarch64: 225 },
  acct: { x86_64: 163, aarch64: 89 },
  syslog: { x86_64: 103, aarch64: 116 },
  quotactl: { x86_64: 179, aarch64: 60 },
  quotactl_fd: { x86_64: 443, aarch64: 443 },
  settimeofday: { x86_64: 164, aarch64: 170 },
  clock_settime: { x86_64: 227, aarch64: 112 },
  clock_adjtime: { x86_64: 305, aarch64: 266 },
  vhangup: { x86_64: 153, aarch64: 58 },
  lookup_dcookie: { x86_64: 212, aarch64: 18 },
  nfsservctl: { x86_64: 180, aarch64: 42 },
  // file handles bypass path permissions (the "shocker" escape)
  open_by_handle_at: { x86_64: 304, aarch64: 265 },
  name_to_handle_at: { x86_64: 303, aarch64: 264 },
  // NUMA placement of other processes' memory (Docker allows these only with CAP_SYS_NICE)
  mbind: { x86_64: 237, aarch64: 235 },
  set_mempolicy: { x86_64: 238, aarch64: 237 },
  get_mempolicy: { x86_64: 239, aarch64: 236 },
  migrate_pages: { x86_64: 256, aarch64: 238 },
  move_pages: { x86_64: 279, aarch64: 239 },
  // legacy x86 calls: I/O ports, LDT, obsolete interfaces
  iopl: { x86_64: 172, aarch64: undefined },
  ioperm: { x86_64: 173, aarch64: undefined },
  modify_ldt: { x86_64: 154, aarch64: undefined },
  uselib: { x86_64: 134, aarch64: undefined },
  ustat: { x86_64: 136, aarch64: undefined },
  sysfs: { x86_64: 139, aarch64: undefined },
  _sysctl: { x86_64: 156, aarch64: undefined },
  // allowed with argument checks
  personality: { x86_64: 135, aarch64: 92 },
  socket: { x86_64: 41, aarch64: 198 },
};

/** The seccomp architecture of this process, or undefined where the filter has no table. */
export function hostSeccompArch(arch: string = process.arch): SeccompArch | undefined {
  if (arch === 'x64') return 'x86_64';
  if (arch === 'arm64') return 'aarch64';
  return undefined;
}
