// Cron expressions: the AWS EventBridge 6-field form (`0 12 * * ? *`, with ? L W # and a year)
// and the standard 5-field form (`*/5 * * * *`, Vixie dom/dow OR), parsed once and asked for the
// next tick after an instant in an IANA time zone.

import { NimbusError } from '../../errors.js';
import { daysInMonth, instantOfWallTime, wallTimeOf, weekdayOf } from './time-zone.js';

/** Which cron dialect an expression was written in. */
export type CronDialect = 'aws' | 'unix';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names mapped to values (JAN → 1); `offset` is the value of the first name. */
  readonly names?: { readonly list: readonly string[]; readonly offset: number };
}

const AWS_FIELDS: readonly FieldSpec[] = [
  { label: 'minutes', min: 0, max: 59 },
  { label: 'hours', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: { list: MONTHS, offset: 1 } },
  { label: 'day-of-week', min: 1, max: 7, names: { list: DAYS, offset: 1 } },
  { label: 'year', min: 1970, max: 2199 },
];

const UNIX_FIELDS: readonly FieldSpec[] = [
  AWS_FIELDS[0]!,
  AWS_FIELDS[1]!,
  AWS_FIELDS[2]!,
  AWS_FIELDS[3]!,
  { label: 'day-of-week', min: 0, max: 7, names: { list: DAYS, offset: 0 } },
];

const AWS_EXAMPLE = 'cron(0 12 * * ? *) (minutes hours day-of-month month day-of-week year)';
const UNIX_EXAMPLE = 'cron(*/5 * * * *) (minute hour day-of-month month day-of-week)';

/** The day rules of a parsed expression (what `L`, `W`, `#` and the dom/dow combination mean). */
export interface DayRules {
  /** Plain day-of-month values. */
  readonly dom: ReadonlySet<number>;
  readonly domLast: boolean;
  readonly domLastWeekday: boolean;
  /** `15W`: the weekday nearest these days. */
  readonly domNearestWeekday: readonly number[];
  /** Plain weekdays, 0 = Sunday. */
  readonly dow: ReadonlySet<number>;
  /** `6L`: last such weekday of the month (0 = Sunday). */
  readonly dowLast: readonly number[];
  /** `3#2`: [weekday, nth]. */
  readonly dowNth: ReadonlyArray<readonly [number, number]>;
  /** How dom and dow combine: only one applies (AWS `?`), both must (unix with a `*`), or either. */
  readonly combine: 'dom' | 'dow' | 'and' | 'or';
}

/** The validated parts of an expression (built by {@link CronExpression.parse}). */
export interface CronParts {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  /** Undefined: any year. */
  readonly years: ReadonlySet<number> | undefined;
  readonly days: DayRules;
}

/** A parsed cron expression. Pure: `next` depends only on its arguments. */
export class CronExpression {
  readonly dialect: CronDialect;
  /** The fields as written, e.g. `0 12 * * ? *`. */
  readonly source: string;
  readonly #minutes: readonly number[];
  readonly #hours: readonly number[];
  readonly #months: ReadonlySet<number>;
  readonly #years: ReadonlySet<number> | undefined;
  readonly #days: DayRules;

  /** Use {@link CronExpression.parse}; the parts are already validated. */
  constructor(dialect: CronDialect, source: string, parts: CronParts) {
    this.dialect = dialect;
    this.source = source;
    this.#minutes = parts.minutes;
    this.#hours = parts.hours;
    this.#months = parts.months;
    this.#years = parts.years;
    this.#days = parts.days;
  }

  /**
   * Parses the fields inside `cron(...)`: six fields are the AWS dialect, five the unix one.
   * Throws `InvalidParameterValueException` naming the bad field, its position and an example.
   */
  static parse(fieldsText: string): CronExpression {
    const source = fieldsText.trim().replace(/\s+/g, ' ');
    const fields = source === '' ? [] : source.split(' ');
    if (fields.length === 6) return parseAws(source, fields);
    if (fields.length === 5) return parseUnix(source, fields);
    throw invalid(
      source,
      `has ${fields.length} field${fields.length === 1 ? '' : 's'}; write 6 fields as AWS does, e.g. ${AWS_EXAMPLE}, or 5 as unix cron does, e.g. ${UNIX_EXAMPLE}`,
    );
  }

  /** The first tick strictly after `after` (epoch ms) in `timeZone`, or undefined if none is left. */
  next(after: number, timeZone: string): number | undefined {
    const start = wallTimeOf(after, timeZone);
    // Walk calendar days in the zone from the day of `after`; instants are checked against
    // `after` (not wall times), which also skips the second pass of a repeated hour.
    let y = start.year;
    let m = start.month;
    let d = start.day;
    const lastYear = this.#years === undefined ? start.year + 30 : Math.max(...this.#years);
    while (y <= lastYear) {
      if (this.#years !== undefined && !this.#years.has(y)) {
        y += 1;
        m = 1;
        d = 1;
        continue;
      }
      if (!this.#months.has(m)) {
        m += 1;
        d = 1;
        if (m > 12) {
          m = 1;
          y += 1;
        }
        continue;
      }
      if (this.#dayMatches(y, m, d)) {
        const sameDay = y === start.year && m === start.month && d === start.day;
        for (const h of this.#hours) {
          if (sameDay && h < start.hour) continue;
          for (const min of this.#minutes) {
            if (sameDay && h === start.hour && min < start.minute) continue;
            const t = instantOfWallTime({ year: y, month: m, day: d, hour: h, minute: min }, timeZone);
            if (t > after) return t;
          }
        }
      }
      d += 1;
      if (d > daysInMonth(y, m)) {
        d = 1;
        m += 1;
        if (m > 12) {
          m = 1;
          y += 1;
        }
      }
    }
    return undefined;
  }

