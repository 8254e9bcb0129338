// @ts-check
// Web-standard handlers: a handler export that is an object with `fetch(request, env, ctx)` (a Hono
// app, an itty-router `{ fetch }`, a Cloudflare Workers-style module) is adapted to a Lambda
// handler that takes an API Gateway event (payload 2.0 or 1.0) and returns the gateway result.
//
// Required by handler-host.cjs only when such an export is found, so plain Lambda handlers never
// load it. It is cheap itself; the first touch of `Request`/`Response` is not (node 20 builds them
// from its bundled undici: ≈30 ms), and happens in `adaptWebHandler`, i.e. during the load, where
// it counts as init time rather than landing on the first invocation.
/* global Headers, Request, Response, URLSearchParams, TextDecoder -- web globals of node ≥ 18 */
'use strict';

/**
 * Largest body the adapter reads from a Response, in bytes of the encoded `body` string: AWS's
 * synchronous response limit (6 MiB + 100). Reading stops there, so an endless stream ends too.
 */
const MAX_RESPONSE_BYTES = 6_291_556;

/**
 * @typedef {{ waitUntil(promise: unknown): void, passThroughOnException(): void, lambda: unknown, event: unknown }} WebContext
 * @typedef {{ fetch: (request: Request, env: Record<string, string>, ctx: WebContext) => unknown }} WebApp
 * @typedef {{ version: '1.0' | '2.0', request: Request }} ParsedEvent
 */

