// Table change stream triggers from nimbus.yml: `- table: results`, `- table: {...}` and Serverless's
// `- stream: { type: dynamodb, arn }`, validated into store inputs.

import type { DeployedFunctionEvents } from '../../deploy/app-deploy-hook.js';
import { eventsOfType } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import type { TableTriggerInput } from '../../store/ports/documents.js';

/** Records per invocation. @default 100 */
export const DEFAULT_BATCH_SIZE = 100;
/** Largest batch, as Lambda allows for DynamoDB streams. */
export const MAX_BATCH_SIZE = 10_000;
/** -1: retry a failing batch until its records expire (24 h), Lambda's default for streams. */
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = -1;

const OPTIONS = new Set([
  'table',
  'type',
  'arn',
  'batchSize',
  'startingPosition',
  'maximumRetryAttempts',
  'bisectBatchOnFunctionError',
]);

function invalid(where: string, what: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', `${where}: ${what}`);
}

/** The table named by a DynamoDB table or stream ARN (`arn:aws:dynamodb:r:a:table/NAME[/stream/...]`). */
export function tableFromArn(arn: string): string | undefined {
  return /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([^/]+)(\/stream\/.*)?$/.exec(arn)?.[1];
}

/** A function's table triggers with the index of each in its `events` list. */
export function parseTableTriggers(
  app: string,
  fn: DeployedFunctionEvents,
): Array<TableTriggerInput & { readonly where: string }> {
  const out: Array<TableTriggerInput & { readonly where: string }> = [];
  for (const { index, type, value } of eventsOfType(fn, ['table', 'stream'])) {
    const where = `functions.${fn.name}.events[${index}].${type}`;
    let options: Record<string, unknown>;
    let table: unknown;
    if (typeof value === 'string') {
      options = {};
      table = type === 'table' ? value : tableFromArn(value);
      if (type === 'stream' && table === undefined) {
        throw invalid(where, `'${value}' is not a DynamoDB stream ARN; write - table: <name> instead.`);
      }
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      options = value as Record<string, unknown>;
      for (const key of Object.keys(options)) {
        if (!OPTIONS.has(key)) {
          throw invalid(
            where,
            `unknown option '${key}'; use table, batchSize, startingPosition, maximumRetryAttempts or bisectBatchOnFunctionError.`,
          );
        }
      }
      if (type === 'stream') {
        if (options.type !== undefined && options.type !== 'dynamodb') {
          throw invalid(
            where,
            `only type: dynamodb streams are supported (got ${JSON.stringify(options.type)}).`,
          );
        }
        table = options.table ?? (typeof options.arn === 'string' ? tableFromArn(options.arn) : undefined);
        if (table === undefined) {
          throw invalid(
            where,
            'needs arn: arn:aws:dynamodb:<region>:<account>:table/<name>/stream/... (a plain string), or table: <name>.',
          );
        }
      } else {
        table = options.table;
      }
    } else {
      throw invalid(where, 'must be a table name or a mapping { table, batchSize, startingPosition, ... }.');
    }
    if (typeof table !== 'string' || table === '')
      throw invalid(where, 'needs the table name (table: <name>).');
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (
      typeof batchSize !== 'number' ||
      !Number.isInteger(batchSize) ||
      batchSize < 1 ||
      batchSize > MAX_BATCH_SIZE
    ) {
      throw invalid(where, `batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}.`);
    }
    const startingPosition = options.startingPosition ?? 'TRIM_HORIZON';
    if (startingPosition !== 'LATEST' && startingPosition !== 'TRIM_HORIZON') {
      throw invalid(where, 'startingPosition must be LATEST or TRIM_HORIZON.');
    }
    const maximumRetryAttempts = options.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
    if (
      typeof maximumRetryAttempts !== 'number' ||
      !Number.isInteger(maximumRetryAttempts) ||
      maximumRetryAttempts < -1 ||
      maximumRetryAttempts > 10_000
    ) {
      throw invalid(
        where,
        'maximumRetryAttempts must be an integer from -1 (retry until the records expire) to 10000.',
      );
    }
    const bisect = options.bisectBatchOnFunctionError ?? false;
    if (typeof bisect !== 'boolean')
      throw invalid(where, 'bisectBatchOnFunctionError must be true or false.');
    if (out.some((t) => t.table === table)) {
      throw invalid(
        where,
        `function ${fn.name} already has a trigger on table '${table}'; keep one per table.`,
      );
    }
    out.push({
      where,
      app,
      functionName: fn.fullName,
      table,
      batchSize,
      startingPosition,
      maximumRetryAttempts,
      bisectBatchOnFunctionError: bisect,
    });
  }
  return out;
}
