// Client side of the benchmarks: deploy apps through the CLI's deploy code, invoke over a
// keep-alive node:http agent (/v1, bearer), and precompute SigV4 headers for the Lambda API.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApiClient } from '../../src/cli/api-client.js';
import { deployApp, type DeployOutcome } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import type { ServerProcessInfo } from './server-process.js';

const silentStream = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;
const appDirs: string[] = [];

/** Write `files` (path → content) into a fresh temp dir (removed by {@link removeAppDirs}). */
export function writeApp(files: Record<string, string>, dir?: string): string {
  const root = dir ?? mkdtempSync(join(tmpdir(), 'nimbus-bench-app-'));
  if (!dir) appDirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  chmodSync(root, 0o755);
  return root;
}

/** Remove every app dir {@link writeApp} made. */
export function removeAppDirs(): void {
  for (const dir of appDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A client bound to one server child. */
export class BenchClient {
  readonly api: ApiClient;
  readonly info: ServerProcessInfo;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  readonly #spinner = new Spinner(createOutput(silentStream as never, { env: {} }));

  constructor(info: ServerProcessInfo) {
    this.info = info;
    this.api = new ApiClient({ endpoint: info.url, token: info.token });
  }

  /** Deploy the app in `dir` exactly as `nimbus deploy` does (bundle, upload, deploy). */
  deploy(dir: string): Promise<DeployOutcome> {
    return deployApp(dir, this.api, this.#spinner);
  }

  /** Synchronous invoke through POST /v1/functions/{name}/invoke; resolves with the body. */
  invoke(name: string, payload = '{}'): Promise<string> {
    const url = new URL(`/v1/functions/${encodeURIComponent(name)}/invoke`, this.info.url);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            authorization: `Bearer ${this.info.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200 || res.headers['x-nimbus-function-error']) {
              reject(new Error(`invoke ${name} → ${res.statusCode}: ${body}`));
            } else resolve(body);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The pool's counters from GET /v1/metrics. */
  async poolStats(): Promise<{ coldStarts: number; warmHits: number; live: number }> {
    const res = await fetch(`${this.info.url}/v1/metrics`, {
      headers: { authorization: `Bearer ${this.info.token}` },
    });
    return ((await res.json()) as { pool: { coldStarts: number; warmHits: number; live: number } }).pool;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Headers of a SigV4-signed Lambda Invoke of `name` with `body`, as the AWS SDK signs them
 * (host, content-type, x-amz-date; payload hash over the body). Valid for 15 minutes.
 */
export async function signedInvoke(
  info: ServerProcessInfo,
  name: string,
  body: string,
): Promise<{ path: string; headers: Record<string, string> }> {
  const url = new URL(info.url);
  const path = `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`;
  const signer = new SignatureV4({
    service: 'lambda',
    region: 'us-east-1',
    sha256: Sha256,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    }),
  );
  return { path, headers: signed.headers as Record<string, string> };
}
