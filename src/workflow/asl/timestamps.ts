// RFC 3339 timestamps as ASL uses them (Wait Timestamp, Timestamp* comparisons, IsTimestamp).

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A parsed timestamp: epoch milliseconds plus the sub-millisecond part, for exact ordering. */
export interface Instant {
  readonly epochMs: number;
  /** Nanoseconds beyond the millisecond (0–999999). */
  readonly subMsNanos: number;
}

/** Parses an ASL timestamp (uppercase T and Z, offset allowed); undefined when invalid. */
export function parseTimestamp(value: unknown): Instant | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(Number(y), month)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  const digits = (frac ?? '.').slice(1).padEnd(9, '0').slice(0, 9);
  const ms = Number(digits.slice(0, 3));
  const base = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s === '60' ? '59' : s}${zone}`);
  if (Number.isNaN(base)) return undefined;
  return { epochMs: base + ms + (s === '60' ? 1000 : 0), subMsNanos: Number(digits.slice(3)) };
}

/** Whether `value` is a valid ASL timestamp. */
export function isTimestamp(value: unknown): boolean {
  return parseTimestamp(value) !== undefined;
}

/** Orders two instants: negative, zero or positive. */
export function compareInstants(a: Instant, b: Instant): number {
  return a.epochMs !== b.epochMs ? a.epochMs - b.epochMs : a.subMsNanos - b.subMsNanos;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
