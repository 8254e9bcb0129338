// HTTP request headers of object reads shared by the /v1 bucket routes and the S3 API: single
// byte ranges and ETag lists (If-Match, If-None-Match).

/**
 * A single `Range: bytes=a-b | a- | -n` header, or undefined for none. Other forms (several
 * ranges, other units, garbage) are ignored and the whole object is sent, as RFC 9110 allows
 * and S3 does.
 */
export function parseRangeHeader(
  value: string | undefined,
): { start?: number; end?: number; suffixLength?: number } | undefined {
  const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return { suffixLength: Number(m[2]) };
  const start = Number(m[1]);
  if (m[2] === '') return { start };
  const end = Number(m[2]);
  return end < start ? undefined : { start, end };
}

/** True when a comma-separated ETag list (quoted or not, weak or not) names `etag`, or is `*`. */
export function etagListMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/"/g, '');
  return list.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '').replace(/"/g, '');
    return v === '*' || v === bare;
  });
}
