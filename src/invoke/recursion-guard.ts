// Recursive loop detection: how many times each function already ran in a chain of requests,
// carried in the X-Ray trace header's `Lineage` field as Lambda does, and the 16-hop limit.

import { createHash, randomBytes } from 'node:crypto';
import { NimbusError } from '../errors.js';

/**
 * Lambda stops a function invoked more than 16 times in one chain of requests
 * (docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html); so does Nimbus.
 */
export const MAX_RECURSION_DEPTH = 16;

/**
 * Entries a lineage keeps. Why a cap: the header travels with every request of a chain, and a
 * chain through more distinct functions than this is not a loop worth tracking; the entries
 * with the highest counts (the likeliest loop) are kept.
 */
const MAX_LINEAGE_ENTRIES = 32;

/** Function hash → times it ran in the chain so far. */
export type Lineage = ReadonlyMap<string, number>;

/** An empty lineage (a chain's first request). */
export const NO_LINEAGE: Lineage = new Map();

const ENTRY = /^([0-9a-f]{8}):(\d{1,6})$/;

/** The 8-hex hash that stands for `functionName` in a lineage (the name itself never travels). */
export function lineageHash(functionName: string): string {
  return createHash('sha256').update(functionName).digest('hex').slice(0, 8);
}

/**
 * The lineage in an `X-Amzn-Trace-Id` value (`Root=...;Parent=...;Sampled=0;Lineage=ab12cd34:3|...`).
 * Anything malformed counts as no lineage: the header comes from function code, and a forged
 * one can only stop that code's own chain sooner or let it run as an untracked one.
 */
export function parseLineage(traceHeader: string | undefined): Lineage {
  if (traceHeader === undefined) return NO_LINEAGE;
  const field = traceHeader
    .split(';')
    .map((p) => p.trim())
    .find((p) => p.startsWith('Lineage='));
  if (field === undefined) return NO_LINEAGE;
  const out = new Map<string, number>();
  for (const entry of field.slice('Lineage='.length).split('|').slice(0, MAX_LINEAGE_ENTRIES)) {
    const m = ENTRY.exec(entry);
    if (m) out.set(m[1]!, Math.max(out.get(m[1]!) ?? 0, Number(m[2])));
  }
  return out;
}

/** The union of lineages, keeping each function's highest count (a batch of queue messages). */
export function mergeLineages(lineages: Iterable<Lineage>): Lineage {
  const out = new Map<string, number>();
  for (const l of lineages) for (const [h, n] of l) out.set(h, Math.max(out.get(h) ?? 0, n));
  return out;
}

/** What running `functionName` once more in a chain means. */
export interface RecursionStep {
  /** The run's place among this function's runs in the chain (1 = first). */
  readonly count: number;
  /** Over {@link MAX_RECURSION_DEPTH}: the run must be stopped (unless the function allows loops). */
  readonly exceeded: boolean;
  /** The lineage the run carries on (its own count included). */
  readonly lineage: Lineage;
}

/** Count one more run of `functionName` in the chain of `lineage`. */
export function stepLineage(lineage: Lineage, functionName: string): RecursionStep {
  const hash = lineageHash(functionName);
  const count = (lineage.get(hash) ?? 0) + 1;
  const next = new Map(lineage);
  next.set(hash, count);
  return { count, exceeded: count > MAX_RECURSION_DEPTH, lineage: next };
}

/** `Lineage` field text, highest counts first, capped. Empty for an empty lineage. */
export function formatLineage(lineage: Lineage): string {
  return [...lineage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_LINEAGE_ENTRIES)
    .map(([h, n]) => `${h}:${n}`)
    .join('|');
}

/** Random bytes drawn in blocks: randomBytes(12) per invoke was ≈10 µs (4.3 % of server CPU). */
const RANDOM_BLOCK = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** 24 random hex digits (an X-Ray root id's 96 bits). */
function randomHex24(): string {
  if (randomOffset + 12 > randomPool.length) {
    randomPool = randomBytes(RANDOM_BLOCK);
    randomOffset = 0;
  }
  randomOffset += 12;
  return randomPool.toString('hex', randomOffset - 12, randomOffset);
}

/**
 * The `_X_AMZN_TRACE_ID` a run sees: the incoming header's `Root` (or a new X-Ray root) and
 * the lineage the run carries on. Function code sends it back with every API call it makes
 * (the Nimbus SDK and the AWS SDK's recursion-detection middleware both do).
 */
export function traceHeaderFor(incoming: string | undefined, lineage: Lineage): string {
  const root =
    incoming
      ?.split(';')
      .map((p) => p.trim())
      .find((p) => /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(p)) ??
    `Root=1-${Math.floor(Date.now() / 1000)
      .toString(16)
      .padStart(8, '0')}-${randomHex24()}`;
  const text = formatLineage(lineage);
  return `${root};Sampled=0${text === '' ? '' : `;Lineage=${text}`}`;
}

/** The error of a stopped run (sync callers get it; async events are dropped with it). */
export function recursionError(functionName: string): NimbusError {
  return new NimbusError(
    'RecursiveInvocationException',
    `Function ${functionName} was invoked more than ${MAX_RECURSION_DEPTH} times in one chain of requests (a recursive loop) and was stopped; break the loop, or set recursiveLoop: Allow on the function if the recursion is intended.`,
  );
}
