// Child-process entry: starts a Nimbus server (own event loop, temp data dir), prints one JSON line
// with its URL and credentials, and shuts down when stdin closes or on SIGTERM/SIGINT.
// Usage: node --import tsx bench/lib/server-process.ts '<ServerProcessOptions as JSON>'
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type NimbusServer } from '../../src/server/nimbus-server.js';
import type { ServerOptionsInput } from '../../src/server/server-options.js';

/** What the parent passes (JSON in argv[2]). */
export type ServerProcessOptions = Pick<
  ServerOptionsInput,
  'prewarm' | 'threadPrewarm' | 'sandbox' | 'acquireTimeoutMs' | 'memoryBudgetMB'
>;

/** What the child prints once it listens. */
export interface ServerProcessInfo {
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly token: string;
  readonly sandboxed: boolean;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ServerProcessOptions;
const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-server-'));
let server: NimbusServer | undefined;
let stopping = false;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await server?.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(code);
  }
}

process.stdin.on('end', () => void stop(0));
process.stdin.on('error', () => void stop(0));
process.stdin.resume();
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

try {
  server = await startServer({
    ...options,
    port: 0,
    dataDir,
    env: {},
    logger: {
      info: () => {},
      warn: (m) => process.stderr.write(`[server] ${m}\n`),
      error: (m) => process.stderr.write(`[server] ${m}\n`),
    },
  });
  const creds = server.rootCredentials;
  if (!creds) throw new Error('a fresh data dir must produce root credentials');
  const info: ServerProcessInfo = {
    url: server.url,
    pid: process.pid,
    dataDir,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    token: creds.token,
    sandboxed: server.platform.sandboxed,
  };
  process.stdout.write(JSON.stringify(info) + '\n');
} catch (err) {
  process.stderr.write(`[server] failed to start: ${(err as Error).stack ?? String(err)}\n`);
  await stop(1);
}
