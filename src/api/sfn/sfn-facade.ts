// The Step Functions-compatible API (JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Action>`, SigV4
// service `states`) over the durable workflow engine, so `@aws-sdk/client-sfn` works against
// Nimbus with only an endpoint.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Platform } from '../../server/platform.js';
import { header, readBody } from '../http-io.js';
import type { SfnActionContext } from './sfn-action-context.js';
import { SFN_ACTIONS, SUPPORTED_SFN_ACTIONS, UNSUPPORTED_SFN_ACTIONS } from './sfn-actions.js';
import { SfnError, toSfnError } from './sfn-errors.js';
import { asObject } from './sfn-shapes.js';

/**
 * Largest request body read: a definition is at most 1 MiB on AWS, an input or output 256 KiB,
 * and JSON escaping can double them.
 */
export const SFN_BODY_LIMIT = 3 * 1024 * 1024;

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AWSStepFunctions.';

/** Serve one Step Functions request (every request signed for service `states`). Never throws. */
export async function handleSfn(
  platform: Platform,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  // Ends a StartSyncExecution wait when the client goes away before its answer.
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const body = await readBody(req, SFN_BODY_LIMIT, 'Step Functions request body');
    const identity = await platform.auth.verifySigV4(
      {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: body.length === 0 ? undefined : body,
      },
      { expectedScope: { service: 'states', region: platform.region } },
    );
    const target = header(req, 'x-amz-target');
    const supported = `Supported actions: ${SUPPORTED_SFN_ACTIONS.join(', ')}.`;
    if (req.method !== 'POST' || target === undefined || !target.startsWith(TARGET_PREFIX)) {
      throw new SfnError(
        'UnknownOperationException',
        `Step Functions requests are POSTs with X-Amz-Target: AWSStepFunctions.<Action> (got ${req.method} with ${target === undefined ? 'no X-Amz-Target' : `'${target}'`}). ${supported}`,
      );
    }
    const action = target.slice(TARGET_PREFIX.length);
    const handler = Object.hasOwn(SFN_ACTIONS, action) ? SFN_ACTIONS[action] : undefined;
    if (handler === undefined) {
      throw new SfnError(
        'UnknownOperationException',
        UNSUPPORTED_SFN_ACTIONS.has(action)
          ? `Nimbus does not support the Step Functions action ${action} yet. ${supported}`
          : `Unknown Step Functions action '${action}'. ${supported}`,
      );
    }
    let input: unknown = {};
    if (body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        throw new SfnError(
          'SerializationException',
          `The body of ${action} is not valid JSON; send a JSON object.`,
        );
      }
    }
    const members = asObject(input);
    if (members === undefined) {
      throw new SfnError('SerializationException', `The body of ${action} must be a JSON object.`);
    }
    const ctx: SfnActionContext = {
      engine: platform.workflows,
      region: platform.region,
      accountId: platform.accountId,
      principal: identity.accessKeyId,
      signal: abort.signal,
    };
    const output = await handler(ctx, members);
    if (res.destroyed || abort.signal.aborted) return;
    const json = JSON.stringify(output);
    res.writeHead(200, {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': Buffer.byteLength(json),
      'x-amzn-requestid': requestId,
    });
    res.end(json);
  } catch (err) {
    if (abort.signal.aborted) {
      res.destroy();
      return;
    }
    const { error, unexpected } = toSfnError(err);
    if (unexpected) {
      platform.services.logger.error(
        `Step Functions API internal error: ${(err as Error)?.stack ?? String(err)}`,
      );
    }
    sendError(req, res, error, requestId);
  }
}

function sendError(req: IncomingMessage, res: ServerResponse, error: SfnError, requestId: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  // Drain an unread request body so the connection stays usable for keep-alive.
  if (!req.complete) req.resume();
  const payload = JSON.stringify({ __type: error.type, message: error.message });
  res.writeHead(error.status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': error.type,
  });
  res.end(payload);
}
