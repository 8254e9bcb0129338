// SDK: publish to topics.

import { seg, type Transport } from './transport.js';

/** Options of {@link TopicsClient.publish}. */
export interface PublishOptions {
  readonly subject?: string;
  /** Message attributes (filter policies match on them): strings, numbers or string arrays. */
  readonly attributes?: Readonly<Record<string, string | number | readonly (string | number)[]>>;
}

/** `topics.*` of the SDK. */
export class TopicsClient {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Publish to `topic`; objects are sent as JSON. Resolves once every matching subscription's
   * delivery is durably queued.
   */
  publish(topic: string, message: unknown, options: PublishOptions = {}): Promise<{ messageId: string }> {
    return this.#t.json('POST', `/v1/topics/${seg(topic)}/publish`, {
      message: typeof message === 'string' ? message : JSON.stringify(message),
      ...(options.subject === undefined ? {} : { subject: options.subject }),
      ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
    });
  }
}
