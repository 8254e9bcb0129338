// The /v1 routes of buckets (bearer tokens): buckets, object listing, streamed object put/get/
// head/delete with ranges and conditional GETs, and server-side copy. See docs/api.md.

import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { NimbusError } from '../errors.js';
import { parseWith } from '../functions/function-config-schema.js';
import type { ObjectInfo, PutObjectOptions } from '../services/buckets/bucket-types.js';
import { header, parseJsonBody, type ApiResponse } from './http-io.js';
import { etagListMatches, parseRangeHeader } from './object-headers.js';
import { requireReference, type RouteContext, type RouteTable } from './route-context.js';

/** Prefix of user metadata headers on /v1 (`x-nimbus-meta-owner: ada`). */
export const META_HEADER_PREFIX = 'x-nimbus-meta-';

const JSON_LIMIT = 64 * 1024;

const createSchema = z.object({ name: z.string() }).strict();

const optionsSchema = z
  .object({
    contentType: z.string().optional(),
    contentEncoding: z.string().optional(),
    contentDisposition: z.string().optional(),
    cacheControl: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const copySchema = z
  .object({
    /** Source; its bucket defaults to the target bucket. */
    source: z.object({ bucket: z.string().optional(), key: z.string().min(1) }).strict(),
    key: z.string().min(1),
    /** Replace the metadata instead of copying the source's. */
    replace: optionsSchema.optional(),
  })
  .strict();

/** JSON form of an object's metadata. */
function describeObject(o: ObjectInfo) {
  return {
    bucket: o.bucket,
    key: o.key,
    size: o.size,
    etag: o.etag,
    contentType: o.contentType,
    ...(o.contentEncoding ? { contentEncoding: o.contentEncoding } : {}),
    ...(o.contentDisposition ? { contentDisposition: o.contentDisposition } : {}),
    ...(o.cacheControl ? { cacheControl: o.cacheControl } : {}),
    metadata: o.metadata,
    lastModified: new Date(o.lastModified).toISOString(),
  };
}

/** Response headers describing an object (GET and HEAD). */
function objectHeaders(o: ObjectInfo): Record<string, string | number> {
  const h: Record<string, string | number> = {
    'content-type': o.contentType,
    etag: o.etag,
    'last-modified': new Date(o.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
  };
  if (o.contentEncoding) h['content-encoding'] = o.contentEncoding;
  if (o.contentDisposition) h['content-disposition'] = o.contentDisposition;
  if (o.cacheControl) h['cache-control'] = o.cacheControl;
  for (const [name, value] of Object.entries(o.metadata)) h[META_HEADER_PREFIX + name] = value;
  return h;
}

/** Put options from request headers. */
function putOptions(req: IncomingMessage): PutObjectOptions {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(META_HEADER_PREFIX) && typeof value === 'string') {
      metadata[name.slice(META_HEADER_PREFIX.length)] = value;
    }
  }
  const length = header(req, 'content-length');
  return {
    contentType: header(req, 'content-type'),
    contentEncoding: header(req, 'content-encoding'),
    contentDisposition: header(req, 'content-disposition'),
    cacheControl: header(req, 'cache-control'),
    metadata,
    contentLength: length === undefined ? undefined : Number(length),
    contentMd5: header(req, 'content-md5'),
    // The writer's X-Ray header goes on with the bucket events (recursive loop detection).
    traceHeader: header(req, 'x-amzn-trace-id'),
  };
}

async function getOrHead(ctx: RouteContext, head: boolean): Promise<ApiResponse> {
  const { bucket, key } = ctx.params as { bucket: string; key: string };
  await ctx.authorize({ kind: 'bucket', name: bucket });
  const buckets = ctx.platform.buckets;
  const info = await buckets.headObject(bucket, key);
  if (!info) {
    throw new NimbusError(
      'ResourceNotFoundException',
      `Object '${key}' does not exist in bucket '${bucket}'; list keys with \`nimbus buckets ls ${bucket}\`.`,
    );
  }
  const ifNoneMatch = header(ctx.req, 'if-none-match');
  const ifModifiedSince = Date.parse(header(ctx.req, 'if-modified-since') ?? '');
  const notModified =
    ifNoneMatch !== undefined
      ? etagListMatches(ifNoneMatch, info.etag)
      : Number.isFinite(ifModifiedSince) && Math.floor(info.lastModified / 1000) * 1000 <= ifModifiedSince;
  if (notModified) {
    return {
      status: 304,
      headers: { etag: info.etag, 'last-modified': new Date(info.lastModified).toUTCString() },
    };
  }
  if (head) return { status: 200, headers: { ...objectHeaders(info), 'content-length': info.size } };
  const range = parseRangeHeader(header(ctx.req, 'range'));
  const got = await buckets.getObject(bucket, key, { range });
  const headers = objectHeaders(got.info);
  if (got.range) {
    headers['content-range'] = `bytes ${got.range.start}-${got.range.end}/${got.info.size}`;
    headers['content-length'] = got.range.end - got.range.start + 1;
    return { status: 206, headers, body: got.body };
  }
  headers['content-length'] = got.info.size;
  return { status: 200, headers, body: got.body };
}

/** Register the /v1 buckets routes. */
export function bucketsRoutes(routes: RouteTable): void {
  routes.bearer('GET', '/v1/buckets', async (ctx) => {
    await ctx.authorize({ kind: 'bucket', name: '*' });
    const list = await ctx.platform.buckets.listBuckets();
    return {
      status: 200,
      body: { buckets: list.map((b) => ({ name: b.name, createdAt: new Date(b.createdAt).toISOString() })) },
    };
  });

  routes.bearer('POST', '/v1/buckets', async (ctx) => {
    await ctx.authorize({ kind: 'bucket', name: '*' });
    const { name } = parseWith(createSchema, parseJsonBody(await ctx.body(JSON_LIMIT)), 'bucket');
    const existed = await ctx.platform.buckets.getBucket(name);
    const b = await ctx.platform.buckets.createBucket(name);
    return {
      status: existed ? 200 : 201,
      body: { name: b.name, createdAt: new Date(b.createdAt).toISOString() },
    };
  });

  routes.bearer('GET', '/v1/buckets/{name}', async (ctx) => {
    const name = ctx.params['name']!;
    await ctx.authorize({ kind: 'bucket', name });
    const b = await ctx.platform.buckets.getBucket(name);
    if (!b) throw bucketNotFound(name);
    return { status: 200, body: { name: b.name, createdAt: new Date(b.createdAt).toISOString() } };
  });

  routes.bearer('DELETE', '/v1/buckets/{name}', async (ctx) => {
    const name = ctx.params['name']!;
    await ctx.authorize({ kind: 'bucket', name });
    const buckets = ctx.platform.buckets;
    if (ctx.query.get('force') === 'true') {
      // Empty it first, page by page (each delete fires its ObjectRemoved event, as S3's do).
      for (;;) {
        if (!(await buckets.getBucket(name))) break;
        const page = await buckets.listObjects(name, { maxKeys: 1000 });
        for (const o of page.objects) await buckets.deleteObject(name, o.key);
        if (!page.isTruncated) break;
      }
    }
    if (!(await buckets.deleteBucket(name))) throw bucketNotFound(name);
    return { status: 204 };
  });

  routes.bearer('GET', '/v1/buckets/{name}/objects', async (ctx) => {
    const name = ctx.params['name']!;
    await ctx.authorize({ kind: 'bucket', name });
    const q = ctx.query;
    const maxKeys = q.get('maxKeys');
    const page = await ctx.platform.buckets.listObjects(name, {
      prefix: q.get('prefix') ?? undefined,
      delimiter: q.get('delimiter') ?? undefined,
      maxKeys: maxKeys === null ? undefined : Number(maxKeys),
      continuationToken: q.get('continuationToken') ?? undefined,
      startAfter: q.get('startAfter') ?? undefined,
    });
    return {
      status: 200,
      body: {
        objects: page.objects.map(describeObject),
        commonPrefixes: page.commonPrefixes,
        isTruncated: page.isTruncated,
        ...(page.nextContinuationToken ? { nextContinuationToken: page.nextContinuationToken } : {}),
      },
    };
  });

  routes.bearer('POST', '/v1/buckets/{name}/copy', async (ctx) => {
    const name = ctx.params['name']!;
    await ctx.authorize({ kind: 'bucket', name });
    const req = parseWith(copySchema, parseJsonBody(await ctx.body(JSON_LIMIT)), 'copy request');
    const sourceBucket = req.source.bucket ?? name;
    // Another app's bucket answers as a missing one: it neither leaks its objects nor its existence.
    if (sourceBucket !== name) {
      await requireReference(
        ctx,
        { kind: 'bucket', name: sourceBucket },
        async () => (await ctx.platform.buckets.getBucket(sourceBucket)) !== undefined,
        () => bucketNotFound(sourceBucket),
      );
    }
    const info = await ctx.platform.buckets.copyObject(
      { bucket: sourceBucket, key: req.source.key },
      { bucket: name, key: req.key },
      req.replace,
      { traceHeader: header(ctx.req, 'x-amzn-trace-id') },
    );
    return { status: 200, headers: { etag: info.etag }, body: describeObject(info) };
  });

  // The key is the rest of the path ({key+}): slashes may be sent raw or as %2F. HEAD is
  // registered before GET so it is not served by the GET route.
  routes.bearer('HEAD', '/v1/buckets/{bucket}/objects/{key+}', (ctx) => getOrHead(ctx, true));
  routes.bearer('GET', '/v1/buckets/{bucket}/objects/{key+}', (ctx) => getOrHead(ctx, false));

  routes.bearer('PUT', '/v1/buckets/{bucket}/objects/{key+}', async (ctx) => {
    const { bucket, key } = ctx.params as { bucket: string; key: string };
    await ctx.authorize({ kind: 'bucket', name: bucket });
    const options = putOptions(ctx.req);
    if (options.contentLength !== undefined && !Number.isSafeInteger(options.contentLength)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        'Content-Length must be a whole number of bytes.',
      );
    }
    // The request itself is the body stream: the object goes to disk as it arrives, never
    // buffered whole (ctx.body() would read it into memory).
    const info = await ctx.platform.buckets.putObject(bucket, key, ctx.req, options);
    return { status: 200, headers: { etag: info.etag }, body: describeObject(info) };
  });

  routes.bearer('DELETE', '/v1/buckets/{bucket}/objects/{key+}', async (ctx) => {
    const { bucket, key } = ctx.params as { bucket: string; key: string };
    await ctx.authorize({ kind: 'bucket', name: bucket });
    await ctx.platform.buckets.deleteObject(bucket, key, {
      traceHeader: header(ctx.req, 'x-amzn-trace-id'),
    });
    return { status: 204 };
  });
}

function bucketNotFound(name: string): NimbusError {
  return new NimbusError(
    'ResourceNotFoundException',
    `Bucket '${name}' does not exist; create it with \`nimbus buckets create ${name}\` or declare it under resources.buckets in nimbus.yml.`,
  );
}
