// `nimbus topics`: list, create and delete topics, publish, and manage subscriptions and deliveries.
import type { CommandContext, CommandSpec, ParsedArgs } from '../command.js';
import { UsageError, booleanOption, stringOption, subcommandArgs, type SubcommandArity } from '../command.js';
import { formatTable } from '../output.js';

const topic = [1, 1, '<topic>'] as const;
/** Subcommands and their positional arguments. */
const TOPIC_ARITIES: Record<string, SubcommandArity> = {
  ls: [0, 0, ''],
  create: topic,
  rm: topic,
  publish: [2, 2, '<topic> <message>'],
  subscribe: topic,
  unsubscribe: [2, 2, '<topic> <subscription-id>'],
  subscriptions: topic,
  deliveries: topic,
};

interface Topic {
  name: string;
  arn: string;
  app?: string;
  createdAt: number;
}
interface Subscription {
  id: string;
  protocol: string;
  endpoint: string;
  filterPolicy?: unknown;
  filterPolicyScope: string;
  rawMessageDelivery: boolean;
  secret?: string;
  app?: string;
}
interface Delivery {
  id: string;
  messageId: string;
  protocol: string;
  endpoint: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  lastStatus?: number;
  lastError?: string;
  createdAt: number;
}

/** `--attr name=value` (String), `--attr name:Number=5`, `--attr name:String.Array=["a","b"]`. */
export function parseAttr(text: string): [string, { DataType: string; StringValue: string }] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--attr ${text}: write name=value or name:Number=value`, topicsCommand);
  const [name, type = 'String'] = text.slice(0, eq).split(':', 2) as [string, string?];
  return [name, { DataType: type, StringValue: text.slice(eq + 1) }];
}

const enc = encodeURIComponent;

function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

async function subscribe(ctx: CommandContext, args: ParsedArgs, topic: string): Promise<number> {
  const targets = (['function', 'queue', 'webhook'] as const)
    .map((k) => [k, stringOption(args, k)] as const)
    .filter(([, v]) => v !== undefined);
  if (targets.length !== 1) {
    throw new UsageError(
      '`topics subscribe` needs exactly one of --function, --queue or --webhook',
      topicsCommand,
    );
  }
  const [protocol, endpoint] = targets[0]!;
  const filter = stringOption(args, 'filter');
  let filterPolicy: unknown;
  if (filter !== undefined) {
    try {
      filterPolicy = JSON.parse(filter);
    } catch {
      throw new UsageError(`--filter must be JSON, e.g. '{"color":["red"]}'; got ${filter}`, topicsCommand);
    }
  }
  const scope = stringOption(args, 'filter-scope');
  const sub = await ctx.client().request<Subscription>('POST', `/v1/topics/${enc(topic)}/subscriptions`, {
    json: {
      [protocol]: endpoint,
      ...(filterPolicy !== undefined ? { filterPolicy } : {}),
      ...(scope !== undefined ? { filterPolicyScope: scope } : {}),
      ...(booleanOption(args, 'raw') ? { rawMessageDelivery: true } : {}),
    },
  });
  const { stdout, stderr } = ctx;
  if (ctx.globals.json) {
    stdout.json(sub);
    return 0;
  }
  // The id alone on stdout (`id=$(nimbus topics subscribe …)`, for unsubscribe); the rest, the
  // webhook's signing secret included (--json has it too), on stderr.
  stderr.line(`${stderr.style('green', '✓')} subscribed ${protocol} ${sub.endpoint} to ${topic}`);
  if (sub.secret !== undefined) stderr.line(`signing secret: ${sub.secret}`);
  stdout.line(sub.id);
  return 0;
}

/** `nimbus topics`. */
export const topicsCommand: CommandSpec = {
  name: 'topics',
  summary: 'List, create and delete topics; publish; manage subscriptions',
  usage: [
    'topics ls [--prefix P]',
    'topics create <topic>',
    'topics rm <topic>',
    'topics publish <topic> <message> [--subject S] [--attr name=value]...',
    'topics subscribe <topic> --function F | --queue Q | --webhook URL [--filter JSON] [--filter-scope MessageBody] [--raw]',
    'topics unsubscribe <topic> <subscription-id>',
    'topics subscriptions <topic>',
    'topics deliveries <topic> [--status failed]',
  ],
  options: {
    prefix: { type: 'string', valueName: 'P', description: 'ls: only topics whose name starts with P' },
    subject: { type: 'string', valueName: 'S', description: 'publish: the message subject' },
    attr: {
      type: 'string',
      multiple: true,
      valueName: 'NAME=VALUE',
      description:
        'publish: a message attribute (name:Number=5 for numbers, name:String.Array=[...] for lists)',
    },
    function: {
      type: 'string',
      valueName: 'F',
      description: 'subscribe: a function (full name app-function)',
    },
    queue: { type: 'string', valueName: 'Q', description: 'subscribe: a queue' },
    webhook: { type: 'string', valueName: 'URL', description: 'subscribe: an http(s) URL to POST to' },
    filter: { type: 'string', valueName: 'JSON', description: 'subscribe: an SNS filter policy' },
    'filter-scope': {
      type: 'string',
      valueName: 'SCOPE',
      description: 'subscribe: MessageAttributes (default) or MessageBody',
    },
    raw: { type: 'boolean', description: 'subscribe: deliver the bare message, not the SNS envelope' },
    status: {
      type: 'string',
      valueName: 'S',
      description: 'deliveries: pending, running, delivered or failed',
    },
  },
  details: 'Filter policies, envelopes and webhook signatures: docs/resources.md (topics).',
  async run(ctx, args) {
    const { sub, rest } = subcommandArgs(args, topicsCommand, TOPIC_ARITIES);
    const client = ctx.client();
    const { stdout } = ctx;
    const ok = stdout.style('green', '✓');
    const topic = rest[0]!;

    switch (sub) {
      case 'ls': {
        const { topics } = await client.request<{ topics: Topic[] }>('GET', '/v1/topics', {
          query: { prefix: stringOption(args, 'prefix') },
        });
        if (ctx.globals.json) stdout.json({ topics });
        else {
          const lines = formatTable(
            stdout,
            topics,
            [
              { header: 'name', value: (t) => t.name, style: 'bold' },
              { header: 'app', value: (t) => t.app ?? '-' },
              { header: 'created', value: (t) => new Date(t.createdAt).toISOString() },
            ],
            stdout.style('dim', 'no topics; create one with `nimbus topics create <topic>`'),
          );
          for (const line of lines) stdout.line(line);
        }
        return 0;
      }
      case 'create': {
        const t = await client.request<Topic>('POST', '/v1/topics', { json: { name: topic } });
        if (ctx.globals.json) stdout.json(t);
        else stdout.line(`${ok} topic ${stdout.style('bold', t.name)} (${t.arn})`);
        return 0;
      }
      case 'rm': {
        const r = await client.request<{ deleted: string }>('DELETE', `/v1/topics/${enc(topic)}`);
        if (ctx.globals.json) stdout.json(r);
        else stdout.line(`${ok} deleted topic ${topic} with its subscriptions`);
        return 0;
      }
      case 'publish': {
        const attributes = Object.fromEntries(listOption(args, 'attr').map(parseAttr));
        const r = await client.request<{ messageId: string }>('POST', `/v1/topics/${enc(topic)}/publish`, {
          json: { message: rest[1], subject: stringOption(args, 'subject'), attributes },
        });
        if (ctx.globals.json) stdout.json(r);
        else {
          // The message id alone on stdout, for `id=$(…)`.
          ctx.stderr.line(`${ctx.stderr.style('green', '✓')} published to ${topic}`);
          stdout.line(r.messageId);
        }
        return 0;
      }
      case 'subscribe':
        return subscribe(ctx, args, topic);
      case 'unsubscribe': {
        const r = await client.request<{ deleted: string }>(
          'DELETE',
          `/v1/topics/${enc(topic)}/subscriptions/${enc(rest[1]!)}`,
        );
        if (ctx.globals.json) stdout.json(r);
        else stdout.line(`${ok} removed subscription ${rest[1]} of ${topic}`);
        return 0;
      }
      case 'subscriptions': {
        const { subscriptions } = await client.request<{ subscriptions: Subscription[] }>(
          'GET',
          `/v1/topics/${enc(topic)}/subscriptions`,
        );
        if (ctx.globals.json) stdout.json({ subscriptions });
        else {
          const lines = formatTable(
            stdout,
            subscriptions,
            [
              { header: 'id', value: (s) => s.id },
              { header: 'protocol', value: (s) => s.protocol },
              { header: 'endpoint', value: (s) => s.endpoint, style: 'bold' },
              {
                header: 'filter',
                value: (s) => (s.filterPolicy === undefined ? '-' : JSON.stringify(s.filterPolicy)),
              },
              { header: 'raw', value: (s) => (s.rawMessageDelivery ? 'yes' : 'no') },
              { header: 'app', value: (s) => s.app ?? '-' },
            ],
            stdout.style(
              'dim',
              `no subscriptions; add one with \`nimbus topics subscribe ${topic} --queue <queue>\``,
            ),
          );
          for (const line of lines) stdout.line(line);
        }
        return 0;
      }
      default: {
        const { deliveries } = await client.request<{ deliveries: Delivery[] }>(
          'GET',
          `/v1/topics/${enc(topic)}/deliveries`,
          { query: { status: stringOption(args, 'status') } },
        );
        if (ctx.globals.json) stdout.json({ deliveries });
        else {
          const lines = formatTable(stdout, deliveries, [
            { header: 'id', value: (d) => d.id },
            { header: 'message', value: (d) => d.messageId },
            { header: 'endpoint', value: (d) => d.endpoint, style: 'bold' },
            { header: 'status', value: (d) => d.status },
            { header: 'attempts', value: (d) => `${d.attempts}/${d.maxAttempts}`, align: 'right' },
            { header: 'last error', value: (d) => d.lastError ?? '-' },
          ]);
          for (const line of lines) stdout.line(line);
        }
        return 0;
      }
    }
  },
};
