// SDK: invoke other functions of the same app, synchronously or as async events.

import { errorOf, NimbusSdkError, seg, type Transport } from './transport.js';

/** Options of {@link FunctionsClient.invoke}. */
export interface InvokeOptions {
  /** Version or alias. @default '$LATEST' */
  readonly qualifier?: string | undefined;
}

/** An async invocation that was accepted (committed) by Nimbus. */
export interface AsyncInvocationAccepted {
  readonly invocationId: string;
}

/** The function raised an error; `errorType`/`errorMessage` as Lambda reports them. */
export class FunctionError extends NimbusSdkError {
  readonly errorType: string;
  readonly payload: unknown;

  constructor(functionName: string, payload: unknown) {
    const p = (payload ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    const errorType = typeof p.errorType === 'string' ? p.errorType : 'Error';
    const errorMessage = typeof p.errorMessage === 'string' ? p.errorMessage : 'function failed';
    super('FunctionError', `${functionName} failed: ${errorType}: ${errorMessage}`, 200);
    this.name = 'FunctionError';
    this.errorType = errorType;
    this.payload = payload;
  }
}

/** `functions.*` of the SDK. */
export class FunctionsClient {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Invoke `name` and return its result (parsed JSON). A short name (`analyze`) means the function
   * of this app (`<app>-analyze`). A function error throws {@link FunctionError}.
   */
  async invoke<T = unknown>(name: string, payload: unknown = {}, options: InvokeOptions = {}): Promise<T> {
    const fullName = this.fullName(name);
    const res = await this.#t.send({
      method: 'POST',
      path: `/v1/functions/${seg(fullName)}/invoke${qualifierQuery(options.qualifier, '?')}`,
      body: JSON.stringify(payload ?? null),
      headers: { 'content-type': 'application/json' },
    });
    if (res.status < 200 || res.status >= 300) throw errorOf(res);
    const text = res.body.toString('utf8');
    const value = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (res.headers['x-nimbus-function-error'] !== undefined) throw new FunctionError(fullName, value);
    return value as T;
  }

  /** Queue an async invocation (retried on failure); resolves once it is durably accepted. */
  async invokeAsync(
    name: string,
    payload: unknown = {},
    options: InvokeOptions = {},
  ): Promise<AsyncInvocationAccepted> {
    const fullName = this.fullName(name);
    return this.#t.json<AsyncInvocationAccepted>(
      'POST',
      `/v1/functions/${seg(fullName)}/invoke?async=true${qualifierQuery(options.qualifier, '&')}`,
      payload ?? null,
    );
  }

  /** The Lambda full name for `name` in this app (`<app>-<name>`), or `name` if already full. */
  fullName(name: string): string {
    const app = this.#t.app;
    return app === undefined || name.startsWith(`${app}-`) ? name : `${app}-${name}`;
  }
}

function qualifierQuery(qualifier: string | undefined, sep: '?' | '&'): string {
  return qualifier === undefined ? '' : `${sep}qualifier=${encodeURIComponent(qualifier)}`;
}
