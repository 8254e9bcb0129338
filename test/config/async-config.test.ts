// Async invocation settings in nimbus.yml / serverless.yml: retries, event age, destination and
// dead-letter targets in every accepted spelling, and positioned errors for bad ones.
import { installLeakGuard } from '../helpers/leak-guard.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAppConfig } from '../../src/config/load-app-config.js';
import { ConfigError } from '../../src/config/config-error.js';
import { FUNCTION_DEFAULTS } from '../../src/functions/function-model.js';
import { functionConfigSchema } from '../../src/functions/function-config-schema.js';

installLeakGuard();

function issues(text: string, file = 'nimbus.yml'): ConfigError['issues'] {
  try {
    parseAppConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  assert.fail('expected the config to be rejected');
}

const fn = (settings: string) => `app: shop
functions:
  work:
    handler: index.work
${settings
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
  audit:
    handler: index.audit
`;

describe('async settings', () => {
  test('defaults: 2 retries, 6 h event age, no destinations', () => {
    const config = parseAppConfig(fn(''), 'nimbus.yml');
    const c = config.functions[0]!.config;
    assert.equal(c.maximumRetryAttempts, 2);
    assert.equal(c.maximumEventAge, 21_600);
    assert.deepEqual(c.destinations, {});
    assert.equal(c.deadLetter, undefined);
    assert.equal(FUNCTION_DEFAULTS.maximumRetryAttempts, 2);
  });

  test('every target spelling compiles to { type, name }; functions of the app get full names', () => {
    const config = parseAppConfig(
      fn(
        [
          'maximumRetryAttempts: 0',
          'maximumEventAge: 60',
          'destinations:',
          '  onSuccess: audit',
          '  onFailure: arn:aws:sns:us-east-1:123456789012:alerts',
          'onError: arn:aws:sqs:eu-west-1:123456789012:work-dlq',
        ].join('\n'),
      ),
      'nimbus.yml',
    );
    const c = config.functions[0]!.config;
    assert.equal(c.maximumRetryAttempts, 0);
    assert.equal(c.maximumEventAge, 60);
    assert.deepEqual(c.destinations, {
      onSuccess: { type: 'function', name: 'shop-audit' },
      onFailure: { type: 'topic', name: 'alerts' },
    });
    assert.deepEqual(c.deadLetter, { type: 'queue', name: 'work-dlq' });

    const cases: Array<[string, unknown]> = [
      ['queue:jobs', { type: 'queue', name: 'jobs' }],
      ['topic:updates', { type: 'topic', name: 'updates' }],
      ['function:audit', { type: 'function', name: 'shop-audit' }],
      ['function:other-app-fn', { type: 'function', name: 'other-app-fn' }],
      ['{ type: queue, name: jobs }', { type: 'queue', name: 'jobs' }],
      ['{ type: sns, arn: "arn:aws:sns:us-east-1:1:t" }', { type: 'topic', name: 't' }],
      [
        'arn:aws:lambda:us-east-1:123456789012:function:shop-audit:live',
        { type: 'function', name: 'shop-audit' },
      ],
    ];
    for (const [written, compiled] of cases) {
      const c2 = parseAppConfig(fn(`destinations:\n  onFailure: ${written}`), 'nimbus.yml').functions[0]!
        .config;
      assert.deepEqual(c2.destinations.onFailure, compiled, written);
    }
    const dl = parseAppConfig(fn('deadLetter: { topic: failures }'), 'nimbus.yml').functions[0]!.config;
    assert.deepEqual(dl.deadLetter, { type: 'topic', name: 'failures' });
    // The compiled config is what the deploy API validates again.
    assert.ok(functionConfigSchema.safeParse(c).success);
  });

  test('serverless.yml: the keys are real settings now, not ignored with a warning', () => {
    const config = parseAppConfig(
      `service: shop
provider: { name: aws, runtime: nodejs20.x }
functions:
  work:
    handler: index.work
    maximumRetryAttempts: 1
    destinations: { onFailure: arn:aws:sqs:us-east-1:1:failed }
`,
      'serverless.yml',
    );
    assert.equal(config.functions[0]!.config.maximumRetryAttempts, 1);
    assert.deepEqual(config.functions[0]!.config.destinations.onFailure, { type: 'queue', name: 'failed' });
    assert.deepEqual(
      config.warnings.filter((w) => /destinations|maximumRetryAttempts/.test(w.path)),
      [],
    );
  });

  test('bad values are errors at their file:line with the fix', () => {
    const text = fn(
      [
        'maximumRetryAttempts: 3', // line 5
        'maximumEventAge: 30', // line 6
        'destinations:',
        '  onSuccess: nowhere', // line 8
        '  onFailur: queue:x', // line 9
        'onError: function:audit', // line 10
      ].join('\n'),
    );
    const found = issues(text);
    const at = (line: number) => found.find((i) => i.line === line);
    assert.match(at(5)?.message ?? '', /maximumRetryAttempts must be a number between 0 and 2/);
    assert.match(at(6)?.message ?? '', /maximumEventAge must be a number between 60 and 21600/);
    assert.match(at(8)?.message ?? '', /onSuccess must be `queue:<name>`.*got "nowhere"/);
    assert.match(at(9)?.message ?? '', /unknown key `onFailur`.*onSuccess, onFailure/);
    assert.match(at(10)?.message ?? '', /onError must be a queue or a topic/);
    for (const i of found) assert.equal(i.file, 'nimbus.yml');
  });

  test('onError and deadLetter together, and a malformed deadLetter, are errors', () => {
    const both = issues(fn('onError: dlq\ndeadLetter: { queue: dlq }'));
    assert.ok(both.some((i) => /either `onError`.*or `deadLetter`/.test(i.message) && i.line === 6));
    const bad = issues(fn('deadLetter: dlq'));
    assert.ok(
      bad.some((i) => /deadLetter must be a mapping `\{ queue: <name> \}`/.test(i.message) && i.line === 5),
    );
  });

  test('a function as its own destination is refused (it would loop)', () => {
    const found = issues(fn('destinations:\n  onSuccess: work'));
    assert.ok(
      found.some((i) => /is the function itself/.test(i.message) && i.line === 6),
      JSON.stringify(found),
    );
  });

  test('the deploy API refuses a function as dead-letter target', () => {
    const r = functionConfigSchema.safeParse({
      runtime: 'nodejs',
      handler: 'index.h',
      deadLetter: { type: 'function', name: 'x' },
    });
    assert.equal(r.success, false);
  });
});
