// The TableService's request and response types (the contract the /v1 routes, CLI and SDK use).

import type { Item, StreamViewType, TableDefinition } from '../../store/ports/documents.js';
import type { ExpressionValues } from './condition-expression.js';

/** A key attribute as described to clients. */
export interface KeyDescription {
  readonly name: string;
  readonly type: 'string' | 'number';
}

/** A table as `describeTable` and `listTables` return it. */
export interface TableDescription {
  readonly name: string;
  readonly partitionKey: KeyDescription;
  readonly sortKey?: KeyDescription | undefined;
  readonly stream: { readonly enabled: boolean; readonly viewType: StreamViewType; readonly arn: string };
  /** The app that declared it, if any. */
  readonly app?: string | undefined;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** A condition on a write: an expression with its `#names` and `:values`. */
export interface WriteConditionOptions extends ExpressionValues {
  /** e.g. `attribute_not_exists(id)`; the write fails with ConditionalCheckFailedException if false. */
  readonly condition?: string | undefined;
}

/** One sort key condition of a query (exactly one member). */
export interface SortCondition {
  readonly eq?: string | number | undefined;
  readonly lt?: string | number | undefined;
  readonly le?: string | number | undefined;
  readonly gt?: string | number | undefined;
  readonly ge?: string | number | undefined;
  readonly between?: readonly [string | number, string | number] | undefined;
  /** String sort keys only. */
  readonly beginsWith?: string | undefined;
}

/** A query of one partition. */
export interface QueryInput extends ExpressionValues {
  /** The partition key value. */
  readonly partition: string | number;
  readonly sort?: SortCondition | undefined;
  /** Items evaluated per page (before `filter`). @default 1000 (also the maximum) */
  readonly limit?: number | undefined;
  /** Continue after this key (a previous page's `lastEvaluatedKey`). */
  readonly exclusiveStartKey?: Item | undefined;
  /** Continue from a previous page's `cursor` (the same as its `lastEvaluatedKey`, opaque). */
  readonly cursor?: string | undefined;
  /** Ascending sort key order. @default true */
  readonly scanForward?: boolean | undefined;
  /** A condition expression applied to each evaluated item (after `limit`, as DynamoDB does). */
  readonly filter?: string | undefined;
}

/** A scan of the whole table in key order. */
export interface ScanInput extends ExpressionValues {
  /** @default 1000 (also the maximum) */
  readonly limit?: number | undefined;
  readonly exclusiveStartKey?: Item | undefined;
  readonly cursor?: string | undefined;
  readonly filter?: string | undefined;
}

/** One page of a query or scan. */
export interface ItemPage {
  readonly items: Item[];
  /** Items that matched the filter (= items.length). */
  readonly count: number;
  /** Items evaluated before the filter. */
  readonly scannedCount: number;
  /** Present when more items may follow: pass it (or `cursor`) to get the next page. */
  readonly lastEvaluatedKey?: Item | undefined;
  readonly cursor?: string | undefined;
}

/** The stream ARN of a table, labelled with its creation time as DynamoDB does. */
export function streamArn(def: TableDefinition, region: string, accountId: string): string {
  const label = new Date(def.createdAt).toISOString().replace(/Z$/, '');
  return `arn:aws:dynamodb:${region}:${accountId}:table/${def.name}/stream/${label}`;
}

/**
 * What the table change feed publishes: a write that appended a stream record to `table`, or the
 * table (with its stream) deleted. Consumers (stream triggers) read the records from the store.
 */
export type TableChange =
  { readonly type: 'written'; readonly table: string } | { readonly type: 'deleted'; readonly table: string };
