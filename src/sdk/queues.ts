// SDK: send to and receive from queues.

import { seg, type Transport } from './transport.js';

/** A message attribute in SQS's shape. */
export interface SdkMessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

/** Options of {@link QueuesClient.send}. */
export interface SendOptions {
  /** Seconds before the message is visible (0-900). */
  readonly delaySeconds?: number;
  /** FIFO queues: the message group. */
  readonly groupId?: string;
  /** FIFO queues: deduplication id (5-minute window). */
  readonly deduplicationId?: string;
  /** Attributes; plain strings and numbers are turned into String / Number attributes. */
  readonly attributes?: Readonly<Record<string, string | number | SdkMessageAttribute>>;
}

/** A received message. */
export interface SdkMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, SdkMessageAttribute>>;
  readonly receiveCount: number;
}

/** `queues.*` of the SDK. */
export class QueuesClient {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Send one message; objects are sent as JSON. Resolves once the message is durably stored. */
  send(
    queue: string,
    body: unknown,
    options: SendOptions = {},
  ): Promise<{ messageId: string; sequenceNumber?: string }> {
    return this.#t.json('POST', `/v1/queues/${seg(queue)}/messages`, message(body, options));
  }

  /** Send up to 10 messages at once; each succeeds or fails on its own. */
  sendBatch(
    queue: string,
    entries: ReadonlyArray<{ id: string; body: unknown } & SendOptions>,
  ): Promise<{
    successful: Array<{ id: string; messageId: string }>;
    failed: Array<{ id: string; code: string; message: string }>;
  }> {
    return this.#t.json('POST', `/v1/queues/${seg(queue)}/messages`, {
      entries: entries.map(({ id, body, ...options }) => ({ id, ...message(body, options) })),
    });
  }

  /** Receive up to `max` messages (1-10), waiting up to `waitSeconds` (0-20) for the first. */
  async receive(
    queue: string,
    options: { max?: number; waitSeconds?: number; visibilityTimeout?: number } = {},
  ): Promise<SdkMessage[]> {
    const res = await this.#t.json<{ messages: SdkMessage[] }>('POST', `/v1/queues/${seg(queue)}/receive`, {
      ...(options.max === undefined ? {} : { maxMessages: options.max }),
      ...(options.waitSeconds === undefined ? {} : { waitTimeSeconds: options.waitSeconds }),
      ...(options.visibilityTimeout === undefined ? {} : { visibilityTimeout: options.visibilityTimeout }),
    });
    return res.messages;
  }

  /** Delete a received message (it was processed). */
  async delete(queue: string, receiptHandle: string): Promise<void> {
    await this.#t.json('DELETE', `/v1/queues/${seg(queue)}/messages/${seg(receiptHandle)}`);
  }
}

function message(body: unknown, options: SendOptions): Record<string, unknown> {
  const attributes: Record<string, SdkMessageAttribute> = {};
  for (const [name, value] of Object.entries(options.attributes ?? {})) {
    attributes[name] =
      typeof value === 'string'
        ? { DataType: 'String', StringValue: value }
        : typeof value === 'number'
          ? { DataType: 'Number', StringValue: String(value) }
          : value;
  }
  return {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(options.delaySeconds === undefined ? {} : { delaySeconds: options.delaySeconds }),
    ...(options.groupId === undefined ? {} : { groupId: options.groupId }),
    ...(options.deduplicationId === undefined ? {} : { deduplicationId: options.deduplicationId }),
    ...(Object.keys(attributes).length === 0 ? {} : { attributes }),
  };
}
