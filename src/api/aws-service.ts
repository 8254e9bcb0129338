// Which AWS service a request is signed for, read from the SigV4 credential scope without
// verifying anything: lets one port serve user routes and the S3/SQS/Step Functions facades (as
// LocalStack does).

import type { IncomingMessage } from 'node:http';

const HEADER_SCOPE = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/;
const QUERY_SCOPE =
  /(?:^|&)X-Amz-Credential=[^&/]*(?:%2F|\/)\d{8}(?:%2F|\/)[^&/%]+(?:%2F|\/)([^&/%]+)(?:%2F|\/)aws4_request/i;
const SIGNED_QUERY = /(?:^|&)X-Amz-(?:Signature|Credential|Algorithm)=/i;

/**
 * The service name of the request's SigV4 credential scope (`s3`, `sqs`, `states`, `lambda`, ...),
 * from the `Authorization` header or a presigned URL's `X-Amz-Credential`; undefined for unsigned
 * requests. The signature itself is verified later by whoever serves the request.
 */
export function awsServiceOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    if (!auth.startsWith('AWS4-HMAC-SHA256')) return undefined;
    return HEADER_SCOPE.exec(auth)?.[1];
  }
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0 || !url.includes('X-Amz-Credential')) return undefined;
  return QUERY_SCOPE.exec(url.slice(q + 1))?.[1];
}

/**
 * True for AWS API traffic: an `Authorization: AWS4-…` (SigV4 or SigV4a) header, or a presigned
 * query (`X-Amz-Signature`, `X-Amz-Credential` or `X-Amz-Algorithm`). Such a request is meant for
 * an AWS service, never for a user route: the gateway must not hand it (and its credentials) to
 * a function, whatever its scope says.
 */
export function isAwsSigned(req: IncomingMessage): boolean {
  const auth = req.headers.authorization;
  if (auth !== undefined && /^\s*AWS4-/i.test(auth)) return true;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q >= 0 && SIGNED_QUERY.test(url.slice(q + 1));
}
