// The SDK's HTTP transport: JSON (and raw byte) calls to the Nimbus /v1 API over the node's unix
// socket (inside a function) or a URL (anywhere else), with the bearer token. No dependencies:
// esbuild bundles this file into function code.

import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where the SDK finds Nimbus and how it authenticates. */
export interface SdkOptions {
  /** Unix socket of the API (functions get it in `NIMBUS_API_SOCKET`). */
  readonly socketPath?: string | undefined;
  /** Base URL of the API, used when there is no socket (`NIMBUS_ENDPOINT`). @default 'http://127.0.0.1:8080' */
  readonly endpoint?: string | undefined;
  /** Bearer token (functions get an app-scoped one in `NIMBUS_TOKEN`). */
  readonly token?: string | undefined;
  /** The app whose functions short names refer to (`NIMBUS_APP`). */
  readonly app?: string | undefined;
  /** Per-request timeout, ms. @default 30000 */
  readonly timeoutMs?: number | undefined;
}

/** An error answered by Nimbus (or a transport failure, with code `NetworkError`). */
export class NimbusSdkError extends Error {
  /** Stable Nimbus error code (docs/errors.md), e.g. `ResourceNotFoundException`. */
  readonly code: string;
  /** HTTP status; 0 for transport failures. */
  readonly status: number;

  constructor(code: string, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NimbusSdkError';
    this.code = code;
    this.status = status;
  }
}

/** A raw response. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One call: method, path (with query), body bytes and headers. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: Buffer | string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** Options from the environment a function runs in. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SdkOptions {
  return {
    socketPath: env.NIMBUS_API_SOCKET || undefined,
    endpoint: env.NIMBUS_ENDPOINT || undefined,
    token: env.NIMBUS_TOKEN || undefined,
    app: env.NIMBUS_APP || undefined,
  };
}

/** Sends requests to one Nimbus API. */
export class Transport {
  readonly #options: SdkOptions;

  constructor(options: SdkOptions) {
    this.#options = options;
  }

  /** The app short function names are resolved in. */
  get app(): string | undefined {
    return this.#options.app;
  }

  /** Send one request and read the whole response. Non-2xx answers are returned, not thrown. */
  send(req: RawRequest): Promise<RawResponse> {
    const o = this.#options;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    // Inside a function, the invocation's trace header (set per invocation by the runner) goes
    // with every call, as the AWS SDK's recursion-detection middleware does: Nimbus counts the
    // chain's hops from its Lineage and stops a recursive loop (docs/functions.md).
    const traceId = process.env._X_AMZN_TRACE_ID;
    if (traceId && process.env.AWS_LAMBDA_FUNCTION_NAME && headers['x-amzn-trace-id'] === undefined)
      headers['x-amzn-trace-id'] = traceId;
    const body =
      req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    if (body !== undefined) headers['content-length'] = String(body.length);
    let options: RequestOptions;
    let request = httpRequest;
    if (o.socketPath) {
      options = { socketPath: o.socketPath, path: req.path, method: req.method, headers };
    } else {
      const base = new URL(o.endpoint ?? 'http://127.0.0.1:8080');
      if (base.protocol === 'https:') request = httpsRequest;
      options = {
        hostname: base.hostname,
        port: base.port,
        path: base.pathname.replace(/\/$/, '') + req.path,
        method: req.method,
        headers,
      };
    }
    const timeoutMs = o.timeoutMs ?? 30_000;
    return new Promise<RawResponse>((resolve, reject) => {
      const r = request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      r.on('error', (err) => {
        const where = o.socketPath ? `the socket ${o.socketPath}` : (o.endpoint ?? 'http://127.0.0.1:8080');
        reject(
          new NimbusSdkError(
            'NetworkError',
            `Cannot reach Nimbus at ${where}: ${err.message}. Inside a function NIMBUS_API_SOCKET is set for you; elsewhere set NIMBUS_ENDPOINT and NIMBUS_TOKEN.`,
            0,
            { cause: err },
          ),
        );
      });
      r.end(body);
    });
  }

  /** A JSON call: throws {@link NimbusSdkError} on non-2xx answers. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send({
      method,
      path,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (res.status < 200 || res.status >= 300) throw errorOf(res);
    if (res.body.length === 0) return undefined as T;
    return JSON.parse(res.body.toString('utf8')) as T;
  }
}

/** The NimbusSdkError of a non-2xx response (`{ code, message }` bodies). */
export function errorOf(res: RawResponse): NimbusSdkError {
  let code = 'HttpError';
  let message = `Nimbus answered ${res.status}`;
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string') code = parsed.code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    if (res.body.length > 0) message += `: ${res.body.toString('utf8').slice(0, 200)}`;
  }
  return new NimbusSdkError(code, message, res.status);
}

/** `encodeURIComponent` for one path segment. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
