// nimbus.yml / serverless.yml loading: defaults, compiled config, and positioned error messages.
import { installLeakGuard } from '../helpers/leak-guard.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppConfig, parseAppConfig } from '../../src/config/load-app-config.js';
import { ConfigError } from '../../src/config/config-error.js';
import { FUNCTION_DEFAULTS } from '../../src/functions/function-model.js';
import { isNimbusError } from '../../src/errors.js';

installLeakGuard();

/** Parses and returns the ConfigError it must throw. */
function configError(text: string, file = 'nimbus.yml'): ConfigError {
  try {
    parseAppConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'InvalidConfigError');
    assert.ok(isNimbusError(err));
    // Every issue is positioned, and the message lists each as file:line:col.
    for (const issue of err.issues) {
      assert.ok(issue.line >= 1 && issue.column >= 1, JSON.stringify(issue));
      assert.ok(err.message.includes(`${file}:${issue.line}:${issue.column}: ${issue.message}`));
    }
    return err;
  }
  assert.fail('expected the config to be rejected');
}

describe('schema defaults', () => {
  test('a minimal function gets FUNCTION_DEFAULTS and the result is frozen', () => {
    const config = parseAppConfig(
      'app: demo\nfunctions:\n  hello:\n    handler: index.handler\n',
      'nimbus.yml',
    );
    assert.equal(config.app, 'demo');
    assert.equal(config.flavour, 'nimbus');
    assert.equal(config.functions.length, 1);
    const fn = config.functions[0]!;
    assert.equal(fn.name, 'hello');
    assert.equal(fn.sourceRuntime, 'nodejs');
    assert.deepEqual(fn.config, { ...FUNCTION_DEFAULTS, runtime: 'nodejs', handler: 'index.handler' });
    assert.deepEqual(fn.events, []);
    assert.deepEqual(fn.package, { include: [], exclude: [] });
    assert.deepEqual(config.resources, { buckets: {}, queues: {}, tables: {}, topics: {} });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(fn) && Object.isFrozen(fn.config));
    assert.ok(Object.isFrozen(fn.config.environment) && Object.isFrozen(config.functions));
  });

  test('provider defaults apply under function settings; env values are stringified', () => {
    const config = parseAppConfig(
      [
        'app: photos',
        'provider:',
        '  runtime: typescript',
        '  memory: 256',
        '  timeout: 10',
        '  environment: { A: 1, B: true, C: x }',
        'functions:',
        '  download:',
        '    handler: src/download.handler',
        '    memory: 512',
        '    environment: { C: y }',
        '    events:',
        '      - http: POST /images',
        '  work:',
        '    handler: src/work.handler',
        '    runtime: python3.12',
        '    maxConcurrency: 3',
        '    events:',
        '      - queue: jobs',
        '      - schedule: rate(1 hour)',
        '      - bucket: { bucket: images, on: created, suffix: .jpg }',
        'resources:',
        '  buckets: [images]',
        '  queues: { jobs: { visibilityTimeout: 60 } }',
        '  tables: { results: { partitionKey: id } }',
        'workflows:',
        '  pipeline:',
        '    type: express',
        '    definition: { StartAt: Go, States: { Go: { Type: Task, Resource: work, End: true } } }',
      ].join('\n'),
      'nimbus.yml',
    );
    const [download, work] = config.functions;
    assert.equal(download?.sourceRuntime, 'typescript');
    assert.equal(download?.config.runtime, 'nodejs');
    assert.equal(download?.config.memory, 512);
    assert.equal(download?.config.timeout, 10);
    assert.deepEqual(download?.config.environment, { A: '1', B: 'true', C: 'y' });
    assert.deepEqual(download?.events, [{ http: 'POST /images' }]);
    assert.equal(work?.sourceRuntime, 'python');
    assert.equal(work?.config.runtime, 'python');
    assert.equal(work?.config.memory, 256);
    assert.equal(work?.config.maxConcurrency, 3);
    assert.equal(work?.events.length, 3);
    assert.ok(Object.isFrozen(work?.events[2]));
    assert.deepEqual(config.resources.buckets, { images: {} });
    assert.deepEqual(config.resources.queues, { jobs: { visibilityTimeout: 60 } });
    assert.deepEqual(config.workflows, {
      pipeline: {
        type: 'EXPRESS',
        definition: { StartAt: 'Go', States: { Go: { Type: 'Task', Resource: 'work', End: true } } },
      },
    });
    // Workflows deploy now: nothing in this file is accepted-but-ignored.
    assert.deepEqual(config.warnings, []);
  });

  test('provided functions need no handler; thread isolation is allowed for nodejs', () => {
    const config = parseAppConfig(
      'app: a\nfunctions:\n  b:\n    runtime: provided.al2023\n  c:\n    handler: x.y\n    isolation: thread\n',
      'nimbus.yml',
    );
    assert.equal(config.functions[0]?.config.runtime, 'provided');
    assert.equal(config.functions[0]?.config.handler, 'bootstrap');
    assert.equal(config.functions[1]?.config.isolation, 'thread');
  });

  test('x-* anchors with merge keys share settings; empty sections are allowed', () => {
    const config = parseAppConfig(
      [
        'app: a',
        'x-small: &small',
        '  memory: 256',
        '  timeout: 9',
        'provider:',
        'functions:',
        '  f:',
        '    <<: *small',
        '    handler: a.b',
        '    timeout: 20',
        '    environment:',
        '    events:',
      ].join('\n'),
      'nimbus.yml',
    );
    const fn = config.functions[0]!;
    assert.deepEqual([fn.config.memory, fn.config.timeout], [256, 20]);
    assert.deepEqual(fn.config.environment, {});
    assert.deepEqual(parseAppConfig('app: a\nfunctions:\n', 'nimbus.yml').functions, []);
  });

  test('package patterns merge top-level and function lists; `!pattern` excludes', () => {
    const config = parseAppConfig(
      'app: a\npackage: { exclude: [tests/**] }\nfunctions:\n  b:\n    handler: x.y\n    package: { patterns: [templates/**, "!templates/*.bak"] }\n',
      'nimbus.yml',
    );
    assert.deepEqual(config.functions[0]?.package, {
      include: ['templates/**'],
      exclude: ['tests/**', 'templates/*.bak'],
    });
  });
});

