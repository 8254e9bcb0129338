// Turns a function's result into an HTTP response, with API Gateway's rules for each payload
// format: 2.0 infers a 200 JSON response from anything without `statusCode`; 1.0 requires it.

import type { PayloadVersion } from './route-spec.js';

/** An HTTP response ready to write. Header names are lowercase. */
export interface MappedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** The function's result cannot be turned into a response (API Gateway answers 502). */
export class MalformedResponseError extends Error {
  override readonly name = 'MalformedResponseError';
}

/** Map the result payload (JSON bytes) of a successful invocation. */
export function mapResponse(payload: Buffer, version: PayloadVersion): MappedResponse {
  let result: unknown;
  try {
    result = payload.length === 0 ? null : JSON.parse(payload.toString('utf8'));
  } catch {
    throw new MalformedResponseError('the function result is not JSON');
  }
  const structured =
    typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result;
  if (!structured) {
    if (version === '1.0') throw new MalformedResponseError('a 1.0 response needs a statusCode');
    // API Gateway's inference: the result itself is the JSON body of a 200.
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: payload.length === 0 ? Buffer.from('null') : payload,
    };
  }
  const r = result as Record<string, unknown>;
  const status = typeof r.statusCode === 'string' ? Number(r.statusCode) : r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new MalformedResponseError(`statusCode ${JSON.stringify(r.statusCode)} is not an HTTP status`);
  }
  const headers: Record<string, string | string[]> = {};
  addHeaders(headers, r.headers, false);
  addHeaders(headers, r.multiValueHeaders, true);
  if (version === '2.0' && r.cookies !== undefined) {
    if (!Array.isArray(r.cookies) || !r.cookies.every((c) => typeof c === 'string')) {
      throw new MalformedResponseError('cookies must be a list of strings');
    }
    const existing = headers['set-cookie'];
    headers['set-cookie'] = [
      ...(existing === undefined ? [] : [existing].flat()),
      ...(r.cookies as string[]),
    ];
  }
  let body: Buffer;
  if (r.body === undefined || r.body === null) body = Buffer.alloc(0);
  else if (typeof r.body === 'string') {
    body = r.isBase64Encoded === true ? Buffer.from(r.body, 'base64') : Buffer.from(r.body, 'utf8');
  } else {
    throw new MalformedResponseError('body must be a string (JSON.stringify objects)');
  }
  return { status, headers, body };
}

function addHeaders(out: Record<string, string | string[]>, value: unknown, multi: boolean): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedResponseError(`${multi ? 'multiValueHeaders' : 'headers'} must be a mapping`);
  }
  for (const [rawName, v] of Object.entries(value as Record<string, unknown>)) {
    const name = rawName.toLowerCase();
    const values = multi ? (Array.isArray(v) ? v : [v]) : [v];
    const strings: string[] = [];
    for (const x of values) {
      if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') {
        throw new MalformedResponseError(`header ${rawName} must be a string`);
      }
      strings.push(String(x));
    }
    if (/[\r\n]/.test(strings.join('')))
      throw new MalformedResponseError(`header ${rawName} has a line break`);
    const existing = out[name];
    if (multi && existing !== undefined) {
      // multiValueHeaders add to headers of the same name (1.0 merges both maps).
      out[name] = [...[existing].flat(), ...strings.filter((s) => ![existing].flat().includes(s))];
    } else {
      out[name] = strings.length === 1 ? strings[0]! : strings;
    }
  }
}
