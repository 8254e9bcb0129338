// `nimbus buckets`: list, create and delete buckets; list, put (streamed), get (streamed) and delete objects.
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { extname } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../api-client.js';
import { resolveToken } from '../cli-credentials.js';
import type { CommandContext, CommandSpec, ParsedArgs } from '../command.js';
import { UsageError, booleanOption, stringOption, subcommandArgs } from '../command.js';
import { formatTable } from '../output.js';

interface Bucket {
  name: string;
  createdAt: string;
}
interface ObjectRow {
  key: string;
  size: number;
  etag: string;
  contentType: string;
  lastModified: string;
  metadata?: Record<string, string>;
}
interface ListPage {
  objects: ObjectRow[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

/** A few common types, so `put` of a web asset gets a useful Content-Type without a flag. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain',
  '.html': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.xml': 'application/xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp4': 'video/mp4',
};

/** `nimbus buckets`. */
export const bucketsCommand: CommandSpec = {
  name: 'buckets',
  summary: 'Create, list and delete buckets; put, get, list and delete objects (streamed)',
  usage: [
    'buckets ls [bucket[/prefix]] [--recursive]',
    'buckets create <bucket>',
    'buckets rm <bucket> [--force]',
    'buckets put <bucket> <key> <file> [--content-type T] [--meta name=value ...]',
    'buckets get <bucket> <key> [file]',
    'buckets head <bucket> <key>',
    'buckets delete <bucket> <key>   (alias: rm-object)',
  ],
  options: {
    recursive: { type: 'boolean', short: 'r', description: 'ls: list every key instead of grouping by "/"' },
    force: { type: 'boolean', description: 'rm: delete the objects first (each fires its removed event)' },
    'content-type': {
      type: 'string',
      valueName: 'T',
      description: 'put: Content-Type (default: from the file extension)',
    },
    meta: {
      type: 'string',
      multiple: true,
      valueName: 'name=value',
      description: 'put: user metadata, repeatable',
    },
  },
  details:
    'Objects stream to and from the server: `put` sends the file as it reads it and `get` writes to FILE (or stdout) as it arrives, so objects of any size work.',
  async run(ctx, args) {
    const { sub, rest } = subcommandArgs(args, bucketsCommand, {
      ls: [0, 1, ''],
      create: [1, 1, '<bucket>'],
      rm: [1, 1, '<bucket>'],
      put: [3, 3, '<bucket> <key> <file>'],
      get: [2, 3, '<bucket> <key>'],
      head: [2, 2, '<bucket> <key>'],
      delete: [2, 2, '<bucket> <key>'],
      'rm-object': [2, 2, '<bucket> <key>'],
    });
    const client = ctx.client();
    const { stdout } = ctx;
    const ok = (text: string): void => stdout.line(`${stdout.style('green', '✓')} ${text}`);
    const bucketPath = (b: string) => `/v1/buckets/${encodeURIComponent(b)}`;
    const objectPath = (b: string, k: string) => `${bucketPath(b)}/objects/${encodeURIComponent(k)}`;

    switch (sub) {
      case 'ls':
        return rest.length === 0 ? listBuckets(ctx) : listObjects(ctx, args, rest[0]!);
      case 'create': {
        const b = await client.request<Bucket>('POST', '/v1/buckets', { json: { name: rest[0] } });
        if (ctx.globals.json) return json(ctx, b);
        ok(`bucket ${stdout.style('bold', b.name)} is ready`);
        return 0;
      }
      case 'rm': {
        const force = booleanOption(args, 'force');
        await client.request('DELETE', bucketPath(rest[0]!), { query: { force: force || undefined } });
        if (ctx.globals.json) return json(ctx, { name: rest[0], deleted: true });
        ok(`deleted bucket ${stdout.style('bold', rest[0]!)}`);
        return 0;
      }
      case 'put': {
        const [bucket, key, file] = rest as [string, string, string];
        const path = ctx.resolvePath(file);
        const size = (await stat(path)).size;
        const headers: Record<string, string | number> = {
          'content-type':
            stringOption(args, 'content-type') ??
            CONTENT_TYPES[extname(file).toLowerCase()] ??
            'application/octet-stream',
          'content-length': size,
        };
        for (const pair of (args.values.meta as string[] | undefined) ?? []) {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new UsageError(`--meta ${pair}: use name=value`, bucketsCommand);
          headers[`x-nimbus-meta-${pair.slice(0, eq).toLowerCase()}`] = pair.slice(eq + 1);
        }
        const res = await send(ctx, 'PUT', objectPath(bucket, key), headers, createReadStream(path));
        const info = JSON.parse(await text(res)) as ObjectRow;
        if (ctx.globals.json) return json(ctx, info);
        ok(`put ${stdout.style('bold', `${bucket}/${key}`)} (${formatSize(info.size)}, ETag ${info.etag})`);
        return 0;
      }
      case 'get': {
        const [bucket, key, file] = rest as [string, string, string | undefined];
        const res = await send(ctx, 'GET', objectPath(bucket, key), {});
        // Straight to the file or stdout as it arrives: never the whole object in memory.
        const out =
          file === undefined
            ? new Writable({
                write(chunk: Buffer, _enc, done) {
                  ctx.io.stdout.write(chunk as unknown as string);
                  done();
                },
              })
            : createWriteStream(ctx.resolvePath(file));
        await pipeline(res, out);
        if (file !== undefined && !ctx.globals.json) {
          ctx.stderr.line(`${ctx.stderr.style('green', '✓')} wrote ${bucket}/${key} to ${file}`);
        }
        return 0;
      }
      case 'head': {
        const [bucket, key] = rest as [string, string];
        const res = await send(ctx, 'HEAD', objectPath(bucket, key), {});
        res.resume();
        const meta: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (name.startsWith('x-nimbus-meta-') && typeof value === 'string') meta[name.slice(14)] = value;
        }
        const info = {
          key,
          size: Number(res.headers['content-length']),
          etag: res.headers.etag,
          contentType: res.headers['content-type'],
          lastModified: res.headers['last-modified'],
          metadata: meta,
        };
        if (ctx.globals.json) return json(ctx, info);
        for (const [k, v] of Object.entries(info))
          stdout.line(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
        return 0;
      }
      default: {
        const [bucket, key] = rest as [string, string];
        await client.request('DELETE', objectPath(bucket, key));
        if (ctx.globals.json) return json(ctx, { bucket, key, deleted: true });
        ok(`deleted ${stdout.style('bold', `${bucket}/${key}`)}`);
        return 0;
      }
    }
  },
};

async function listBuckets(ctx: CommandContext): Promise<number> {
  const { buckets } = await ctx.client().request<{ buckets: Bucket[] }>('GET', '/v1/buckets');
  if (ctx.globals.json) return json(ctx, { buckets });
  const { stdout } = ctx;
  const lines = formatTable(
    stdout,
    buckets,
    [
      { header: 'name', value: (b) => b.name, style: 'bold' },
      { header: 'created', value: (b) => b.createdAt },
    ],
    stdout.style(
      'dim',
      'no buckets; create one with `nimbus buckets create <name>` or declare it under resources.buckets',
    ),
  );
  for (const line of lines) stdout.line(line);
  return 0;
}

async function listObjects(ctx: CommandContext, args: ParsedArgs, target: string): Promise<number> {
  const slash = target.indexOf('/');
  const bucket = slash < 0 ? target : target.slice(0, slash);
  const prefix = slash < 0 ? undefined : target.slice(slash + 1);
  const recursive = booleanOption(args, 'recursive');
  const objects: ObjectRow[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  do {
    const page: ListPage = await ctx
      .client()
      .request<ListPage>('GET', `/v1/buckets/${encodeURIComponent(bucket)}/objects`, {
        query: {
          prefix: prefix || undefined,
          delimiter: recursive ? undefined : '/',
          continuationToken: token,
        },
      });
    objects.push(...page.objects);
    prefixes.push(...page.commonPrefixes);
    token = page.nextContinuationToken;
  } while (token);
  if (ctx.globals.json) return json(ctx, { objects, commonPrefixes: prefixes });
  const { stdout } = ctx;
  const rows = [
    ...prefixes.map((p) => ({ key: p, size: 'PRE', modified: '' })),
    ...objects.map((o) => ({ key: o.key, size: formatSize(o.size), modified: o.lastModified })),
  ];
  const lines = formatTable(
    stdout,
    rows,
    [
      { header: 'key', value: (r) => r.key, style: 'bold' },
      { header: 'size', value: (r) => r.size },
      { header: 'modified', value: (r) => r.modified },
    ],
    stdout.style('dim', `no objects in ${bucket}${prefix ? ` under ${prefix}` : ''}`),
  );
  for (const line of lines) stdout.line(line);
  return 0;
}

/**
 * One streaming request with the CLI's endpoint and token. Why node:http rather than the
 * ApiClient: its calls carry JSON or buffers, and objects must stream both ways with an exact
 * Content-Length. API errors become the same ApiError the client throws.
 */
function send(
  ctx: CommandContext,
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body?: Readable,
): Promise<IncomingMessage> {
  const url = new URL(ctx.globals.endpoint + path);
  const token = resolveToken(ctx.globals.dataDir, ctx.io.env);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: ctx.signal,
      },
      (res) => {
        if ((res.statusCode ?? 0) < 300) {
          resolve(res);
          return;
        }
        text(res).then((raw) => {
          let parsed: { code?: string; message?: string } = {};
          try {
            parsed = JSON.parse(raw) as typeof parsed;
          } catch {
            // not JSON
          }
          const code = parsed.code ?? (res.statusCode === 404 ? 'ResourceNotFoundException' : 'HttpError');
          const message =
            parsed.message ??
            `${method} ${path} answered ${res.statusCode}${res.statusCode === 404 ? ' (no such object)' : ''}`;
          reject(new ApiError(code, message, res.statusCode ?? 0));
        }, reject);
      },
    );
    req.on('error', (err) =>
      reject(
        new ApiError(
          'ConnectionError',
          `cannot reach Nimbus at ${ctx.globals.endpoint} (${(err as NodeJS.ErrnoException).code ?? err.message}); start it with \`nimbus start\` or point --endpoint / NIMBUS_ENDPOINT at a running server`,
          0,
          { cause: err },
        ),
      ),
    );
    if (body === undefined) req.end();
    else pipeline(body, req).catch(reject);
  });
}

async function text(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function json(ctx: CommandContext, value: unknown): number {
  ctx.stdout.json(value);
  return 0;
}
