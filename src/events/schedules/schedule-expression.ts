// Schedule expressions as nimbus.yml and the API take them: `rate(5 minutes)`, `cron(...)` (AWS
// 6 fields or unix 5 fields) and the one-shot `at(2026-12-01T10:00:00)`; parse once, ask `next`.

import { NimbusError } from '../../errors.js';
import { CronExpression } from './cron-expression.js';
import { instantOfWallTime, isValidTimeZone } from './time-zone.js';

/** What kind of expression it is. */
export type ScheduleKind = 'rate' | 'cron' | 'at';

/** A parsed schedule expression. */
export interface ScheduleExpression {
  readonly kind: ScheduleKind;
  /** The expression normalised (`rate(5 minutes)`, `cron(0 12 * * ? *)`). */
  readonly text: string;
  /** For `rate(...)`, the period in ms. */
  readonly periodMs?: number | undefined;
  /**
   * The first tick strictly after `after` (epoch ms), or undefined if there is none (an `at()`
   * in the past, a cron whose years are over). `rate` ignores the zone; `cron` and `at` read
   * wall-clock times in it.
   */
  next(after: number, timeZone: string): number | undefined;
}

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

const EXAMPLES =
  '`rate(5 minutes)`, `rate(1 hour)`, `cron(0 12 * * ? *)`, `cron(*/5 * * * *)` or `at(2026-12-01T10:00:00)`';

function invalid(message: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', message);
}

/**
 * `rate(<n> <unit>)`: ticks at every multiple of the period since the Unix epoch (UTC), so every
 * node and every redeploy computes the same ticks without stored state: `rate(5 minutes)` fires
 * at :00, :05, ...; `rate(1 day)` at 00:00 UTC. (AWS starts counting at rule creation instead.)
 */
function parseRate(inner: string, original: string): ScheduleExpression {
  const m = /^(\d+)\s+([a-z]+)$/i.exec(inner.trim());
  if (m === null) {
    throw invalid(
      `${original}: a rate is \`rate(<value> <unit>)\` with a whole number and minute(s), hour(s) or day(s), e.g. rate(5 minutes) or rate(1 hour).`,
    );
  }
  const value = Number(m[1]);
  const unitText = m[2]!.toLowerCase();
  const singular = unitText.replace(/s$/, '') as keyof typeof UNIT_MS;
  if (!(singular in UNIT_MS)) {
    throw invalid(
      `${original}: unknown unit '${m[2]}'; use minute(s), hour(s) or day(s), e.g. rate(5 minutes).`,
    );
  }
  if (value < 1) throw invalid(`${original}: the value must be at least 1, e.g. rate(1 ${singular}).`);
  // As AWS: the unit is singular exactly when the value is 1 (`rate(1 minutes)` is refused).
  const want = value === 1 ? singular : `${singular}s`;
  if (unitText !== want) {
    throw invalid(
      `${original}: write \`rate(${value} ${want})\`; the unit is singular only for a value of 1 (as AWS requires).`,
    );
  }
  const periodMs = value * UNIT_MS[singular];
  return {
    kind: 'rate',
    text: `rate(${value} ${want})`,
    periodMs,
    next: (after) => (Math.floor(after / periodMs) + 1) * periodMs,
  };
}

/** `at(yyyy-mm-ddThh:mm:ss)`: one tick at that wall-clock time in the schedule's zone. */
function parseAt(inner: string, original: string): ScheduleExpression {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(inner.trim());
  const parts = m?.slice(1).map((v) => Number(v ?? 0));
  if (
    parts === undefined ||
    parts[1]! < 1 ||
    parts[1]! > 12 ||
    parts[2]! < 1 ||
    parts[2]! > 31 ||
    parts[3]! > 23 ||
    parts[4]! > 59 ||
    parts[5]! > 59
  ) {
    throw invalid(
      `${original}: a one-time schedule is \`at(yyyy-mm-ddThh:mm:ss)\` in the schedule's time zone (no offset), e.g. at(2026-12-01T10:00:00).`,
    );
  }
  const [year, month, day, hour, minute, second] = parts as [number, number, number, number, number, number];
  return {
    kind: 'at',
    text: `at(${inner.trim()})`,
    next: (after, timeZone) => {
      const t = instantOfWallTime({ year, month, day, hour, minute, second }, timeZone);
      return t > after ? t : undefined;
    },
  };
}

/**
 * Parses a schedule expression. A bare 5-field cron line (`*\/5 * * * *`) is accepted as if
 * written `cron(...)`. Throws `InvalidParameterValueException` saying what is wrong and how to
 * write it.
 */
export function parseScheduleExpression(text: string): ScheduleExpression {
  const original = text.trim();
  const m = /^(rate|cron|at)\s*\((.*)\)$/is.exec(original);
  if (m === null) {
    if (original.split(/\s+/).length === 5 && !original.includes('(')) return parseCron(original);
    throw invalid(`'${original}' is not a schedule expression; write ${EXAMPLES}.`);
  }
  const kind = m[1]!.toLowerCase();
  if (kind === 'rate') return parseRate(m[2]!, original);
  if (kind === 'at') return parseAt(m[2]!, original);
  return parseCron(m[2]!);
}

function parseCron(inner: string): ScheduleExpression {
  const cron = CronExpression.parse(inner);
  // A cron that can never fire (31 FEB, a year range in the past) is refused rather than kept
  // as a schedule that silently does nothing. Checked from the start of 1970 UTC so the verdict
  // does not depend on today's date for expressions without a year.
  const probe = cron.next(cron.dialect === 'aws' ? Date.UTC(1969, 11, 31) : Date.now(), 'UTC');
  if (probe === undefined) {
    throw invalid(
      `cron(${cron.source}) never fires (no date matches all fields); check the day-of-month, month and year fields.`,
    );
  }
  return { kind: 'cron', text: `cron(${cron.source})`, next: (after, tz) => cron.next(after, tz) };
}

/** Throws `InvalidParameterValueException` unless `timeZone` is an IANA zone name. */
export function checkTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) {
    throw invalid(
      `unknown time zone '${timeZone}'; use an IANA zone name such as UTC, Europe/Berlin or America/New_York.`,
    );
  }
}
