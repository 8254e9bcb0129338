// A Nimbus server and SDK clients for the SQS API tests: registers its own before/after hooks in
// the enclosing describe block.

import { after, before } from 'node:test';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Store } from '../../src/store/store.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** What the SQS tests use; `t` and `sqs` are set once `before` has run. */
export interface SqsFixture {
  readonly t: TestServer;
  /** A client with the root credentials. */
  readonly sqs: SQSClient;
  /** A new client (closed after the block), with other credentials if given. */
  client(secretAccessKey?: string, accessKeyId?: string): SQSClient;
  /** CreateQueue; resolves to the queue URL. */
  create(name: string, attributes?: Record<string, string>): Promise<string>;
}

/** Start a server on a fresh store before the block's tests and stop it (and its clients) after. */
export function sqsServer(open: () => Promise<Store>): SqsFixture {
  let t: TestServer | undefined;
  let sqs: SQSClient | undefined;
  const clients: SQSClient[] = [];
  const fixture: SqsFixture = {
    get t() {
      return t!;
    },
    get sqs() {
      return sqs!;
    },
    client(secretAccessKey = t!.credentials.secretAccessKey, accessKeyId = t!.credentials.accessKeyId) {
      const c = new SQSClient({
        endpoint: t!.url,
        region: 'us-east-1',
        credentials: { accessKeyId, secretAccessKey },
        maxAttempts: 1,
      });
      clients.push(c);
      return c;
    },
    create: async (name, attributes) =>
      (await sqs!.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!,
  };
  before(async () => {
    t = await startTestServer({ store: await open() });
    sqs = fixture.client();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t?.close();
  });
  return fixture;
}
