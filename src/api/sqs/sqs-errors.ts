// SQS error types as the AWS JSON protocol carries them (`__type` plus the `x-amzn-query-error`
// header the SDKs use for the legacy codes), and the mapping from Nimbus error codes to them.

import { isNimbusError } from '../../errors.js';

/** How one SQS error type goes on the wire. */
interface SqsErrorInfo {
  /** HTTP status (400 for most sender faults, as SQS answers). */
  readonly status: number;
  /** The legacy (query protocol) code, sent in `x-amzn-query-error`. @default the type */
  readonly queryCode?: string;
  /** True when the caller is at fault (`Sender`), false for `Receiver`. @default status < 500 */
  readonly sender?: boolean;
}

/**
 * The SQS error types the facade answers with. Statuses and legacy codes follow the SQS Smithy
 * model (as compiled into `@aws-sdk/client-sqs`), so the SDK raises its typed exceptions
 * (`QueueDoesNotExist`, `ReceiptHandleIsInvalid`, ...) and `err.Code` carries the old codes.
 */
export const SQS_ERRORS = {
  QueueDoesNotExist: { status: 400, queryCode: 'AWS.SimpleQueueService.NonExistentQueue' },
  QueueNameExists: { status: 400, queryCode: 'QueueAlreadyExists' },
  QueueDeletedRecently: { status: 400, queryCode: 'AWS.SimpleQueueService.QueueDeletedRecently' },
  ReceiptHandleIsInvalid: { status: 404 },
  MessageNotInflight: { status: 400, queryCode: 'AWS.SimpleQueueService.MessageNotInflight' },
  InvalidParameterValue: { status: 400 },
  MissingParameter: { status: 400 },
  InvalidAttributeName: { status: 400 },
  InvalidAttributeValue: { status: 400 },
  InvalidMessageContents: { status: 400 },
  TooManyEntriesInBatchRequest: {
    status: 400,
    queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  },
  BatchEntryIdsNotDistinct: { status: 400, queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct' },
  EmptyBatchRequest: { status: 400, queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest' },
  InvalidBatchEntryId: { status: 400, queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId' },
  BatchRequestTooLong: { status: 400, queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong' },
  PurgeQueueInProgress: { status: 403, queryCode: 'AWS.SimpleQueueService.PurgeQueueInProgress' },
  UnsupportedOperation: { status: 400, queryCode: 'AWS.SimpleQueueService.UnsupportedOperation' },
  InvalidAction: { status: 400 },
  InvalidAddress: { status: 404 },
  AccessDenied: { status: 403 },
  SignatureDoesNotMatch: { status: 403 },
  InvalidClientTokenId: { status: 403 },
  MissingAuthenticationToken: { status: 403 },
  RequestThrottled: { status: 403 },
  RequestEntityTooLarge: { status: 413 },
  // SQS's own answer when an action would pass a limit (e.g. in-flight messages).
  OverLimit: { status: 403 },
  InternalError: { status: 500, sender: false },
} as const satisfies Record<string, SqsErrorInfo>;

/** An SQS error type name. */
export type SqsErrorType = keyof typeof SQS_ERRORS;

/** An error answered in SQS's shape. */
export class SqsError extends Error {
  readonly type: SqsErrorType;
  readonly status: number;
  readonly queryCode: string;
  readonly sender: boolean;

  constructor(type: SqsErrorType, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const info: SqsErrorInfo = SQS_ERRORS[type];
    this.name = type;
    this.type = type;
    this.status = info.status;
    this.queryCode = info.queryCode ?? type;
    this.sender = info.sender ?? info.status < 500;
  }
}

/**
 * Nimbus codes that name an SQS type differently. A code not listed here maps to the SQS type of
 * the same name with a trailing `Exception` dropped (`ReceiptHandleIsInvalidException` →
 * `ReceiptHandleIsInvalid`), so queue-service codes named after SQS need no entry.
 */
const NIMBUS_TO_SQS: Readonly<Record<string, SqsErrorType>> = {
  ResourceNotFoundException: 'QueueDoesNotExist',
  QueueNotFoundException: 'QueueDoesNotExist',
  ResourceConflictException: 'QueueNameExists',
  QueueAlreadyExistsException: 'QueueNameExists',
  InvalidParameterValueException: 'InvalidParameterValue',
  InvalidRequestContentException: 'InvalidParameterValue',
  // A message or batch over the size limit is a parameter error on SQS, not a 413.
  RequestEntityTooLargeException: 'InvalidParameterValue',
  InvalidReceiptHandleException: 'ReceiptHandleIsInvalid',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  UnrecognizedClientException: 'InvalidClientTokenId',
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
  AccessDeniedException: 'AccessDenied',
  TooManyRequestsException: 'RequestThrottled',
  NotFound: 'InvalidAddress',
  StorageQuotaExceeded: 'OverLimit',
};

/** The SQS type for a Nimbus error code (a queue-service or platform code). */
export function sqsTypeOfCode(code: string, status = 400): SqsErrorType {
  const mapped = NIMBUS_TO_SQS[code];
  if (mapped !== undefined) return mapped;
  const stripped = code.replace(/Exception$/, '');
  if (stripped in SQS_ERRORS) return stripped as SqsErrorType;
  return status >= 500 ? 'InternalError' : 'InvalidParameterValue';
}

/**
 * Any thrown value as an SqsError: SqsErrors as they are, NimbusErrors mapped by code (keeping
 * their message, which names the fix), anything else as `InternalError` (`unexpected` is set so
 * the caller logs it).
 */
export function toSqsError(err: unknown): { error: SqsError; unexpected: boolean } {
  if (err instanceof SqsError) return { error: err, unexpected: false };
  if (isNimbusError(err)) {
    const type = sqsTypeOfCode(err.code, err.status);
    return { error: new SqsError(type, err.message, { cause: err }), unexpected: false };
  }
  return {
    error: new SqsError('InternalError', 'An internal error occurred; the server log has the details.', {
      cause: err,
    }),
    unexpected: true,
  };
}

/** The JSON body of an error answer: `{"__type":"com.amazonaws.sqs#<Type>","message":"..."}`. */
export function sqsErrorBody(error: SqsError): { __type: string; message: string } {
  return { __type: `com.amazonaws.sqs#${error.type}`, message: error.message };
}

/** The `x-amzn-query-error` header value: `<legacy code>;Sender` or `;Receiver`. */
export function sqsQueryErrorHeader(error: SqsError): string {
  return `${error.queryCode};${error.sender ? 'Sender' : 'Receiver'}`;
}
