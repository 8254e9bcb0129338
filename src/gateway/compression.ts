// Response compression: brotli or gzip when the client accepts it and the body is worth it.

import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Bodies at or below this size go out as they are. */
export const COMPRESS_MIN_BYTES = 1024;

// Already-compressed formats gain nothing and cost CPU.
const INCOMPRESSIBLE =
  /^(image\/(?!svg)|video\/|audio\/|application\/(zip|gzip|x-gzip|zstd|octet-stream|pdf|x-7z|x-rar|x-bzip2)|font\/woff)/i;

/** The encoding to use for a response, or undefined. Brotli wins when both are accepted. */
export function chooseEncoding(
  acceptEncoding: string | undefined,
  contentType: string | undefined,
  size: number,
): 'br' | 'gzip' | undefined {
  if (!acceptEncoding || size <= COMPRESS_MIN_BYTES) return undefined;
  if (contentType && INCOMPRESSIBLE.test(contentType)) return undefined;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find((x) => x !== undefined);
    accepted.set(name!.trim(), q === undefined ? 1 : Number(q));
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return undefined;
}

/**
 * Compress off the event loop (zlib's thread pool). Why these levels: for dynamic responses the
 * CPU per request matters more than the last percent of size; brotli 4 and gzip 5 compress JSON
 * about as well as the defaults (brotli 11, gzip 6) at a fraction of brotli's cost.
 */
export function compress(body: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer> {
  if (encoding === 'br') {
    return brotli(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 4,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    });
  }
  return gz(body, { level: 5 });
}
