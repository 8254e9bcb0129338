// The seccomp filter generator: syscall tables against the kernel headers, and the compiled program run through a BPF interpreter for both arches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { compileSandboxFilter, DENIED_SYSCALLS } from '../../src/runtime/process/seccomp/sandbox-filter.js';
import { AUDIT_ARCH, SYSCALLS } from '../../src/runtime/process/seccomp/syscall-numbers.js';
import type { SeccompArch } from '../../src/runtime/process/seccomp/syscall-numbers.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0x80000000;

/** Run a classic-BPF seccomp program over one `struct seccomp_data` (only the opcodes the generator emits). */
function run(program: Buffer, data: { nr: number; arch: number; args?: number[] }): number {
  const word = (offset: number): number => {
    if (offset === 0) return data.nr >>> 0;
    if (offset === 4) return data.arch >>> 0;
    const i = (offset - 16) / 8;
    if (Number.isInteger(i) && i >= 0 && i < 6) return (data.args?.[i] ?? 0) >>> 0;
    throw new Error(`load at ${offset}`);
  };
  let a = 0;
  for (let pc = 0; pc * 8 < program.length; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20:
        a = word(k);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        pc += a === k ? jt : jf;
        break;
      case 0x35:
        pc += a >= k ? jt : jf;
        break;
      case 0x45:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`opcode ${code.toString(16)}`);
    }
  }
  throw new Error('fell off the end');
}

const nr = (name: string, arch: SeccompArch): number => {
  const n = SYSCALLS[name]?.[arch];
  assert.ok(n !== undefined, `${name} on ${arch}`);
  return n;
};

for (const arch of ['x86_64', 'aarch64'] as const) {
  describe(`seccomp filter (${arch})`, () => {
    const program = compileSandboxFilter(arch);
    const call = (name: string | number, args: number[] = []): number =>
      run(program, { nr: typeof name === 'number' ? name : nr(name, arch), arch: AUDIT_ARCH[arch], args });

    it('allows every syscall number not on the list (read, write, mmap, futex, ...)', () => {
      const listed = new Set(Object.values(SYSCALLS).map((n) => n[arch]));
      for (let n = 0; n < 470; n++) {
        if (!listed.has(n)) assert.equal(call(n), ALLOW, `syscall ${n}`);
      }
    });

    it('refuses the deny list with EPERM', () => {
      for (const name of DENIED_SYSCALLS) {
        if (SYSCALLS[name]?.[arch] !== undefined) assert.equal(call(name), EPERM, name);
      }
      for (const name of [
        'ptrace',
        'mount',
        'bpf',
        'unshare',
        'setns',
        'keyctl',
        'io_uring_setup',
        'perf_event_open',
      ]) {
        assert.ok(DENIED_SYSCALLS.includes(name), name);
      }
    });

    it('clone: threads and forks yes, new namespaces no; clone3 answers ENOSYS', () => {
      assert.equal(call('clone', [0x3d0f00]), ALLOW, 'pthread_create flags');
      assert.equal(call('clone', [0x01200011]), ALLOW, 'fork flags');
      for (const flag of [0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
        assert.equal(call('clone', [0x11 | flag]), EPERM, `flag ${flag.toString(16)}`);
      }
      assert.equal(call('clone3'), ENOSYS);
    });

    it('socket: unix and inet stream/datagram only', () => {
      const SOCK_NONBLOCK_CLOEXEC = 0o4000 | 0o2000000;
      assert.equal(call('socket', [1, 1]), ALLOW, 'AF_UNIX stream');
      assert.equal(call('socket', [2, 1 | SOCK_NONBLOCK_CLOEXEC]), ALLOW, 'AF_INET stream');
      assert.equal(call('socket', [10, 2]), ALLOW, 'AF_INET6 dgram');
      assert.equal(call('socket', [2, 3]), EPERM, 'SOCK_RAW');
      assert.equal(call('socket', [10, 3 | SOCK_NONBLOCK_CLOEXEC]), EPERM, 'SOCK_RAW with flags');
      assert.equal(call('socket', [2, 10]), EPERM, 'SOCK_PACKET');
      assert.equal(call('socket', [17, 2]), EPERM, 'AF_PACKET');
      assert.equal(call('socket', [16, 2]), EPERM, 'AF_NETLINK');
      assert.equal(call('socket', [38, 5]), EPERM, 'AF_ALG');
    });

    it('personality: only the values Docker allows', () => {
      assert.equal(call('personality', [0xffffffff]), ALLOW);
      assert.equal(call('personality', [0]), ALLOW);
      assert.equal(call('personality', [0x0400000]), EPERM, 'READ_IMPLIES_EXEC');
    });

    it('kills a syscall made under another architecture', () => {
      assert.equal(run(program, { nr: 0, arch: 0x40000003 /* i386 */ }), KILL);
      assert.equal(run(program, { nr: 0, arch: 0x40000028 /* arm */ }), KILL);
    });

    if (arch === 'x86_64') {
      it('answers ENOSYS to x32 syscalls (same arch, other numbers)', () => {
        assert.equal(call(0x40000000 + 101), ENOSYS);
      });
    }
  });
}

describe('syscall tables', () => {
  const headers: Record<SeccompArch, string> = {
    x86_64: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h',
    aarch64: '/usr/include/asm-generic/unistd.h',
  };
  for (const arch of ['x86_64', 'aarch64'] as const) {
    it(`match ${headers[arch]}`, (t) => {
      if (!existsSync(headers[arch])) return t.skip('kernel headers (linux-libc-dev) not installed');
      const defined = new Map<string, number>();
      for (const m of readFileSync(headers[arch], 'utf8').matchAll(
        /#define\s+__NR(?:3264)?_(\w+)\s+(\d+)/g,
      )) {
        defined.set(m[1] as string, Number(m[2]));
      }
      for (const [name, numbers] of Object.entries(SYSCALLS)) {
        assert.equal(numbers[arch], defined.get(name), `${name} on ${arch}`);
      }
    });
  }
});
