// Test helper: a real server and a temp working dir for in-process CLI tests of one command
// file; registers its own before/after hooks.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { run } from './cli-test-io.js';

/** What {@link cliServer} gives a test file; `t` and `tmp` are set once `before` has run. */
export interface CliServer {
  readonly t: TestServer;
  /** The CLI's working directory (relative paths resolve here). */
  readonly tmp: string;
  /** Run `nimbus <argv>` in-process against the server with the root token. */
  cli(...argv: string[]): ReturnType<typeof run>;
}

/** Start a server and a temp dir before the file's tests; stop and remove them after. */
export function cliServer(name: string): CliServer {
  let t: TestServer | undefined;
  let tmp = '';
  before(async () => {
    t = await startTestServer();
    tmp = mkdtempSync(join(tmpdir(), `nimbus-cli-${name}-`));
  });
  after(async () => {
    await t?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  return {
    get t() {
      return t!;
    },
    get tmp() {
      return tmp;
    },
    cli: (...argv) =>
      run(argv, { env: { NIMBUS_ENDPOINT: t!.url, NIMBUS_TOKEN: t!.credentials.token }, cwd: tmp }),
  };
}
