// SDK: put, get, list and delete objects in buckets.

import { errorOf, seg, type Transport } from './transport.js';

/** An object's metadata. */
export interface SdkObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly lastModified: string;
}

/** A read object. */
export interface SdkObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Options of {@link BucketsClient.put}. */
export interface PutOptions {
  /** @default 'application/octet-stream' (or 'application/json' for objects) */
  readonly contentType?: string;
  /** User metadata (lowercase names). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Keys are sent with `/` kept and every other reserved character escaped. */
function keyPath(key: string): string {
  return key.split('/').map(seg).join('/');
}

/** `buckets.*` of the SDK. */
export class BucketsClient {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Store `body` (bytes, text, or an object as JSON) as `key`. Emits ObjectCreated:Put. */
  async put(
    bucket: string,
    key: string,
    body: Uint8Array | string | object,
    options: PutOptions = {},
  ): Promise<SdkObjectInfo> {
    const isBytes = body instanceof Uint8Array;
    const bytes = isBytes
      ? Buffer.from(body)
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = {
      'content-type':
        options.contentType ??
        (isBytes
          ? 'application/octet-stream'
          : typeof body === 'string'
            ? 'text/plain; charset=utf-8'
            : 'application/json'),
    };
    for (const [name, value] of Object.entries(options.metadata ?? {}))
      headers[`x-nimbus-meta-${name.toLowerCase()}`] = value;
    const res = await this.#t.send({
      method: 'PUT',
      path: `/v1/buckets/${seg(bucket)}/objects/${keyPath(key)}`,
      body: bytes,
      headers,
    });
    if (res.status !== 200) throw errorOf(res);
    return JSON.parse(res.body.toString('utf8')) as SdkObjectInfo;
  }

  /** Read a whole object. Throws `ResourceNotFoundException` when it does not exist. */
  async get(bucket: string, key: string): Promise<SdkObject> {
    const res = await this.#t.send({
      method: 'GET',
      path: `/v1/buckets/${seg(bucket)}/objects/${keyPath(key)}`,
    });
    if (res.status !== 200) throw errorOf(res);
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (name.startsWith('x-nimbus-meta-') && typeof value === 'string') metadata[name.slice(14)] = value;
    }
    return {
      body: res.body,
      contentType: String(res.headers['content-type'] ?? 'application/octet-stream'),
      etag: String(res.headers.etag ?? ''),
      metadata,
    };
  }

  /** One page of keys, in byte order; pass `nextContinuationToken` back for the next. */
  list(
    bucket: string,
    options: { prefix?: string; delimiter?: string; maxKeys?: number; continuationToken?: string } = {},
  ): Promise<{
    objects: SdkObjectInfo[];
    commonPrefixes: string[];
    isTruncated: boolean;
    nextContinuationToken?: string;
  }> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(options))
      if (value !== undefined) query.set(name, String(value));
    const q = query.toString();
    return this.#t.json('GET', `/v1/buckets/${seg(bucket)}/objects${q ? `?${q}` : ''}`);
  }

  /** Delete an object (succeeds when it is already gone). Emits ObjectRemoved:Delete. */
  async delete(bucket: string, key: string): Promise<void> {
    await this.#t.json('DELETE', `/v1/buckets/${seg(bucket)}/objects/${keyPath(key)}`);
  }
}
