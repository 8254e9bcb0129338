// `nimbus tables`: list, create, describe and delete document tables; put, get, delete, query and scan items.
import type { ApiClient } from '../api-client.js';
import type { CommandSpec } from '../command.js';
import { UsageError, booleanOption, stringOption, subcommandArgs } from '../command.js';
import { formatTable } from '../output.js';

interface KeyDescription {
  name: string;
  type: 'string' | 'number';
}
interface Table {
  name: string;
  partitionKey: KeyDescription;
  sortKey?: KeyDescription;
  stream: { enabled: boolean; viewType: string; arn: string };
  app?: string;
  createdAt: string;
}
interface Page {
  items: unknown[];
  count: number;
  cursor?: string;
}

/** `id` / `id:number` from a flag into the API's key spec. */
function keySpec(flag: string, text: string): KeyDescription {
  const [name, type = 'string'] = text.split(':', 2);
  if (!name || (type !== 'string' && type !== 'number')) {
    throw new UsageError(`--${flag} takes NAME or NAME:string or NAME:number, got '${text}'`, tablesCommand);
  }
  return { name, type };
}

function parseJsonArg(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not valid JSON: ${text}`, tablesCommand);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${what} must be a JSON object, e.g. '{"id":"a1"}'`, tablesCommand);
  }
  return value as Record<string, unknown>;
}

function intOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${flag} takes a positive integer, got '${value}'`, tablesCommand);
  return n;
}

/** A key value typed as the table declares it (a CLI flag is always text). */
function typed(key: KeyDescription, text: string, flag: string): string | number {
  if (key.type === 'string') return text;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) {
    throw new UsageError(`--${flag}: ${key.name} is a number key, got '${text}'`, tablesCommand);
  }
  return n;
}

const path = (table: string, rest = '') => `/v1/tables/${encodeURIComponent(table)}${rest}`;

async function describe(client: ApiClient, table: string): Promise<Table> {
  return client.request<Table>('GET', path(table));
}

/** `nimbus tables`. */
export const tablesCommand: CommandSpec = {
  name: 'tables',
  summary: 'Create, list and delete document tables; put, get, query and scan items',
  usage: [
    'tables ls',
    'tables info <name>',
    'tables create <name> --pk NAME[:string|number] [--sk NAME[:string|number]] [--stream]',
    'tables rm <name>',
    'tables put <table> <item-json> [--if COND]',
    'tables get <table> <key-json>',
    'tables delete <table> <key-json>',
    'tables query <table> --pk VALUE [--sk-begins X] [--limit N] [--reverse] [--cursor C]',
    'tables scan <table> [--limit N] [--cursor C]',
  ],
  options: {
    pk: {
      type: 'string',
      valueName: 'V',
      description: 'create: partition key NAME[:type]; query: the partition value',
    },
    sk: { type: 'string', valueName: 'NAME', description: 'create: sort key NAME[:type]' },
    stream: { type: 'boolean', description: 'create: turn on the change stream' },
    if: {
      type: 'string',
      valueName: 'COND',
      description: 'put: a condition expression, e.g. attribute_not_exists(id)',
    },
    'sk-begins': { type: 'string', valueName: 'X', description: 'query: sort keys starting with X' },
    limit: { type: 'string', valueName: 'N', description: 'query/scan: at most N items per page (1-1000)' },
    reverse: { type: 'boolean', description: 'query: descending sort key order' },
    cursor: { type: 'string', valueName: 'C', description: 'query/scan: continue from a previous page' },
  },
  async run(ctx, args) {
    const oneName = [1, 1, '<name>'] as const;
    const nameJson = [2, 2, '<table> <json>'] as const;
    const { sub, rest } = subcommandArgs(args, tablesCommand, {
      ls: [0, 0, ''],
      info: oneName,
      create: oneName,
      rm: oneName,
      put: nameJson,
      get: nameJson,
      delete: nameJson,
      query: oneName,
      scan: oneName,
    });
    const client = ctx.client();
    const { stdout } = ctx;
    const name = rest[0]!;
    const ok = (msg: string) => stdout.line(`${stdout.style('green', '✓')} ${msg}`);

    switch (sub) {
      case 'ls': {
        const { tables } = await client.request<{ tables: Table[] }>('GET', '/v1/tables');
        if (ctx.globals.json) {
          stdout.json({ tables });
          return 0;
        }
        const keyText = (k?: KeyDescription) => (k ? `${k.name}:${k.type}` : '-');
        const lines = formatTable(
          stdout,
          tables,
          [
            { header: 'name', value: (t) => t.name, style: 'bold' },
            { header: 'partition key', value: (t) => keyText(t.partitionKey) },
            { header: 'sort key', value: (t) => keyText(t.sortKey) },
            { header: 'stream', value: (t) => (t.stream.enabled ? t.stream.viewType : 'off') },
            { header: 'app', value: (t) => t.app ?? '-' },
          ],
          stdout.style('dim', 'no tables; create one with `nimbus tables create <name> --pk id`'),
        );
        for (const line of lines) stdout.line(line);
        return 0;
      }
      case 'info': {
        stdout.json(await describe(client, name));
        return 0;
      }
      case 'create': {
        const pk = stringOption(args, 'pk');
        if (pk === undefined)
          throw new UsageError('`tables create` needs --pk NAME[:string|number]', tablesCommand);
        const sk = stringOption(args, 'sk');
        const created = await client.request<Table>('POST', '/v1/tables', {
          json: {
            name,
            partitionKey: keySpec('pk', pk),
            ...(sk === undefined ? {} : { sortKey: keySpec('sk', sk) }),
            ...(booleanOption(args, 'stream') ? { stream: true } : {}),
          },
        });
        if (ctx.globals.json) stdout.json(created);
        else ok(`created table ${stdout.style('bold', created.name)}`);
        return 0;
      }
      case 'rm': {
        await client.request('DELETE', path(name));
        if (ctx.globals.json) stdout.json({ deleted: name });
        else ok(`deleted table ${stdout.style('bold', name)} and its items`);
        return 0;
      }
      case 'put': {
        const condition = stringOption(args, 'if');
        await client.request('PUT', path(name, '/items'), {
          json: {
            item: parseJsonArg(rest[1]!, 'the item'),
            ...(condition === undefined ? {} : { condition }),
          },
        });
        if (ctx.globals.json) stdout.json({ ok: true });
        else ok(`put item into ${name}`);
        return 0;
      }
      case 'get': {
        const { item } = await client.request<{ item: unknown }>('POST', path(name, '/items/get'), {
          json: { key: parseJsonArg(rest[1]!, 'the key') },
        });
        if (item === null) {
          stdout.line(stdout.style('dim', 'no item with that key'));
          return 1;
        }
        stdout.json(item);
        return 0;
      }
      case 'delete': {
        const { oldItem } = await client.request<{ oldItem: unknown }>('POST', path(name, '/items/delete'), {
          json: { key: parseJsonArg(rest[1]!, 'the key'), returnOld: true },
        });
        if (ctx.globals.json) stdout.json({ deleted: oldItem });
        else ok(oldItem === null ? 'no item with that key (nothing deleted)' : `deleted item from ${name}`);
        return 0;
      }
      default: {
        const limit = intOption(stringOption(args, 'limit'), 'limit');
        const cursor = stringOption(args, 'cursor');
        let page: Page;
        if (sub === 'query') {
          const pk = stringOption(args, 'pk');
          if (pk === undefined) throw new UsageError('`tables query` needs --pk VALUE', tablesCommand);
          const table = await describe(client, name);
          const begins = stringOption(args, 'sk-begins');
          page = await client.request<Page>('POST', path(name, '/query'), {
            json: {
              partition: typed(table.partitionKey, pk, 'pk'),
              ...(begins === undefined ? {} : { sort: { beginsWith: begins } }),
              ...(limit === undefined ? {} : { limit }),
              ...(cursor === undefined ? {} : { cursor }),
              scanForward: !booleanOption(args, 'reverse'),
            },
          });
        } else {
          page = await client.request<Page>('POST', path(name, '/scan'), {
            json: { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) },
          });
        }
        if (ctx.globals.json) {
          stdout.json(page);
          return 0;
        }
        for (const item of page.items) stdout.line(JSON.stringify(item));
        if (page.cursor !== undefined) stdout.line(stdout.style('dim', `more: --cursor ${page.cursor}`));
        return 0;
      }
    }
  },
};
