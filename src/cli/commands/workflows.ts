// `nimbus workflows`: list workflows, start, describe, stop executions, read their history, and
// answer `.waitForTaskToken` tasks, over the /v1 workflows routes.
import { readFile } from 'node:fs/promises';
import type { CommandContext, CommandSpec } from '../command.js';
import { UsageError, booleanOption, stringOption, subcommandArgs } from '../command.js';
import { formatTable } from '../output.js';

/** A workflow as `GET /v1/workflows` lists it. */
interface WorkflowView {
  readonly name: string;
  readonly app: string;
  readonly type: string;
  readonly version: number;
  readonly updatedAt: string;
}

/** An execution as the routes return it. */
interface ExecutionView {
  readonly executionArn: string;
  readonly name: string;
  readonly workflow: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** A history event. */
interface EventView {
  readonly id: number;
  readonly previousEventId: number;
  readonly type: string;
  readonly timestamp: string;
  readonly details: unknown;
}

const enc = encodeURIComponent;

/** JSON text from `<json>` or `--data FILE` (default `{}`), checked here for a clear error. */
async function jsonArgument(
  ctx: CommandContext,
  text: string | undefined,
  file: string | undefined,
  what: string,
) {
  const raw = file !== undefined ? await readFile(ctx.resolvePath(file), 'utf8') : (text ?? '{}');
  try {
    JSON.parse(raw);
  } catch (err) {
    throw new UsageError(
      `${what} is not JSON (${(err as Error).message}); quote it, e.g. '{"a":1}'`,
      workflowsCommand,
    );
  }
  return raw;
}

/** `nimbus workflows`. */
export const workflowsCommand: CommandSpec = {
  name: 'workflows',
  summary: 'Workflows (state machines): list, start, describe, history, stop, answer task tokens',
  usage: [
    'workflows ls [--app APP]',
    "workflows start <workflow> ['<input-json>' | --data FILE] [--name NAME]",
    'workflows describe <workflow> [<execution>] [--status STATUS]',
    'workflows history <workflow> <execution> [--reverse]',
    'workflows stop <workflow> <execution> [--error E] [--cause C]',
    "workflows send-success <token> ['<output-json>' | --data FILE]",
    'workflows send-failure <token> [--error E] [--cause C]',
  ],
  options: {
    app: { type: 'string', short: 'a', valueName: 'APP', description: 'ls: only the workflows of this app' },
    data: { type: 'string', valueName: 'FILE', description: 'start/send-success: read the JSON from FILE' },
    name: { type: 'string', valueName: 'NAME', description: 'start: the execution name (idempotency key)' },
    status: {
      type: 'string',
      valueName: 'STATUS',
      description: 'describe without an execution: only executions in this status (RUNNING, FAILED, ...)',
    },
    reverse: { type: 'boolean', description: 'history: newest event first' },
    error: { type: 'string', valueName: 'E', description: 'stop/send-failure: the error name' },
    cause: { type: 'string', valueName: 'C', description: 'stop/send-failure: the cause' },
  },
  details:
    'Without an execution, `describe` shows the workflow and lists its executions (newest first).\n' +
    'Executions are named by their name (the last part of the ARN). Tokens come from $$.Task.Token.',
  async run(ctx, args) {
    const { sub, rest } = subcommandArgs(args, workflowsCommand, {
      ls: [0, 0, ''],
      start: [1, 2, '<workflow>'],
      describe: [1, 2, '<workflow>'],
      history: [2, 2, '<workflow> <execution>'],
      stop: [2, 2, '<workflow> <execution>'],
      'send-success': [1, 2, '<token>'],
      'send-failure': [1, 1, '<token>'],
    });
    const { stdout } = ctx;
    const client = ctx.client();
    const json = ctx.globals.json;
    const ok = (text: string) => stdout.line(`${stdout.style('green', '✓')} ${text}`);

    switch (sub) {
      case 'ls': {
        const { workflows } = await client.request<{ workflows: WorkflowView[] }>('GET', '/v1/workflows', {
          query: { app: stringOption(args, 'app') },
        });
        if (json) return (stdout.json({ workflows }), 0);
        const lines = formatTable(
          stdout,
          workflows,
          [
            { header: 'name', value: (w) => w.name, style: 'bold' },
            { header: 'app', value: (w) => w.app },
            { header: 'type', value: (w) => w.type },
            { header: 'version', value: (w) => String(w.version) },
            { header: 'updated', value: (w) => w.updatedAt },
          ],
          stdout.style('dim', 'no workflows; create one with PUT /v1/workflows/{name}'),
        );
        for (const line of lines) stdout.line(line);
        return 0;
      }
      case 'start': {
        const inputText = await jsonArgument(ctx, rest[1], stringOption(args, 'data'), 'the input');
        const e = await client.request<ExecutionView>('POST', `/v1/workflows/${enc(rest[0]!)}/executions`, {
          json: { inputText, name: stringOption(args, 'name') },
        });
        if (json) return (stdout.json(e), 0);
        // Only the name on stdout, so `id=$(nimbus workflows start …)` captures it.
        stdout.line(e.name);
        ctx.stderr.line(stdout.style('dim', `started ${e.executionArn}`));
        return 0;
      }
      case 'describe': {
        const base = `/v1/workflows/${enc(rest[0]!)}`;
        if (rest[1] !== undefined) {
          const e = await client.request<ExecutionView>('GET', `${base}/executions/${enc(rest[1])}`);
          if (json) return (stdout.json(e), 0);
          stdout.line(`${stdout.style('bold', e.name)}  ${e.status}  ${e.startDate} → ${e.stopDate ?? '…'}`);
          stdout.line(`input:  ${JSON.stringify(e.input)}`);
          if (e.output !== undefined) stdout.line(`output: ${JSON.stringify(e.output)}`);
          if (e.error !== undefined) stdout.line(`error:  ${e.error}${e.cause ? `: ${e.cause}` : ''}`);
          return 0;
        }
        const status = stringOption(args, 'status');
        const [workflow, list] = await Promise.all([
          client.request<WorkflowView & { definition: unknown }>('GET', base),
          client.request<{ executions: ExecutionView[] }>('GET', `${base}/executions`, { query: { status } }),
        ]);
        if (json) return (stdout.json({ ...workflow, executions: list.executions }), 0);
        stdout.line(
          `${stdout.style('bold', workflow.name)}  app ${workflow.app}, ${workflow.type}, version ${workflow.version}`,
        );
        const lines = formatTable(
          stdout,
          list.executions,
          [
            { header: 'execution', value: (e) => e.name, style: 'bold' },
            { header: 'status', value: (e) => e.status },
            { header: 'started', value: (e) => e.startDate },
            { header: 'stopped', value: (e) => e.stopDate ?? '-' },
          ],
          stdout.style('dim', `no executions; start one with \`nimbus workflows start ${workflow.name}\``),
        );
        for (const line of lines) stdout.line(line);
        return 0;
      }
      case 'history': {
        const path = `/v1/workflows/${enc(rest[0]!)}/executions/${enc(rest[1]!)}/history`;
        const events: EventView[] = [];
        let nextToken: string | undefined;
        do {
          const page = await client.request<{ events: EventView[]; nextToken?: string }>('GET', path, {
            query: { reverse: booleanOption(args, 'reverse') || undefined, limit: 1000, nextToken },
          });
          events.push(...page.events);
          nextToken = page.nextToken;
        } while (nextToken !== undefined);
        if (json) return (stdout.json({ events }), 0);
        for (const e of events) {
          const details = JSON.stringify(e.details);
          stdout.line(
            `${String(e.id).padStart(4)} ${e.timestamp} ${stdout.style('bold', e.type)}${details === '{}' ? '' : ` ${stdout.style('dim', details)}`}`,
          );
        }
        return 0;
      }
      case 'stop': {
        const e = await client.request<ExecutionView>(
          'POST',
          `/v1/workflows/${enc(rest[0]!)}/executions/${enc(rest[1]!)}/stop`,
          { json: { error: stringOption(args, 'error'), cause: stringOption(args, 'cause') } },
        );
        if (json) return (stdout.json(e), 0);
        ok(`${e.name} is ${e.status}`);
        return 0;
      }
      case 'send-success': {
        const outputText = await jsonArgument(ctx, rest[1], stringOption(args, 'data'), 'the output');
        await client.request('POST', `/v1/workflow-tasks/${enc(rest[0]!)}/success`, { json: { outputText } });
        if (json) return (stdout.json({ ok: true }), 0);
        ok('task completed');
        return 0;
      }
      default: {
        await client.request('POST', `/v1/workflow-tasks/${enc(rest[0]!)}/failure`, {
          json: { error: stringOption(args, 'error'), cause: stringOption(args, 'cause') },
        });
        if (json) return (stdout.json({ ok: true }), 0);
        ok('task failed');
        return 0;
      }
    }
  },
};
