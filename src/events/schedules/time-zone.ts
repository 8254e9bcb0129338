// IANA time zones without a dependency: wall-clock parts of an instant and the instant of a wall
// time (with the DST gap and overlap rules schedules use), built on Intl.DateTimeFormat.

/** A wall-clock time in some zone (month 1-12, weekday 0 = Sunday). */
export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True if `timeZone` is an IANA zone name this runtime knows (`UTC`, `Europe/Berlin`). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatterOf(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time of instant `ms` in `timeZone`. */
export function wallTimeOf(ms: number, timeZone: string): WallTime {
  const parts = formatterOf(timeZone).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value ?? '0');
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

/** The zone's offset from UTC at instant `ms`, in ms (Berlin in summer: +7_200_000). */
export function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const w = wallTimeOf(whole, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

const DAY_MS = 86_400_000;

/**
 * The instant of a wall-clock time in `timeZone`. Why these rules (documented in docs/events.md):
 * - a wall time that occurs twice (the repeated hour when clocks fall back) resolves to its FIRST
 *   occurrence, so a schedule fires once, not twice;
 * - a wall time that does not exist (skipped when clocks spring forward) resolves to the instant
 *   the same distance past the gap's start, i.e. 02:30 on a 02:00→03:00 day fires at 03:30 (the
 *   tick is late by the gap rather than lost).
 */
export function instantOfWallTime(
  wall: Omit<WallTime, 'second'> & { second?: number },
  timeZone: string,
): number {
  const w = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second ?? 0);
  const before = offsetAt(w - DAY_MS, timeZone);
  const after = offsetAt(w + DAY_MS, timeZone);
  const candidates: number[] = [];
  for (const o of new Set([before, offsetAt(w, timeZone), after])) {
    const t = w - o;
    if (offsetAt(t, timeZone) === o) candidates.push(t);
  }
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: interpret with the offset in force before it.
  return w - before;
}

/** Days in a month (month 1-12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Weekday of a calendar date, 0 = Sunday. */
export function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** `2026-12-01T12:00:00+01:00` style text of instant `ms` in `timeZone`. */
export function formatInZone(ms: number, timeZone: string): string {
  const w = wallTimeOf(ms, timeZone);
  const off = Math.round(offsetAt(ms, timeZone) / 60_000);
  const p = (n: number, l = 2): string => String(n).padStart(l, '0');
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const zone = off === 0 ? 'Z' : `${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}${zone}`;
}
