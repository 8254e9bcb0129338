// Test fixtures for runtime backends: temp code dirs with small handler files, and spec builders.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FUNCTION_DEFAULTS } from '../../src/functions/function-model.js';
import type { FunctionConfig } from '../../src/functions/function-model.js';
import type { InstanceInvokeRequest, InstanceSpec } from '../../src/runtime/runtime-backend.js';

const dirs: string[] = [];

/** A fresh temp dir (world-traversable, like a server data dir), removed by {@link cleanupFixtures}. */
export function tempDir(prefix = 'nimbus-rt-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

/** Write `files` (relative path → content) into a new code dir; returns its path. */
export function codeDir(files: Record<string, string>): string {
  const dir = tempDir('nimbus-code-');
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode: 0o644 });
  }
  return dir;
}

/** Remove every dir made by {@link tempDir}. */
export function cleanupFixtures(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** An InstanceSpec for `dir` with config overrides. */
export function spec(
  dir: string,
  config: Partial<FunctionConfig> = {},
  functionName = 'test-fn',
): InstanceSpec {
  return {
    functionName,
    version: '$LATEST',
    config: { ...FUNCTION_DEFAULTS, runtime: 'nodejs', handler: 'index.handler', ...config },
    codeDir: dir,
    codeSha256: 'test',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    region: 'local',
  };
}

/** An invoke request with a fresh request id and `timeoutS` seconds until the deadline. */
export function request(event: unknown = {}, timeoutS = 3): InstanceInvokeRequest {
  return {
    requestId: randomUUID(),
    payload: Buffer.from(JSON.stringify(event)),
    deadlineMs: Date.now() + timeoutS * 1000,
  };
}

/** Parse a successful result's payload. */
export function json(payload: Buffer): unknown {
  return JSON.parse(payload.toString('utf8'));
}
