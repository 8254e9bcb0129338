// Small statistics helpers for the benchmarks: nearest-rank percentiles and summaries.

/** Summary of a sample of timings (same unit as the input). */
export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile (`p` in 0..100) of `xs`; NaN for an empty sample. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** p50/p90/p99/min/max/mean of `xs`. */
export function summarize(xs: readonly number[]): Summary {
  const sum = xs.reduce((a, b) => a + b, 0);
  return {
    n: xs.length,
    p50: percentile(xs, 50),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    min: xs.length ? Math.min(...xs) : Number.NaN,
    max: xs.length ? Math.max(...xs) : Number.NaN,
    mean: xs.length ? sum / xs.length : Number.NaN,
  };
}

/** `p50 1.23 / p99 4.56 ms (n=40)` */
export function fmtSummary(s: Summary, unit = 'ms', digits = 2): string {
  return `p50 ${s.p50.toFixed(digits)} / p99 ${s.p99.toFixed(digits)} ${unit} (n=${s.n})`;
}

/** Resolve after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Time an async function, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const value = await fn();
  return [performance.now() - t, value];
}