  #dayMatches(y: number, m: number, d: number): boolean {
    const r = this.#days;
    const last = daysInMonth(y, m);
    const wd = weekdayOf(y, m, d);
    const domOk = (): boolean =>
      r.dom.has(d) ||
      (r.domLast && d === last) ||
      (r.domLastWeekday && d === nearestWeekday(y, m, last)) ||
      r.domNearestWeekday.some((n) => n <= last && nearestWeekday(y, m, n) === d);
    const dowOk = (): boolean =>
      r.dow.has(wd) ||
      r.dowLast.some((w) => w === wd && d + 7 > last) ||
      r.dowNth.some(([w, n]) => w === wd && Math.ceil(d / 7) === n);
    switch (r.combine) {
      case 'dom':
        return domOk();
      case 'dow':
        return dowOk();
      case 'and':
        return domOk() && dowOk();
      case 'or':
        return domOk() || dowOk();
    }
  }
}

/** The weekday (Mon-Fri) nearest day `n` of the month, never leaving the month (Quartz/AWS `W`). */
function nearestWeekday(y: number, m: number, n: number): number {
  const wd = weekdayOf(y, m, n);
  const last = daysInMonth(y, m);
  if (wd === 6) return n === 1 ? 3 : n - 1;
  if (wd === 0) return n === last ? n - 2 : n + 1;
  return n;
}

function invalid(source: string, detail: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', `cron(${source}) ${detail}.`);
}

