// Hostile function code for the sandbox escape suites: one Node and one Python handler that run the attack an event names and report what happened.

/**
 * Syscall numbers the Python attacker uses, per `platform.machine()`. Arguments are chosen so
 * that each call succeeds for an unprivileged process without the seccomp filter wherever the
 * kernel allows it (see the control test), so EPERM inside the sandbox is the filter's doing.
 */
export const PYTHON_ATTACKS = String.raw`
import ctypes, errno, json, os, platform, socket, struct

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {
  'x86_64': dict(ptrace=101, mount=165, unshare=272, setns=308, bpf=321, keyctl=250, io_uring_setup=425,
                 perf_event_open=298, process_vm_readv=310, userfaultfd=323, personality=135, clone3=435, clone=56),
  'aarch64': dict(ptrace=117, mount=40, unshare=97, setns=268, bpf=280, keyctl=219, io_uring_setup=425,
                  perf_event_open=241, process_vm_readv=270, userfaultfd=282, personality=92, clone3=435, clone=220),
}[platform.machine()]

def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *[a if isinstance(a, ctypes._SimpleCData) or isinstance(a, ctypes.Array) else ctypes.c_long(a) for a in args])
    if r < 0:
        return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    return 'ok'

def syscalls():
    out = {}
    out['ptrace'] = call('ptrace', 0, 0, 0, 0)                      # PTRACE_TRACEME
    out['mount'] = call('mount', ctypes.c_char_p(b'none'), ctypes.c_char_p(b'/tmp'), ctypes.c_char_p(b'tmpfs'), 0, 0)
    out['unshare'] = call('unshare', 0x400)                         # CLONE_FILES: allowed to anyone
    out['unshare_user'] = call('unshare', 0x10000000)               # CLONE_NEWUSER
    out['setns'] = call('setns', os.open('/proc/self/ns/uts', os.O_RDONLY), 0)
    attr = ctypes.create_string_buffer(128)
    out['bpf'] = call('bpf', 0, attr, 72)                           # BPF_MAP_CREATE (zeroed: EINVAL if reached)
    out['keyctl'] = call('keyctl', 0, -3, 0)                        # KEYCTL_GET_KEYRING_ID, session keyring
    params = ctypes.create_string_buffer(120)
    out['io_uring_setup'] = call('io_uring_setup', 1, params)
    pattr = ctypes.create_string_buffer(128)
    struct.pack_into('IIQ', pattr, 0, 1, 128, 0)                   # PERF_TYPE_SOFTWARE, CPU clock
    struct.pack_into('Q', pattr, 40, 0b1100000)                     # exclude_kernel | exclude_hv
    out['perf_event_open'] = call('perf_event_open', pattr, 0, -1, -1, 0)
    buf = ctypes.create_string_buffer(8)
    local = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
    remote = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
    out['process_vm_readv'] = call('process_vm_readv', os.getpid(), local, 1, remote, 1, 0)
    out['userfaultfd'] = call('userfaultfd', 1)                     # UFFD_USER_MODE_ONLY
    out['personality'] = call('personality', 0x0400000)             # READ_IMPLIES_EXEC
    out['clone3'] = call('clone3', 0, 0)
    out['clone_newns'] = call('clone', 0x00020000 | 17, 0, 0, 0, 0) # CLONE_NEWNS | SIGCHLD
    return out

def sockets():
    out = {}
    for name, fam, typ, proto in [('packet', 17, socket.SOCK_RAW, 0), ('raw', socket.AF_INET, socket.SOCK_RAW, 1),
                                  ('netlink', 16, socket.SOCK_DGRAM, 0), ('alg', 38, socket.SOCK_SEQPACKET, 0),
                                  ('inet', socket.AF_INET, socket.SOCK_STREAM, 0), ('unix', socket.AF_UNIX, socket.SOCK_STREAM, 0)]:
        try:
            socket.socket(fam, typ, proto).close()
            out[name] = 'ok'
        except OSError as e:
            out[name] = errno.errorcode.get(e.errno, str(e.errno))
    return out

def attempt(fn):
    try:
        return {'ok': True, 'value': fn()}
    except OSError as e:
        return {'ok': False, 'code': errno.errorcode.get(e.errno, str(e.errno))}

def rewrite(path):
    with open(path) as f:
        value = f.read()
    with open(path, 'w') as f:  # the same value back: harmless should it ever succeed
        f.write(value)
    return value

def connect(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(('127.0.0.1', port))
        return s.recv(100).decode()
    finally:
        s.close()

def handler(event, context):
    a = event['attack']
    if a == 'syscalls': return syscalls()
    if a == 'sockets': return sockets()
    if a == 'read': return attempt(lambda: open(event['path'], 'rb').read().decode('latin1'))
    if a == 'list': return attempt(lambda: os.listdir(event['path']))
    if a == 'readlink': return attempt(lambda: os.readlink(event['path']))
    if a == 'rewrite': return attempt(lambda: rewrite(event['path']))
    if a == 'kill': return attempt(lambda: os.kill(event['pid'], 0))
    if a == 'connect': return attempt(lambda: connect(event['port']))
    return 'unknown attack'
`;

/** The Node attacker: files, /proc, signals and tmpfs fills (Node cannot make raw syscalls). */
export const NODE_ATTACKS = String.raw`
const fs = require('node:fs');
const attempt = (fn) => { try { return { ok: true, value: fn() }; } catch (e) { return { ok: false, code: e.code ?? e.message }; } };
exports.handler = async (e) => {
  switch (e.attack) {
    case 'read': return attempt(() => fs.readFileSync(e.path, 'latin1'));
    case 'list': return attempt(() => fs.readdirSync(e.path));
    case 'readlink': return attempt(() => fs.readlinkSync(e.path));
    case 'rewrite': return attempt(() => { const v = fs.readFileSync(e.path, 'utf8'); fs.writeFileSync(e.path, v); return v; });
    case 'write': return attempt(() => fs.writeFileSync(e.path, 'x'));
    case 'kill': return attempt(() => process.kill(e.pid, 0));
    case 'fill': return attempt(() => { for (let i = 0; i < e.mb; i++) fs.writeFileSync(e.dir + '/f' + i, Buffer.alloc(1024 * 1024, 1)); return e.mb; });
  }
  return 'unknown attack';
};`;
