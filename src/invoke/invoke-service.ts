// The invoke service: resolve a function, lease a warm instance (or cold start), run one
// invocation, and emit Lambda-style START/END/REPORT logs. Every entry point calls this.

import { randomUUID } from 'node:crypto';
import { NimbusError } from '../errors.js';
import type { FunctionVersion } from '../functions/function-model.js';
import type { LogSink } from '../observe/log-sink.js';
import { splitLogText } from '../observe/log-sink.js';
import type { WarmPool } from '../pool/warm-pool.js';
import { FunctionInitError, type InstanceSpec, type LambdaError } from '../runtime/runtime-backend.js';
import type { LogLine } from '../store/store.js';
import type { FunctionResolver } from './function-resolver.js';
import { parseLineage, recursionError, stepLineage, traceHeaderFor } from './recursion-guard.js';

/** Lambda's synchronous request and response limit: 6 MB (6,291,556 bytes as Lambda counts it). */
export const SYNC_PAYLOAD_LIMIT = 6_291_556;
/** Lambda's asynchronous (`Event`) payload limit. */
export const ASYNC_PAYLOAD_LIMIT = 256 * 1024;
/** How much of the log tail `X-Amz-Log-Result` carries. */
const LOG_TAIL_BYTES = 4096;

/** One invocation request. */
export interface InvokeRequest {
  /** Lambda full name, e.g. `demo-hello`. */
  readonly functionName: string;
  readonly qualifier?: string | undefined;
  /** Raw JSON event bytes (already validated as JSON by the caller). */
  readonly payload: Buffer;
  readonly requestId?: string | undefined;
  /** Return the last 4 KB of the invocation's log. */
  readonly logTail?: boolean | undefined;
  readonly clientContext?: string | undefined;
  /**
   * The `X-Amzn-Trace-Id` of the request (or of the message or event that caused it): its
   * `Lineage` counts the function's runs in the chain; the 17th is stopped (recursion-guard.ts).
   */
  readonly traceHeader?: string | undefined;
}

/** The outcome of one invocation. Function errors are outcomes, platform errors are thrown. */
export interface InvokeResponse {
  readonly requestId: string;
  readonly functionName: string;
  readonly executedVersion: string;
  /** False when the function failed (`X-Amz-Function-Error: Unhandled`). */
  readonly ok: boolean;
  /** The result JSON, or the Lambda error JSON when !ok. */
  readonly payload: Buffer;
  readonly error?: LambdaError | undefined;
  /** The last 4 KB of this invocation's log, as text (when requested). */
  readonly logTail?: string | undefined;
  readonly durationMs: number;
  readonly cold: boolean;
}

/** Builds the spec an instance runs from a version (code unpacking, ARN, env). */
export type SpecFactory = (version: FunctionVersion, qualifier: string | undefined) => Promise<InstanceSpec>;

/** Dependencies of the {@link InvokeService}. */
export interface InvokeServiceDeps {
  readonly resolver: FunctionResolver;
  readonly pool: WarmPool;
  readonly logs: LogSink;
  readonly specFor: SpecFactory;
}

/** Runs invocations. */
export class InvokeService {
  readonly #deps: InvokeServiceDeps;

  constructor(deps: InvokeServiceDeps) {
    this.#deps = deps;
  }