/** Parses one field into values; `special` handles tokens like `L`, `3W`, `6#2` (returns true if consumed). */
function parseField(
  source: string,
  text: string,
  index: number,
  spec: FieldSpec,
  example: string,
  special?: (token: string) => boolean,
): Set<number> {
  const where = `field ${index + 1} (${spec.label}) '${text}'`;
  const range = spec.names
    ? `${spec.min}-${spec.max} or ${spec.names.list[0]}-${spec.names.list.at(-1)}`
    : `${spec.min}-${spec.max}`;
  const fail = (why: string): NimbusError =>
    invalid(source, `${where}: ${why}; values are ${range}, e.g. ${example}`);
  const value = (token: string): number => {
    const upper = token.toUpperCase();
    const named = spec.names?.list.indexOf(upper) ?? -1;
    if (named >= 0) return named + spec.names!.offset;
    if (!/^\d+$/.test(token)) throw fail(`'${token}' is not a number${spec.names ? ' or a name' : ''}`);
    const n = Number(token);
    if (n < spec.min || n > spec.max) throw fail(`${n} is out of range`);
    return n;
  };
  const out = new Set<number>();
  for (const token of text.split(',')) {
    if (token === '') throw fail('an empty list item');
    if (special?.(token.toUpperCase())) continue;
    const [base, stepText, extra] = token.split('/');
    if (extra !== undefined) throw fail(`'${token}' has more than one '/'`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        throw fail(`step '${stepText}' must be a positive number`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (base === '*') {
      lo = spec.min;
      hi = spec.max;
    } else if (base!.includes('-')) {
      const [a, b, more] = base!.split('-');
      if (more !== undefined || a === '' || b === '') throw fail(`'${base}' is not a range like 1-5`);
      lo = value(a!);
      hi = value(b!);
      if (lo > hi) throw fail(`range ${base} runs backwards (write the smaller value first)`);
    } else {
      lo = value(base!);
      // `5/15` means from 5 to the end in steps of 15 (as AWS and Quartz read it).
      hi = stepText === undefined ? lo : spec.max;
    }
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

function sorted(values: Set<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

function parseAws(source: string, fields: string[]): CronExpression {
  const [minF, hourF, domF, monF, dowF, yearF] = fields as [string, string, string, string, string, string];
  const ex = AWS_EXAMPLE;
  const minutes = parseField(source, minF, 0, AWS_FIELDS[0]!, ex);
  const hours = parseField(source, hourF, 1, AWS_FIELDS[1]!, ex);
  const months = parseField(source, monF, 3, AWS_FIELDS[3]!, ex);
  const years = yearF === '*' ? undefined : parseField(source, yearF, 5, AWS_FIELDS[5]!, ex);
  if ((domF === '?') === (dowF === '?')) {
    throw invalid(
      source,
      `sets ${domF === '?' ? 'neither' : 'both'} day-of-month (field 3 '${domF}') and day-of-week (field 5 '${dowF}'); exactly one of them must be '?', e.g. cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)`,
    );
  }
  let domLast = false;
  let domLastWeekday = false;
  const domNearestWeekday: number[] = [];
  let dom = new Set<number>();
  if (domF !== '?') {
    dom = parseField(source, domF, 2, AWS_FIELDS[2]!, 'cron(0 12 L * ? *) or cron(0 9 15W * ? *)', (t) => {
      if (t === 'L') return (domLast = true);
      if (t === 'LW') return (domLastWeekday = true);
      const w = /^(\d+)W$/.exec(t);
      if (w === null) return false;
      const n = Number(w[1]);
      if (n < 1 || n > 31) {
        throw invalid(
          source,
          `field 3 (day-of-month) '${domF}': ${t} needs a day 1-31, e.g. cron(0 9 15W * ? *)`,
        );
      }
      domNearestWeekday.push(n);
      return true;
    });
  }
  const dowLast: number[] = [];
  const dowNth: Array<[number, number]> = [];
  let dow = new Set<number>();
  let saturday = false;
  if (dowF !== '?') {
    const dayValue = (t: string): number | undefined => {
      const named = DAYS.indexOf(t);
      if (named >= 0) return named;
      if (/^[1-7]$/.test(t)) return Number(t) - 1;
      return undefined;
    };
    const dowExample = 'cron(0 18 ? * 6L *) (last Friday) or cron(0 9 ? * 2#1 *) (first Monday)';
    if (dowF.includes('#') && dowF.includes(',')) {
      throw invalid(
        source,
        `field 5 (day-of-week) '${dowF}': with '#' the field holds one expression only (AWS reads '3#1,6#3' as two), e.g. ${dowExample}`,
      );
    }
    const aws = parseField(source, dowF, 4, AWS_FIELDS[4]!, dowExample, (t) => {
      if (t === 'L') {
        // `L` alone is the last day of the week: Saturday (7).
        saturday = true;
        return true;
      }
      const last = /^(\w+)L$/.exec(t);
      if (last !== null) {
        const w = dayValue(last[1]!);
        if (w === undefined)
          throw invalid(
            source,
            `field 5 (day-of-week) '${dowF}': '${t}' needs a day 1-7 or SUN-SAT before L, e.g. ${dowExample}`,
          );
        dowLast.push(w);
        return true;
      }
      const nth = /^(\w+)#(\d+)$/.exec(t);
      if (nth !== null) {
        const w = dayValue(nth[1]!);
        const n = Number(nth[2]);
        if (w === undefined || n < 1 || n > 5) {
          throw invalid(
            source,
            `field 5 (day-of-week) '${dowF}': '${t}' must be <day 1-7 or SUN-SAT>#<1-5>, e.g. ${dowExample}`,
          );
        }
        dowNth.push([w, n]);
        return true;
      }
      return false;
    });
    dow = new Set([...aws].map((v) => v - 1));
    if (saturday) dow.add(6);
  }
  return new CronExpression('aws', source, {
    minutes: sorted(minutes),
    hours: sorted(hours),
    months,
    years,
    days: {
      dom,
      domLast,
      domLastWeekday,
      domNearestWeekday,
      dow,
      dowLast,
      dowNth,
      combine: domF === '?' ? 'dow' : 'dom',
    },
  });
}

function parseUnix(source: string, fields: string[]): CronExpression {
  const [minF, hourF, domF, monF, dowF] = fields as [string, string, string, string, string];
  const ex = UNIX_EXAMPLE;
  for (const [i, f] of fields.entries()) {
    const bad = /[?LW#]/i.exec(
      f.replace(/[A-Z]{3}/gi, (n) =>
        MONTHS.includes(n.toUpperCase()) || DAYS.includes(n.toUpperCase()) ? '' : n,
      ),
    );
    if (bad !== null) {
      throw invalid(
        source,
        `field ${i + 1} '${f}': '${bad[0]}' exists only in the 6-field AWS form; write it as AWS does, e.g. ${AWS_EXAMPLE}`,
      );
    }
  }
  const dom = parseField(source, domF, 2, UNIX_FIELDS[2]!, ex);
  const dowRaw = parseField(source, dowF, 4, UNIX_FIELDS[4]!, ex);
  // Vixie cron: if either day field starts with '*', both must match (the star matches all);
  // if both are restricted, a day matching either runs.
  const star = domF.startsWith('*') || dowF.startsWith('*');
  return new CronExpression('unix', source, {
    minutes: sorted(parseField(source, minF, 0, UNIX_FIELDS[0]!, ex)),
    hours: sorted(parseField(source, hourF, 1, UNIX_FIELDS[1]!, ex)),
    months: parseField(source, monF, 3, UNIX_FIELDS[3]!, ex),
    years: undefined,
    days: {
      dom,
      domLast: false,
      domLastWeekday: false,
      domNearestWeekday: [],
      dow: new Set([...dowRaw].map((v) => v % 7)),
      dowLast: [],
      dowNth: [],
      combine: star ? 'and' : 'or',
    },
  });
}
