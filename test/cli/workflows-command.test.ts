// `nimbus workflows` against a real server: ls, start (input inline and from a file), describe
// (workflow and execution), history, stop, send-success, send-failure, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cliServer } from './cli-server.js';

const server = cliServer('workflows');
const { cli } = server;
installLeakGuard();

const APP = `app: cliwf
functions:
  park:
    handler: index.park
`;

async function put(name: string, definition: unknown): Promise<void> {
  const res = await server.t.fetchV1(`/v1/workflows/${name}`, {
    method: 'PUT',
    body: JSON.stringify({ app: 'cliwf', definition }),
  });
  assert.equal(res.status, 201, await res.text());
}

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('nimbus workflows: ls, start, describe, history, stop, send-success, send-failure', async () => {
  await server.t.deployFiles({ 'nimbus.yml': APP, 'index.js': 'exports.park = async () => null;' });
  await put('cliwf-echo', {
    StartAt: 'P',
    States: { P: { Type: 'Pass', ResultPath: '$.seen', Result: 1, End: true } },
  });
  await put('cliwf-approve', {
    StartAt: 'Ask',
    States: {
      Ask: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'cliwf-park', Payload: { 'token.$': '$$.Task.Token' } },
        End: true,
      },
    },
  });

  let r = await cli('workflows', 'ls');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cliwf-approve\s+cliwf\s+STANDARD\s+1/);

  r = await cli('workflows', 'start', 'cliwf-echo', '{"a":1}', '--name', 'one');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'one\n');
  writeFileSync(join(server.tmp, 'in.json'), '{"from":"file"}');
  r = await cli('workflows', 'start', 'cliwf-echo', '--data', 'in.json', '--name', 'two');
  assert.equal(r.code, 0, r.stderr);
  const done = await until(async () => {
    const d = await cli('--json', 'workflows', 'describe', 'cliwf-echo', 'two');
    const e = JSON.parse(d.stdout) as { status: string; output?: unknown };
    return e.status === 'RUNNING' ? undefined : e;
  });
  assert.deepEqual(done, { ...done, status: 'SUCCEEDED', output: { from: 'file', seen: 1 } });
  r = await cli('workflows', 'describe', 'cliwf-echo');
  assert.match(r.stdout, /cliwf-echo\s+app cliwf, STANDARD, version 1/);
  assert.match(r.stdout, /two\s+SUCCEEDED/);
  r = await cli('workflows', 'history', 'cliwf-echo', 'two', '--reverse');
  assert.match(r.stdout.split('\n')[0]!, /ExecutionSucceeded/);

  for (const name of ['yes', 'no', 'halt']) {
    assert.equal((await cli('workflows', 'start', 'cliwf-approve', '--name', name)).code, 0);
  }
  const tokenOf = (name: string) =>
    until(async () => {
      const h = await cli('--json', 'workflows', 'history', 'cliwf-approve', name);
      const events = (
        JSON.parse(h.stdout) as { events: Array<{ type: string; details: { parameters?: string } }> }
      ).events;
      const scheduled = events.find((e) => e.type === 'TaskScheduled');
      return (
        scheduled &&
        (JSON.parse(scheduled.details.parameters!) as { Payload: { token: string } }).Payload.token
      );
    });
  r = await cli('workflows', 'send-success', await tokenOf('yes'), '{"approved":true}');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('workflows', 'send-failure', await tokenOf('no'), '--error', 'Rejected', '--cause', 'nope');
  assert.equal(r.code, 0, r.stderr);
  await tokenOf('halt');
  r = await cli('workflows', 'stop', 'cliwf-approve', 'halt', '--error', 'Enough');
  assert.match(r.stdout, /halt is ABORTED/);
  await until(async () => {
    const d = await cli('workflows', 'describe', 'cliwf-approve', '--status', 'RUNNING');
    return /no executions/.test(d.stdout) ? true : undefined;
  });
  r = await cli('--json', 'workflows', 'describe', 'cliwf-approve', 'yes');
  assert.deepEqual((JSON.parse(r.stdout) as { output: unknown }).output, { approved: true });
  r = await cli('workflows', 'describe', 'cliwf-approve', 'no');
  assert.match(r.stdout, /FAILED/);
  assert.match(r.stdout, /error: {2}Rejected: nope/);
});

test('nimbus workflows: usage and server errors', async () => {
  let r = await cli('workflows', 'start', 'x', '{oops');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /the input is not JSON/);
  r = await cli('workflows', 'history', 'x');
  assert.match(r.stderr, /missing argument: <workflow> <execution>/);
  r = await cli('workflows', 'describe', 'never');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /StateMachineDoesNotExist|State Machine Does Not Exist/);
  r = await cli('workflows', 'send-success', 'nope');
  assert.match(r.stderr, /Task Does Not Exist/);
});