describe('serverless.yml', () => {
  test('service/provider/memorySize are accepted, AWS-only keys and variables are warned about', () => {
    const config = parseAppConfig(
      [
        'service: legacy',
        "frameworkVersion: '3'",
        'provider:',
        '  name: aws',
        '  runtime: nodejs20.x',
        '  region: us-east-1',
        '  memorySize: 512',
        '  timeout: 20',
        '  environment:',
        "    STAGE: ${opt:stage, 'dev'}",
        '    PORT: 8080',
        'functions:',
        '  api:',
        '    handler: handler.main',
        '    reservedConcurrency: 4',
        '    events:',
        "      - httpApi: '*'",
        "      - http: { path: 'users/{id}', method: get, cors: true }",
        '      - sqs: { arn: arn:aws:sqs:us-east-1:1:jobs, batchSize: 10 }',
        '      - s3: { bucket: photos, event: s3:ObjectCreated:*, rules: [{ suffix: .jpg }] }',
        '      - schedule: { rate: [rate(10 minutes), cron(0 12 * * ? *)], enabled: true }',
        '      - sns: updates',
        '      - stream: { type: dynamodb, arn: arn:aws:dynamodb:us-east-1:1:table/results/stream/x }',
        '      - alexaSkill: amzn1.ask.skill.x',
        'resources:',
        '  Resources:',
        '    Bucket: { Type: AWS::S3::Bucket, Properties: { BucketName: !Ref Name } }',
      ].join('\n'),
      'serverless.yml',
    );
    assert.equal(config.app, 'legacy');
    assert.equal(config.flavour, 'serverless');
    const fn = config.functions[0]!;
    assert.equal(fn.config.runtime, 'nodejs');
    assert.equal(fn.config.memory, 512);
    assert.equal(fn.config.timeout, 20);
    assert.equal(fn.config.maxConcurrency, 4);
    assert.deepEqual(fn.config.environment, { STAGE: "${opt:stage, 'dev'}", PORT: '8080' });
    assert.equal(fn.events.length, 8);
    const warned = config.warnings.map((w) => w.path);
    assert.ok(warned.includes('frameworkVersion'));
    assert.ok(warned.includes('provider.region'));
    assert.ok(warned.includes('provider.environment.STAGE'));
    assert.ok(warned.includes('functions.api.events[7].alexaSkill'));
    assert.ok(warned.includes('resources.Resources'));
    const region = config.warnings.find((w) => w.path === 'provider.region');
    assert.deepEqual([region?.line, region?.column], [6, 3]);
  });

  test('a service key marks a file as serverless flavour whatever its name', () => {
    const config = parseAppConfig('service: s\nplugins: [x]\nfunctions: {}\n', 'custom.yml');
    assert.equal(config.flavour, 'serverless');
    assert.equal(config.app, 's');
  });
});

