// Queue names and settings: validation with SQS's limits, defaults, and messages that name the fix.

import { NimbusError } from '../../errors.js';
import type { QueueSettings, QueueSettingsInput } from './queue-types.js';

/** SQS's defaults. */
export const DEFAULT_QUEUE_SETTINGS: QueueSettings = Object.freeze({
  visibilityTimeout: 30,
  delaySeconds: 0,
  messageRetentionPeriod: 345_600,
  maximumMessageSize: 262_144,
  receiveMessageWaitTime: 0,
  fifo: false,
  contentBasedDeduplication: false,
  deadLetter: undefined,
});

/** Numeric settings and their inclusive ranges (SQS's). */
const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  visibilityTimeout: [0, 43_200],
  delaySeconds: [0, 900],
  messageRetentionPeriod: [60, 1_209_600],
  maximumMessageSize: [1024, 262_144],
  receiveMessageWaitTime: [0, 20],
};

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

function invalid(message: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', message);
}

/** Throws unless `name` is a valid queue name (SQS's rule: 1-80 of A-Z a-z 0-9 - _, FIFO ends `.fifo`). */
export function checkQueueName(name: string, where = 'queue name'): void {
  const base = name.endsWith('.fifo') ? name.slice(0, -5) : name;
  if (!NAME_PATTERN.test(base) || name.length > 80) {
    throw invalid(
      `${where} '${name}' is not valid; use 1-80 letters, digits, '-' and '_' (a FIFO queue's name ends in '.fifo').`,
    );
  }
}

/**
 * Validates settings as given (nimbus.yml, /v1 body, SQS attributes mapped) over `base`
 * (defaults for a new queue, the current settings for an update); `where` prefixes messages
 * (e.g. `resources.queues.jobs`). Unknown keys are refused; a `deadLetter` key present with
 * undefined or null removes the redrive policy.
 */
export function resolveQueueSettings(
  name: string,
  input: QueueSettingsInput | Readonly<Record<string, unknown>> | undefined,
  base: QueueSettings = DEFAULT_QUEUE_SETTINGS,
  where = `queue '${name}'`,
): QueueSettings {
  const raw = (input ?? {}) as Readonly<Record<string, unknown>>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(`${where}: settings must be a mapping such as { visibilityTimeout: 60 }.`);
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(raw)) {
    // An explicit `deadLetter: undefined` (or null) removes the redrive policy (SQS: RedrivePolicy
    // set to ''); any other undefined value means "not given".
    if (value === undefined && key !== 'deadLetter') continue;
    if (key in RANGES) {
      const [min, max] = RANGES[key]!;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw invalid(
          `${where}.${key}: ${JSON.stringify(value)} is not valid; use a whole number from ${min} to ${max}.`,
        );
      }
      out[key] = value;
    } else if (key === 'fifo' || key === 'contentBasedDeduplication') {
      if (typeof value !== 'boolean') throw invalid(`${where}.${key}: use true or false.`);
      out[key] = value;
    } else if (key === 'deadLetter') {
      out[key] =
        value === null || value === undefined ? undefined : resolveDeadLetter(value, `${where}.deadLetter`);
    } else {
      throw invalid(
        `${where}: unknown setting '${key}'; use visibilityTimeout, delaySeconds, messageRetentionPeriod, ` +
          'maximumMessageSize, receiveMessageWaitTime, fifo, contentBasedDeduplication or deadLetter.',
      );
    }
  }
  const isFifoName = name.endsWith('.fifo');
  if (raw['fifo'] === undefined) out['fifo'] = isFifoName || base.fifo;
  if (out['fifo'] !== isFifoName) {
    throw invalid(
      isFifoName
        ? `${where}: a queue whose name ends in '.fifo' is a FIFO queue; drop fifo: false.`
        : `${where}.fifo: a FIFO queue's name must end in '.fifo'; rename it to '${name}.fifo'.`,
    );
  }
  if (out['contentBasedDeduplication'] === true && out['fifo'] !== true) {
    throw invalid(
      `${where}.contentBasedDeduplication: only FIFO queues deduplicate; drop it or make the queue FIFO.`,
    );
  }
  const dl = out['deadLetter'] as QueueSettings['deadLetter'];
  if (dl !== undefined) {
    if (dl.queue === name)
      throw invalid(`${where}.deadLetter.queue: a queue cannot be its own dead-letter queue; name another.`);
    if (dl.queue.endsWith('.fifo') !== isFifoName) {
      throw invalid(
        `${where}.deadLetter.queue: the dead-letter queue of a ${isFifoName ? 'FIFO' : 'standard'} queue must be ` +
          `${isFifoName ? 'FIFO too (name ending in .fifo)' : 'standard too (name not ending in .fifo)'}.`,
      );
    }
  }
  return Object.freeze(out) as unknown as QueueSettings;
}

function resolveDeadLetter(value: unknown, where: string): QueueSettings['deadLetter'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${where}: use { queue: <dead-letter queue>, maxReceiveCount: <1-1000> }.`);
  }
  const { queue, maxReceiveCount, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw invalid(`${where}: unknown key '${extra[0]}'; use queue and maxReceiveCount.`);
  if (typeof queue !== 'string') throw invalid(`${where}.queue: name the dead-letter queue (a string).`);
  checkQueueName(queue, `${where}.queue`);
  const count = maxReceiveCount ?? 10;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalid(
      `${where}.maxReceiveCount: ${JSON.stringify(count)} is not valid; use a whole number from 1 to 1000.`,
    );
  }
  return Object.freeze({ queue, maxReceiveCount: count });
}

/** True when two settings are the same. */
export function sameSettings(a: QueueSettings, b: QueueSettings): boolean {
  return canonicalSettings(a) === canonicalSettings(b);
}

/** Settings as canonical JSON (sorted keys, no undefined): what the store keeps. */
export function canonicalSettings(s: QueueSettings): string {
  const entries = Object.entries(s)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(Object.fromEntries(entries));
}

/** Parses stored settings over the defaults (so settings added later get their defaults). */
export function parseStoredSettings(json: string): QueueSettings {
  return Object.freeze({ ...DEFAULT_QUEUE_SETTINGS, ...(JSON.parse(json) as Partial<QueueSettings>) });
}
