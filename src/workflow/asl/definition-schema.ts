// Which fields each state type accepts in each query language, and the fields that belong to
// the other language (so a diagnostic can say which QueryLanguage to use).

import type { QueryLanguage, StateType } from './asl-types.js';

/** Every state type. */
export const STATE_TYPES: readonly StateType[] = [
  'Pass',
  'Task',
  'Choice',
  'Wait',
  'Succeed',
  'Fail',
  'Parallel',
  'Map',
];

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const FLOW = ['Next', 'End'];

const JSONPATH: Readonly<Record<StateType, readonly string[]>> = {
  Pass: [...COMMON, ...FLOW, 'InputPath', 'OutputPath', 'Parameters', 'ResultPath', 'Result', 'Assign'],
  Task: [
    ...COMMON,
    ...FLOW,
    'InputPath',
    'OutputPath',
    'Parameters',
    'ResultPath',
    'ResultSelector',
    'Resource',
    'TimeoutSeconds',
    'TimeoutSecondsPath',
    'HeartbeatSeconds',
    'HeartbeatSecondsPath',
    'Retry',
    'Catch',
    'Credentials',
    'Assign',
  ],
  Choice: [...COMMON, 'InputPath', 'OutputPath', 'Choices', 'Default', 'Assign'],
  Wait: [
    ...COMMON,
    ...FLOW,
    'InputPath',
    'OutputPath',
    'Seconds',
    'Timestamp',
    'SecondsPath',
    'TimestampPath',
    'Assign',
  ],
  Succeed: [...COMMON, 'InputPath', 'OutputPath'],
  Fail: [...COMMON, 'Error', 'ErrorPath', 'Cause', 'CausePath'],
  Parallel: [
    ...COMMON,
    ...FLOW,
    'InputPath',
    'OutputPath',
    'Parameters',
    'ResultPath',
    'ResultSelector',
    'Branches',
    'Retry',
    'Catch',
    'Assign',
  ],
  Map: [
    ...COMMON,
    ...FLOW,
    'InputPath',
    'OutputPath',
    'ItemsPath',
    'ItemSelector',
    'Parameters',
    'ItemProcessor',
    'Iterator',
    'MaxConcurrency',
    'MaxConcurrencyPath',
    'ResultPath',
    'ResultSelector',
    'Retry',
    'Catch',
    'ItemReader',
    'ItemBatcher',
    'ResultWriter',
    'ToleratedFailureCount',
    'ToleratedFailureCountPath',
    'ToleratedFailurePercentage',
    'ToleratedFailurePercentagePath',
    'Label',
    'Assign',
  ],
};

const JSONATA: Readonly<Record<StateType, readonly string[]>> = {
  Pass: [...COMMON, ...FLOW, 'Output', 'Assign'],
  Task: [
    ...COMMON,
    ...FLOW,
    'Resource',
    'Arguments',
    'Output',
    'Assign',
    'TimeoutSeconds',
    'HeartbeatSeconds',
    'Retry',
    'Catch',
    'Credentials',
  ],
  Choice: [...COMMON, 'Choices', 'Default', 'Output', 'Assign'],
  Wait: [...COMMON, ...FLOW, 'Seconds', 'Timestamp', 'Output', 'Assign'],
  Succeed: [...COMMON, 'Output'],
  Fail: [...COMMON, 'Error', 'Cause'],
  Parallel: [...COMMON, ...FLOW, 'Branches', 'Arguments', 'Output', 'Assign', 'Retry', 'Catch'],
  Map: [
    ...COMMON,
    ...FLOW,
    'Items',
    'ItemSelector',
    'ItemProcessor',
    'Iterator',
    'MaxConcurrency',
    'ItemReader',
    'ItemBatcher',
    'ResultWriter',
    'ToleratedFailureCount',
    'ToleratedFailurePercentage',
    'Label',
    'Output',
    'Assign',
    'Retry',
    'Catch',
  ],
};

/** The fields a state of `type` may have in `language`. */
export function allowedStateFields(type: StateType, language: QueryLanguage): ReadonlySet<string> {
  return new Set((language === 'JSONata' ? JSONATA : JSONPATH)[type]);
}

/** Whether `field` would be allowed on `type` in the other query language. */
export function fieldOfOtherLanguage(type: StateType, language: QueryLanguage, field: string): boolean {
  return (language === 'JSONata' ? JSONPATH : JSONATA)[type].includes(field);
}

/** Fields of the top level of a definition. */
export const TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'Comment',
  'StartAt',
  'States',
  'Version',
  'TimeoutSeconds',
  'QueryLanguage',
]);
/** Fields of a Parallel branch. */
export const BRANCH_FIELDS: ReadonlySet<string> = new Set(['Comment', 'StartAt', 'States']);
/** Fields of a Map `ItemProcessor` (the legacy `Iterator` takes the same). */
export const PROCESSOR_FIELDS: ReadonlySet<string> = new Set([
  'Comment',
  'StartAt',
  'States',
  'ProcessorConfig',
]);
/** Fields of a retrier. */
export const RETRIER_FIELDS: ReadonlySet<string> = new Set([
  'ErrorEquals',
  'IntervalSeconds',
  'MaxAttempts',
  'BackoffRate',
  'MaxDelaySeconds',
  'JitterStrategy',
  'Comment',
]);
/** Fields of a catcher, per query language. */
export const CATCHER_FIELDS: Readonly<Record<QueryLanguage, ReadonlySet<string>>> = {
  JSONPath: new Set(['ErrorEquals', 'Next', 'ResultPath', 'Assign', 'Comment']),
  JSONata: new Set(['ErrorEquals', 'Next', 'Output', 'Assign', 'Comment']),
};

/** Largest integer AWS accepts for Seconds, IntervalSeconds, MaxAttempts, TimeoutSeconds. */
export const MAX_SECONDS = 99_999_999;
/** Largest MaxDelaySeconds (one year and a day). */
export const MAX_DELAY_SECONDS = 31_622_400;
/** Longest state name. */
export const MAX_STATE_NAME = 80;
