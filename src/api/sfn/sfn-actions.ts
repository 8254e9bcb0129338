// The table of Step Functions actions the facade serves, and the ones it knows but does not.

import type { SfnAction } from './sfn-action-context.js';
import { EXECUTION_ACTIONS } from './sfn-execution-actions.js';
import { HISTORY_ACTIONS } from './sfn-history.js';
import { MACHINE_ACTIONS } from './sfn-machine-actions.js';

/** Every supported action by its `X-Amz-Target` name (`AWSStepFunctions.<name>`). */
export const SFN_ACTIONS: Readonly<Record<string, SfnAction>> = {
  ...MACHINE_ACTIONS,
  ...EXECUTION_ACTIONS,
  ...HISTORY_ACTIONS,
};

/** Names of the supported actions, sorted (for error messages and docs). */
export const SUPPORTED_SFN_ACTIONS: readonly string[] = Object.keys(SFN_ACTIONS).sort();

/**
 * Actions of the Step Functions API that Nimbus does not serve (yet): activities, redrive,
 * TestState, versions and aliases, Map Runs, tags.
 */
export const UNSUPPORTED_SFN_ACTIONS: ReadonlySet<string> = new Set([
  'CreateActivity',
  'DeleteActivity',
  'DescribeActivity',
  'ListActivities',
  'GetActivityTask',
  'RedriveExecution',
  'TestState',
  'PublishStateMachineVersion',
  'DeleteStateMachineVersion',
  'ListStateMachineVersions',
  'CreateStateMachineAlias',
  'DescribeStateMachineAlias',
  'UpdateStateMachineAlias',
  'DeleteStateMachineAlias',
  'ListStateMachineAliases',
  'DescribeMapRun',
  'ListMapRuns',
  'UpdateMapRun',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
]);
