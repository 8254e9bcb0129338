// Schedule expressions: rate/cron/at parsing, errors, and next ticks across DST, month ends and years.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseScheduleExpression, checkTimeZone } from '../../../src/events/schedules/schedule-expression.js';
import { formatInZone } from '../../../src/events/schedules/time-zone.js';
import { installLeakGuard } from '../../helpers/leak-guard.js';

installLeakGuard();

const iso = (s: string): number => Date.parse(s);

/** The next `count` ticks after `from`, formatted in `tz`. */
function ticks(expr: string, from: string, tz = 'UTC', count = 4): string[] {
  const e = parseScheduleExpression(expr);
  const out: string[] = [];
  let t = iso(from);
  for (let i = 0; i < count; i++) {
    const n = e.next(t, tz);
    if (n === undefined) break;
    out.push(formatInZone(n, tz));
    t = n;
  }
  return out;
}

function refuses(expr: string, pattern: RegExp): void {
  assert.throws(
    () => parseScheduleExpression(expr),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'InvalidParameterValueException');
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('rate()', () => {
  test('ticks at multiples of the period since the epoch', () => {
    assert.deepEqual(ticks('rate(5 minutes)', '2026-03-01T10:02:30Z', 'UTC', 3), [
      '2026-03-01T10:05:00Z',
      '2026-03-01T10:10:00Z',
      '2026-03-01T10:15:00Z',
    ]);
    assert.deepEqual(ticks('rate(1 minute)', '2026-03-01T10:05:00Z', 'UTC', 1), ['2026-03-01T10:06:00Z']);
    assert.deepEqual(ticks('rate(2 hours)', '2026-03-01T10:05:00Z', 'UTC', 2), [
      '2026-03-01T12:00:00Z',
      '2026-03-01T14:00:00Z',
    ]);
    assert.deepEqual(ticks('rate(1 day)', '2026-03-01T10:05:00Z', 'UTC', 1), ['2026-03-02T00:00:00Z']);
    assert.equal(parseScheduleExpression('rate(2 hours)').periodMs, 7_200_000);
  });

  test('singular exactly for 1, as AWS', () => {
    refuses('rate(1 minutes)', /rate\(1 minute\)/);
    refuses('rate(5 minute)', /rate\(5 minutes\)/);
    refuses('rate(0 minutes)', /at least 1/);
    refuses('rate(5 weeks)', /unknown unit 'weeks'/);
    refuses('rate(five minutes)', /whole number/);
  });
});

describe('cron() AWS 6 fields', () => {
  test('daily at noon UTC and in a zone', () => {
    assert.deepEqual(ticks('cron(0 12 * * ? *)', '2026-03-01T12:00:00Z', 'UTC', 2), [
      '2026-03-02T12:00:00Z',
      '2026-03-03T12:00:00Z',
    ]);
    assert.deepEqual(ticks('cron(0 12 * * ? *)', '2026-07-01T00:00:00Z', 'Europe/Berlin', 1), [
      '2026-07-01T12:00:00+02:00',
    ]);
  });

  test('weekdays by name and number (1 = SUN)', () => {
    // 2026-03-06 is a Friday.
    assert.deepEqual(ticks('cron(0 9 ? * MON-FRI *)', '2026-03-06T10:00:00Z', 'UTC', 2), [
      '2026-03-09T09:00:00Z',
      '2026-03-10T09:00:00Z',
    ]);
    assert.deepEqual(ticks('cron(0 9 ? * 1 *)', '2026-03-06T10:00:00Z', 'UTC', 1), ['2026-03-08T09:00:00Z']);
  });

  test('lists, ranges and steps', () => {
    assert.deepEqual(ticks('cron(0/15 8-9 * * ? *)', '2026-03-01T09:40:00Z', 'UTC', 3), [
      '2026-03-01T09:45:00Z',
      '2026-03-02T08:00:00Z',
      '2026-03-02T08:15:00Z',
    ]);
    assert.deepEqual(ticks('cron(5,35 */12 * JAN,JUL ? *)', '2026-01-31T12:10:00Z', 'UTC', 2), [
      '2026-01-31T12:35:00Z',
      '2026-07-01T00:05:00Z',
    ]);
  });

  test('L: last day of month, including Feb in leap and common years', () => {
    assert.deepEqual(ticks('cron(0 0 L * ? *)', '2027-12-31T12:00:00Z', 'UTC', 3), [
      '2028-01-31T00:00:00Z',
      '2028-02-29T00:00:00Z',
      '2028-03-31T00:00:00Z',
    ]);
    assert.deepEqual(ticks('cron(0 0 L FEB ? *)', '2026-01-01T00:00:00Z', 'UTC', 1), [
      '2026-02-28T00:00:00Z',
    ]);
  });

  test('Feb 29 fires only in leap years', () => {
    assert.deepEqual(ticks('cron(0 0 29 2 ? *)', '2026-01-01T00:00:00Z', 'UTC', 2), [
      '2028-02-29T00:00:00Z',
      '2032-02-29T00:00:00Z',
    ]);
  });

  test('W: nearest weekday inside the month; LW: last weekday', () => {
    // 2026-02-15 is a Sunday → Monday 16th; 2026-08-01 is a Saturday → Monday 3rd (stays in month).
    assert.deepEqual(ticks('cron(0 9 15W * ? *)', '2026-02-01T00:00:00Z', 'UTC', 1), [
      '2026-02-16T09:00:00Z',
    ]);
    assert.deepEqual(ticks('cron(0 9 1W * ? *)', '2026-07-31T00:00:00Z', 'UTC', 1), ['2026-08-03T09:00:00Z']);
    // 2026-05-31 is a Sunday → last weekday Friday 29th.
    assert.deepEqual(ticks('cron(0 9 LW * ? *)', '2026-05-01T00:00:00Z', 'UTC', 1), ['2026-05-29T09:00:00Z']);
  });

  test('#: nth weekday; nL: last such weekday; L alone is Saturday', () => {
    // Second Tuesday (3#2) of March 2026 is the 10th; last Friday (6L) is the 27th.
    assert.deepEqual(ticks('cron(0 9 ? * 3#2 *)', '2026-03-01T00:00:00Z', 'UTC', 2), [
      '2026-03-10T09:00:00Z',
      '2026-04-14T09:00:00Z',
    ]);
    assert.deepEqual(ticks('cron(0 18 ? * 6L *)', '2026-03-01T00:00:00Z', 'UTC', 1), [
      '2026-03-27T18:00:00Z',
    ]);
    assert.deepEqual(ticks('cron(0 18 ? * FRIL *)', '2026-03-01T00:00:00Z', 'UTC', 1), [
      '2026-03-27T18:00:00Z',
    ]);
    assert.deepEqual(ticks('cron(0 0 ? * L *)', '2026-03-01T00:00:00Z', 'UTC', 1), ['2026-03-07T00:00:00Z']);
  });

  test('the year field bounds the ticks', () => {
    assert.deepEqual(ticks('cron(0 0 1 1 ? 2027-2028)', '2026-05-01T00:00:00Z', 'UTC', 5), [
      '2027-01-01T00:00:00Z',
      '2028-01-01T00:00:00Z',
    ]);
    assert.equal(
      parseScheduleExpression('cron(0 0 1 1 ? 2020)').next(iso('2026-01-01T00:00:00Z'), 'UTC'),
      undefined,
    );
  });

  test('errors name the field, its position and an example', () => {
    refuses('cron(0 12 * * * *)', /exactly one of them must be '\?'.*cron\(0 12 \* \* \? \*\)/);
    refuses('cron(0 12 ? * ? *)', /sets neither/);
    refuses('cron(60 12 * * ? *)', /field 1 \(minutes\) '60': 60 is out of range; values are 0-59/);
    refuses('cron(0 12 ? * 8 *)', /field 5 \(day-of-week\) '8'.*1-7 or SUN-SAT/);
    refuses('cron(0 12 * FOO ? *)', /field 4 \(month\) 'FOO'/);
    refuses('cron(0 12 * * ? 2300)', /field 6 \(year\)/);
    refuses('cron(0 12 ? * 3#1,6#3 *)', /one expression only/);
    refuses('cron(0 12 ? * 3#6 *)', /#<1-5>/);
    refuses('cron(0 12 5-1 * ? *)', /runs backwards/);
    refuses('cron(0 12 * *)', /has 4 fields/);
    refuses('cron(0 0 31 2 ? *)', /never fires/);
    refuses('every day', /not a schedule expression/);
  });
});

describe('cron() unix 5 fields', () => {
  test('steps and names', () => {
    assert.deepEqual(ticks('cron(*/5 * * * *)', '2026-03-01T10:02:00Z', 'UTC', 2), [
      '2026-03-01T10:05:00Z',
      '2026-03-01T10:10:00Z',
    ]);
    assert.deepEqual(ticks('*/30 * * * *', '2026-03-01T10:02:00Z', 'UTC', 1), ['2026-03-01T10:30:00Z']);
  });

  test('dow 0 and 7 are Sunday', () => {
    // 2026-03-08 is a Sunday.
    assert.deepEqual(ticks('cron(0 9 * * 0)', '2026-03-06T00:00:00Z', 'UTC', 1), ['2026-03-08T09:00:00Z']);
    assert.deepEqual(ticks('cron(0 9 * * 7)', '2026-03-06T00:00:00Z', 'UTC', 1), ['2026-03-08T09:00:00Z']);
    assert.deepEqual(ticks('cron(0 9 * * SUN)', '2026-03-06T00:00:00Z', 'UTC', 1), ['2026-03-08T09:00:00Z']);
  });

  test('dom and dow both restricted: either matches (Vixie)', () => {
    // The 13th (a Friday in March 2026) or any Monday.
    assert.deepEqual(ticks('cron(0 0 13 * MON)', '2026-03-08T12:00:00Z', 'UTC', 3), [
      '2026-03-09T00:00:00Z',
      '2026-03-13T00:00:00Z',
      '2026-03-16T00:00:00Z',
    ]);
    // With a star in dom, dow alone decides.
    assert.deepEqual(ticks('cron(0 0 * * MON)', '2026-03-08T12:00:00Z', 'UTC', 2), [
      '2026-03-09T00:00:00Z',
      '2026-03-16T00:00:00Z',
    ]);
  });

  test('AWS-only syntax is refused with the 6-field example', () => {
    refuses('cron(0 12 ? * *)', /'\?' exists only in the 6-field AWS form/);
    refuses('cron(0 12 L * *)', /'L' exists only/);
  });
});

describe('time zones and DST', () => {
  test('Europe/Berlin spring forward: 02:30 does not exist and fires at 03:30', () => {
    // 2026-03-29: 02:00 CET → 03:00 CEST.
    assert.deepEqual(ticks('cron(30 2 * * ? *)', '2026-03-28T12:00:00Z', 'Europe/Berlin', 3), [
      '2026-03-29T03:30:00+02:00',
      '2026-03-30T02:30:00+02:00',
      '2026-03-31T02:30:00+02:00',
    ]);
  });

  test('Europe/Berlin fall back: the repeated 02:30 fires once', () => {
    // 2026-10-25: 03:00 CEST → 02:00 CET; 02:30 happens twice.
    const out = ticks('cron(30 2 * * ? *)', '2026-10-24T12:00:00Z', 'Europe/Berlin', 2);
    assert.deepEqual(out, ['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00']);
    // Hourly across the repeated hour: each wall time once, 02:xx at its first pass.
    const hourly = ticks('cron(0 * * * ? *)', '2026-10-25T00:30:00+02:00', 'Europe/Berlin', 3);
    assert.deepEqual(hourly, [
      '2026-10-25T01:00:00+02:00',
      '2026-10-25T02:00:00+02:00',
      '2026-10-25T03:00:00+01:00',
    ]);
  });

  test('America/New_York: noon stays noon across DST, hourly skips the gap', () => {
    assert.deepEqual(ticks('cron(0 12 * * ? *)', '2026-03-07T18:00:00Z', 'America/New_York', 2), [
      '2026-03-08T12:00:00-04:00',
      '2026-03-09T12:00:00-04:00',
    ]);
    // 2026-03-08 02:00 EST → 03:00 EDT: 02:00 maps onto 03:00, which fires once.
    assert.deepEqual(ticks('cron(0 * * * ? *)', '2026-03-08T00:30:00-05:00', 'America/New_York', 3), [
      '2026-03-08T01:00:00-05:00',
      '2026-03-08T03:00:00-04:00',
      '2026-03-08T04:00:00-04:00',
    ]);
    // Fall back 2026-11-01: 01:30 fires once.
    assert.deepEqual(ticks('cron(30 1 * * ? *)', '2026-10-31T12:00:00Z', 'America/New_York', 2), [
      '2026-11-01T01:30:00-04:00',
      '2026-11-02T01:30:00-05:00',
    ]);
  });

  test('rate ignores the zone', () => {
    const e = parseScheduleExpression('rate(1 hour)');
    assert.equal(e.next(iso('2026-03-29T00:30:00Z'), 'Europe/Berlin'), iso('2026-03-29T01:00:00Z'));
  });

  test('unknown zones are refused', () => {
    assert.throws(() => checkTimeZone('Mars/Olympus'), /unknown time zone 'Mars\/Olympus'.*Europe\/Berlin/);
    checkTimeZone('Europe/Berlin');
  });
});

describe('at()', () => {
  test('one tick in the zone, none after it', () => {
    const e = parseScheduleExpression('at(2026-12-01T10:00:00)');
    const t = e.next(iso('2026-01-01T00:00:00Z'), 'Europe/Berlin');
    assert.equal(t, iso('2026-12-01T09:00:00Z'));
    assert.equal(e.next(t!, 'Europe/Berlin'), undefined);
    refuses('at(2026-13-01T10:00:00)', /at\(yyyy-mm-ddThh:mm:ss\)/);
  });
});
