// `nimbus queues`: list, create, update and delete queues; send, receive, purge and redrive messages.
import { readFile } from 'node:fs/promises';
import type { CommandContext, CommandSpec, ParsedArgs } from '../command.js';
import { UsageError, booleanOption, stringOption, subcommandArgs } from '../command.js';
import { formatTable } from '../output.js';

interface QueueSettings {
  visibilityTimeout: number;
  delaySeconds: number;
  messageRetentionPeriod: number;
  fifo: boolean;
  contentBasedDeduplication: boolean;
  deadLetter?: { queue: string; maxReceiveCount: number };
}
interface Queue {
  name: string;
  arn: string;
  createdAt: number;
  settings: QueueSettings;
  counts?: { visible: number; inFlight: number; delayed: number };
}
interface Message {
  messageId: string;
  receiptHandle: string;
  body: string;
  receiveCount: number;
  groupId?: string;
  sequenceNumber?: string;
}

/** `nimbus queues`. */
export const queuesCommand: CommandSpec = {
  name: 'queues',
  summary: 'Create, list and delete queues; send, receive, purge and redrive messages',
  usage: [
    'queues ls [--prefix P]',
    'queues info <name>',
    'queues create <name> [--fifo] [--visibility-timeout N] [--delay N] [--retention N] [--content-dedup] [--dlq NAME --max-receive N]',
    'queues update <name> [--visibility-timeout N] [--delay N] [--retention N] [--dlq NAME --max-receive N | --no-dlq]',
    'queues rm <name>',
    'queues send <name> <body> | --data FILE [--group G] [--dedup-id D] [--delay N]',
    'queues receive <name> [--max N] [--wait S] [--visibility-timeout N] [--delete]',
    'queues purge <name>',
    'queues redrive <dlq> [--to QUEUE]',
  ],
  options: {
    prefix: { type: 'string', valueName: 'P', description: 'ls: only queues whose name starts with P' },
    fifo: { type: 'boolean', description: 'create a FIFO queue (the name must end in .fifo)' },
    'visibility-timeout': {
      type: 'string',
      valueName: 'N',
      description: 'seconds a received message stays invisible (default 30)',
    },
    delay: {
      type: 'string',
      valueName: 'N',
      description: 'seconds new messages are delayed (queue default, or this send)',
    },
    retention: {
      type: 'string',
      valueName: 'N',
      description: 'seconds a message is kept (default 345600 = 4 days)',
    },
    'content-dedup': { type: 'boolean', description: 'FIFO: deduplicate by a sha256 of the body' },
    dlq: { type: 'string', valueName: 'NAME', description: 'dead-letter queue (must exist)' },
    'max-receive': {
      type: 'string',
      valueName: 'N',
      description: 'receives before a message moves to the DLQ (default 10)',
    },
    'no-dlq': { type: 'boolean', description: 'update: remove the redrive policy' },
    data: { type: 'string', valueName: 'FILE', description: 'send: read the body from FILE' },
    group: { type: 'string', valueName: 'G', description: 'send: FIFO message group id' },
    'dedup-id': { type: 'string', valueName: 'D', description: 'send: FIFO deduplication id' },
    max: { type: 'string', valueName: 'N', description: 'receive: at most N messages, 1-10 (default 1)' },
    wait: { type: 'string', valueName: 'S', description: 'receive: long poll up to S seconds, 0-20' },
    delete: { type: 'boolean', description: 'receive: delete the messages after printing them' },
    to: {
      type: 'string',
      valueName: 'QUEUE',
      description: 'redrive: move to QUEUE instead of each source queue',
    },
  },
  async run(ctx, args) {
    const one = [1, 1, '<name>'] as const;
    const { sub, rest } = subcommandArgs(args, queuesCommand, {
      ls: [0, 0, ''],
      info: one,
      create: one,
      update: one,
      rm: one,
      send: stringOption(args, 'data') === undefined ? [2, 2, '<name> <body> (or --data FILE)'] : one,
      receive: one,
      purge: one,
      redrive: [1, 1, '<dlq>'],
    });
    const name = rest[0]!;
    const path = `/v1/queues/${encodeURIComponent(name)}`;
    const client = ctx.client();
    const { stdout } = ctx;
    const ok = (text: string): void => stdout.line(`${stdout.style('green', '✓')} ${text}`);

    switch (sub) {
      case 'ls': {
        const { queues } = await client.request<{ queues: Queue[] }>('GET', '/v1/queues', {
          query: { prefix: stringOption(args, 'prefix') },
        });
        if (ctx.globals.json) return json(ctx, { queues });
        const lines = formatTable(
          stdout,
          queues,
          [
            { header: 'name', value: (q) => q.name, style: 'bold' },
            { header: 'type', value: (q) => (q.settings.fifo ? 'fifo' : 'standard') },
            { header: 'visibility', value: (q) => `${q.settings.visibilityTimeout}s` },
            {
              header: 'dead-letter',
              value: (q) =>
                q.settings.deadLetter
                  ? `${q.settings.deadLetter.queue} after ${q.settings.deadLetter.maxReceiveCount}`
                  : '-',
            },
          ],
          stdout.style(
            'dim',
            'no queues; create one with `nimbus queues create <name>` or declare it under resources.queues',
          ),
        );
        for (const line of lines) stdout.line(line);
        return 0;
      }
      case 'info': {
        const q = await client.request<Queue>('GET', path);
        if (ctx.globals.json) return json(ctx, q);
        stdout.line(`${stdout.style('bold', q.name)} · ${q.arn}`);
        for (const [k, v] of Object.entries(q.settings))
          stdout.line(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
        if (q.counts)
          stdout.line(
            `messages: ${q.counts.visible} visible, ${q.counts.inFlight} in flight, ${q.counts.delayed} delayed`,
          );
        return 0;
      }
      case 'create':
      case 'update': {
        const settings = settingsFrom(args, sub === 'update');
        const q =
          sub === 'create'
            ? await client.request<Queue>('POST', '/v1/queues', { json: { name, ...settings } })
            : await client.request<Queue>('PATCH', path, { json: settings });
        if (ctx.globals.json) return json(ctx, q);
        ok(`${sub === 'create' ? 'created' : 'updated'} queue ${stdout.style('bold', q.name)} (${q.arn})`);
        return 0;
      }
      case 'rm':
        await client.request('DELETE', path);
        if (ctx.globals.json) return json(ctx, { name, deleted: true });
        ok(`deleted queue ${stdout.style('bold', name)} and its messages`);
        return 0;
      case 'send': {
        const file = stringOption(args, 'data');
        const body = file === undefined ? rest[1]! : await readFile(ctx.resolvePath(file), 'utf8');
        const delay = intOption(args, 'delay');
        const group = stringOption(args, 'group');
        const dedup = stringOption(args, 'dedup-id');
        const sent = await client.request<{ messageId: string; sequenceNumber?: string }>(
          'POST',
          `${path}/messages`,
          {
            json: {
              body,
              ...(delay === undefined ? {} : { delaySeconds: delay }),
              ...(group === undefined ? {} : { groupId: group }),
              ...(dedup === undefined ? {} : { deduplicationId: dedup }),
            },
          },
        );
        if (ctx.globals.json) return json(ctx, sent);
        // The message id alone on stdout, for `id=$(…)`; the rest on stderr.
        ctx.stderr.line(
          `${ctx.stderr.style('green', '✓')} sent to ${name}${sent.sequenceNumber ? ` (sequence ${sent.sequenceNumber})` : ''}`,
        );
        stdout.line(sent.messageId);
        return 0;
      }
      case 'receive':
        return receive(ctx, args, path);
      case 'purge':
        await client.request('POST', `${path}/purge`);
        if (ctx.globals.json) return json(ctx, { name, purged: true });
        ok(`purged queue ${stdout.style('bold', name)}`);
        return 0;
      default: {
        const to = stringOption(args, 'to');
        const { moved } = await client.request<{ moved: number }>('POST', `${path}/redrive`, {
          json: to === undefined ? {} : { toQueue: to },
        });
        if (ctx.globals.json) return json(ctx, { moved });
        ok(`moved ${moved} message${moved === 1 ? '' : 's'} from ${name} to ${to ?? 'their source queues'}`);
        return 0;
      }
    }
  },
};

async function receive(ctx: CommandContext, args: ParsedArgs, path: string): Promise<number> {
  const client = ctx.client();
  const max = intOption(args, 'max');
  const wait = intOption(args, 'wait');
  const visibility = intOption(args, 'visibility-timeout');
  const { messages } = await client.request<{ messages: Message[] }>('POST', `${path}/receive`, {
    json: {
      ...(max === undefined ? {} : { maxMessages: max }),
      ...(wait === undefined ? {} : { waitTimeSeconds: wait }),
      ...(visibility === undefined ? {} : { visibilityTimeout: visibility }),
    },
  });
  const remove = booleanOption(args, 'delete');
  if (remove && messages.length > 0) {
    await client.request('POST', `${path}/delete`, {
      json: { receiptHandles: messages.map((m) => m.receiptHandle) },
    });
  }
  if (ctx.globals.json) return json(ctx, { messages, deleted: remove });
  const { stdout } = ctx;
  if (messages.length === 0) stdout.line(stdout.style('dim', 'no messages'));
  for (const m of messages) {
    stdout.line(
      stdout.style(
        'dim',
        `# ${m.messageId} · received ${m.receiveCount}×${m.groupId ? ` · group ${m.groupId}` : ''}${remove ? ' · deleted' : ''}`,
      ),
    );
    stdout.line(m.body);
    if (!remove) stdout.line(stdout.style('dim', `# receipt handle: ${m.receiptHandle}`));
  }
  return 0;
}

function json(ctx: CommandContext, value: unknown): number {
  ctx.stdout.json(value);
  return 0;
}

/** A whole-number option, or undefined when absent. */
function intOption(args: ParsedArgs, name: string): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} ${text}: use a whole number`, queuesCommand);
  return Number(text);
}

function settingsFrom(args: ParsedArgs, update: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const visibility = intOption(args, 'visibility-timeout');
  const delay = intOption(args, 'delay');
  const retention = intOption(args, 'retention');
  if (visibility !== undefined) out['visibilityTimeout'] = visibility;
  if (delay !== undefined) out['delaySeconds'] = delay;
  if (retention !== undefined) out['messageRetentionPeriod'] = retention;
  if (!update && booleanOption(args, 'fifo')) out['fifo'] = true;
  if (booleanOption(args, 'content-dedup')) out['contentBasedDeduplication'] = true;
  const dlq = stringOption(args, 'dlq');
  const maxReceive = intOption(args, 'max-receive');
  if (dlq !== undefined)
    out['deadLetter'] = { queue: dlq, ...(maxReceive === undefined ? {} : { maxReceiveCount: maxReceive }) };
  else if (maxReceive !== undefined) throw new UsageError('--max-receive needs --dlq NAME', queuesCommand);
  if (update && booleanOption(args, 'no-dlq')) out['deadLetter'] = null;
  return out;
}
