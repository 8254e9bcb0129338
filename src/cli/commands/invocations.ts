// `nimbus invocations <id>`: show an async invocation (status, attempts, result or error,
// destination delivery), optionally waiting until it has finished.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandSpec } from '../command.js';
import { CliError, UsageError, booleanOption, stringOption } from '../command.js';
import { formatTime } from '../output.js';

/** `GET /v1/invocations/{id}`. */
export interface InvocationInfo {
  readonly invocationId: string;
  readonly functionName: string;
  readonly qualifier: string;
  readonly status: 'queued' | 'running' | 'succeeded' | 'failed';
  readonly attempts: number;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly condition?: string;
  readonly executedVersion?: string;
  readonly idempotencyKey?: string;
  readonly result?: unknown;
  readonly error?: unknown;
  readonly destination?: { readonly status: string; readonly attempts: number; readonly error?: string };
}

/** How often `--wait` polls. */
const POLL_MS = 200;

const finished = (inv: InvocationInfo): boolean =>
  (inv.status === 'succeeded' || inv.status === 'failed') && inv.destination?.status !== 'pending';

/** `nimbus invocations`. */
export const invocationsCommand: CommandSpec = {
  name: 'invocations',
  summary: 'Show an async invocation: status, attempts, result or error',
  usage: ['invocations <invocation-id> [--wait] [--timeout SECONDS]'],
  options: {
    wait: {
      type: 'boolean',
      short: 'w',
      description: 'poll until it has finished (and its destinations were delivered)',
    },
    timeout: {
      type: 'string',
      valueName: 'SECONDS',
      description: 'give up waiting after this long (default 60)',
    },
  },
  details:
    'The id is what `nimbus invoke --async` printed. Exit code 1 when the invocation failed, ' +
    '3 when --wait timed out.',
  async run(ctx, args) {
    // `nimbus invocations get <id>` reads the same.
    const positionals = args.positionals[0] === 'get' ? args.positionals.slice(1) : args.positionals;
    const [id, extra] = positionals;
    if (id === undefined) throw new UsageError('missing argument: <invocation-id>', invocationsCommand);
    if (extra !== undefined) throw new UsageError(`unexpected argument: ${extra}`, invocationsCommand);
    const wait = booleanOption(args, 'wait');
    const timeoutText = stringOption(args, 'timeout');
    const timeoutS = timeoutText === undefined ? 60 : Number(timeoutText);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
      throw new UsageError(
        `--timeout must be a positive number of seconds; got ${timeoutText}`,
        invocationsCommand,
      );
    }
    if (timeoutText !== undefined && !wait)
      throw new UsageError('--timeout goes with --wait', invocationsCommand);

    const client = ctx.client();
    const get = () => client.request<InvocationInfo>('GET', `/v1/invocations/${encodeURIComponent(id)}`);
    let inv = await get();
    const deadline = Date.now() + timeoutS * 1000;
    while (wait && !finished(inv) && !ctx.signal.aborted) {
      if (Date.now() >= deadline) {
        print(ctx, inv);
        throw new CliError(`invocation ${id} is still ${inv.status} after ${timeoutS} s`, 3);
      }
      await sleep(POLL_MS, undefined, { signal: ctx.signal }).catch(() => undefined);
      inv = await get();
    }
    print(ctx, inv);
    return inv.status === 'failed' ? 1 : 0;
  },
};

function print(ctx: Parameters<CommandSpec['run']>[0], inv: InvocationInfo): void {
  const { stdout } = ctx;
  if (ctx.globals.json) {
    stdout.json(inv);
    return;
  }
  const colour = inv.status === 'succeeded' ? 'green' : inv.status === 'failed' ? 'red' : 'yellow';
  const rows: Array<[string, string | undefined]> = [
    ['invocation', inv.invocationId],
    ['function', `${inv.functionName}:${inv.qualifier}`],
    ['status', stdout.style(colour, inv.status) + (inv.condition ? ` (${inv.condition})` : '')],
    ['attempts', String(inv.attempts)],
    ['created', formatTime(inv.createdAt)],
    ['started', inv.startedAt ? formatTime(inv.startedAt) : undefined],
    ['finished', inv.finishedAt ? formatTime(inv.finishedAt) : undefined],
    ['version', inv.executedVersion],
    ['idempotency key', inv.idempotencyKey],
    [
      'destination',
      inv.destination
        ? `${inv.destination.status}${inv.destination.attempts > 0 ? ` after ${inv.destination.attempts} failed attempt(s)` : ''}${inv.destination.error ? `: ${inv.destination.error}` : ''}`
        : undefined,
    ],
  ];
  for (const [label, value] of rows) {
    if (value !== undefined) stdout.line(`${stdout.style('dim', label.padEnd(16))}${value}`);
  }
  if (inv.status === 'succeeded' && inv.result !== undefined) {
    stdout.line(stdout.style('dim', 'result'));
    stdout.line(JSON.stringify(inv.result, null, 2));
  }
  if (inv.error !== undefined) {
    stdout.line(stdout.style('dim', inv.status === 'failed' ? 'error' : 'last error'));
    stdout.line(JSON.stringify(inv.error, null, 2));
  }
}
