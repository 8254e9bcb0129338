// Small HTTP helpers shared by the API route modules: bounded body reads and JSON responses.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { NimbusError, errors } from '../errors.js';

/** What a route handler returns; the server writes it. */
export interface ApiResponse {
  readonly status: number;
  readonly headers?: Record<string, string | number | string[]>;
  /**
   * Buffer/string sent as is; a `Readable` is streamed (set `content-length` in `headers` when
   * known); anything else is JSON-encoded. `undefined` sends no body (`content-length: 0` unless
   * `headers` set one, e.g. a HEAD answer).
   */
  readonly body?: unknown;
}

/**
 * Read the whole request body, failing with 413 as soon as it passes `limit` bytes (the rest is
 * not buffered). Why not stream: every consumer here needs the whole JSON or blob.
 */
export function readBody(req: IncomingMessage, limit: number, what = 'Request body'): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(errors.tooLarge(what, declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(errors.tooLarge(what, size, limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

/** What is left of an unread request body that is drained to keep its connection alive. */
export const DRAIN_LIMIT = 8 * 1024 * 1024;

/**
 * Call before answering a request whose body was not (fully) read, e.g. refused before the
 * upload was consumed. Stops whatever the body was piped into (a paused pipe would hold the
 * socket, so the next keep-alive request was never answered) and reads the rest away. A body
 * that may be larger than `limit` (or of unknown length) is still drained while the answer goes
 * out, but the answer says `Connection: close` and the connection ends after it: draining
 * gigabytes to save one reconnect is not worth it.
 */
export function discardRequestBody(req: IncomingMessage, res: ServerResponse, limit = DRAIN_LIMIT): void {
  if (req.complete) return;
  req.unpipe();
  const declared = Number(req.headers['content-length']);
  if (!(Number.isFinite(declared) && declared <= limit) && !res.headersSent) {
    res.setHeader('connection', 'close');
  }
  req.resume();
}

/** Parse a JSON body, or throw 400 `InvalidRequestContentException`. An empty body is `{}`. */
export function parseJsonBody(body: Buffer, where = 'the request body'): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw errors.invalidJson(where, err);
  }
}

/**
 * Check that `body` is one JSON document. Invoke payloads travel to the function as bytes, but
 * Lambda rejects invalid JSON with 400 before invoking, so we parse once to look.
 */
export function assertJsonPayload(body: Buffer): void {
  if (body.length === 0) return;
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new NimbusError(
      'InvalidRequestContentException',
      `Could not parse request body into json: ${(err as Error).message}. Send a valid JSON document (e.g. '{}').`,
      { cause: err },
    );
  }
}

/** Read a single header value. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
