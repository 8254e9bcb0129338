// Starts a real Nimbus server on port 0 for end-to-end tests, with clients for the /v1 API and
// the AWS Lambda API, and helpers to write and deploy small apps. Everything is cleaned up by close().
//
//   const t = await startTestServer({ store: await open() });
//   const dir = t.writeApp({ 'nimbus.yml': '...', 'index.mjs': '...' });
//   await t.deploy(dir);
//   const res = await t.client.invoke('app-fn', { payload: '{}' });
//   await t.close();

import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApiClient } from '../../src/cli/api-client.js';
import { deployApp, stopBundling, type DeployOutcome } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { startServer, type NimbusServer, type RootCredentials } from '../../src/server/nimbus-server.js';
import type { ServerOptionsInput } from '../../src/server/server-options.js';
import type { Store } from '../../src/store/store.js';

/** A running test server and its clients. */
export interface TestServer {
  readonly server: NimbusServer;
  readonly url: string;
  readonly credentials: RootCredentials;
  /** The CLI's /v1 client, authenticated with the root token. */
  readonly client: ApiClient;
  /** The official AWS SDK Lambda client pointed at this server. */
  readonly lambda: LambdaClient;
  readonly dataDir: string;
  /** Write files (path → content; a leading `#!` makes the file executable) into a fresh temp dir. */
  writeApp(files: Record<string, string>): string;
  /** Deploy an app directory through the CLI's deploy code. */
  deploy(dir: string): Promise<DeployOutcome>;
  /** Write and deploy in one step; returns the directory. */
  deployFiles(files: Record<string, string>): Promise<string>;
  /** fetch against the server with the root bearer token. */
  fetchV1(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

const silentStream = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;

/** Start a server on port 0 with its own temp data dir. */
export async function startTestServer(
  options: { store?: Store } & Omit<ServerOptionsInput, 'storeInstance' | 'store' | 'port' | 'dataDir'> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-test-'));
  const appDirs: string[] = [];
  const { store, ...rest } = options;
  const logged: string[] = [];
  let server: NimbusServer;
  try {
    server = await startServer({
      prewarm: { nodejs: 1, python: 0, provided: 0 },
      threadPrewarm: 1,
      logger: { info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(m) },
      ...rest,
      port: 0,
      dataDir,
      ...(store ? { storeInstance: store } : {}),
      env: {},
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const credentials = server.rootCredentials;
  if (!credentials) throw new Error('a fresh data dir must produce root credentials');
  const client = new ApiClient({ endpoint: server.url, token: credentials.token });
  const lambda = new LambdaClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    maxAttempts: 1,
  });
  const spinner = new Spinner(createOutput(silentStream as never, { env: {} }));

  const writeApp = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-app-'));
    appDirs.push(dir);
    for (const [path, content] of Object.entries(files)) {
      const file = join(dir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      if (content.startsWith('#!')) chmodSync(file, 0o755);
    }
    return dir;
  };
  const deploy = (dir: string) => deployApp(dir, client, spinner);

  return {
    server,
    url: server.url,
    credentials,
    client,
    lambda,
    dataDir,
    writeApp,
    deploy,
    deployFiles: async (files) => {
      const dir = writeApp(files);
      await deploy(dir);
      return dir;
    },
    fetchV1: (path, init = {}) =>
      fetch(server.url + path, {
        ...init,
        headers: {
          authorization: `Bearer ${credentials.token}`,
          ...(init.headers as Record<string, string>),
        },
      }),
    close: async () => {
      lambda.destroy();
      await server.close();
      await stopBundling();
      for (const dir of [dataDir, ...appDirs]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Another node on a store that already has its root credentials (a restart, or a second node of
 * a cluster): a server on port 0 with a temp data dir of its own, which `close()` removes.
 */
export async function startNodeOn(
  store: Store,
  options: Omit<ServerOptionsInput, 'storeInstance' | 'store' | 'port' | 'dataDir'> = {},
): Promise<NimbusServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-node-'));
  let server: NimbusServer;
  try {
    server = await startServer({
      prewarm: { nodejs: 0, python: 0, provided: 0 },
      threadPrewarm: 0,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      env: {},
      ...options,
      storeInstance: store,
      port: 0,
      dataDir,
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
