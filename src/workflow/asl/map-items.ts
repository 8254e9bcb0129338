// Map state preparation: the items to iterate, each iteration's input (ItemSelector with
// `$$.Map.Item`), batching (ItemBatcher), concurrency and tolerated failures.

import { isJsonObject, type Json, type JsonObject, type StateDefinition } from './asl-types.js';
import { buildContextObject } from './context-object.js';
import { evaluateJsonata, evaluateJsonataValue, isJsonataTemplate, templateBody } from './jsonata-eval.js';
import { readPath } from './json-path.js';
import { applyPayloadTemplate } from './payload-template.js';
import { applyPath, stepScope, type StepScope } from './state-io.js';
import { STATES_ERRORS, StatesError } from './states-errors.js';
import type { MapOutcome, StepInput } from './step-types.js';

/** The Map's effective input: InputPath (JSONPath) or the raw input (JSONata). */
export function mapEffectiveInput(
  step: StepInput,
  def: StateDefinition,
  scope: StepScope = stepScope(step),
): Json {
  return def.queryLanguage === 'JSONPath'
    ? applyPath(step.frame.input, def.raw.InputPath, 'InputPath', scope)
    : step.frame.input;
}

/** Builds a Map state's work order. */
export async function prepareMap(step: StepInput, def: StateDefinition): Promise<MapOutcome> {
  const scope = stepScope(step);
  const raw = def.raw;
  const input = mapEffectiveInput(step, def, scope);
  const num = async (field: string): Promise<number | undefined> => {
    const v = raw[field];
    if (def.queryLanguage === 'JSONata' && isJsonataTemplate(v)) {
      const r = await evaluateJsonata(templateBody(v), field, scope.jsonata({ input }), scope.env);
      if (typeof r !== 'number' || r < 0)
        throw new StatesError(
          STATES_ERRORS.QueryEvaluationError,
          `The field '${field}' must evaluate to a non-negative number (got ${JSON.stringify(r)})`,
        );
      return r;
    }
    if (typeof v === 'number') return v;
    const path = raw[`${field}Path`];
    if (typeof path !== 'string') return undefined;
    const r = readPath(path, scope.roots(input));
    if (!r.found || typeof r.value !== 'number' || r.value < 0)
      throw new StatesError(
        STATES_ERRORS.Runtime,
        `The value at '${path}' for the field '${field}Path' must be a non-negative number`,
      );
    return r.value;
  };
  const resolved = async (block: Json | undefined, configField: string) => {
    if (!isJsonObject(block)) return undefined;
    const argsField = def.queryLanguage === 'JSONPath' ? 'Parameters' : 'Arguments';
    const args = block[argsField];
    const parameters =
      args === undefined
        ? {}
        : def.queryLanguage === 'JSONPath'
          ? applyPayloadTemplate(args, scope.roots(input), scope.env)
          : await evaluateJsonataValue(args, argsField, scope.jsonata({ input }), scope.env);
    return {
      resource: block.Resource as string,
      parameters,
      config: (block[configField] ?? {}) as JsonObject,
    };
  };
  const reader = await resolved(raw.ItemReader, 'ReaderConfig');
  const writer = await resolved(raw.ResultWriter, 'WriterConfig');
  const count = await num('ToleratedFailureCount');
  const pct = await num('ToleratedFailurePercentage');
  return {
    kind: 'map',
    mode: def.mapMode ?? 'INLINE',
    ...(def.mapExecutionType ? { executionType: def.mapExecutionType } : {}),
    processor: def.processor!,
    ...(reader
      ? {
          itemReader: {
            resource: reader.resource,
            parameters: reader.parameters,
            readerConfig: reader.config,
          },
        }
      : { itemInputs: await mapItemInputs(step, def, await mapItems(def, input, scope)) }),
    ...(writer
      ? {
          resultWriter: {
            resource: writer.resource,
            parameters: writer.parameters,
            writerConfig: writer.config,
          },
        }
      : {}),
    maxConcurrency: (await num('MaxConcurrency')) ?? 0,
    ...(count !== undefined ? { toleratedFailureCount: count } : {}),
    ...(pct !== undefined ? { toleratedFailurePercentage: pct } : {}),
    ...(typeof raw.Label === 'string' ? { label: raw.Label } : {}),
  };
}

