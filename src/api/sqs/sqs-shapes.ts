// Reading SQS JSON request members (with SQS's error types for missing or bad values), queue URLs,
// and message attributes in and out.

import type { MessageAttributes, MessageAttributeValue } from '../../services/queues/queue-types.js';
import { SqsError } from './sqs-errors.js';

/** A parsed JSON request body. */
export type SqsInput = Readonly<Record<string, unknown>>;

/** A JSON object, or undefined when `value` is not one. */
export function asObject(value: unknown): SqsInput | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as SqsInput)
    : undefined;
}

/** A required string member; `MissingParameter` when absent or empty. */
export function requiredString(input: SqsInput, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined || value === '') {
    throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  }
  return value;
}

/** An optional string member; `InvalidParameterValue` when present but not a string. */
export function optionalString(input: SqsInput, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new SqsError('InvalidParameterValue', `Value for parameter ${name} must be a string.`);
  }
  return value;
}

/** An optional integer member within `[min, max]` (strings of digits are accepted too). */
export function optionalInt(input: SqsInput, name: string, min: number, max: number): number | undefined {
  const raw = input[name];
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SqsError(
      'InvalidParameterValue',
      `Value ${JSON.stringify(raw)} for parameter ${name} is invalid. Reason: must be an integer from ${min} to ${max}.`,
    );
  }
  return value;
}

/** An optional list of strings. */
export function optionalStringList(input: SqsInput, name: string): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new SqsError('InvalidParameterValue', `Value for parameter ${name} must be a list of strings.`);
  }
  return value as string[];
}

/** An optional map of string to string (queue `Attributes`, `tags`). */
export function optionalStringMap(input: SqsInput, name: string): Record<string, string> | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  const obj = asObject(value);
  if (obj === undefined || Object.values(obj).some((v) => typeof v !== 'string')) {
    throw new SqsError('InvalidParameterValue', `Value for parameter ${name} must be a map of strings.`);
  }
  return obj as Record<string, string>;
}

/** An optional list of objects (batch `Entries`). */
export function optionalObjectList(input: SqsInput, name: string): SqsInput[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => asObject(v) === undefined)) {
    throw new SqsError('InvalidParameterValue', `Value for parameter ${name} must be a list of objects.`);
  }
  return value as SqsInput[];
}

/** The path segment queue URLs carry before the queue name. */
export function queueUrl(origin: string, accountId: string, name: string): string {
  return `${origin}/${accountId}/${encodeURIComponent(name)}`;
}

/**
 * The queue name a `QueueUrl` names: its last path segment, so any host and account prefix is
 * accepted (URLs built for another endpoint or by LocalStack-style tools), and a bare name too.
 */
export function queueNameOf(url: string): string {
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      path = new URL(url).pathname;
    } catch {
      throw new SqsError('InvalidAddress', `The address ${url} is not valid for this endpoint.`);
    }
  }
  const segments = path.split('/').filter((s) => s !== '');
  const last = segments[segments.length - 1];
  if (last === undefined) {
    throw new SqsError(
      'InvalidAddress',
      `The address ${url} is not valid for this endpoint; use the QueueUrl returned by CreateQueue or GetQueueUrl.`,
    );
  }
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** The queue name of an ARN (`arn:aws:sqs:<region>:<account>:<name>`), or `arn` when it is a bare name. */
export function queueNameOfArn(arn: string): string {
  if (!arn.startsWith('arn:')) return arn;
  const parts = arn.split(':');
  const name = parts[5];
  if (parts.length !== 6 || parts[2] !== 'sqs' || name === undefined || name === '') {
    throw new SqsError(
      'InvalidParameterValue',
      `Value ${arn} is not a valid SQS queue ARN; expected arn:aws:sqs:<region>:<account>:<queue name>.`,
    );
  }
  return name;
}

/** The ARN of queue `name`. */
export function queueArn(region: string, accountId: string, name: string): string {
  return `arn:aws:sqs:${region}:${accountId}:${name}`;
}

