// `nimbus start --quota NAME=N --retention KIND=DAYS`: parsed into the server's quotas and
// retention options (units and days converted), refused with a usage error that names the form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverOptionsFrom, startCommand } from '../../src/cli/commands/start.js';
import type { CommandContext, ParsedArgs } from '../../src/cli/command.js';

const ctx = {
  globals: { dataDir: '/tmp/nimbus-quota-cli' },
  io: { env: {} },
} as unknown as Pick<CommandContext, 'globals' | 'io'>;

function parse(values: Record<string, string | string[]>) {
  return serverOptionsFrom(startCommand, ctx, { values, positionals: [] } as unknown as ParsedArgs);
}

test('--quota and --retention reach the server options', () => {
  const options = parse({
    quota: ['bucketBytes=20GiB', 'queueMessages=5000'],
    retention: ['logs=1.5', 'invocations=30'],
  });
  assert.deepEqual(options.quotas, { bucketBytes: 20 * 1024 ** 3, queueMessages: 5000 });
  assert.deepEqual(options.retention, {
    logsMs: 36 * 60 * 60 * 1000,
    invocationsMs: 30 * 24 * 60 * 60 * 1000,
  });
  const plain = parse({});
  assert.equal(plain.quotas, undefined);
  assert.equal(plain.retention, undefined);
});

test('bad --quota and --retention values are usage errors naming the form', () => {
  assert.throws(() => parse({ quota: ['bucketBytes'] }), /--quota must look like bucketBytes=20GiB/);
  assert.throws(() => parse({ quota: ['nope=1'] }), /quotas\.nope is not a quota/);
  assert.throws(() => parse({ quota: ['tableItems=0'] }), /at least 1/);
  assert.throws(() => parse({ retention: ['logs=0'] }), /--retention must be logs=DAYS/);
  assert.throws(() => parse({ retention: ['metrics=3'] }), /--retention must be logs=DAYS/);
});
