// HTTP client for the Nimbus admin API (/v1) used by the CLI: bearer auth, typed calls, API errors.

import type { FunctionConfig } from '../functions/function-model.js';
import type { AppGatewaySpec } from '../gateway/route-spec.js';
import type { AppWorkflowSpec } from '../workflow/app-workflows.js';

/** A function configuration as the deploy endpoint takes it: the handler is the bundle's. */
export type DeployFunctionConfig = FunctionConfig;

/** One function of a `POST /v1/apps/{app}/deploy` request. */
export interface DeployFunctionRequest {
  readonly name: string;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly config: DeployFunctionConfig;
  /** The function's `events` as written in nimbus.yml (the server checks the ones it knows). */
  readonly events?: readonly unknown[];
}

/** Body of `POST /v1/apps/{app}/deploy`. */
export interface DeployRequest {
  readonly functions: readonly DeployFunctionRequest[];
  /** Delete functions of the app that the request does not name. */
  readonly prune: boolean;
  /** The app's HTTP routes and gateway settings; omit to leave the stored routes unchanged. */
  readonly gateway?: AppGatewaySpec;
  /** Declared resources per kind (`buckets`, `queues`, `tables`, `topics`): name → options. */
  readonly resources?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  /** The app's workflows by key (type, definition, source file); the server prunes the others. */
  readonly workflows?: Readonly<Record<string, AppWorkflowSpec>>;
}

/** Answer of `POST /v1/apps/{app}/deploy`. */
export interface DeployResponse {
  readonly app: string;
  readonly functions: ReadonlyArray<{
    readonly name: string;
    readonly fullName: string;
    readonly version: string;
    readonly codeSha256: string;
  }>;
}

/** One row of `GET /v1/functions`. */
export interface FunctionSummary {
  readonly fullName: string;
  readonly app: string;
  readonly name: string;
  readonly runtime: string;
  /** `typescript` when the function was written in TypeScript (it runs as `nodejs`). */
  readonly sourceRuntime?: string;
  readonly memory: number;
  readonly timeout: number;
  readonly codeSize: number;
  readonly lastModified: string;
  readonly isolation: string;
}

/** An app token as `GET /v1/tokens` lists it (the token itself is never stored). */
export interface AppTokenInfo {
  readonly id: string;
  readonly app: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly status: 'active' | 'revoked' | 'expired';
  readonly revokedAt?: string;
}

/** A gateway API key as the keys API describes it. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly app: string;
  readonly plan: string;
  readonly createdAt: string;
  readonly status: 'active' | 'revoked';
  readonly revokedAt?: string;
}

/** `GET /v1/keys/{key}/usage`. */
export interface ApiKeyUsage extends ApiKeyInfo {
  readonly limits: { rate?: number; burst?: number; quota?: { limit: number; period: string } } | null;
  readonly quota?: { period: string; used: number; limit: number };
  readonly usage: ReadonlyArray<{ period: string; count: number }>;
}

/** One published version (`GET /v1/functions/{fn}/versions`). */
export interface VersionInfo {
  readonly version: string;
  readonly codeSha256: string;
  readonly description: string;
  readonly createdAt: string;
}

/** An alias (`GET /v1/functions/{fn}/aliases`). */
export interface AliasInfo {
  readonly name: string;
  readonly version: string;
  readonly additionalVersion?: { readonly version: string; readonly weight: number };
  readonly description: string;
}

/** Body of `PUT /v1/functions/{fn}/aliases/{name}`. */
export interface AliasRequest {
  readonly version: string;
  readonly additionalVersion?: { readonly version: string; readonly weight: number };
  readonly description?: string;
}

/** One log line (`GET /v1/functions/{fn}/logs`). */
export interface LogLine {
  readonly id: string | number;
  readonly timestamp: string | number;
  readonly requestId: string;
  readonly stream: string;
  readonly message: string;
  readonly version: string;
}

/** Options of {@link ApiClient.invoke}. */
export interface InvokeOptions {
  /** Raw JSON event. */
  readonly payload: string;
  /** Version or alias to invoke. */
  readonly qualifier?: string;
  /** Queue the event and return at once (202). */
  readonly async?: boolean;
  /** Ask for the tail of the logs in `x-nimbus-log-result`. */
  readonly log?: boolean;
  /** Async only: a second enqueue with the same key (within the server's window) returns the first id. */
  readonly idempotencyKey?: string;
}

/** Outcome of {@link ApiClient.invoke}. */
export type InvokeResult =
  | {
      readonly kind: 'sync';
      /** The function's raw response (or error) JSON. */
      readonly body: string;
      /** `Unhandled` (or another Lambda function-error kind) when the function failed. */
      readonly functionError: string | undefined;
      readonly requestId: string | undefined;
      /** Decoded `x-nimbus-log-result`, when logs were asked for. */
      readonly logs: string | undefined;
    }
  | { readonly kind: 'async'; readonly invocationId: string; readonly requestId: string | undefined };

