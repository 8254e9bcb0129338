// The predefined `States.*` error names and the error a state raises while it runs.

/** Error names the States language defines (AWS's spelling). */
export const STATES_ERRORS = {
  ALL: 'States.ALL',
  TaskFailed: 'States.TaskFailed',
  Timeout: 'States.Timeout',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  Runtime: 'States.Runtime',
  DataLimitExceeded: 'States.DataLimitExceeded',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  ParameterPathFailure: 'States.ParameterPathFailure',
  IntrinsicFailure: 'States.IntrinsicFailure',
  NoChoiceMatched: 'States.NoChoiceMatched',
  BranchFailed: 'States.BranchFailed',
  ItemReaderFailed: 'States.ItemReaderFailed',
  ResultWriterFailed: 'States.ResultWriterFailed',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  Permissions: 'States.Permissions',
  QueryEvaluationError: 'States.QueryEvaluationError',
} as const;

/**
 * Errors that end the execution whatever the Retry and Catch fields say: AWS documents that
 * `States.ALL` does not match them and that they are not retriable.
 */
export const UNCATCHABLE_ERRORS: ReadonlySet<string> = new Set([
  STATES_ERRORS.Runtime,
  STATES_ERRORS.DataLimitExceeded,
]);

/** Largest state input, output or task result, in bytes (AWS's 256 KiB quota). */
export const MAX_PAYLOAD_BYTES = 262_144;

/**
 * A failure raised while a state runs: an error name Retry/Catch match on (`States.Runtime`,
 * a function's own `errorType`, ...) and a human-readable cause.
 */
export class StatesError extends Error {
  /** The error name, e.g. `States.IntrinsicFailure`. */
  readonly error: string;
  /** The cause, as AWS puts it into the `Cause` field. */
  readonly causeText: string;

  constructor(error: string, cause: string) {
    super(`${error}: ${cause}`);
    this.name = 'StatesError';
    this.error = error;
    this.causeText = cause;
  }
}

/** Whether `err` is a StatesError (checked by shape, so it works across realms). */
export function isStatesError(err: unknown): err is StatesError {
  return err instanceof Error && typeof (err as { error?: unknown }).error === 'string' && 'causeText' in err;
}
