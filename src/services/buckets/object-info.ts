// Mapping between stored object rows and the public ObjectInfo / put options.

import type { StoredObject } from '../../store/ports/objects.js';
import { normalizeMetadata } from './bucket-names.js';
import type { ObjectInfo, PutObjectOptions } from './bucket-types.js';

/** Public metadata of a stored row. */
export function toObjectInfo(o: StoredObject): ObjectInfo {
  return {
    bucket: o.bucket,
    key: o.key,
    size: o.size,
    etag: o.etag,
    contentType: o.contentType,
    contentEncoding: o.contentEncoding,
    contentDisposition: o.contentDisposition,
    cacheControl: o.cacheControl,
    metadata: o.metadata,
    lastModified: o.lastModified,
  };
}

/** Header-like fields of a put, with defaults, as stored on the row. */
export function headerFields(
  options: PutObjectOptions | undefined,
): Pick<
  StoredObject,
  'contentType' | 'contentEncoding' | 'contentDisposition' | 'cacheControl' | 'metadata'
> {
  return {
    contentType: options?.contentType || 'application/octet-stream',
    contentEncoding: options?.contentEncoding || undefined,
    contentDisposition: options?.contentDisposition || undefined,
    cacheControl: options?.cacheControl || undefined,
    metadata: normalizeMetadata(options?.metadata),
  };
}
