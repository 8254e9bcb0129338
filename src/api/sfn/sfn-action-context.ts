// What every Step Functions action handler gets: the workflow engine, the region and account
// its ARNs carry, and the request's abort signal.

import type { WorkflowEngine } from '../../workflow/core/workflow-engine.js';
import type { ArnScope, SfnInput } from './sfn-shapes.js';

/** The environment of one Step Functions request. */
export interface SfnActionContext extends ArnScope {
  readonly engine: WorkflowEngine;
  /** Who signed the request (the access key id). */
  readonly principal: string;
  /** Aborted when the client disconnects (ends a StartSyncExecution wait). */
  readonly signal: AbortSignal;
}

/** One Step Functions action: a JSON input in, a JSON output out; failures throw. */
export type SfnAction = (ctx: SfnActionContext, input: SfnInput) => Promise<Record<string, unknown>>;

/**
 * The app that owns state machines created through the Step Functions API. Not a valid app name
 * (`@`), so no deploy can own or replace them; a machine deployed by an app keeps that app.
 */
export const SFN_API_APP = '@states-api';

/**
 * The role ARN answered for every machine: `roleArn` is accepted and ignored (Nimbus has no IAM;
 * tasks run with the platform's rights), and not stored.
 */
export function roleArnOf(ctx: SfnActionContext): string {
  return `arn:aws:iam::${ctx.accountId}:role/nimbus-states`;
}
