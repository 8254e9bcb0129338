// Request correlation: the X-Request-Id the gateway echoes and invokes with, and W3C traceparent.

import { randomFillSync, randomUUID } from 'node:crypto';

// Why this charset: the id becomes the Lambda request id, which appears in log lines and in the
// Runtime API URLs of `provided` functions, so it must be short and URL-safe.
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The client's `X-Request-Id` when it is sane (1-128 of `A-Za-z0-9._:-`), else a new UUID. */
export function pickRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_ID.test(value) ? value : randomUUID();
}

/** Whether a `traceparent` value is valid W3C Trace Context (version 00 rules; ids not all zero). */
export function isValidTraceparent(value: string): boolean {
  const m = TRACEPARENT.exec(value);
  return m !== null && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!);
}

// Why a pool: each `randomBytes` call is a synchronous OpenSSL call (≈2 µs), two per request
// were the gateway's costliest own step for a no-op function. Refilled 128 ids at a time, as
// node's `randomUUID` does; still the CSPRNG.
const TRACE_ID_BYTES = 16 + 8;
const entropy = Buffer.alloc(TRACE_ID_BYTES * 128);
let entropyOffset = entropy.length;

/** A new `traceparent` starting a trace (not sampled: Nimbus records no spans yet). */
export function newTraceparent(): string {
  if (entropyOffset === entropy.length) {
    randomFillSync(entropy);
    entropyOffset = 0;
  }
  const hex = entropy.toString('hex', entropyOffset, entropyOffset + TRACE_ID_BYTES);
  entropyOffset += TRACE_ID_BYTES;
  return `00-${hex.slice(0, 32)}-${hex.slice(32)}-00`;
}

/**
 * Pass the client's valid `traceparent` on unchanged; otherwise start one, so every function
 * can join its downstream calls to the request's trace.
 */
export function ensureTraceparent(headers: Map<string, string[]>): void {
  const current = headers.get('traceparent');
  if (current?.length === 1 && isValidTraceparent(current[0]!)) return;
  headers.set('traceparent', [newTraceparent()]);
  headers.delete('tracestate');
}
