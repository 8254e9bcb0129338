// The answer to AWS API traffic Nimbus does not serve (DynamoDB, SNS, Lambda API
// versions other than 2015-03-31, ...): an error in the protocol's own shape naming what is served.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The AWS APIs Nimbus serves on its port, for the error message. */
export const SUPPORTED_AWS_APIS =
  'Lambda (/2015-03-31/functions: Invoke, GetFunction, ListFunctions; scope service "lambda"), S3 (scope service "s3", path-style), SQS (scope service "sqs", JSON protocol) and Step Functions (scope service "states", JSON 1.0 protocol)';

/** Error code of the answer (JSON and REST protocols; query protocols get `InvalidAction`). */
export const UNKNOWN_OPERATION = 'UnknownOperationException';

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** Which wire protocol the client speaks, so its SDK can parse the error. */
function protocolOf(req: IncomingMessage): 'json' | 'query' | 'rest-json' {
  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  if (req.headers['x-amz-target'] !== undefined || contentType.includes('application/x-amz-json'))
    return 'json';
  // SNS, STS, IAM, EC2, ...: form bodies with Action=..., XML answers.
  if (contentType.includes('application/x-www-form-urlencoded') || /[?&]Action=/.test(req.url ?? ''))
    return 'query';
  return 'rest-json';
}

/**
 * Answer a signed request for a service or API path Nimbus does not serve with 400 and the
 * service's error shape: `__type` JSON for JSON-protocol services (DynamoDB),
 * `<ErrorResponse>` XML with `InvalidAction` for query-protocol ones (SNS), and
 * `x-amzn-errortype` + JSON for REST services (other Lambda API versions). The body is drained,
 * not read, so the keep-alive connection stays usable. Never throws.
 */
export function answerUnsupportedAws(
  req: IncomingMessage,
  res: ServerResponse,
  service: string | undefined,
): void {
  const path = (req.url ?? '/').split('?')[0];
  const what =
    service === undefined
      ? `this AWS-signed request (${req.method} ${path})`
      : `${req.method} ${path} signed for service '${service}'`;
  const message = `Nimbus does not serve ${what}. It serves ${SUPPORTED_AWS_APIS}; sign for one of those, or send requests for your own HTTP routes without AWS signatures.`;
  const requestId = randomUUID();
  const protocol = protocolOf(req);
  let body: string;
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  if (protocol === 'query') {
    headers['content-type'] = 'text/xml';
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  } else {
    headers['content-type'] = protocol === 'json' ? 'application/x-amz-json-1.0' : 'application/json';
    headers['x-amzn-errortype'] = UNKNOWN_OPERATION;
    body = JSON.stringify(
      protocol === 'json'
        ? { __type: UNKNOWN_OPERATION, message }
        : { Type: 'User', message, __type: UNKNOWN_OPERATION },
    );
  }
  if (!req.complete) req.resume();
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(400, headers);
  res.end(body);
}