  /** Run one synchronous invocation. */
  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    if (req.payload.length > SYNC_PAYLOAD_LIMIT) {
      throw new NimbusError(
        'RequestEntityTooLargeException',
        `Request must be smaller than ${SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`,
      );
    }
    const requestId = req.requestId ?? randomUUID();
    const version = await this.#deps.resolver.resolve(req.functionName, req.qualifier);
    const fullName = `${version.app}-${version.name}`;
    const step = stepLineage(parseLineage(req.traceHeader), fullName);
    if (step.exceeded && version.config.recursiveLoop !== 'Allow') {
      // Lambda stops the run and tells the owner; the owner reads the function's log.
      this.#deps.logs.write([
        {
          functionName: fullName,
          version: version.version,
          requestId,
          timestamp: Date.now(),
          stream: 'platform',
          message: `WARNING RequestId: ${requestId} recursive loop detected: ${fullName} ran ${step.count - 1} times in this chain of requests; invocation stopped (RecursiveInvocationException)`,
        },
      ]);
      throw recursionError(fullName);
    }
    const traceId = traceHeaderFor(req.traceHeader, step.lineage);
    const spec = await this.#deps.specFor(version, req.qualifier);
    const started = performance.now();
    const startedAt = Date.now();
    const deadlineMs = startedAt + spec.config.timeout * 1000;

    let cold: boolean;
    let initDurationMs = 0;
    let logs: string;
    let maxMemoryUsedMB = 0;
    let droppedOutputBytes = 0;
    let ok: boolean;
    let payload: Buffer;
    let error: LambdaError | undefined;
    try {
      const lease = await this.#deps.pool.acquire(spec);
      cold = lease.cold;
      if (cold) initDurationMs = lease.instance.initDurationMs;
      let reusable = false;
      try {
        const result = await lease.instance.invoke({
          requestId,
          payload: req.payload,
          deadlineMs,
          ...(req.clientContext === undefined ? {} : { clientContext: req.clientContext }),
          traceId,
        });
        reusable = result.reusable;
        logs = result.logs;
        maxMemoryUsedMB = result.maxMemoryUsedMB;
        droppedOutputBytes = result.droppedOutputBytes ?? 0;
        ok = result.ok;
        if (result.ok) {
          payload = result.payload;
        } else {
          error = result.error;
          payload = Buffer.from(JSON.stringify(result.error));
        }
      } finally {
        lease.release(reusable);
      }
    } catch (err) {
      if (!(err instanceof FunctionInitError)) throw err;
      // Lambda reports init failures (syntax error, missing handler) as a function error.
      cold = true;
      initDurationMs = performance.now() - started;
      ok = false;
      error = err.lambdaError;
      logs = err.logs;
      payload = Buffer.from(JSON.stringify(err.lambdaError));
    }
    const durationMs = performance.now() - started - initDurationMs;

    const lines = this.#logLines(version, requestId, startedAt, {
      logs,
      durationMs,
      memory: spec.config.memory,
      maxMemoryUsedMB,
      initDurationMs: cold ? initDurationMs : undefined,
      droppedOutputBytes,
      error,
    });
    this.#deps.logs.write(lines);

    if (ok && payload.length > SYNC_PAYLOAD_LIMIT) {
      throw new NimbusError(
        'RequestEntityTooLargeException',
        `Response payload size (${payload.length} bytes) exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT} bytes).`,
      );
    }
    return {
      requestId,
      functionName: req.functionName,
      executedVersion: version.version,
      ok,
      payload,
      error,
      logTail: req.logTail ? tail(lines.map((l) => l.message).join('\n') + '\n') : undefined,
      durationMs,
      cold,
    };
  }

  #logLines(
    version: FunctionVersion,
    requestId: string,
    startedAt: number,
    r: {
      logs: string;
      durationMs: number;
      memory: number;
      maxMemoryUsedMB: number;
      initDurationMs: number | undefined;
      droppedOutputBytes: number;
      error: LambdaError | undefined;
    },
  ): LogLine[] {
    const functionName = `${version.app}-${version.name}`;
    const now = Date.now();
    const base = { functionName, version: version.version, requestId };
    const lines: LogLine[] = [
      {
        ...base,
        timestamp: startedAt,
        stream: 'platform',
        message: `START RequestId: ${requestId} Version: ${version.version}`,
      },
    ];
    for (const message of splitLogText(r.logs))
      lines.push({ ...base, timestamp: now, stream: 'stdout', message });
    if (r.error && !r.logs.includes(r.error.errorMessage)) {
      // Lambda logs unhandled errors; runners that did not print it get it printed here.
      lines.push({
        ...base,
        timestamp: now,
        stream: 'stderr',
        message: `${new Date(now).toISOString()}\t${requestId}\tERROR\t${JSON.stringify(r.error)}`,
      });
    }
    const duration = r.durationMs.toFixed(2);
    const billed = Math.max(1, Math.ceil(r.durationMs));
    const init = r.initDurationMs === undefined ? '' : `\tInit Duration: ${r.initDurationMs.toFixed(2)} ms`;
    // Nimbus-only field, present only when output went over the per-invocation cap (docs/runtime.md).
    const dropped = r.droppedOutputBytes > 0 ? `\tDropped Output: ${r.droppedOutputBytes} bytes` : '';
    lines.push(
      { ...base, timestamp: now, stream: 'platform', message: `END RequestId: ${requestId}` },
      {
        ...base,
        timestamp: now,
        stream: 'platform',
        message: `REPORT RequestId: ${requestId}\tDuration: ${duration} ms\tBilled Duration: ${billed} ms\tMemory Size: ${r.memory} MB\tMax Memory Used: ${Math.max(1, Math.round(r.maxMemoryUsedMB))} MB${init}${dropped}`,
      },
    );
    return lines;
  }
}

/** The last {@link LOG_TAIL_BYTES} bytes of `text`, cut at a character boundary. */
function tail(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= LOG_TAIL_BYTES) return text;
  let start = bytes.length - LOG_TAIL_BYTES;
  // Skip UTF-8 continuation bytes so we never start mid-character.
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString();
}
