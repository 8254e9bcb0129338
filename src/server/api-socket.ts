// The API on a unix socket: how function code reaches Nimbus (the SDK) from inside a sandbox
// that has no network. The socket's directory is mounted read-only into every sandbox.

import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** sun_path holds 108 bytes on Linux; longer paths cannot be bound. */
const MAX_SOCKET_PATH = 100;

/**
 * Where a node with data dir `dataDir` puts its API socket: `<dataDir>/sock/api.sock`, or, when
 * that path is too long for a unix socket, a directory under the temp dir named by a hash of the
 * data dir. The directory is created (mode 0755) so sandboxes can mount it before the socket exists.
 */
export function apiSocketPath(dataDir: string): string {
  let dir = join(dataDir, 'sock');
  if (join(dir, 'api.sock').length > MAX_SOCKET_PATH) {
    dir = join(tmpdir(), `nimbus-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return join(dir, 'api.sock');
}

/**
 * Listen on `path`, replacing a stale socket file left by a killed process. The socket is mode
 * 0666 because sandboxed functions run as `nobody`; every request still needs a bearer token,
 * exactly as on the TCP port.
 */
export async function listenApiSocket(server: Server, path: string): Promise<void> {
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o666);
}

/** Stop serving on the socket and remove its file. */
export async function closeApiSocket(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  rmSync(path, { force: true });
}