async function mapItems(def: StateDefinition, input: Json, scope: StepScope): Promise<Json[]> {
  let items: Json | undefined;
  if (def.queryLanguage === 'JSONPath') {
    items = applyPath(input, def.raw.ItemsPath ?? '$', 'ItemsPath', scope);
  } else {
    items =
      def.raw.Items === undefined
        ? input
        : await evaluateJsonataValue(def.raw.Items, 'Items', scope.jsonata({ input }), scope.env);
  }
  if (!Array.isArray(items)) {
    const field = def.queryLanguage === 'JSONPath' ? 'ItemsPath' : 'Items';
    const error =
      def.queryLanguage === 'JSONPath' ? STATES_ERRORS.Runtime : STATES_ERRORS.QueryEvaluationError;
    throw new StatesError(
      error,
      `The ${field} of Map state '${def.name}' must point to an array; got ${JSON.stringify(items)}`,
    );
  }
  return items;
}

/**
 * Each iteration's input from the items: ItemSelector (or the legacy Parameters) evaluated
 * with `$$.Map.Item.Index` and `.Value`, then grouped by ItemBatcher when present.
 */
export async function mapItemInputs(
  step: StepInput,
  def: StateDefinition,
  items: readonly Json[],
): Promise<Json[]> {
  const scope = stepScope(step);
  const raw = def.raw;
  const input = mapEffectiveInput(step, def, scope);
  const selector = raw.ItemSelector ?? (def.queryLanguage === 'JSONPath' ? raw.Parameters : undefined);
  const f = step.frame;
  const selected: Json[] = [];
  for (let index = 0; index < items.length; index++) {
    const value = items[index]!;
    if (selector === undefined) {
      selected.push(value);
      continue;
    }
    const context = buildContextObject(
      step.execution,
      { name: f.stateName, enteredTime: f.enteredTime, retryCount: f.retryCount },
      { mapItem: { index, value } },
    );
    if (def.queryLanguage === 'JSONPath')
      selected.push(
        applyPayloadTemplate(selector, { input, context, variables: scope.variables }, scope.env),
      );
    else
      selected.push(
        await evaluateJsonataValue(
          selector,
          'ItemSelector',
          { states: { input, context }, variables: scope.variables },
          scope.env,
        ),
      );
  }
  const batcher = raw.ItemBatcher;
  if (!isJsonObject(batcher)) return selected;
  return batchItems(selected, batcher, input, scope, def);
}

async function batchItems(
  items: Json[],
  batcher: JsonObject,
  input: Json,
  scope: StepScope,
  def: StateDefinition,
): Promise<Json[]> {
  const limit = async (field: string): Promise<number> => {
    const v = batcher[field];
    if (typeof v === 'number') return v;
    if (isJsonataTemplate(v)) {
      const r = await evaluateJsonata(templateBody(v), field, scope.jsonata({ input }), scope.env);
      return typeof r === 'number' && r > 0 ? r : Infinity;
    }
    const p = batcher[`${field}Path`];
    if (typeof p === 'string') {
      const r = readPath(p, scope.roots(input));
      if (r.found && typeof r.value === 'number' && r.value > 0) return r.value;
      throw new StatesError(
        STATES_ERRORS.Runtime,
        `The value at '${p}' for '${field}Path' must be a positive number`,
      );
    }
    return Infinity;
  };
  const maxItems = await limit('MaxItemsPerBatch');
  const maxBytes = await limit('MaxInputBytesPerBatch');
  let batchInput: JsonObject = {};
  if (batcher.BatchInput !== undefined) {
    batchInput = (
      def.queryLanguage === 'JSONPath'
        ? applyPayloadTemplate(batcher.BatchInput, scope.roots(input), scope.env)
        : await evaluateJsonataValue(batcher.BatchInput, 'BatchInput', scope.jsonata({ input }), scope.env)
    ) as JsonObject;
  }
  const batches: Json[] = [];
  let current: Json[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item), 'utf8');
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      batches.push({ ...batchInput, Items: current });
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push({ ...batchInput, Items: current });
  return batches;
}

/**
 * Whether a Map's failed iterations exceed what it tolerates (then the Map fails with
 * States.ExceedToleratedFailureThreshold). Without tolerance fields any failure is too many.
 */
export function mapFailureExceeded(
  outcome: Pick<MapOutcome, 'toleratedFailureCount' | 'toleratedFailurePercentage'>,
  failed: number,
  total: number,
): boolean {
  if (failed === 0) return false;
  const { toleratedFailureCount: count, toleratedFailurePercentage: pct } = outcome;
  if (count === undefined && pct === undefined) return true;
  const overCount = count !== undefined && failed > count;
  const overPct = pct !== undefined && total > 0 && (failed / total) * 100 > pct;
  // With both fields, exceeding either threshold fails the Map (AWS's documented rule).
  return overCount || overPct;
}
