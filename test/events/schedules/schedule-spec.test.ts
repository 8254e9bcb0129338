// The `schedule` events of a deploy: every accepted spelling, defaults, and the errors' paths.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schedulesOfFunction } from '../../../src/events/schedules/schedule-spec.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';

installLeakGuard();

const fn = (events: unknown[]) => ({ name: 'work', fullName: 'shop-work', events });

test('string, mapping, cron key, list of rates, Serverless method; defaults', () => {
  const defs = schedulesOfFunction(
    'shop',
    fn([
      { http: 'GET /' },
      { schedule: 'rate(1 hour)' },
      { schedule: { cron: 'cron(*/5 * * * *)', timeZone: 'America/New_York', method: 'scheduler' } },
      { schedule: { rate: ['rate(2 hours)', 'cron(0 12 L * ? *)'], description: 'twice', catchUp: true } },
      { schedule: { rate: 'rate(1 day)', input: '{"a":1}', name: 'daily' } },
      { schedule: { rate: 'rate(1 day)', input: 'plain text', name: 'texty' } },
    ]),
  );
  assert.deepEqual(
    defs.map((d) => [d.name, d.expression, d.timeZone, d.enabled, d.catchUp, d.input, d.description]),
    [
      ['work-schedule-1', 'rate(1 hour)', 'UTC', true, false, undefined, undefined],
      ['work-schedule-2', 'cron(*/5 * * * *)', 'America/New_York', true, false, undefined, undefined],
      ['work-schedule-3-1', 'rate(2 hours)', 'UTC', true, true, undefined, 'twice'],
      ['work-schedule-3-2', 'cron(0 12 L * ? *)', 'UTC', true, true, undefined, 'twice'],
      ['daily', 'rate(1 day)', 'UTC', true, false, '{"a":1}', undefined],
      ['texty', 'rate(1 day)', 'UTC', true, false, '"plain text"', undefined],
    ],
  );
  assert.ok(defs.every((d) => d.app === 'shop' && d.functionName === 'shop-work'));
});

test('errors carry the path of the event and the fix', () => {
  const refuses = (events: unknown[], pattern: RegExp) =>
    assert.throws(
      () => schedulesOfFunction('shop', fn(events)),
      (err: Error & { code?: string }) =>
        err.code === 'InvalidParameterValueException' && pattern.test(err.message),
    );
  refuses([{ schedule: 42 }], /^functions\.work\.events\[0\]\.schedule: must be an expression/);
  refuses([{ schedule: { rate: [] } }], /events\[0\]\.schedule: `rate` must be an expression or a list/);
  refuses(
    [{ schedule: { rate: 'rate(1 hour)', enabled: 'no' } }],
    /schedule\.enabled: must be true or false/,
  );
  refuses([{ schedule: { rate: 'rate(1 hour)', name: 'bad name' } }], /schedule\.name: must be 1-64/);
  refuses(
    [{ schedule: 'cron(0 12 * * ? *' }],
    /events\[0\]\.schedule: 'cron\(0 12 \* \* \? \*' is not a schedule expression/,
  );
});
