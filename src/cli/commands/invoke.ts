// `nimbus invoke`: call a function synchronously (print its result) or queue an async event.
import { readFileSync } from 'node:fs';
import type { CommandContext, CommandSpec } from '../command.js';
import { CliError, UsageError, booleanOption, expectPositionals, stringOption } from '../command.js';

/**
 * The event to send: `--data` as inline JSON, `@path` for a file, `{}` when absent. Parsed
 * locally so a typo fails here instead of as a server error; the original text is sent.
 */
export function readPayload(ctx: Pick<CommandContext, 'resolvePath'>, data: string | undefined): string {
  if (data === undefined) return '{}';
  let text = data;
  let source = '--data';
  if (data.startsWith('@')) {
    const path = ctx.resolvePath(data.slice(1));
    source = path;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  try {
    JSON.parse(text);
  } catch (err) {
    const message = `${source} is not valid JSON (${(err as Error).message}); pass a JSON document, e.g. --data '{"name":"Ada"}'`;
    if (source === '--data') throw new UsageError(message, invokeCommand);
    throw new CliError(message);
  }
  return text;
}

/** Pretty-prints JSON for a terminal; returns other text unchanged. */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** `nimbus invoke`. */
export const invokeCommand: CommandSpec = {
  name: 'invoke',
  summary: 'Invoke a function and print its result',
  usage: ['invoke <app-fn> [--data JSON|@file] [--qualifier Q] [--log] [--async [--idempotency-key K]]'],
  options: {
    data: {
      type: 'string',
      short: 'd',
      valueName: 'JSON|@FILE',
      description: 'event JSON, or @path to a JSON file (default {})',
    },
    qualifier: {
      type: 'string',
      short: 'q',
      valueName: 'Q',
      description: 'version number or alias to invoke (default $LATEST)',
    },
    log: { type: 'boolean', short: 'l', description: 'print the tail of the invocation logs to stderr' },
    async: { type: 'boolean', description: 'queue the event and return its invocation id at once' },
    'idempotency-key': {
      type: 'string',
      valueName: 'K',
      description: 'with --async: repeating the call with the same key queues nothing new (24 h window)',
    },
  },
  details: 'Exit code 1 when the function fails; its error JSON is printed on stdout.',
  async run(ctx, args) {
    const [fn] = expectPositionals(invokeCommand, args, ['app-fn']);
    const payload = readPayload(ctx, stringOption(args, 'data'));
    const qualifier = stringOption(args, 'qualifier');
    if (qualifier === '') throw new UsageError('--qualifier must not be empty', invokeCommand);
    const isAsync = booleanOption(args, 'async');
    const log = booleanOption(args, 'log');
    if (isAsync && log) throw new UsageError('--log works only with synchronous invocations', invokeCommand);
    const idempotencyKey = stringOption(args, 'idempotency-key');
    if (idempotencyKey !== undefined && !isAsync) {
      throw new UsageError('--idempotency-key works only with --async', invokeCommand);
    }

    const result = await ctx.client().invoke(fn!, {
      payload,
      qualifier,
      async: isAsync,
      log,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    const { stdout, stderr } = ctx;
    if (result.kind === 'async') {
      if (ctx.globals.json) {
        stdout.json({ invocationId: result.invocationId });
      } else {
        stdout.line(result.invocationId);
        stderr.line(
          stderr.style(
            'dim',
            `queued; check it with \`nimbus invocations ${result.invocationId}\` (add --wait to follow it)`,
          ),
        );
      }
      return 0;
    }

    if (result.logs !== undefined) {
      stderr.stream.write(
        result.logs.endsWith('\n') || result.logs === '' ? result.logs : `${result.logs}\n`,
      );
    }
    const tty = stdout.stream.isTTY === true && !ctx.globals.json;
    const body = tty ? pretty(result.body) : result.body;
    stdout.stream.write(body.endsWith('\n') ? body : `${body}\n`);
    if (result.functionError !== undefined) {
      let summary = '';
      try {
        const e = JSON.parse(result.body) as { errorType?: unknown; errorMessage?: unknown };
        if (typeof e.errorType === 'string') summary = `: ${e.errorType}`;
        if (typeof e.errorMessage === 'string') summary += `: ${e.errorMessage}`;
      } catch {
        // Not JSON; the body printed above says it all.
      }
      const request = result.requestId ? ` (request ${result.requestId})` : '';
      stderr.line(
        `${stderr.style(['red', 'bold'], 'error')} function ${result.functionError}${summary}${request}`,
      );
      return 1;
    }
    return 0;
  },
};
