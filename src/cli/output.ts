// Terminal output for the CLI: colours (off unless a TTY without NO_COLOR and --json), tables, sizes.
import { styleText } from 'node:util';

/** The part of a writable stream the CLI uses; `process.stdout` and test buffers both fit. */
export interface CliStream {
  write(chunk: string): unknown;
  /** True when the stream is an interactive terminal. */
  readonly isTTY?: boolean;
  /** Terminal width in columns, when known. */
  readonly columns?: number;
}

/** Styles the CLI uses; a subset of `util.inspect.colors`. */
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan' | 'gray';

/** Where output goes and whether it may be styled. */
export interface Output {
  readonly stream: CliStream;
  /** Whether ANSI styles are written. */
  readonly color: boolean;
  /** Wraps `text` in `style` when colour is on; returns it unchanged otherwise. */
  style(style: Style | Style[], text: string): string;
  /** Writes `text` followed by a newline. */
  line(text?: string): void;
  /** Writes `value` as pretty JSON followed by a newline. */
  json(value: unknown): void;
}

/** Options for {@link createOutput}. */
export interface OutputOptions {
  /** Environment used to read `NO_COLOR` and `FORCE_COLOR`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `--json` turns colour off so machine output stays clean. @default false */
  readonly json?: boolean;
}

/**
 * Decides whether a stream gets colour: never with `--json` or a non-empty `NO_COLOR`
 * (https://no-color.org), always with `FORCE_COLOR` (other than `0`), otherwise only on a TTY.
 */
export function colorEnabled(stream: CliStream, options: OutputOptions): boolean {
  if (options.json) return false;
  if (options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== '') return false;
  const force = options.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return stream.isTTY === true;
}

/** Wraps a stream in an {@link Output}, choosing colour with {@link colorEnabled}. */
export function createOutput(stream: CliStream, options: OutputOptions): Output {
  const color = colorEnabled(stream, options);
  return {
    stream,
    color,
    // styleText on Node 20 styles unconditionally; the colour decision is ours.
    style: (style, text) => (color && text !== '' ? styleText(style, text) : text),
    line: (text = '') => void stream.write(`${text}\n`),
    json: (value) => void stream.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

/** Removes ANSI escape sequences (to measure the visible width of styled text). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** One column of a {@link formatTable} table. */
export interface Column<Row> {
  /** Header text (printed upper-case). */
  readonly header: string;
  /** The cell text of a row. */
  readonly value: (row: Row) => string;
  /** Right-align (numbers). @default false */
  readonly align?: 'left' | 'right';
  /** Style applied to the cells (not the header). */
  readonly style?: Style;
}

/**
 * Lays rows out as a plain-text table: a dim header row, columns separated by two spaces,
 * no trailing whitespace. Returns the lines, or `emptyText` alone when there are no rows.
 */
export function formatTable<Row>(
  out: Pick<Output, 'style'>,
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  emptyText = '(none)',
): string[] {
  if (rows.length === 0) return [emptyText];
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = columns.map((_, i) =>
    Math.max(headers[i]!.length, ...cells.map((r) => stripAnsi(r[i]!).length)),
  );
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat(widths[i]! - stripAnsi(text).length);
    if (i === columns.length - 1 && columns[i]!.align !== 'right') return text;
    return columns[i]!.align === 'right' ? gap + text : text + gap;
  };
  const lines = [out.style('dim', headers.map(pad).join('  '))];
  for (const row of cells) {
    lines.push(
      row
        .map((text, i) => {
          const style = columns[i]!.style;
          return pad(style ? out.style(style, text) : text, i);
        })
        .join('  ')
        .trimEnd(),
    );
  }
  return lines;
}

/** Human size: `512 B`, `12.3 KB`, `4.0 MB` (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Formats an ISO timestamp or epoch ms as `2026-11-22 06:40:12` (UTC), or `-` when missing. */
export function formatTime(value: string | number | undefined | null): string {
  if (value === undefined || value === null || value === '') return '-';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
}

/** Milliseconds as `850 ms`, `1.2 s`, `3m 05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}
