// The SQS-compatible API (JSON protocol, `X-Amz-Target: AmazonSQS.<Action>`, SigV4 service `sqs`),
// so `@aws-sdk/client-sqs` works against Nimbus with only an endpoint.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { QueueOperations } from '../../services/queues/queue-types.js';
import type { Platform } from '../../server/platform.js';
import { header, readBody } from '../http-io.js';
import type { SqsActionContext } from './sqs-action-context.js';
import { SQS_ACTIONS, SUPPORTED_SQS_ACTIONS, UNSUPPORTED_SQS_ACTIONS } from './sqs-actions.js';
import { SqsError, sqsErrorBody, sqsQueryErrorHeader, toSqsError } from './sqs-errors.js';
import { asObject } from './sqs-shapes.js';

/**
 * Largest request body read. A batch holds up to 10 messages of up to 256 KiB each, and JSON
 * escaping can grow a body (\t, \n, \r and quotes double), so 6 MiB leaves room; the queue
 * service enforces each queue's MaximumMessageSize.
 */
export const SQS_BODY_LIMIT = 6 * 1024 * 1024;

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AmazonSQS.';

/** The queue operations the facade drives: only the contract, not the service's other members. */
function queueOperations(platform: Platform): QueueOperations {
  return platform.queues;
}

/** `http(s)://<Host>`: the origin the client addressed, for the queue URLs we hand out. */
function originOf(req: IncomingMessage): string {
  const scheme = (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  return `${scheme}://${header(req, 'host') ?? 'localhost'}`;
}

/** Serve one SQS request (every request signed for service `sqs`). Never throws. */
export async function handleSqs(
  platform: Platform,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  // Ends a long poll when the client goes away before its answer.
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let legacyQuery = false;
  try {
    const body = await readBody(req, SQS_BODY_LIMIT, 'SQS request body');
    const identity = await platform.auth.verifySigV4(
      {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: body.length === 0 ? undefined : body,
      },
      { expectedScope: { service: 'sqs', region: platform.region } },
    );
    const target = header(req, 'x-amz-target');
    if (target === undefined && (header(req, 'content-type') ?? '').includes('json')) {
      throw new SqsError(
        'MissingParameter',
        `The X-Amz-Target header is missing; send AmazonSQS.<Action> (one of ${SUPPORTED_SQS_ACTIONS.join(', ')}).`,
      );
    }
    if (target === undefined) {
      legacyQuery = true;
      throw new SqsError(
        'InvalidAction',
        'The SQS query protocol (Action=... form bodies, XML answers) is not supported. Use an AWS SDK that speaks the SQS JSON protocol (X-Amz-Target: AmazonSQS.<Action>, e.g. @aws-sdk/client-sqs 3.446 or later; AWS SDKs released since late 2023).',
      );
    }
    if (req.method !== 'POST') {
      throw new SqsError('InvalidAction', `SQS requests are POSTs; got ${req.method}.`);
    }
    const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const handler = Object.hasOwn(SQS_ACTIONS, action) ? SQS_ACTIONS[action] : undefined;
    if (handler === undefined) {
      const supported = `Supported actions: ${SUPPORTED_SQS_ACTIONS.join(', ')}.`;
      if (UNSUPPORTED_SQS_ACTIONS.has(action)) {
        throw new SqsError(
          'UnsupportedOperation',
          `Nimbus does not support the SQS action ${action}. ${supported}`,
        );
      }
      throw new SqsError('InvalidAction', `Unknown SQS action in X-Amz-Target '${target}'. ${supported}`);
    }
    let input: unknown = {};
    if (body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        throw new SqsError(
          'InvalidParameterValue',
          `The body of ${action} is not valid JSON; send a JSON object.`,
        );
      }
    }
    const members = asObject(input);
    if (members === undefined) {
      throw new SqsError('InvalidParameterValue', `The body of ${action} must be a JSON object.`);
    }
    const ctx: SqsActionContext = {
      ops: queueOperations(platform),
      origin: originOf(req),
      region: platform.region,
      accountId: platform.accountId,
      principal: identity.accessKeyId,
      signal: abort.signal,
      traceHeader:
        typeof req.headers['x-amzn-trace-id'] === 'string' ? req.headers['x-amzn-trace-id'] : undefined,
    };
    const output = await handler(ctx, members);
    if (res.destroyed) return;
    const json = JSON.stringify(output);
    res.writeHead(200, {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': Buffer.byteLength(json),
      'x-amzn-requestid': requestId,
    });
    res.end(json);
  } catch (err) {
    const { error, unexpected } = toSqsError(err);
    if (unexpected) {
      platform.services.logger.error(`SQS API internal error: ${(err as Error)?.stack ?? String(err)}`);
    }
    sendError(req, res, error, requestId, legacyQuery);
  }
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: SqsError,
  requestId: string,
  xml: boolean,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  // Drain an unread request body so the connection stays usable for keep-alive.
  if (!req.complete) req.resume();
  // Query-protocol clients cannot read JSON; answer them in their XML error shape.
  const payload = xml
    ? `<?xml version="1.0"?><ErrorResponse><Error><Type>${error.sender ? 'Sender' : 'Receiver'}</Type><Code>${error.queryCode}</Code><Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
    : JSON.stringify(sqsErrorBody(error));
  res.writeHead(error.status, {
    'content-type': xml ? 'text/xml' : JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': requestId,
    'x-amzn-query-error': sqsQueryErrorHeader(error),
  });
  res.end(payload);
}
