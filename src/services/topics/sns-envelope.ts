// What a published message looks like on the way out: the SNS notification envelope (queues and
// webhooks), the Lambda SNS event (functions), and validation of what is published.

import { NimbusError } from '../../errors.js';
import type { TopicMessageAttribute } from './topic-types.js';

/** Largest message SNS accepts, in bytes (256 KiB). */
export const MAX_MESSAGE_BYTES = 262_144;
/** Most message attributes per message, as on SNS. */
export const MAX_ATTRIBUTES = 10;

/** One published message, as every subscription sees it. */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string | undefined;
  /** ISO-8601 publish time. */
  readonly timestamp: string;
  readonly attributes: Readonly<Record<string, TopicMessageAttribute>>;
}

const ATTRIBUTE_NAME = /^(?!\.)(?!aws\.|amazon\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;

/**
 * Check a message, subject and attributes as SNS does; throws `InvalidParameterValueException`
 * (or `RequestEntityTooLargeException`) naming the field and the fix.
 */
export function validatePublish(
  message: string,
  subject: string | undefined,
  attributes: Readonly<Record<string, TopicMessageAttribute>>,
): void {
  if (message.length === 0) {
    throw new NimbusError(
      'InvalidParameterValueException',
      'message: must not be empty; publish at least one character',
    );
  }
  const size = Buffer.byteLength(message);
  if (size > MAX_MESSAGE_BYTES) {
    throw new NimbusError(
      'RequestEntityTooLargeException',
      `message: ${size} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit; store large payloads in a bucket and publish their key`,
    );
  }
  if (subject !== undefined && (subject.length === 0 || subject.length > 100 || /[\r\n]/.test(subject))) {
    throw new NimbusError(
      'InvalidParameterValueException',
      'subject: must be 1-100 characters on one line (as on SNS); shorten it or leave it out',
    );
  }
  const names = Object.keys(attributes);
  if (names.length > MAX_ATTRIBUTES) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `attributes: ${names.length} given, at most ${MAX_ATTRIBUTES} are allowed; put the rest in the message`,
    );
  }
  for (const name of names) {
    const a = attributes[name]!;
    const at = `attributes.${name}`;
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `${at}: names are 1-256 letters, digits, '_', '-' and '.', not starting with aws. or amazon.`,
      );
    }
    const type = typeof a?.DataType === 'string' ? a.DataType : '';
    const base = type.split('.')[0];
    if (type === 'String.Array') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(a.StringValue ?? '');
      } catch {
        parsed = undefined;
      }
      if (!Array.isArray(parsed) || parsed.some((v) => typeof v === 'object' && v !== null)) {
        throw new NimbusError(
          'InvalidParameterValueException',
          `${at}: a String.Array value is a JSON array of strings, numbers, booleans or null, e.g. ["a", 1]`,
        );
      }
    } else if (base === 'String' || base === 'Number') {
      if (typeof a.StringValue !== 'string' || a.StringValue === '') {
        throw new NimbusError(
          'InvalidParameterValueException',
          `${at}: ${type} attributes need a non-empty StringValue`,
        );
      }
      if (base === 'Number' && !Number.isFinite(Number(a.StringValue))) {
        throw new NimbusError(
          'InvalidParameterValueException',
          `${at}: ${JSON.stringify(a.StringValue)} is not a number; use DataType String or a numeric value`,
        );
      }
    } else if (base === 'Binary') {
      if (typeof a.BinaryValue !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a.BinaryValue)) {
        throw new NimbusError(
          'InvalidParameterValueException',
          `${at}: Binary attributes need a base64 BinaryValue`,
        );
      }
    } else {
      throw new NimbusError(
        'InvalidParameterValueException',
        `${at}: DataType ${JSON.stringify(a?.DataType)} is not one of String, Number, Binary, String.Array`,
      );
    }
  }
}

/** The attributes in the envelope's shape: `{ name: { Type, Value } }`. */
function envelopeAttributes(
  attributes: Readonly<Record<string, TopicMessageAttribute>>,
): Record<string, { Type: string; Value: string }> {
  const out: Record<string, { Type: string; Value: string }> = {};
  for (const [name, a] of Object.entries(attributes)) {
    out[name] = {
      Type: a.DataType,
      Value: a.DataType.startsWith('Binary') ? (a.BinaryValue ?? '') : (a.StringValue ?? ''),
    };
  }
  return out;
}

/**
 * The SNS notification envelope delivered to queues and webhooks (SNS spells the URLs `...URL`
 * here). Nimbus does not sign envelopes with an SNS certificate: `Signature` is empty and
 * webhooks carry `X-Nimbus-Signature` instead.
 */
export function notificationEnvelope(msg: PublishedMessage, unsubscribePath: string) {
  return {
    Type: 'Notification',
    MessageId: msg.messageId,
    TopicArn: msg.topicArn,
    ...(msg.subject !== undefined ? { Subject: msg.subject } : {}),
    Message: msg.message,
    Timestamp: msg.timestamp,
    SignatureVersion: '1',
    Signature: '',
    SigningCertURL: '',
    UnsubscribeURL: unsubscribePath,
    ...(Object.keys(msg.attributes).length > 0
      ? { MessageAttributes: envelopeAttributes(msg.attributes) }
      : {}),
  };
}

/** The Lambda event of an SNS-triggered function: one record (SNS invokes once per message). */
export function lambdaSnsEvent(msg: PublishedMessage, subscriptionArn: string, unsubscribePath: string) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: msg.messageId,
          TopicArn: msg.topicArn,
          Subject: msg.subject ?? null,
          Message: msg.message,
          Timestamp: msg.timestamp,
          SignatureVersion: '1',
          Signature: '',
          SigningCertUrl: '',
          UnsubscribeUrl: unsubscribePath,
          MessageAttributes: envelopeAttributes(msg.attributes),
        },
      },
    ],
  };
}
