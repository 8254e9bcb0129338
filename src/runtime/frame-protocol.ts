// Host side of the runner wire format (src/runtime/runners/PROTOCOL.md): frame encode/decode and message types.

import type { LambdaError } from './runtime-backend.js';

/** Host → runner: assign the function to a generic runner (sent exactly once). */
export interface LoadMessage {
  readonly t: 'load';
  readonly handler: string;
  readonly taskRoot: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryMB: number;
  readonly invokedFunctionArn: string;
  readonly region: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Host → runner: one invocation; the frame body carries the event JSON bytes. */
export interface InvokeMessage {
  readonly t: 'invoke';
  readonly id: string;
  readonly deadlineMs: number;
  readonly clientContext?: string;
  /** X-Ray trace header; runners set `_X_AMZN_TRACE_ID` to it for this invocation. */
  readonly traceId?: string;
}

/** Every message the host sends. */
export type HostMessage = LoadMessage | InvokeMessage;

/** Every message a runner sends. A `result` with `ok: true` carries the response bytes as its body. */
export type RunnerMessage =
  | { readonly t: 'ready'; readonly pid: number }
  | { readonly t: 'loaded'; readonly initMs: number }
  | { readonly t: 'load-error'; readonly error: LambdaError; readonly logs?: string }
  | {
      readonly t: 'result';
      readonly id: string;
      readonly ok: boolean;
      readonly error?: LambdaError;
      readonly logs?: string;
      readonly maxRssMB?: number;
      /** Output bytes the runner dropped over its own per-invocation cap (PROTOCOL.md). */
      readonly droppedBytes?: number;
    }
  | { readonly t: 'log'; readonly data: string };

/** One decoded frame. */
export interface Frame {
  readonly header: RunnerMessage;
  readonly body: Buffer;
}

/**
 * Largest header or body accepted from a runner. Responses are capped at 6 MB by the invoke
 * layer; 64 MB leaves room while stopping a hostile runner from making the host buffer gigabytes.
 */
export const MAX_FRAME_PART = 64 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Encode one frame as a single buffer (`u32 headerLength, u32 bodyLength, header, body`).
 * One buffer means one `write()` syscall per message; for the warm path (≈200 byte headers)
 * copying the body is cheaper than a second write.
 */
export function encodeFrame(header: HostMessage | RunnerMessage, body: Buffer = EMPTY): Buffer {
  const json = JSON.stringify(header);
  const headerLength = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(8 + headerLength + body.length);
  out.writeUInt32BE(headerLength, 0);
  out.writeUInt32BE(body.length, 4);
  out.write(json, 8, 'utf8');
  body.copy(out, 8 + headerLength);
  return out;
}

/** Thrown by {@link FrameDecoder} when a runner sends something that is not a valid frame. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/**
 * Incremental decoder: feed it socket chunks, get whole frames back. Keeps a list of pending
 * chunks and concatenates only when a frame spans several, so the common case (one frame per
 * chunk) allocates nothing beyond the frame's own slices.
 */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;

  /** Add a chunk; returns the frames it completed (possibly none). Throws {@link FrameError}. */
  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#buffered < 8) break;
      let buf = this.#chunks[0] as Buffer;
      if (buf.length < 8) buf = this.#flatten();
      const headerLength = buf.readUInt32BE(0);
      const bodyLength = buf.readUInt32BE(4);
      if (headerLength > MAX_FRAME_PART || bodyLength > MAX_FRAME_PART) {
        throw new FrameError(`runner sent an oversized frame (${headerLength} + ${bodyLength} bytes)`);
      }
      const total = 8 + headerLength + bodyLength;
      if (this.#buffered < total) break;
      if (buf.length < total) buf = this.#flatten();
      frames.push(parseFrame(buf, headerLength, bodyLength));
      if (buf.length === total) {
        this.#chunks.shift();
      } else {
        this.#chunks[0] = buf.subarray(total);
      }
      this.#buffered -= total;
    }
    return frames;
  }

  #flatten(): Buffer {
    const all = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [all];
    return all;
  }
}

function parseFrame(buf: Buffer, headerLength: number, bodyLength: number): Frame {
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
  } catch {
    throw new FrameError('runner sent a frame whose header is not JSON');
  }
  if (typeof header !== 'object' || header === null || typeof (header as { t?: unknown }).t !== 'string') {
    throw new FrameError('runner sent a frame header without a "t" field');
  }
  const start = 8 + headerLength;
  // Copy the body out so the (possibly large, shared) chunk can be collected.
  const body = bodyLength === 0 ? EMPTY : Buffer.from(buf.subarray(start, start + bodyLength));
  return { header: header as RunnerMessage, body };
}
