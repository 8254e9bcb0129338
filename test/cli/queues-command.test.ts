// `nimbus queues` against a real server: create (with a DLQ), ls, info, send, receive --delete,
// purge, redrive, rm, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cliServer } from './cli-server.js';

const server = cliServer('queues');
const { cli } = server;
installLeakGuard();

test('nimbus queues: create, ls, send, receive, redrive, purge, rm', async () => {
  let r = await cli('queues', 'create', 'jobs-dlq');
  assert.equal(r.code, 0, r.stderr);
  r = await cli(
    'queues',
    'create',
    'jobs',
    '--visibility-timeout',
    '0',
    '--dlq',
    'jobs-dlq',
    '--max-receive',
    '1',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created queue jobs \(arn:aws:sqs:/);
  r = await cli('queues', 'ls');
  assert.match(r.stdout, /jobs\s+standard\s+0s\s+jobs-dlq after 1/);

  r = await cli('queues', 'send', 'jobs', 'hello there');
  assert.equal(r.code, 0, r.stderr);
  // Only the message id on stdout, so `id=$(nimbus queues send …)` captures it.
  assert.match(r.stdout, /^[0-9a-f-]{36}\n$/);
  assert.match(r.stderr, /sent to jobs/);
  writeFileSync(join(server.tmp, 'body.json'), '{"from":"file"}');
  r = await cli('queues', 'send', 'jobs', '--data', 'body.json');
  assert.equal(r.code, 0, r.stderr);

  r = await cli('--json', 'queues', 'receive', 'jobs', '--max', '10');
  const got = JSON.parse(r.stdout) as { messages: Array<{ body: string }> };
  assert.deepEqual(got.messages.map((m) => m.body).sort(), ['hello there', '{"from":"file"}']);
  // Visibility 0: they are visible again, and the next receive moves them to the DLQ (max 1).
  r = await cli('queues', 'receive', 'jobs', '--max', '10');
  assert.match(r.stdout, /no messages/);
  r = await cli('--json', 'queues', 'info', 'jobs-dlq');
  assert.deepEqual((JSON.parse(r.stdout) as { counts: unknown }).counts, {
    visible: 2,
    inFlight: 0,
    delayed: 0,
  });

  r = await cli('queues', 'redrive', 'jobs-dlq');
  assert.match(r.stdout, /moved 2 messages from jobs-dlq to their source queues/);
  r = await cli('queues', 'receive', 'jobs', '--max', '1', '--delete');
  assert.match(r.stdout, /deleted/);
  r = await cli('queues', 'purge', 'jobs');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('--json', 'queues', 'info', 'jobs');
  assert.deepEqual((JSON.parse(r.stdout) as { counts: unknown }).counts, {
    visible: 0,
    inFlight: 0,
    delayed: 0,
  });

  r = await cli('queues', 'rm', 'jobs');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('queues', 'info', 'jobs');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /nimbus queues create jobs/);
});

test('nimbus queues: FIFO send with group and dedup id; usage errors', async () => {
  let r = await cli('queues', 'create', 'o.fifo', '--fifo');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('queues', 'send', 'o.fifo', 'x', '--group', 'g', '--dedup-id', 'd1');
  assert.match(r.stdout, /^[0-9a-f-]{36}\n$/);
  assert.match(r.stderr, /sequence \d{20}/);
  r = await cli('queues', 'send', 'o.fifo', 'x');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /groupId/);
  r = await cli('queues', 'frobnicate');
  assert.equal(r.code, 2);
  r = await cli('queues', 'create', 'q', '--max-receive', '3');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dlq/);
  r = await cli('queues', 'receive', 'o.fifo', '--max', 'lots');
  assert.equal(r.code, 2);
});