describe('errors name file:line:col and the fix', () => {
  test('wrong type: the brief example', () => {
    const err = configError(
      'app: demo\nfunctions:\n  hello:\n    handler: src/app.handler\n    timeout: ten\n',
    );
    assert.equal(err.issues.length, 1);
    assert.match(
      err.message,
      /nimbus\.yml:5:14: functions\.hello\.timeout must be a number between 1 and 900 \(seconds\); got "ten"/,
    );
    assert.equal(err.issues[0]?.path, 'functions.hello.timeout');
  });

  test('out of range and non-integer numbers', () => {
    const err = configError(
      'app: demo\nfunctions:\n  hello:\n    handler: a.b\n    memory: 64\n    timeout: 1.5\n',
    );
    assert.deepEqual(
      err.issues.map((i) => [i.line, i.column, i.message]),
      [
        [5, 13, 'functions.hello.memory must be a number between 128 and 10240 (MB); got 64'],
        [6, 14, 'functions.hello.timeout must be a whole number between 1 and 900 (seconds); got 1.5'],
      ],
    );
  });

  test('unknown key with a suggestion, pointing at the key', () => {
    const err = configError('app: demo\nfunctions:\n  hello:\n    handler: a.b\n    timout: 10\nfuncs: {}\n');
    assert.deepEqual(
      err.issues.map((i) => `${i.line}:${i.column} ${i.message}`),
      [
        '5:5 unknown key `timout` in functions.hello; did you mean `timeout`?',
        '6:1 unknown key `funcs` at the top level; did you mean `functions`?',
      ],
    );
  });

  test('unknown key with nothing close lists the valid keys', () => {
    const err = configError('app: demo\nprovider:\n  zzzzzzzz: 1\n');
    assert.match(err.issues[0]!.message, /unknown key `zzzzzzzz` in provider; valid keys: runtime, memory/);
  });

  test('YAML syntax errors carry a position too', () => {
    const bad = configError('app: demo\nfunctions:\n  hello:\n    handler: a.b\n   timeout: 3\n');
    assert.equal(bad.issues.length, 1);
    assert.equal(bad.issues[0]?.line, 5);
    assert.match(bad.issues[0]!.message, /^YAML syntax error: .*indentation/);
    const dup = configError('app: a\napp: b\n');
    assert.match(
      dup.message,
      /nimbus\.yml:2:1: YAML syntax error: Map keys must be unique; remove or rename/,
    );
    const tabs = configError('app: a\nfunctions:\n\thello: {}\n');
    assert.match(tabs.message, /nimbus\.yml:3:\d+: YAML syntax error/);
  });

  test('missing handler, pointing at the function', () => {
    const err = configError('app: demo\nfunctions:\n  hello:\n    memory: 256\n  empty:\n');
    assert.deepEqual(
      err.issues.map((i) => `${i.line}:${i.column} ${i.message}`),
      [
        '3:3 functions.hello.handler is missing; add `handler: <file>.<export>` (e.g. `handler: src/hello.handler`)',
        '5:3 functions.empty has no settings; add at least `handler: <file>.<export>` (e.g. `handler: src/empty.handler`)',
      ],
    );
  });

  test('thread isolation with python, set on the function or inherited from provider', () => {
    const err = configError(
      'app: demo\nprovider:\n  isolation: thread\nfunctions:\n  a:\n    handler: app.handler\n    runtime: python\n  b:\n    handler: x.y\n    runtime: provided\n    isolation: thread\n  c:\n    handler: x.y\n',
    );
    assert.deepEqual(
      err.issues.map((i) => [i.line, i.column, i.path]),
      [
        [3, 14, 'provider.isolation'],
        [11, 16, 'functions.b.isolation'],
      ],
    );
    assert.match(
      err.issues[0]!.message,
      /isolation `thread` runs only nodejs\/typescript code .* runtime is python; use `isolation: process`/,
    );
  });

  test('all issues are collected in one error, in file order', () => {
    const err = configError(
      [
        'app: "bad name!"',
        'functions:',
        '  hello:',
        '    handler: src/app.handler',
        '    runtime: java21',
        '    environment:',
        '      FOO: null',
        '      AWS_LAMBDA_FUNCTION_NAME: x',
        '    events:',
        '      - htpp: GET /x',
        '      - http: /nope',
        '      - schedule: every hour',
        '      - { http: GET /a, queue: b }',
        '    minInstances: 20',
        'resources:',
        '  bucket: [x]',
        '  queues: { "bad name": {} }',
        'workflows:',
        '  flow: 3',
      ].join('\n'),
    );
    const lines = err.issues.map((i) => i.line);
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );
    const text = err.message;
    assert.match(text, /^nimbus\.yml is invalid \(\d+ problems\):/);
    assert.match(text, /nimbus\.yml:1:6: app must be 1-64 letters/);
    assert.match(
      text,
      /nimbus\.yml:5:14: functions\.hello\.runtime must be one of nodejs, typescript, python, provided .*; got "java21"/,
    );
    assert.match(
      text,
      /nimbus\.yml:7:7: functions\.hello\.environment\.FOO must be a string, number or boolean \(write "" for an empty value\); got an empty value/,
    );
    assert.match(text, /nimbus\.yml:8:7: .*AWS_LAMBDA_FUNCTION_NAME is reserved/);
    assert.match(
      text,
      /nimbus\.yml:10:9: functions\.hello\.events\[0\]: unknown event type `htpp`; did you mean `http`\?/,
    );
    assert.match(text, /nimbus\.yml:11:15: functions\.hello\.events\[1\]\.http must be `METHOD \/path`/);
    assert.match(
      text,
      /nimbus\.yml:12:19: functions\.hello\.events\[2\]\.schedule has an invalid expression: .*`rate/,
    );
    assert.match(
      text,
      /nimbus\.yml:13:9: functions\.hello\.events\[3\] must be a mapping with one event type/,
    );
    assert.match(
      text,
      /nimbus\.yml:14:19: functions\.hello: minInstances \(20\) is larger than maxConcurrency \(10\)/,
    );
    assert.match(text, /nimbus\.yml:16:3: unknown key `bucket` in resources; did you mean `buckets`\?/);
    assert.match(text, /nimbus\.yml:17:13: resources\.queues: "bad name" is not a valid name/);
    assert.match(text, /nimbus\.yml:19:9: workflows\.flow must be a mapping/);
    assert.equal(err.issues.length, 12);
  });

  test('an empty file or a non-mapping is rejected with the nimbus init hint', () => {
    assert.match(configError('').message, /nimbus\.yml:1:1: the file is empty; .*`nimbus init`/);
    assert.match(configError('- a\n- b\n').message, /nimbus\.yml:1:1: got a list; /);
    assert.match(configError('functions: {}\n').message, /nimbus\.yml:1:1: missing `app:`/);
  });

  test('toJSON gives the structured list for --json output', () => {
    const err = configError('app: demo\nfunctions:\n  hello:\n    handler: a.b\n    network: yes please\n');
    const json = JSON.parse(JSON.stringify(err)) as {
      code: string;
      issues: { path: string; line: number }[];
    };
    assert.equal(json.code, 'InvalidConfigError');
    assert.deepEqual(
      json.issues.map((i) => [i.path, i.line]),
      [['functions.hello.network', 5]],
    );
  });
});

describe('loadAppConfig', () => {
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'nimbus-config-'));
    dirs.push(dir);
    return dir;
  };

  test('finds nimbus.yml, then nimbus.yaml, then serverless.yml', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'serverless.yml'), 'service: sls\nfunctions: {}\n');
    assert.equal((await loadAppConfig(dir)).app, 'sls');
    await writeFile(join(dir, 'nimbus.yaml'), 'app: yaml\n');
    assert.equal((await loadAppConfig(dir)).app, 'yaml');
    await writeFile(join(dir, 'nimbus.yml'), 'app: yml\n');
    const config = await loadAppConfig(dir);
    assert.equal(config.app, 'yml');
    assert.equal(config.file, join(dir, 'nimbus.yml'));
  });

  test('errors name the file path', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'nimbus.yml'),
      'app: demo\nfunctions:\n  hello:\n    handler: a.b\n    timeout: 0\n',
    );
    await assert.rejects(loadAppConfig(dir), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.issues[0]?.file.endsWith('nimbus.yml'));
      assert.match(
        err.message,
        /nimbus\.yml:5:14: functions\.hello\.timeout must be a number between 1 and 900/,
      );
      return true;
    });
  });

  test('no config file: InvalidConfigError naming `nimbus init`', async () => {
    const dir = await tempDir();
    await assert.rejects(loadAppConfig(dir), (err: unknown) => {
      assert.ok(isNimbusError(err));
      assert.equal(err.code, 'InvalidConfigError');
      assert.match(err.message, /No nimbus\.yml in .*`nimbus init`/);
      return true;
    });
    await assert.rejects(loadAppConfig(join(dir, 'missing')), /No nimbus\.yml/);
  });
});
