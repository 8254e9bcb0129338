// The S3-compatible API (path-style, SigV4 service `s3`, `aws-chunked` uploads), so
// `@aws-sdk/client-s3` works against Nimbus with `endpoint` and `forcePathStyle: true`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Platform } from '../../server/platform.js';

/** Serve one S3 request (every request signed for service `s3`). Never throws. */
export async function handleS3(platform: Platform, req: IncomingMessage, res: ServerResponse): Promise<void> {
  void platform;
  req.resume();
  res.writeHead(501, { 'content-type': 'application/xml' });
  res.end(
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>S3 API not implemented yet</Message></Error>',
  );
}
