// The environment and naming a Lambda function sees: reserved AWS_* variables, log group and stream.

import { randomBytes } from 'node:crypto';
import type { RuntimeName } from '../functions/function-model.js';
import type { InstanceSpec } from './runtime-backend.js';

/** `AWS_EXECUTION_ENV` per runtime, as on Lambda. */
const EXECUTION_ENV: Record<RuntimeName, string> = {
  nodejs: 'AWS_Lambda_nodejs20.x',
  python: 'AWS_Lambda_python3.11',
  provided: 'AWS_Lambda_provided.al2023',
};

/** Lambda's log group of a function. */
export function logGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/** A fresh Lambda-style log stream name: `2026/11/22/[$LATEST]<32 hex>`. */
export function newLogStreamName(version: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

/** Where things are, as the function sees them. */
export interface LambdaPaths {
  readonly taskRoot: string;
  readonly runtimeDir: string;
  readonly logStreamName: string;
  /** PATH for the function. */
  readonly path: string;
  /**
   * Where the Nimbus API socket is as the function sees it, when that differs from the host path
   * in `platformEnvironment.NIMBUS_API_SOCKET` (inside the sandbox it is {@link SANDBOX_API_SOCKET}).
   */
  readonly apiSocket?: string | undefined;
}

/** The environment variable naming the unix socket of the Nimbus API (for the SDK). */
export const API_SOCKET_ENV = 'NIMBUS_API_SOCKET';

/**
 * The function's environment: the platform's variables, then the user's (which win over the
 * platform's), then the reserved Lambda variables (which nobody overrides, as on AWS). `TZ`
 * defaults to UTC but the user may set it.
 */
export function lambdaEnvironment(spec: InstanceSpec, paths: LambdaPaths): Record<string, string> {
  const c = spec.config;
  return {
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    PATH: paths.path,
    ...spec.platformEnvironment,
    ...(paths.apiSocket !== undefined && spec.platformEnvironment?.[API_SOCKET_ENV] !== undefined
      ? { [API_SOCKET_ENV]: paths.apiSocket }
      : {}),
    ...c.environment,
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: spec.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(c.memory),
    AWS_LAMBDA_LOG_GROUP_NAME: logGroupName(spec.functionName),
    AWS_LAMBDA_LOG_STREAM_NAME: paths.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: spec.initializationType ?? 'on-demand',
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    AWS_EXECUTION_ENV: EXECUTION_ENV[c.runtime],
    LAMBDA_TASK_ROOT: paths.taskRoot,
    LAMBDA_RUNTIME_DIR: paths.runtimeDir,
    _HANDLER: c.handler,
  };
}
