// The SQS-compatible API (JSON protocol, `X-Amz-Target: AmazonSQS.<Action>`, SigV4 service `sqs`),
// so `@aws-sdk/client-sqs` works against Nimbus with only an endpoint.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Platform } from '../../server/platform.js';

/** Serve one SQS request (every request signed for service `sqs`). Never throws. */
export async function handleSqs(
  platform: Platform,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  void platform;
  req.resume();
  res.writeHead(501, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(
    JSON.stringify({
      __type: 'com.amazonaws.sqs#UnsupportedOperation',
      message: 'SQS API not implemented yet',
    }),
  );
}