/**
 * An error answered by the API (`{ code, message }` body) or met on the way to it. Network
 * failures use the code `ConnectionError`, and non-JSON error bodies `HttpError`.
 */
export class ApiError extends Error {
  /** Stable error code from the server (see docs/errors.md), or a client-side code. */
  readonly code: string;
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;

  constructor(code: string, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

/** Options for {@link ApiClient}. */
export interface ApiClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080`. */
  readonly endpoint: string;
  /** Bearer token; requests go unauthenticated when missing (the server will refuse most). */
  readonly token?: string | undefined;
  /** Aborts requests in flight (Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
  /** fetch implementation. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  readonly query?: Query;
  readonly json?: unknown;
  readonly body?: Uint8Array;
  readonly contentType?: string;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses returned instead of thrown. */
  readonly allow?: readonly number[];
}

/** The admin API client. One method per endpoint the CLI uses; errors throw {@link ApiError}. */
export class ApiClient {
  readonly endpoint: string;
  readonly #token: string | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.#token = options.token;
    this.#signal = options.signal;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** Whether a code blob is already stored (`HEAD /v1/code/{sha256}` answers 200). */
  async hasCode(sha256: string): Promise<boolean> {
    const res = await this.#request('HEAD', `/v1/code/${enc(sha256)}`, { allow: [404] });
    return res.status === 200;
  }

  /** Uploads a code blob (`PUT /v1/code/{sha256}`); idempotent. */
  async putCode(sha256: string, bytes: Uint8Array): Promise<void> {
    const res = await this.#request('PUT', `/v1/code/${enc(sha256)}`, {
      body: bytes,
      contentType: 'application/octet-stream',
    });
    await res.arrayBuffer();
  }

  /** Deploys an app's functions (`POST /v1/apps/{app}/deploy`). */
  async deploy(app: string, request: DeployRequest): Promise<DeployResponse> {
    return this.#json('POST', `/v1/apps/${enc(app)}/deploy`, { json: request });
  }

  /** Invokes a function (`POST /v1/functions/{fn}/invoke`). */
  async invoke(fn: string, options: InvokeOptions): Promise<InvokeResult> {
    const res = await this.#request('POST', `/v1/functions/${enc(fn)}/invoke`, {
      query: {
        qualifier: options.qualifier,
        async: options.async ? 'true' : undefined,
        log: options.log ? 'tail' : undefined,
      },
      body: Buffer.from(options.payload),
      contentType: 'application/json',
      ...(options.idempotencyKey === undefined
        ? {}
        : { headers: { 'x-nimbus-idempotency-key': options.idempotencyKey } }),
    });
    const requestId = res.headers.get('x-nimbus-request-id') ?? undefined;
    const body = await res.text();
    if (res.status === 202 || options.async) {
      const parsed = parseJson(body) as { invocationId?: unknown } | undefined;
      const invocationId = typeof parsed?.invocationId === 'string' ? parsed.invocationId : '';
      return { kind: 'async', invocationId, requestId };
    }
    const logHeader = res.headers.get('x-nimbus-log-result');
    return {
      kind: 'sync',
      body,
      functionError: res.headers.get('x-nimbus-function-error') ?? undefined,
      requestId,
      logs: logHeader ? Buffer.from(logHeader, 'base64').toString('utf8') : undefined,
    };
  }

  /** Reads log lines (`GET /v1/functions/{fn}/logs`). */
  async logs(fn: string, query: { since?: number; after?: string | number }): Promise<LogLine[]> {
    const res = await this.#json<{ lines?: LogLine[] }>('GET', `/v1/functions/${enc(fn)}/logs`, {
      query: { since: query.since, after: query.after },
    });
    return res.lines ?? [];
  }

  /** Lists functions, optionally of one app (`GET /v1/functions`). */
  async listFunctions(app?: string): Promise<FunctionSummary[]> {
    const res = await this.#json<{ functions?: FunctionSummary[] }>('GET', '/v1/functions', {
      query: { app },
    });
    return res.functions ?? [];
  }

  /** Deletes one function and its versions and aliases (`DELETE /v1/functions/{fn}`). */
  async deleteFunction(fn: string): Promise<unknown> {
    return this.#json('DELETE', `/v1/functions/${enc(fn)}`);
  }

  /** Deletes an app and all its functions (`DELETE /v1/apps/{app}`). */
  async deleteApp(app: string): Promise<unknown> {
    return this.#json('DELETE', `/v1/apps/${enc(app)}`);
  }

  /** Lists a function's published versions. */
  async listVersions(fn: string): Promise<VersionInfo[]> {
    const res = await this.#json<{ versions?: VersionInfo[] }>('GET', `/v1/functions/${enc(fn)}/versions`);
    return res.versions ?? [];
  }

  /** Publishes `$LATEST` as a new immutable version. */
  async publishVersion(fn: string, description?: string): Promise<VersionInfo> {
    return this.#json('POST', `/v1/functions/${enc(fn)}/versions`, { json: { description } });
  }

  /** Lists a function's aliases. */
  async listAliases(fn: string): Promise<AliasInfo[]> {
    const res = await this.#json<{ aliases?: AliasInfo[] }>('GET', `/v1/functions/${enc(fn)}/aliases`);
    return res.aliases ?? [];
  }

  /** Creates or updates an alias. */
  async putAlias(fn: string, name: string, alias: AliasRequest): Promise<AliasInfo> {
    return this.#json('PUT', `/v1/functions/${enc(fn)}/aliases/${enc(name)}`, { json: alias });
  }

  /** Deletes an alias. */
  async deleteAlias(fn: string, name: string): Promise<unknown> {
    return this.#json('DELETE', `/v1/functions/${enc(fn)}/aliases/${enc(name)}`);
  }

  /** Creates a gateway API key for a usage plan; the answer holds the key (shown once). */
  async createKey(request: {
    name: string;
    plan: string;
    app?: string;
  }): Promise<ApiKeyInfo & { key: string }> {
    return this.#json('POST', '/v1/keys', { json: request });
  }

  /** Lists gateway API keys (never the keys themselves). */
  async listKeys(app?: string): Promise<ApiKeyInfo[]> {
    const res = await this.#json<{ keys?: ApiKeyInfo[] }>('GET', '/v1/keys', { query: { app } });
    return res.keys ?? [];
  }

  /** App tokens (the functions' SDK tokens) not yet expired, newest first (`GET /v1/tokens`). */
  async listAppTokens(app?: string): Promise<AppTokenInfo[]> {
    const res = await this.#json<{ tokens?: AppTokenInfo[] }>('GET', '/v1/tokens', { query: { app } });
    return res.tokens ?? [];
  }

  /** Revokes one app token by id (`DELETE /v1/tokens/{id}`). */
  async revokeAppToken(id: string): Promise<AppTokenInfo> {
    return this.#json('DELETE', `/v1/tokens/${enc(id)}`);
  }

  /** A key's plan limits and per-period request counts. */
  async keyUsage(key: string): Promise<ApiKeyUsage> {
    return this.#json('GET', `/v1/keys/${enc(key)}/usage`);
  }

  /** Revokes a key by id or name. */
  async revokeKey(key: string): Promise<ApiKeyInfo> {
    return this.#json('DELETE', `/v1/keys/${enc(key)}`);
  }

  /**
   * Any JSON call of the /v1 API (for command modules with their own small typed wrappers, e.g.
   * `nimbus queues`): `query` becomes the query string, `json` the body.
   */
  request<T>(
    method: string,
    path: string,
    options: { query?: Record<string, string | number | boolean | undefined>; json?: unknown } = {},
  ): Promise<T> {
    return this.#json<T>(method, path, options);
  }

  async #json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.#request(method, path, options);
    const text = await res.text();
    if (text === '') return {} as T;
    const parsed = parseJson(text);
    if (parsed === undefined) {
      throw new ApiError(
        'HttpError',
        `expected JSON from ${method} ${path}, got: ${snippet(text)}`,
        res.status,
      );
    }
    return parsed as T;
  }

  async #request(method: string, path: string, options: RequestOptions): Promise<Response> {
    const url = new URL(this.endpoint + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let body: Uint8Array | string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      body = options.body;
    }
    let res: Response;
    try {
      res = await this.#fetch(url, { method, headers, body, signal: this.#signal });
    } catch (err) {
      throw this.#networkError(err);
    }
    if (res.ok || options.allow?.includes(res.status)) return res;
    throw await this.#responseError(res, method, path);
  }

  #networkError(err: unknown): ApiError {
    if (this.#signal?.aborted || (err as { name?: string }).name === 'AbortError') {
      return new ApiError('Aborted', 'request aborted', 0, { cause: err });
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    return new ApiError(
      'ConnectionError',
      `cannot reach Nimbus at ${this.endpoint} (${reason}); start it with \`nimbus start\` ` +
        'or point --endpoint / NIMBUS_ENDPOINT at a running server',
      0,
      { cause: err },
    );
  }

  async #responseError(res: Response, method: string, path: string): Promise<ApiError> {
    const text = method === 'HEAD' ? '' : await res.text().catch(() => '');
    const parsed = parseJson(text) as { code?: unknown; __type?: unknown; message?: unknown } | undefined;
    const code =
      typeof parsed?.code === 'string'
        ? parsed.code
        : typeof parsed?.__type === 'string'
          ? parsed.__type.split('#').pop()!
          : 'HttpError';
    let message =
      typeof parsed?.message === 'string'
        ? parsed.message
        : `${method} ${path} answered ${res.status} ${res.statusText}${text ? `: ${snippet(text)}` : ''}`;
    if (!this.#token && (res.status === 401 || res.status === 403)) {
      message +=
        ' (no credentials found: set NIMBUS_TOKEN, or pass --data-dir pointing at the server data directory)';
    }
    return new ApiError(code, message, res.status);
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
