// Reading Step Functions request members and building the answer's values: ARNs of state
// machines and executions, epoch-second timestamps, page tokens.

import { SfnError } from './sfn-errors.js';

/** A request body: the action's JSON members. */
export type SfnInput = Readonly<Record<string, unknown>>;

/** The JSON object `value` is, or undefined. */
export function asObject(value: unknown): SfnInput | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as SfnInput)
    : undefined;
}

/** A required string member, or `ValidationException` naming it. */
export function requiredString(input: SfnInput, member: string): string {
  const v = input[member];
  if (typeof v !== 'string' || v === '') {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must not be null (send a non-empty string).`,
    );
  }
  return v;
}

/** An optional string member (undefined when absent), `ValidationException` if not a string. */
export function optionalString(input: SfnInput, member: string): string | undefined {
  const v = input[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    throw new SfnError('ValidationException', `Value at '${member}' must be a string.`);
  }
  return v;
}

/** An optional boolean member. */
export function optionalBoolean(input: SfnInput, member: string): boolean | undefined {
  const v = input[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    throw new SfnError('ValidationException', `Value at '${member}' must be a boolean.`);
  }
  return v;
}

/** `maxResults` (0-1000, 0 or absent meaning the default of 100), as AWS pages. */
export function pageSize(input: SfnInput): number {
  const v = input['maxResults'];
  if (v === undefined || v === null || v === 0) return 100;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1000) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value '${String(v)}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000.`,
    );
  }
  return v;
}

/** Epoch ms as the epoch seconds (with fractions) the JSON protocol carries timestamps in. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** An opaque page token for `cursor` (base64url JSON, bound to the listing it came from). */
export function encodeToken(listing: string, cursor: unknown): string {
  return Buffer.from(JSON.stringify({ l: listing, c: cursor })).toString('base64url');
}

/** The cursor of a `nextToken` from {@link encodeToken}, or `InvalidToken`. */
export function decodeToken(listing: string, token: string): unknown {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      l?: unknown;
      c?: unknown;
    };
    if (parsed.l === listing && parsed.c !== undefined) return parsed.c;
  } catch {
    // Answered below.
  }
  throw invalidPageToken();
}

/** `InvalidToken` for a `nextToken` this listing did not issue. */
export function invalidPageToken(): SfnError {
  return new SfnError(
    'InvalidToken',
    'Invalid Token: the nextToken was not issued for this request; pass the nextToken of the previous page of the same call unchanged.',
  );
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([^:]*):([^:]*):stateMachine:([^:]+)(?::(.+))?$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([^:]*):([^:]*):(execution|express):([^:]+):([^:]+)$/;

/** Where ARNs point: the region and account Nimbus answers as. */
export interface ArnScope {
  readonly region: string;
  readonly accountId: string;
}

/** The ARN of state machine `name`. */
export function stateMachineArn(scope: ArnScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

function invalidArn(arn: string, what: string): SfnError {
  return new SfnError(
    'InvalidArn',
    `Invalid Arn: '${arn}' is not ${what} (arn:aws:states:<region>:<account>:${what === 'a state machine ARN' ? 'stateMachine:<name>' : 'execution:<state machine>:<name>'}).`,
  );
}

/**
 * The state machine name of a `stateMachineArn`, or `InvalidArn`. An ARN of another region or
 * account names nothing here: `StateMachineDoesNotExist`. Versions and aliases are not kept.
 */
export function stateMachineNameOf(scope: ArnScope, arn: string): string {
  const m = STATE_MACHINE_ARN.exec(arn);
  if (m === null) throw invalidArn(arn, 'a state machine ARN');
  if (m[4] !== undefined) {
    throw new SfnError(
      'ValidationException',
      `State machine versions and aliases are not supported by Nimbus ('${arn}'); use the unqualified state machine ARN.`,
    );
  }
  if (m[1] !== scope.region || m[2] !== scope.accountId) throw stateMachineDoesNotExist(arn);
  return m[3]!;
}

/** The execution id (its ARN) of an `executionArn`, checked for shape, or `InvalidArn`. */
export function executionIdOf(scope: ArnScope, arn: string): string {
  const m = EXECUTION_ARN.exec(arn);
  if (m === null) throw invalidArn(arn, 'an execution ARN');
  if (m[1] !== scope.region || m[2] !== scope.accountId || m[3] !== 'execution') {
    throw executionDoesNotExist(arn);
  }
  return arn;
}

/** Step Functions' error for an unknown state machine. */
export function stateMachineDoesNotExist(arn: string): SfnError {
  return new SfnError(
    'StateMachineDoesNotExist',
    `State Machine Does Not Exist: '${arn}'; create it with CreateStateMachine or under workflows: in nimbus.yml.`,
  );
}

/** Step Functions' error for an unknown execution. */
export function executionDoesNotExist(arn: string): SfnError {
  return new SfnError(
    'ExecutionDoesNotExist',
    `Execution Does Not Exist: '${arn}'; list the executions of its state machine with ListExecutions.`,
  );
}
