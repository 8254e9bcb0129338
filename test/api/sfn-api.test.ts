// The Step Functions-compatible API end to end: the official @aws-sdk/client-sfn (only endpoint
// and credentials set) against a real server on SQLite and PostgreSQL: machines of deployed
// functions run to their output, AWS-shaped history, listing and paging, stop, a
// .waitForTaskToken completed with SendTaskSuccess, Express StartSyncExecution, bad input.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StateMachineTypeNotSupported,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
  ValidationException,
  type DescribeExecutionCommandOutput,
  type ListStateMachinesCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const APP = `app: sf
functions:
  inc:
    handler: index.inc
  dbl:
    handler: index.dbl
  park:
    handler: index.park
`;
const CODE = `
exports.inc = async (e) => ({ x: e.x + 1 });
exports.dbl = async (e) => ({ x: e.x * 2 });
exports.park = async () => ({ parked: true });
`;
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const SM = 'arn:aws:states:us-east-1:000000000000:stateMachine:';
const EX = 'arn:aws:states:us-east-1:000000000000:execution:';

const TWO_TASKS = JSON.stringify({
  StartAt: 'Inc',
  States: {
    Inc: { Type: 'Task', Resource: `${FN}sf-inc`, Next: 'Dbl' },
    Dbl: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: `${FN}sf-dbl`, 'Payload.$': '$' },
      OutputPath: '$.Payload',
      End: true,
    },
  },
});
const CALLBACK = JSON.stringify({
  StartAt: 'Approve',
  States: {
    Approve: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'sf-park', Payload: { 'token.$': '$$.Task.Token' } },
      ResultPath: '$.approval',
      End: true,
    },
  },
});

/** Asserts that `p` rejects with the SDK's exception class `type`, and returns the error. */
async function rejectsWith(p: Promise<unknown>, type: abstract new (...a: never[]) => Error): Promise<Error> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    return true;
  });
  return caught as Error;
}

