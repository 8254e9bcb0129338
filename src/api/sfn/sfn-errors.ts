// Step Functions error types as the AWS JSON 1.0 protocol carries them (`__type`, `message`), and
// the mapping from Nimbus error codes to them.

import { isNimbusError } from '../../errors.js';

/**
 * The error types the facade answers with, and their HTTP statuses. Names are those of the Step
 * Functions Smithy model (as compiled into `@aws-sdk/client-sfn`), so the SDK raises its typed
 * exceptions (`StateMachineDoesNotExist`, `InvalidDefinition`, ...).
 */
export const SFN_ERRORS = {
  InvalidArn: 400,
  InvalidDefinition: 400,
  InvalidName: 400,
  InvalidExecutionInput: 400,
  InvalidOutput: 400,
  InvalidToken: 400,
  StateMachineDoesNotExist: 400,
  StateMachineAlreadyExists: 400,
  StateMachineTypeNotSupported: 400,
  ExecutionDoesNotExist: 400,
  ExecutionAlreadyExists: 400,
  ExecutionNotRedrivable: 400,
  TaskDoesNotExist: 400,
  TaskTimedOut: 400,
  ValidationException: 400,
  MissingRequiredParameter: 400,
  UnknownOperationException: 400,
  SerializationException: 400,
  UnrecognizedClientException: 400,
  InvalidSignatureException: 400,
  MissingAuthenticationTokenException: 403,
  AccessDeniedException: 400,
  ThrottlingException: 400,
  RequestEntityTooLarge: 413,
  InternalFailure: 500,
} as const satisfies Record<string, number>;

/** A Step Functions error type name. */
export type SfnErrorType = keyof typeof SFN_ERRORS;

/** An error answered in Step Functions' shape. */
export class SfnError extends Error {
  readonly type: SfnErrorType;
  readonly status: number;

  constructor(type: SfnErrorType, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = type;
    this.type = type;
    this.status = SFN_ERRORS[type];
  }
}

/** Nimbus codes that name a Step Functions type differently (the others keep their name). */
const NIMBUS_TO_SFN: Readonly<Record<string, SfnErrorType>> = {
  InvalidParameterValueException: 'ValidationException',
  InvalidRequestContentException: 'ValidationException',
  ResourceConflictException: 'StateMachineAlreadyExists',
  RequestEntityTooLargeException: 'RequestEntityTooLarge',
  TooManyRequestsException: 'ThrottlingException',
};

/**
 * Any thrown value as an SfnError: SfnErrors as they are, NimbusErrors mapped by code (keeping
 * their message, which names the fix), anything else as `InternalFailure` (`unexpected` is set
 * so the caller logs it).
 */
export function toSfnError(err: unknown): { error: SfnError; unexpected: boolean } {
  if (err instanceof SfnError) return { error: err, unexpected: false };
  if (isNimbusError(err)) {
    const type: SfnErrorType =
      NIMBUS_TO_SFN[err.code] ??
      (err.code in SFN_ERRORS
        ? (err.code as SfnErrorType)
        : err.status >= 500
          ? 'InternalFailure'
          : 'ValidationException');
    return { error: new SfnError(type, err.message, { cause: err }), unexpected: false };
  }
  return {
    error: new SfnError('InternalFailure', 'An internal error occurred; the server log has the details.', {
      cause: err,
    }),
    unexpected: true,
  };
}