const ATTRIBUTE_NAME_RE = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE_RE = /^(String|Number|Binary)(\.[^\s]{1,256})?$/;
/** Characters SQS allows in bodies and string attributes (XML 1.0 chars). */
// eslint-disable-next-line no-control-regex -- the control characters are the point
const INVALID_CHAR_RE = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** SQS allows at most 10 message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** `InvalidMessageContents` when `text` has characters SQS does not allow. */
export function checkMessageContents(text: string, what: string): void {
  const bad = INVALID_CHAR_RE.exec(text);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new SqsError(
      'InvalidMessageContents',
      `Invalid characters found in ${what} (U+${code}). Allowed: #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF.`,
    );
  }
}

/** Validate the `MessageAttributes` member of a send (names, data types, values). */
export function parseMessageAttributes(value: unknown): MessageAttributes | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = asObject(value);
  if (obj === undefined) {
    throw new SqsError(
      'InvalidParameterValue',
      'MessageAttributes must be a map of name to attribute value.',
    );
  }
  const names = Object.keys(obj);
  if (names.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new SqsError(
      'InvalidParameterValue',
      `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    );
  }
  const out: Record<string, MessageAttributeValue> = {};
  for (const name of names) {
    const lower = name.toLowerCase();
    if (
      !ATTRIBUTE_NAME_RE.test(name) ||
      name.includes('..') ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      lower.startsWith('aws.') ||
      lower.startsWith('amazon.')
    ) {
      throw new SqsError(
        'InvalidParameterValue',
        `Message attribute name '${name}' is invalid: use up to 256 of A-Z a-z 0-9 _ - . (no leading, trailing or double '.', no 'AWS.'/'Amazon.' prefix).`,
      );
    }
    const attr = asObject(obj[name]);
    const dataType = attr?.['DataType'];
    if (attr === undefined || typeof dataType !== 'string' || !DATA_TYPE_RE.test(dataType)) {
      throw new SqsError(
        'InvalidParameterValue',
        `Message attribute '${name}' must have a DataType of String, Number or Binary (optionally with a .suffix).`,
      );
    }
    if (attr['StringListValues'] !== undefined || attr['BinaryListValues'] !== undefined) {
      throw new SqsError(
        'InvalidParameterValue',
        `Message attribute '${name}': StringListValues and BinaryListValues are reserved by SQS and not supported.`,
      );
    }
    const stringValue = attr['StringValue'];
    const binaryValue = attr['BinaryValue'];
    if (dataType.startsWith('Binary')) {
      if (
        typeof binaryValue !== 'string' ||
        binaryValue === '' ||
        !/^[A-Za-z0-9+/]*={0,2}$/.test(binaryValue)
      ) {
        throw new SqsError(
          'InvalidParameterValue',
          `Message attribute '${name}' with type '${dataType}' must use field 'BinaryValue' (non-empty, base64 on the wire).`,
        );
      }
      out[name] = { DataType: dataType, BinaryValue: binaryValue };
      continue;
    }
    if (typeof stringValue !== 'string' || stringValue === '') {
      throw new SqsError(
        'InvalidParameterValue',
        `Message attribute '${name}' with type '${dataType}' must use field 'StringValue' (non-empty).`,
      );
    }
    if (dataType.startsWith('Number') && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(stringValue)) {
      throw new SqsError(
        'InvalidParameterValue',
        `Message attribute '${name}' has type Number but value '${stringValue}' is not a number.`,
      );
    }
    checkMessageContents(stringValue, `message attribute '${name}'`);
    out[name] = { DataType: dataType, StringValue: stringValue };
  }
  return out;
}

/**
 * The message attributes a receive asked for: `MessageAttributeNames` of exact names, `All`/`.*`,
 * or `prefix.*`. None when the list is absent (as on SQS).
 */
export function selectMessageAttributes(
  attributes: MessageAttributes,
  wanted: readonly string[] | undefined,
): MessageAttributes | undefined {
  if (wanted === undefined || wanted.length === 0) return undefined;
  const all = wanted.some((w) => w === 'All' || w === '.*');
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const hit = all || wanted.some((w) => (w.endsWith('.*') ? name.startsWith(w.slice(0, -1)) : w === name));
    if (hit) out[name] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
