// `nimbus logs`: print a function's log lines, optionally following new ones until Ctrl-C.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../api-client.js';
import type { LogLine } from '../api-client.js';
import type { CommandSpec } from '../command.js';
import { UsageError, booleanOption, expectPositionals, stringOption } from '../command.js';
import type { Output } from '../output.js';

/** How often `--follow` polls for new lines. */
export const FOLLOW_INTERVAL_MS = 500;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses `--since`: a duration back from `now` (`30s`, `10m`, `1h`, `2d`, `1w`, `500ms`), an
 * ISO date/time, or epoch milliseconds. Returns epoch ms, or undefined when unparseable.
 */
export function parseSince(value: string, now: number = Date.now()): number | undefined {
  const duration = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (duration) return Math.round(now - Number(duration[1]) * UNIT_MS[duration[2]!]!);
  if (/^\d{10,}$/.test(value)) return Number(value);
  // Only things that look like dates: Date.parse accepts too much ("1", "May").
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** One log line for people: `time  version  request  message`. */
export function formatLogLine(out: Pick<Output, 'style'>, line: LogLine): string {
  const date = new Date(line.timestamp);
  const time = Number.isNaN(date.getTime())
    ? String(line.timestamp)
    : date.toISOString().replace('T', ' ').replace('Z', '');
  const request = line.requestId ? line.requestId.slice(0, 8) : '-'.padEnd(8);
  const message = line.message.replace(/\s+$/, '');
  const styled =
    line.stream === 'stderr'
      ? out.style('yellow', message)
      : line.stream === 'platform'
        ? out.style('dim', message)
        : message;
  return `${out.style('dim', time)}  ${out.style('gray', line.version)}  ${out.style('cyan', request)}  ${styled}`;
}

/** `nimbus logs`. */
export const logsCommand: CommandSpec = {
  name: 'logs',
  summary: "Print a function's logs (--follow to keep printing new lines)",
  usage: ['logs <app-fn> [--follow] [--since 10m|1h|30s|ISO]'],
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep polling for new lines until Ctrl-C' },
    since: {
      type: 'string',
      short: 's',
      valueName: 'WHEN',
      description: 'only lines newer than a duration ago (30s, 10m, 1h, 2d) or an ISO time (default 10m)',
    },
  },
  details: 'With --json, each line is printed as one JSON object per line (NDJSON).',
  async run(ctx, args) {
    const [fn] = expectPositionals(logsCommand, args, ['app-fn']);
    // Default window as `aws logs tail`: the last 10 minutes, so a busy function shows recent lines.
    const sinceText = stringOption(args, 'since') ?? '10m';
    const since = parseSince(sinceText);
    if (since === undefined) {
      throw new UsageError(
        `--since must be a duration like 30s, 10m, 1h, 2d or an ISO time; got ${sinceText}`,
        logsCommand,
      );
    }
    const follow = booleanOption(args, 'follow');
    const client = ctx.client();
    const { stdout, stderr, signal } = ctx;
    const print = (lines: readonly LogLine[]): void => {
      for (const line of lines) {
        if (ctx.globals.json) stdout.stream.write(`${JSON.stringify(line)}\n`);
        else stdout.line(formatLogLine(stdout, line));
      }
    };

    let after: string | number | undefined;
    const poll = async (): Promise<void> => {
      const lines = await client.logs(fn!, after === undefined ? { since } : { after });
      print(lines);
      if (lines.length > 0) after = lines[lines.length - 1]!.id;
    };

    await poll();
    if (!follow) return 0;
    let warned = false;
    while (!signal.aborted) {
      try {
        await sleep(FOLLOW_INTERVAL_MS, undefined, { signal });
        await poll();
        warned = false;
      } catch (err) {
        if (signal.aborted) break;
        // A restarting server or a network blip should not end a follow; say so once.
        if (err instanceof ApiError && (err.status === 0 || err.status >= 500)) {
          if (!warned) stderr.line(`${stderr.style('yellow', 'warn')} ${err.message}; retrying`);
          warned = true;
          continue;
        }
        throw err;
      }
    }
    return 0;
  },
};
