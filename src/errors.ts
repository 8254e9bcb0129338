// The one table of Nimbus error codes and the NimbusError base every layer throws.
//
// A code, once shipped, is never reused or renamed. docs/errors.md documents every code in
// this table, and test/errors.test.ts keeps the two in step.

/** Static facts about one error code. */
export interface ErrorCodeInfo {
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Whether retrying the same request later may succeed. */
  readonly retryable: boolean;
  /** One line for docs/errors.md. */
  readonly summary: string;
}

/**
 * Every error code Nimbus can return. Codes that mirror an AWS Lambda error keep Lambda's name
 * (so the AWS SDKs map them to their typed exceptions); Nimbus-only codes are `Nimbus.*`-free
 * PascalCase names ending in `Error` or `Exception` the same way.
 */
export const ERROR_CODES = {
  ResourceNotFoundException: {
    status: 404,
    retryable: false,
    summary: 'The function, version, alias or other resource does not exist.',
  },
  ResourceConflictException: {
    status: 409,
    retryable: false,
    summary: 'The resource already exists or is being changed by another request.',
  },
  InvalidRequestContentException: {
    status: 400,
    retryable: false,
    summary: 'The request body is not valid JSON or does not match what the endpoint expects.',
  },
  InvalidParameterValueException: {
    status: 400,
    retryable: false,
    summary: 'A parameter (query string, header or body field) has an invalid value.',
  },
  RequestEntityTooLargeException: {
    status: 413,
    retryable: false,
    summary: 'The request payload or the function response exceeds the size limit (6 MB sync, 256 KB async).',
  },
  TooManyRequestsException: {
    status: 429,
    retryable: true,
    summary: 'The function is at its concurrency limit or the node is out of memory budget; retry later.',
  },
  RecursiveInvocationException: {
    status: 400,
    retryable: false,
    summary:
      'The function ran more than 16 times in one chain of requests (a recursive loop) and was stopped; break the loop, or set `recursiveLoop: Allow` on the function.',
  },
  UnrecognizedClientException: {
    status: 403,
    retryable: false,
    summary:
      'The bearer token or `Bearer <id>:<secret>` pair is unknown or wrong (SigV4 answers `InvalidSignatureException` instead).',
  },
  InvalidSignatureException: {
    status: 403,
    retryable: false,
    summary:
      "The AWS Signature V4 does not match (a wrong secret and an unknown access key id get this same answer), is expired, is scoped to another service or region than the server's (`NIMBUS_REGION`), or leaves the body unsigned where the API requires it (Lambda, SQS).",
  },
  ExpiredTokenException: {
    status: 403,
    retryable: false,
    summary:
      'The app token (`nbt_app_…`) is past its expiry (12 h after issue); functions get a fresh one with each new instance.',
  },
  TokenRevokedException: {
    status: 403,
    retryable: false,
    summary: "The app token was revoked (`nimbus tokens revoke`); the app's new instances get a new one.",
  },
  MissingAuthenticationTokenException: {
    status: 403,
    retryable: false,
    summary: 'The request carries no credentials.',
  },
  AccessDeniedException: {
    status: 403,
    retryable: false,
    summary: 'The credentials are valid but not allowed to do this.',
  },
  NetworkNotAllowedException: {
    status: 403,
    retryable: false,
    summary:
      'Only principals allowed to use the network may create webhook subscriptions: root, a `*` or `network:*` token, or the token of an app with a `network: true` function.',
  },
  WebhookTargetDeniedException: {
    status: 403,
    retryable: false,
    summary:
      'The webhook URL resolves to a loopback, private, link-local, metadata or other special address the egress policy denies; allow it with `--webhook-allow`.',
  },
  ServiceException: {
    status: 500,
    retryable: true,
    summary: 'An unexpected error inside Nimbus; the message and server log say more.',
  },
  InvalidRuntimeException: {
    status: 502,
    retryable: false,
    summary:
      "The function's runtime is not available on this node (e.g. python3 is not installed, or the thread tier was asked to run python).",
  },
  InvalidConfigError: {
    status: 400,
    retryable: false,
    summary: 'nimbus.yml (or server configuration) is invalid; the message names the file, line and fix.',
  },
  BundleError: {
    status: 400,
    retryable: false,
    summary: 'The function code could not be bundled (esbuild error, missing handler file).',
  },
  InvalidBundleException: {
    status: 400,
    retryable: false,
    summary:
      "A deploy names a code bundle that cannot run as configured: not a Nimbus bundle, the handler's file or export is missing, or the files are for another runtime; the message names the function and the fix.",
  },
  SandboxUnavailableError: {
    status: 500,
    retryable: false,
    summary:
      '`sandbox: required` is set but bubblewrap (bwrap) is not installed or cannot create namespaces.',
  },
  DataDirInUseError: {
    status: 409,
    retryable: false,
    summary:
      'Another Nimbus server runs on this data dir (the message names its pid and port); use it, stop it first, or start with another `--data-dir`.',
  },
  PortInUseError: {
    status: 409,
    retryable: false,
    summary:
      'The port is already in use by another program; stop it or start with another `--port` (`--port 0` picks a free one).',
  },
  NotFound: { status: 404, retryable: false, summary: 'No API route matches the method and path.' },
  MethodNotAllowed: {
    status: 405,
    retryable: false,
    summary: 'The path exists but not for this HTTP method.',
  },
  UnknownOperationException: {
    status: 400,
    retryable: false,
    summary:
      'An AWS-signed request for a service or API Nimbus does not serve (DynamoDB, SNS, Step Functions, Lambda API versions other than 2015-03-31, ...); query-protocol services (SNS) get it as XML `InvalidAction`. It never reaches a user route.',
  },
  // Async invocations (src/invoke).
  // Queues (src/services/queues) and the SQS facade.
  ReceiptHandleIsInvalid: {
    status: 400,
    retryable: false,
    summary: 'The receipt handle is not one Nimbus issued; pass the receiptHandle of a received message.',
  },
  MessageNotInflight: {
    status: 400,
    retryable: false,
    summary:
      'The message is not in flight under this receipt handle (deleted, visible again, or received again since); receive it again.',
  },
  EmptyBatchRequest: {
    status: 400,
    retryable: false,
    summary: 'A batch request has no entries; send 1 to 10.',
  },
  TooManyEntriesInBatchRequest: {
    status: 400,
    retryable: false,
    summary: 'A batch request has more than 10 entries; split it.',
  },
  BatchEntryIdsNotDistinct: {
    status: 400,
    retryable: false,
    summary: 'Two entries of a batch request have the same id; give each entry its own id.',
  },
  InvalidBatchEntryId: {
    status: 400,
    retryable: false,
    summary: 'A batch entry id is not 1-80 letters, digits, - or _.',
  },
  InvalidMessageContents: {
    status: 400,
    retryable: false,
    summary:
      'The message body has characters queues do not allow (control characters, unpaired surrogates); encode binary data as base64.',
  },
  // Topics (src/services/topics).
  // Buckets (src/services/buckets) and the S3 facade.
  BucketNotEmpty: {
    status: 409,
    retryable: false,
    summary: 'The bucket still holds objects; delete them first (or `nimbus buckets rm <bucket> --force`).',
  },
  InvalidBucketName: {
    status: 400,
    retryable: false,
    summary:
      'Bucket names are 3-63 characters: lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.',
  },
  KeyTooLongError: {
    status: 400,
    retryable: false,
    summary: 'Object keys are 1-1024 bytes of UTF-8.',
  },
  InvalidRange: {
    status: 416,
    retryable: false,
    summary: 'The requested byte range does not overlap the object.',
  },
  BadDigest: {
    status: 400,
    retryable: false,
    summary: 'The body does not match the Content-MD5 that was sent with it; nothing was stored.',
  },
  IncompleteBody: {
    status: 400,
    retryable: false,
    summary: 'The body ended before (or ran past) its declared Content-Length; nothing was stored.',
  },
  StorageQuotaExceeded: {
    status: 403,
    retryable: false,
    summary:
      "A write would pass a storage quota (a bucket's bytes or objects, a queue's messages, a table's items or bytes); nothing was written. Delete data or raise the quota (server option `quotas`, `nimbus start --quota NAME=N`).",
  },
  EntityTooLarge: {
    status: 400,
    retryable: false,
    summary:
      'The object or part is larger than the maximum (5 GiB per put or part); use a multipart upload for more.',
  },
  EntityTooSmall: {
    status: 400,
    retryable: false,
    summary: 'A part other than the last of a multipart upload is smaller than 5 MiB.',
  },
  InvalidPart: {
    status: 400,
    retryable: false,
    summary: 'A part named in CompleteMultipartUpload was not uploaded or its ETag does not match.',
  },
  InvalidPartOrder: {
    status: 400,
    retryable: false,
    summary: 'The parts of CompleteMultipartUpload are not in ascending part-number order.',
  },
  NoSuchUpload: {
    status: 404,
    retryable: false,
    summary: 'The multipart upload does not exist: it was completed, aborted, or never created.',
  },
  MalformedChunkedEncoding: {
    status: 400,
    retryable: false,
    summary: 'An aws-chunked upload body is malformed (chunk sizes, CRLFs, trailers); nothing was stored.',
  },
  XAmzContentSHA256Mismatch: {
    status: 400,
    retryable: false,
    summary: 'The body does not match the sha256 declared in x-amz-content-sha256; nothing was stored.',
  },
  InvalidDigest: {
    status: 400,
    retryable: false,
    summary: 'A Content-MD5 or x-amz-checksum-* header is not a valid base64 digest of its algorithm.',
  },
  MalformedXML: {
    status: 400,
    retryable: false,
    summary: 'The XML request body (CompleteMultipartUpload, Delete) is not well-formed or lacks a field.',
  },
  PreconditionFailed: {
    status: 412,
    retryable: false,
    summary: 'An If-Match or If-Unmodified-Since condition of an S3 GetObject or HeadObject did not hold.',
  },
  NotImplemented: {
    status: 501,
    retryable: false,
    summary: 'The S3 API does not support this operation or header; the message lists what is supported.',
  },
  // Document tables (src/services/tables).
  ConditionalCheckFailedException: {
    status: 400,
    retryable: false,
    summary: 'The condition expression of a table write evaluated to false; nothing was written.',
  },
  ValidationException: {
    status: 400,
    retryable: false,
    summary:
      'A table request is malformed: a key attribute is missing or has the wrong type, an expression does not parse, or the item exceeds 400 KB.',
  },
  // Schedules (src/events/schedules).
  // SDK and scoped tokens (src/sdk).
  StateMachineDoesNotExist: {
    status: 400,
    retryable: false,
    summary: 'The state machine (workflow) does not exist; create it first.',
  },
  ExecutionDoesNotExist: {
    status: 400,
    retryable: false,
    summary: 'The execution does not exist (check its id or ARN).',
  },
  ExecutionAlreadyExists: {
    status: 400,
    retryable: false,
    summary:
      'An execution with this name exists with a different input, or has already finished; pick another name.',
  },
  TaskDoesNotExist: {
    status: 400,
    retryable: false,
    summary: 'The task token is unknown (it was never issued, or is not a callback token).',
  },
  TaskTimedOut: {
    status: 400,
    retryable: false,
    summary: 'The task token is closed: its task timed out, was completed already, or its execution ended.',
  },
  InvalidDefinition: {
    status: 400,
    retryable: false,
    summary: 'The workflow definition is not valid; the message names the state and the fix.',
  },
  InvalidName: {
    status: 400,
    retryable: false,
    summary:
      'The execution or workflow name is not valid (1-80 characters, no whitespace, slashes or wildcards).',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A stable error code from {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options for {@link NimbusError}. */
export interface NimbusErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** Override the code's default status (rare: e.g. a 404 facade answering 400). */
  status?: number;
  /** Extra headers the HTTP layer should send with this error (e.g. `Retry-After`). */
  headers?: Record<string, string>;
}

/** The base error of Nimbus: a stable code, an HTTP status, and whether a retry may help. */
export class NimbusError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: NimbusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.retryable = ERROR_CODES[code].retryable;
    this.headers = options.headers;
  }
}

/** True for a NimbusError from any realm (checks capability, not `instanceof`). */
export function isNimbusError(err: unknown): err is NimbusError {
  return (
    typeof err === 'object' &&
    err !== null &&
    'code' in err &&
    typeof (err as { code: unknown }).code === 'string' &&
    (err as { code: string }).code in ERROR_CODES &&
    'status' in err
  );
}

/** Shorthand constructors for the errors thrown most often. */
export const errors = {
  functionNotFound(name: string, qualifier?: string): NimbusError {
    const what = qualifier ? `${name}:${qualifier}` : name;
    return new NimbusError(
      'ResourceNotFoundException',
      `Function not found: ${what}. Deploy it with \`nimbus deploy\` or list functions with \`nimbus ls\`.`,
    );
  },
  invalidJson(where: string, cause?: unknown): NimbusError {
    return new NimbusError(
      'InvalidRequestContentException',
      `Could not parse ${where} as JSON; send a valid JSON document.`,
      { cause },
    );
  },
  tooLarge(what: string, size: number, limit: number): NimbusError {
    return new NimbusError(
      'RequestEntityTooLargeException',
      `${what} of ${size} bytes exceeds the maximum of ${limit} bytes.`,
    );
  },
};