/** An error with a `name` of our choosing: `toLambdaError` reports the name as `errorType`. */
class NamedError extends Error {
  /** @param {string} name @param {string} message */
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** @param {unknown} v @returns {v is Record<string, any>} */
function isObject(v) {
  return typeof v === 'object' && v !== null;
}

/**
 * Turn an API Gateway proxy event into a Request. Payload 2.0 is recognised by `version: "2.0"`
 * and `requestContext.http.method`; 1.0 (REST API / `http` events) by a string `httpMethod`.
 * @param {unknown} event
 * @returns {ParsedEvent}
 */
function eventToRequest(event) {
  if (!isObject(event)) throw invalidEvent(event);
  /** @type {'1.0' | '2.0'} */
  let version;
  let method;
  let path;
  let query = '';
  const headers = new Headers();
  if (event.version === '2.0' && typeof event.requestContext?.http?.method === 'string') {
    version = '2.0';
    method = event.requestContext.http.method;
    path = typeof event.rawPath === 'string' ? event.rawPath : (event.requestContext.http.path ?? '/');
    if (typeof event.rawQueryString === 'string') query = event.rawQueryString;
    if (isObject(event.headers)) {
      for (const [k, v] of Object.entries(event.headers)) if (v != null) headers.append(k, String(v));
    }
    // HTTP APIs move the Cookie header into `cookies`; put it back as one header.
    if (Array.isArray(event.cookies) && event.cookies.length > 0) {
      headers.set('cookie', event.cookies.join('; '));
    }
  } else if (typeof event.httpMethod === 'string') {
    version = '1.0';
    method = event.httpMethod;
    path = typeof event.path === 'string' ? event.path : '/';
    const params = new URLSearchParams();
    const multiQuery = event.multiValueQueryStringParameters;
    const singleQuery = event.queryStringParameters;
    if (isObject(multiQuery)) {
      for (const [k, vs] of Object.entries(multiQuery)) {
        for (const v of Array.isArray(vs) ? vs : [vs]) if (v != null) params.append(k, String(v));
      }
    } else if (isObject(singleQuery)) {
      for (const [k, v] of Object.entries(singleQuery)) if (v != null) params.append(k, String(v));
    }
    query = params.toString();
    if (isObject(event.multiValueHeaders)) {
      for (const [k, vs] of Object.entries(event.multiValueHeaders)) {
        for (const v of Array.isArray(vs) ? vs : [vs]) if (v != null) headers.append(k, String(v));
      }
    } else if (isObject(event.headers)) {
      for (const [k, v] of Object.entries(event.headers)) if (v != null) headers.append(k, String(v));
    }
  } else {
    throw invalidEvent(event);
  }
  const host = headers.get('host') ?? event.requestContext?.domainName ?? 'localhost';
  const proto = headers.get('x-forwarded-proto')?.split(',')[0]?.trim() || 'https';
  const url = new URL(`${proto}://${host}`);
  // Assigned, not parsed with the host: a path such as `//x` must stay a path.
  url.pathname = path.startsWith('/') ? path : `/${path}`;
  url.search = query;
  /** @type {Buffer | undefined} */
  let body;
  const upper = method.toUpperCase();
  if (typeof event.body === 'string' && upper !== 'GET' && upper !== 'HEAD') {
    body = event.isBase64Encoded === true ? Buffer.from(event.body, 'base64') : Buffer.from(event.body);
  }
  return { version, request: new Request(url, { method, headers, body }) };
}

/** @param {unknown} event */
function invalidEvent(event) {
  const keys = isObject(event) ? Object.keys(event).slice(0, 5) : [];
  const what = isObject(event)
    ? keys.length === 0
      ? 'an empty object'
      : `an object with keys ${keys.join(', ')}`
    : event === null
      ? 'null'
      : typeof event;
  return new NamedError(
    'Runtime.InvalidEvent',
    `This function has a Web-standard handler (fetch), which takes an API Gateway HTTP event ` +
      `(payload format 2.0 or 1.0, as the HTTP gateway sends); got ${what}`,
  );
}

/**
 * Response headers that describe how this hop framed the body, which the adapter has read whole:
 * Hono's streaming helpers set `Transfer-Encoding: chunked`, and the gateway frames the result
 * itself (passing that on beside its own Content-Length would be an invalid HTTP response).
 */
const DROPPED_HEADERS = new Set([
  'connection',
  'content-length',
  'keep-alive',
  'proxy-connection',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Content types sent as text; everything else with a body is base64 (`isBase64Encoded`). */
const TEXT_TYPE =
  /^(text\/[^;]*|application\/([^;]*[+/])?(json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|x-ndjson)|image\/svg\+xml)\s*(;|$)/i;

/**
 * Read a Response into the gateway result for the event's payload version.
 * @param {Response} res @param {'1.0' | '2.0'} version
 */
async function responseToResult(res, version) {
  /** @type {Record<string, string>} */
  const headers = {};
  res.headers.forEach((value, key) => {
    if (key !== 'set-cookie' && !DROPPED_HEADERS.has(key)) headers[key] = value;
  });
  // getSetCookie: node ≥ 19.7; a look-alike Response from a polyfill may lack it.
  const cookies =
    typeof res.headers.getSetCookie === 'function'
      ? res.headers.getSetCookie()
      : (res.headers.get('set-cookie')?.split(/,(?=\s*[^;=,\s]+=)/) ?? []).map((c) => c.trim());
  const type = res.headers.get('content-type');
  const encoding = res.headers.get('content-encoding');
  const encoded = encoding !== null && encoding !== '' && encoding.toLowerCase() !== 'identity';
  // `undefined`: no content type, decided by whether the bytes are valid UTF-8.
  const text = encoded ? false : type === null ? undefined : TEXT_TYPE.test(type);
  const bytes = await readBody(
    res,
    text === false ? Math.floor((MAX_RESPONSE_BYTES * 3) / 4) : MAX_RESPONSE_BYTES,
  );
  let body = '';
  let isBase64Encoded = false;
  if (bytes.length > 0) {
    if (text === true) {
      body = bytes.toString('utf8');
    } else {
      let decoded;
      if (text === undefined) {
        try {
          decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          decoded = undefined;
        }
      }
      if (decoded === undefined) {
        body = bytes.toString('base64');
        isBase64Encoded = true;
        if (body.length > MAX_RESPONSE_BYTES) throw tooLarge();
      } else {
        body = decoded;
      }
    }
  }
  /** @type {Record<string, unknown>} */
  const result = { statusCode: res.status, headers };
  if (cookies.length > 0) {
    if (version === '2.0') result.cookies = cookies;
    else result.multiValueHeaders = { 'set-cookie': cookies };
  }
  result.body = body;
  result.isBase64Encoded = isBase64Encoded;
  return result;
}

function tooLarge() {
  return new NamedError(
    'Function.ResponseSizeTooLarge',
    `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
  );
}

/**
 * Read the whole body (streamed ones to completion), at most `limit` bytes; past that the stream
 * is cancelled and the invocation fails with `Function.ResponseSizeTooLarge`.
 * @param {Response} res @param {number} limit @returns {Promise<Buffer>}
 */
async function readBody(res, limit) {
  if (res.body === null) return Buffer.alloc(0);
  const reader = res.body.getReader();
  /** @type {Buffer[]} */
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk =
      typeof value === 'string'
        ? Buffer.from(value)
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    size += chunk.length;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(chunk);
  }
  return parts.length === 1 ? /** @type {Buffer} */ (parts[0]) : Buffer.concat(parts, size);
}

/** @param {unknown} v @returns {v is Response} */
function isResponse(v) {
  return (
    v instanceof Response ||
    (isObject(v) &&
      typeof v.status === 'number' &&
      isObject(v.headers) &&
      typeof v.headers.get === 'function' &&
      'body' in v)
  );
}

/**
 * A Lambda handler `(event, context) => result` around a Web-standard app.
 *
 * - `env`: a fresh copy of `process.env` per invocation (the function's environment variables),
 *   as Workers pass their bindings.
 * - `ctx.waitUntil(p)`: the invocation ends only once every such promise has settled (a rejection
 *   is logged, not an error), since nothing runs after the response once the instance is frozen;
 *   the function's timeout still applies. `ctx.passThroughOnException()` does nothing (there is no
 *   origin to fall back to: an exception is a function error). `ctx.lambda` is the Lambda
 *   context, `ctx.event` the API Gateway event (e.g. `requestContext.authorizer`).
 * @param {WebApp} app
 */
function adaptWebHandler(app) {
  // Build undici's Request/Response now (during the load, ≈30 ms on node 20), not on the first call.
  void Response;
  void Request;
  /** @param {unknown} event @param {unknown} context */
  return async function webHandler(event, context) {
    let parsed;
    try {
      parsed = eventToRequest(event);
    } catch (err) {
      if (err instanceof NamedError) throw err;
      // e.g. a header name Headers refuses, or a URL that does not parse.
      throw new NamedError('Runtime.InvalidEvent', `Cannot build a Request from the event: ${String(err)}`);
    }
    const { version, request } = parsed;
    /** @type {Promise<unknown>[]} */
    const pending = [];
    /** @type {WebContext} */
    const ctx = {
      waitUntil(promise) {
        const p = Promise.resolve(promise);
        // Handled now, reported below: a rejection before the response must not be "unhandled"
        // (the runner would exit).
        p.catch(() => {});
        pending.push(p);
      },
      passThroughOnException() {},
      lambda: context,
      event,
    };
    try {
      const res = await app.fetch(request, { .../** @type {Record<string, string>} */ (process.env) }, ctx);
      if (!isResponse(res)) {
        throw new TypeError(
          `fetch() must return a Response (or a promise of one); got ${res === null ? 'null' : typeof res}`,
        );
      }
      return await responseToResult(res, version);
    } finally {
      // waitUntil may be called while waiting: loop until nothing new arrived.
      for (let done = 0; done < pending.length;) {
        const batch = pending.slice(done);
        done = pending.length;
        for (const r of await Promise.allSettled(batch)) {
          if (r.status === 'rejected') console.error('waitUntil promise rejected:', r.reason);
        }
      }
    }
  };
}

module.exports = { adaptWebHandler, eventToRequest, responseToResult, MAX_RESPONSE_BYTES };
