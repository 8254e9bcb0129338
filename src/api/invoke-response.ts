// The HTTP answer to a sync invoke, shared by the /v1 and Lambda APIs (which differ only in header names).

import type { InvokeResponse } from '../invoke/invoke-service.js';
import type { ApiResponse } from './http-io.js';

/** Header names of one API dialect. */
export interface InvokeHeaderNames {
  readonly requestId: string;
  readonly executedVersion: string;
  readonly functionError: string;
  readonly logResult: string;
}

/** 200 with the function's JSON (or error) body and the dialect's headers. */
export function invokeResponse(res: InvokeResponse, names: InvokeHeaderNames): ApiResponse {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [names.requestId]: res.requestId,
    [names.executedVersion]: res.executedVersion,
  };
  if (!res.ok) headers[names.functionError] = 'Unhandled';
  if (res.logTail !== undefined) headers[names.logResult] = Buffer.from(res.logTail).toString('base64');
  return { status: 200, headers, body: res.payload };
}
