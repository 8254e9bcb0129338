// nimbus.yml as a deploy reads it: the server's own parsers run at load (one set of rules for CLI
// and server, errors with file:line before anything is uploaded), the http long form of the
// Serverless Framework, and a warning for every key that is accepted but not acted on.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ApiClient } from '../../src/cli/api-client.js';
import { deployApp } from '../../src/cli/commands/deploy.js';
import { createOutput } from '../../src/cli/output.js';
import { Spinner } from '../../src/cli/spinner.js';
import { parseAppConfig } from '../../src/config/load-app-config.js';

const root = mkdtempSync(join(tmpdir(), 'nimbus-deploy-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

const yml = (...lines: string[]) => ['app: shop', 'functions:', ...lines].join('\n') + '\n';
const issues = (text: string): string[] => {
  try {
    parseAppConfig(text, 'nimbus.yml');
    return [];
  } catch (err) {
    return ((err as { issues?: Array<{ line: number; message: string }> }).issues ?? []).map(
      (i) => `${i.line}: ${i.message}`,
    );
  }
};

test('http long form: method in any case, path without a leading slash', () => {
  const config = parseAppConfig(
    yml(
      '  get:',
      '    handler: a.b',
      '    events:',
      '      - http:',
      '          method: get',
      '          path: v1/{id}',
    ),
    'nimbus.yml',
  );
  assert.deepEqual(
    config.gateway.routes.map((r) => `${r.method} ${r.path}`),
    ['GET /v1/{id}'],
  );
});

test('the services parsers run at load: what the server refuses, the CLI refuses with file:line', () => {
  assert.deepEqual(
    issues(yml('  w:', '    handler: a.b', '    events:', '      - queue: { queue: jobs, batchsize: 5 }')),
    [
      "6: functions.w.events[0].queue: unknown option 'batchsize'; use queue, arn, name, batchSize, batchWindow, maxConcurrency, functionResponseType, enabled",
    ],
  );
  const [getAtt] = issues(
    yml('  w:', '    handler: a.b', '    events:', '      - sqs: { arn: { Fn::GetAtt: [Jobs, Arn] } }'),
  );
  assert.match(
    getAtt!,
    /^6: .*`Fn::GetAtt` is a CloudFormation function, which Nimbus does not resolve; write the resource's name/,
  );
  const [queue] = issues(
    ['app: shop', 'resources:', '  queues: { jobs: { visibilityTimeout: -1 } }'].join('\n'),
  );
  assert.match(queue!, /^3: resources\.queues\.jobs/);
});

test('every key accepted but not acted on warns at its line', () => {
  const config = parseAppConfig(
    [
      'app: shop',
      'package: { individually: false }',
      'functions:',
      '  f:',
      '    handler: a.b',
      '    events:',
      '      - http: { method: GET, path: /x, integration: lambda }',
      '      - schedule: { rate: rate(1 hour), method: scheduler }',
      'resources:',
      '  buckets: { imgs: { versioning: true } }',
      'workflows:',
      '  flow: { definition: { StartAt: A, States: { A: { Type: Succeed } } }, events: [] }',
    ].join('\n'),
    'nimbus.yml',
  );
  assert.deepEqual(
    config.warnings.map((w) => `${w.line} ${w.path}`),
    [
      '2 package.individually',
      '7 functions.f.events[0].http.integration',
      '8 functions.f.events[1].schedule.method',
      '10 resources.buckets.imgs.versioning',
      '12 workflows.flow.events',
    ],
  );
});

test('nimbus deploy refuses an invalid config before uploading anything', async () => {
  const dir = mkdtempSync(join(root, 'app-'));
  writeFileSync(
    join(dir, 'nimbus.yml'),
    yml('  w:', '    handler: index.w', '    events:', '      - sqs: { arn: { Ref: Jobs } }'),
  );
  // Several MB of code: it must never be sent.
  writeFileSync(
    join(dir, 'index.js'),
    `exports.w = async () => 1;\nexports.pad = '${'x'.repeat(3_000_000)}';\n`,
  );
  let requests = 0;
  const client = new ApiClient({ endpoint: 'http://127.0.0.1:9', token: 't' });
  for (const method of ['hasCode', 'putCode', 'deploy'] as const) {
    (client as unknown as Record<string, () => never>)[method] = () => {
      requests++;
      throw new Error('no request may be sent');
    };
  }
  const quiet = new Spinner(createOutput({ write: () => true } as never, { env: {} }));
  await assert.rejects(deployApp(dir, client, quiet), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'InvalidConfigError');
    assert.match(err.message, /nimbus\.yml:6:\d+: .*`Ref` is a CloudFormation function/);
    return true;
  });
  assert.equal(requests, 0);
});