forEachStore((storeName, open) => {
  describe(`Step Functions API (${storeName})`, () => {
    let t: TestServer;
    let sfn: SFNClient;
    const clients: SFNClient[] = [];
    const client = (extra: Partial<ConstructorParameters<typeof SFNClient>[0]> = {}): SFNClient => {
      const c = new SFNClient({
        endpoint: t.url,
        region: 'us-east-1',
        credentials: t.credentials,
        maxAttempts: 1,
        ...extra,
      });
      clients.push(c);
      return c;
    };

    before(async () => {
      t = await startTestServer({ store: await open() });
      await t.deployFiles({ 'nimbus.yml': APP, 'index.js': CODE });
      sfn = client();
    });
    after(async () => {
      for (const c of clients) c.destroy();
      await t.close();
    });

    async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
      const until = Date.now() + 20_000;
      for (;;) {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status !== 'RUNNING') return d;
        if (Date.now() > until) throw new Error(`still running: ${JSON.stringify(d)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    async function history(
      executionArn: string,
      extra: Record<string, unknown> = {},
    ): Promise<HistoryEvent[]> {
      const events: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, ...extra }));
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      return events;
    }

    test('create, describe, start: a Lambda-ARN Task and lambda:invoke run to the output; AWS-shaped history', async () => {
      const created = await sfn.send(
        new CreateStateMachineCommand({
          name: 'pipeline',
          definition: TWO_TASKS,
          roleArn: 'arn:aws:iam::000000000000:role/ignored',
        }),
      );
      assert.equal(created.stateMachineArn, `${SM}pipeline`);
      assert.ok(created.creationDate instanceof Date);
      // The same definition again answers the same machine; another one is refused.
      const again = await sfn.send(
        new CreateStateMachineCommand({ name: 'pipeline', definition: TWO_TASKS, roleArn: 'x' }),
      );
      assert.equal(again.creationDate?.getTime(), created.creationDate?.getTime());
      await rejectsWith(
        sfn.send(new CreateStateMachineCommand({ name: 'pipeline', definition: CALLBACK, roleArn: 'x' })),
        StateMachineAlreadyExists,
      );
      const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${SM}pipeline` }));
      assert.deepEqual(
        [described.name, described.status, described.type, described.definition],
        ['pipeline', 'ACTIVE', 'STANDARD', TWO_TASKS],
      );

      const started = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: `${SM}pipeline`, name: 'run1', input: '{"x":3}' }),
      );
      assert.equal(started.executionArn, `${EX}pipeline:run1`);
      assert.ok(started.startDate instanceof Date);
      const done = await finished(started.executionArn!);
      assert.deepEqual(
        [done.status, JSON.parse(done.output!), done.input, done.name, done.stateMachineArn],
        ['SUCCEEDED', { x: 8 }, '{"x":3}', 'run1', `${SM}pipeline`],
      );
      assert.ok(done.stopDate instanceof Date && done.stopDate >= done.startDate!);
      // A finished execution's name cannot be started again.
      await rejectsWith(
        sfn.send(
          new StartExecutionCommand({ stateMachineArn: `${SM}pipeline`, name: 'run1', input: '{"x":3}' }),
        ),
        ExecutionAlreadyExists,
      );

      const events = await history(started.executionArn!, { maxResults: 3 });
      assert.deepEqual(
        events.map((e) => e.type),
        [
          'ExecutionStarted',
          'TaskStateEntered',
          'LambdaFunctionScheduled',
          'LambdaFunctionSucceeded',
          'TaskStateExited',
          'TaskStateEntered',
          'TaskScheduled',
          'TaskSucceeded',
          'TaskStateExited',
          'ExecutionSucceeded',
        ],
      );
      assert.deepEqual(
        events.map((e) => e.id),
        events.map((_, i) => i + 1),
      );
      assert.equal(events[0]!.previousEventId, 0);
      assert.ok(events[0]!.timestamp instanceof Date);
      assert.equal(events[0]!.executionStartedEventDetails?.input, '{"x":3}');
      assert.equal(events[1]!.stateEnteredEventDetails?.name, 'Inc');
      assert.equal(events[2]!.lambdaFunctionScheduledEventDetails?.resource, `${FN}sf-inc`);
      assert.deepEqual(JSON.parse(events[3]!.lambdaFunctionSucceededEventDetails!.output!), { x: 4 });
      assert.deepEqual(
        [events[6]!.taskScheduledEventDetails?.resourceType, events[6]!.taskScheduledEventDetails?.resource],
        ['lambda', 'invoke'],
      );
      assert.equal(events[7]!.taskSucceededEventDetails?.resourceType, 'lambda');
      assert.deepEqual(JSON.parse(events.at(-1)!.executionSucceededEventDetails!.output!), { x: 8 });

      const reversed = await history(started.executionArn!, { reverseOrder: true, maxResults: 4 });
      assert.deepEqual(
        reversed.map((e) => e.id),
        events.map((e) => e.id).reverse(),
      );
      const bare = await history(started.executionArn!, { includeExecutionData: false });
      assert.equal(bare[0]!.executionStartedEventDetails?.input, undefined);
      assert.equal(bare.at(-1)!.executionSucceededEventDetails?.output, undefined);
      await rejectsWith(
        sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn, nextToken: 'bogus' })),
        InvalidToken,
      );

      const forExecution = await sfn.send(
        new DescribeStateMachineForExecutionCommand({ executionArn: started.executionArn }),
      );
      assert.deepEqual([forExecution.name, forExecution.definition], ['pipeline', TWO_TASKS]);
      // An update applies to new executions; the old one still shows the definition it ran.
      const changed = TWO_TASKS.replace(`${FN}sf-dbl`, `${FN}sf-inc`);
      await sfn.send(
        new UpdateStateMachineCommand({ stateMachineArn: `${SM}pipeline`, definition: changed }),
      );
      assert.equal(
        (await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${SM}pipeline` }))).definition,
        changed,
      );
      assert.equal(
        (await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: started.executionArn })))
          .definition,
        TWO_TASKS,
      );
      const run2 = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: `${SM}pipeline`, input: '{"x":3}' }),
      );
      assert.deepEqual(JSON.parse((await finished(run2.executionArn!)).output!), { x: 5 });
    });

    test('.waitForTaskToken completed by SendTaskSuccess; failure, heartbeat, stop; listing and paging', async () => {
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({ name: 'approve', definition: CALLBACK, roleArn: 'x' }),
      );
      const arns: string[] = [];
      for (const name of ['a1', 'a2', 'a3']) {
        arns.push(
          (await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: '{"doc":1}' })))
            .executionArn!,
        );
      }
      // Same name and input while running: the same execution; another input: refused.
      const same = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: 'a1', input: '{"doc":1}' }),
      );
      assert.equal(same.executionArn, arns[0]);
      await rejectsWith(
        sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'a1', input: '{"doc":2}' })),
        ExecutionAlreadyExists,
      );

      const tokenOf = async (arn: string): Promise<string> => {
        const until = Date.now() + 10_000;
        for (;;) {
          const events = await history(arn);
          const scheduled = events.find((e) => e.type === 'TaskScheduled');
          if (scheduled) {
            assert.equal(scheduled.taskScheduledEventDetails?.resource, 'invoke.waitForTaskToken');
            return (
              JSON.parse(scheduled.taskScheduledEventDetails!.parameters!) as { Payload: { token: string } }
            ).Payload.token;
          }
          if (Date.now() > until) throw new Error('no TaskScheduled');
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const token1 = await tokenOf(arns[0]!);
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token1 }));
      await sfn.send(new SendTaskSuccessCommand({ taskToken: token1, output: '{"approved":true}' }));
      const a1 = await finished(arns[0]!);
      assert.deepEqual(
        [a1.status, JSON.parse(a1.output!)],
        ['SUCCEEDED', { doc: 1, approval: { approved: true } }],
      );
      await rejectsWith(
        sfn.send(new SendTaskSuccessCommand({ taskToken: token1, output: '{}' })),
        TaskTimedOut,
      );
      await rejectsWith(
        sfn.send(new SendTaskSuccessCommand({ taskToken: 'no-such-token', output: '{}' })),
        TaskDoesNotExist,
      );
      await rejectsWith(
        sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'x'.repeat(3000) })),
        InvalidToken,
      );

      const token2 = await tokenOf(arns[1]!);
      await sfn.send(new SendTaskFailureCommand({ taskToken: token2, error: 'Rejected', cause: 'no' }));
      const a2 = await finished(arns[1]!);
      assert.deepEqual([a2.status, a2.error, a2.cause], ['FAILED', 'Rejected', 'no']);

      await tokenOf(arns[2]!);
      const stopped = await sfn.send(new StopExecutionCommand({ executionArn: arns[2], error: 'Enough' }));
      assert.ok(stopped.stopDate instanceof Date);
      const a3 = await sfn.send(new DescribeExecutionCommand({ executionArn: arns[2] }));
      assert.deepEqual([a3.status, a3.error], ['ABORTED', 'Enough']);

      const names: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken }));
        assert.ok(page.executions!.length <= 2);
        names.push(...page.executions!.map((e) => e.name!));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      assert.deepEqual(names.sort(), ['a1', 'a2', 'a3']);
      const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'FAILED' }));
      assert.deepEqual(
        failed.executions!.map((e) => [e.name, e.status, e.executionArn]),
        [['a2', 'FAILED', arns[1]]],
      );

      const machines: string[] = [];
      nextToken = undefined;
      do {
        const page: ListStateMachinesCommandOutput = await sfn.send(
          new ListStateMachinesCommand({ maxResults: 1, nextToken }),
        );
        machines.push(...page.stateMachines!.map((m) => m.stateMachineArn!));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      assert.ok(machines.includes(stateMachineArn!), JSON.stringify(machines));
      assert.deepEqual([...machines].sort(), machines, 'by name');
    });

    test('StartSyncExecution answers an Express execution with its result; Standard is refused', async () => {
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({
          name: 'quick',
          definition: TWO_TASKS,
          roleArn: 'x',
          type: 'EXPRESS',
        }),
      );
      // The SDK sends StartSyncExecution to the `sync-` host prefix, which a local endpoint lacks.
      const sync = client({ disableHostPrefix: true });
      const out = await sync.send(new StartSyncExecutionCommand({ stateMachineArn, input: '{"x":1}' }));
      assert.deepEqual([out.status, JSON.parse(out.output!)], ['SUCCEEDED', { x: 4 }]);
      assert.ok(out.executionArn?.startsWith(`${EX}quick:`));
      await rejectsWith(
        sync.send(new StartSyncExecutionCommand({ stateMachineArn: `${SM}pipeline`, input: '{}' })),
        StateMachineTypeNotSupported,
      );
    });

    test('bad definitions, names, ARNs and inputs get AWS error types naming the fix', async () => {
      const bad = JSON.stringify({
        StartAt: 'First',
        States: { First: { Type: 'Pass', Next: 'Missing' } },
      });
      const err = await rejectsWith(
        sfn.send(new CreateStateMachineCommand({ name: 'broken', definition: bad, roleArn: 'x' })),
        InvalidDefinition,
      );
      assert.match(err.message, /MISSING_TRANSITION_TARGET.*\/States\/First/);
      await rejectsWith(
        sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${SM}broken` })),
        StateMachineDoesNotExist,
      );
      const validated = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: bad }));
      assert.equal(validated.result, 'FAIL');
      assert.equal(validated.diagnostics?.[0]?.code, 'MISSING_TRANSITION_TARGET');
      assert.match(validated.diagnostics?.[0]?.location ?? '', /\/States\/First/);
      const good = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: TWO_TASKS }));
      assert.deepEqual([good.result, good.diagnostics], ['OK', []]);
      await rejectsWith(
        sfn.send(new CreateStateMachineCommand({ name: 'bad name', definition: TWO_TASKS, roleArn: 'x' })),
        InvalidName,
      );
      await rejectsWith(
        sfn.send(
          // @ts-expect-error an invalid type on purpose
          new CreateStateMachineCommand({ name: 'typed', definition: TWO_TASKS, roleArn: 'x', type: 'FAST' }),
        ),
        ValidationException,
      );
      await rejectsWith(
        sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'not-an-arn' })),
        InvalidArn,
      );
      await rejectsWith(
        sfn.send(new StartExecutionCommand({ stateMachineArn: `${SM}nope`, input: '{}' })),
        StateMachineDoesNotExist,
      );
      await rejectsWith(
        sfn.send(new DescribeExecutionCommand({ executionArn: `${EX}nope:run` })),
        ExecutionDoesNotExist,
      );
      await rejectsWith(
        sfn.send(new GetExecutionHistoryCommand({ executionArn: `${EX}pipeline:never` })),
        ExecutionDoesNotExist,
      );
      await rejectsWith(sfn.send(new StopExecutionCommand({ executionArn: `${SM}pipeline` })), InvalidArn);
      await rejectsWith(
        sfn.send(new StartExecutionCommand({ stateMachineArn: `${SM}pipeline`, input: '{not json' })),
        InvalidExecutionInput,
      );
      // DeleteStateMachine is idempotent, as on AWS.
      await sfn.send(new CreateStateMachineCommand({ name: 'gone', definition: TWO_TASKS, roleArn: 'x' }));
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: `${SM}gone` }));
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: `${SM}gone` }));
      await rejectsWith(
        sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${SM}gone` })),
        StateMachineDoesNotExist,
      );
    });

    test('a wrong secret, or a signature for another service, is refused', async () => {
      const wrong = client({
        credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: 'wrong' },
      });
      await assert.rejects(
        wrong.send(new CreateStateMachineCommand({ name: 'sneaky', definition: TWO_TASKS, roleArn: 'x' })),
        (e: Error) => /Signature|Unrecognized/.test(e.name),
      );
      // Signed for SQS, a Step Functions target reaches the SQS API, which knows no such action.
      const url = new URL(t.url);
      const body = JSON.stringify({ name: 'sneaky', definition: TWO_TASKS, roleArn: 'x' });
      const signed = await new SignatureV4({
        service: 'sqs',
        region: 'us-east-1',
        credentials: t.credentials,
        sha256: Sha256,
      }).sign(
        new HttpRequest({
          method: 'POST',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: '/',
          headers: {
            host: url.host,
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'AWSStepFunctions.CreateStateMachine',
          },
          body,
        }),
      );
      const res = await fetch(`${t.url}/`, {
        method: 'POST',
        headers: signed.headers as Record<string, string>,
        body,
      });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /InvalidAction/);
      await rejectsWith(
        sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${SM}sneaky` })),
        StateMachineDoesNotExist,
      );
    });
  });
});
