// SigV4 canonicalization: the pure string functions that turn a raw HTTP request into the canonical request.

/** Hex digits for percent-encoding, uppercase as SigV4 requires. */
const HEX = '0123456789ABCDEF';

/** sha256 of the empty string, hex: the payload hash of a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 unreserved characters: the only ones SigV4's UriEncode leaves as they are. */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e // ~
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function pct(byte: number): string {
  return '%' + HEX[byte >> 4] + HEX[byte & 15];
}

/**
 * SigV4 `UriEncode` of a plain (decoded) string: every byte of its UTF-8 except the unreserved
 * characters becomes `%XX`. Differs from `encodeURIComponent`, which leaves `!'()*` alone.
 */
export function uriEncode(value: string): string {
  // Fast path: most path segments and query values are already plain unreserved ASCII.
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    if (!isUnreserved(value.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (ch) => pct(ch.charCodeAt(0)));
}

/**
 * Re-encode an already percent-encoded string (as it arrived on the wire) into SigV4's canonical
 * form: `%xx` escapes of unreserved characters are decoded, other escapes are kept with uppercase
 * hex, and every other byte that is not unreserved is escaped. Equivalent to
 * `uriEncode(decodeURIComponent(s))`, but works on bytes, so malformed UTF-8 or a stray `%` can
 * neither throw nor be read two ways. A literal `+` is a plus (`%2B`), not a space: the AWS SDKs
 * send spaces as `%20`. `keepSlash` leaves literal `/` alone (for paths; `%2F` stays encoded).
 */
export function normalizeEncoded(value: string, keepSlash = false): string {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isUnreserved(c) && !(keepSlash && c === 0x2f)) {
      plain = false;
      break;
    }
  }
  if (plain) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length) {
      const hi = hexValue(value.charCodeAt(i + 1));
      const lo = hexValue(value.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const byte = (hi << 4) | lo;
        out += isUnreserved(byte) ? String.fromCharCode(byte) : pct(byte);
        i += 2;
        continue;
      }
    }
    if (isUnreserved(c) || (keepSlash && c === 0x2f)) out += value[i];
    else if (c < 0x80) out += pct(c);
    else {
      // Non-ASCII on the wire is unusual (clients percent-encode); encode its UTF-8 bytes.
      const cp = value.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += pct(byte);
    }
  }
  return out;
}

/**
 * The canonical URI of a raw (wire) path, without its query.
 *
 * - `doubleEncode: true` (Lambda, SQS and every service but S3): dot segments and empty segments
 *   are removed, then each segment is URI-encoded *again*, so `%20` on the wire becomes `%2520`.
 *   This is what the AWS SDKs' signer does with the already-encoded path it sends.
 * - `doubleEncode: false` (S3): the path is used as sent, only normalized to canonical
 *   percent-encoding; `//` and `.` are meaningful in object keys, so nothing is removed.
 */
export function canonicalUri(rawPath: string, doubleEncode: boolean): string {
  if (rawPath === '' || rawPath === '/') return '/';
  if (!doubleEncode) return normalizeEncoded(rawPath, true);
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  const leading = rawPath.startsWith('/') ? '/' : '';
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return leading + segments.join('/') + trailing;
}

/** One query parameter as it arrived on the wire: still percent-encoded. */
export interface RawQueryParam {
  readonly key: string;
  readonly value: string;
}

/** Split a raw query string (without `?`) into encoded key/value pairs, in order. */
export function splitQuery(rawQuery: string): RawQueryParam[] {
  const out: RawQueryParam[] = [];
  if (rawQuery === '') return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? { key: part, value: '' } : { key: part.slice(0, eq), value: part.slice(eq + 1) });
  }
  return out;
}

/** Decode one wire query component (`%XX` only; `+` stays a plus, as the AWS SDKs mean it). */
export function decodeQueryComponent(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The canonical query string: every parameter re-encoded canonically, sorted by key then value
 * (byte order; the encoded strings are ASCII so code-unit order is byte order), joined by `&`.
 * `exclude` drops one parameter by its encoded key (`X-Amz-Signature` in presigned URLs).
 */
export function canonicalQuery(params: readonly RawQueryParam[], exclude?: string): string {
  if (params.length === 0) return '';
  const pairs: [string, string][] = [];
  for (const p of params) {
    const key = normalizeEncoded(p.key);
    if (key === exclude) continue;
    pairs.push([key, normalizeEncoded(p.value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    const [k, v] = pairs[i]!;
    out += (i === 0 ? '' : '&') + k + '=' + v;
  }
  return out;
}

/** Headers as node:http gives them: lowercase names, arrays for repeated headers. */
export type RawHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A header's value by lowercase name; tolerates mixed-case keys from callers other than node:http. */
export function headerValue(headers: RawHeaders, lowerName: string): string | undefined {
  let v = headers[lowerName];
  if (v === undefined) {
    for (const k in headers) {
      if (k.length === lowerName.length && k.toLowerCase() === lowerName) {
        v = headers[k];
        break;
      }
    }
  }
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

/** Trim and collapse runs of whitespace to one space, as SigV4 canonical header values require. */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/**
 * The canonical headers block (`name:value\n` for each signed header, in the given sorted order).
 * Returns undefined if a signed header is absent, which can never verify.
 */
export function canonicalHeaders(headers: RawHeaders, signedHeaders: readonly string[]): string | undefined {
  let out = '';
  for (const name of signedHeaders) {
    const value = headerValue(headers, name);
    if (value === undefined) return undefined;
    out += name + ':' + canonicalHeaderValue(value) + '\n';
  }
  return out;
}
