// Validation of Map states: item source, selector, processor (inline or distributed), batching,
// reader, writer, concurrency and tolerated failures.

import { isJsonObject, type JsonObject, type QueryLanguage, type StateDefinition } from './asl-types.js';
import { MAX_SECONDS } from './definition-schema.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';
import { isJsonataTemplate } from './jsonata-eval.js';
import type { StateCheckContext } from './validate-state.js';
import {
  checkIntegerOrJsonata,
  checkJsonataTemplate,
  checkJsonataValue,
  checkPath,
  checkPayloadTemplate,
  exclusive,
} from './validate-values.js';

const DISTRIBUTED_ONLY = [
  'ItemReader',
  'ResultWriter',
  'ItemBatcher',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'Label',
];

/** Validates a Map state's own fields and its processor; returns what the definition records. */
export function checkMapFields(
  sink: DiagnosticSink,
  at: string,
  raw: JsonObject,
  language: QueryLanguage,
  ctx: StateCheckContext,
  assigned: readonly string[],
): Pick<StateDefinition, 'processor' | 'mapMode' | 'mapExecutionType'> {
  exclusive(sink, at, raw, ['ItemProcessor', 'Iterator'], true);
  exclusive(sink, at, raw, ['ItemSelector', 'Parameters']);
  const procField = raw.ItemProcessor !== undefined ? 'ItemProcessor' : 'Iterator';
  const procRaw = raw[procField];
  let mode: 'INLINE' | 'DISTRIBUTED' = 'INLINE';
  let executionType: 'STANDARD' | 'EXPRESS' | undefined;
  if (isJsonObject(procRaw) && procRaw.ProcessorConfig !== undefined) {
    const cfgAt = pointer(at, procField, 'ProcessorConfig');
    const cfg = procRaw.ProcessorConfig;
    if (!isJsonObject(cfg))
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        cfgAt,
        "The value for the field 'ProcessorConfig' must be an OBJECT",
      );
    else {
      for (const key of Object.keys(cfg))
        if (key !== 'Mode' && key !== 'ExecutionType')
          sink.error(
            'SCHEMA_VALIDATION_FAILED',
            pointer(cfgAt, key),
            `Field '${key}' is not supported in ProcessorConfig (use Mode, ExecutionType)`,
          );
      if (cfg.Mode !== undefined && cfg.Mode !== 'INLINE' && cfg.Mode !== 'DISTRIBUTED')
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(cfgAt, 'Mode'),
          '\'Mode\' must be "INLINE" or "DISTRIBUTED"',
        );
      if (cfg.Mode === 'DISTRIBUTED') mode = 'DISTRIBUTED';
      if (cfg.ExecutionType !== undefined) {
        if (cfg.ExecutionType !== 'STANDARD' && cfg.ExecutionType !== 'EXPRESS')
          sink.error(
            'SCHEMA_VALIDATION_FAILED',
            pointer(cfgAt, 'ExecutionType'),
            '\'ExecutionType\' must be "STANDARD" or "EXPRESS"',
          );
        else if (mode !== 'DISTRIBUTED')
          sink.error(
            'SCHEMA_VALIDATION_FAILED',
            pointer(cfgAt, 'ExecutionType'),
            '\'ExecutionType\' applies only to "Mode": "DISTRIBUTED"',
          );
        else executionType = cfg.ExecutionType;
      } else if (mode === 'DISTRIBUTED')
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          cfgAt,
          'A distributed Map needs \'ExecutionType\': "STANDARD" or "EXPRESS"',
        );
    }
  }
  if (mode === 'INLINE') {
    for (const f of DISTRIBUTED_ONLY) {
      if (raw[f] !== undefined)
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, f),
          `'${f}' needs a distributed Map: set ${procField}.ProcessorConfig to { "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD" }`,
        );
    }
  }
  // A distributed Map's children cannot see the parent's variables; inline iterations can.
  const outer = mode === 'DISTRIBUTED' ? new Set<string>() : new Set([...ctx.scopeVariables, ...assigned]);
  const processor =
    procRaw === undefined
      ? undefined
      : ctx.subMachine(procRaw, pointer(at, procField), 'processor', language, outer);

  if (language === 'JSONPath') {
    checkPath(sink, pointer(at, 'ItemsPath'), 'ItemsPath', raw.ItemsPath);
    for (const f of ['ItemSelector', 'Parameters'] as const) {
      if (raw[f] === undefined) continue;
      if (!isJsonObject(raw[f]))
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, f),
          `The value for the field '${f}' must be an OBJECT`,
        );
      else checkPayloadTemplate(sink, pointer(at, f), f, raw[f]!);
    }
    for (const f of ['MaxConcurrency', 'ToleratedFailureCount', 'ToleratedFailurePercentage'] as const)
      exclusive(sink, at, raw, [f, `${f}Path`]);
    for (const f of ['MaxConcurrencyPath', 'ToleratedFailureCountPath', 'ToleratedFailurePercentagePath'])
      checkPath(sink, pointer(at, f), f, raw[f]);
  } else {
    if (raw.Items !== undefined) {
      if (isJsonataTemplate(raw.Items))
        checkJsonataTemplate(sink, pointer(at, 'Items'), 'Items', raw.Items, { noResult: true });
      else if (!Array.isArray(raw.Items))
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, 'Items'),
          "The value for the field 'Items' must be an ARRAY or a JSONata template '{% ... %}' that yields one",
        );
      else checkJsonataValue(sink, pointer(at, 'Items'), 'Items', raw.Items, { noResult: true });
    }
    if (raw.ItemSelector !== undefined)
      checkJsonataValue(sink, pointer(at, 'ItemSelector'), 'ItemSelector', raw.ItemSelector, {
        noResult: true,
      });
  }
  checkIntegerOrJsonata(
    sink,
    pointer(at, 'MaxConcurrency'),
    'MaxConcurrency',
    raw.MaxConcurrency,
    0,
    MAX_SECONDS,
    language,
  );
  checkIntegerOrJsonata(
    sink,
    pointer(at, 'ToleratedFailureCount'),
    'ToleratedFailureCount',
    raw.ToleratedFailureCount,
    0,
    MAX_SECONDS,
    language,
  );
  const pct = raw.ToleratedFailurePercentage;
  if (language === 'JSONata' && isJsonataTemplate(pct))
    checkJsonataTemplate(sink, pointer(at, 'ToleratedFailurePercentage'), 'ToleratedFailurePercentage', pct, {
      noResult: true,
    });
  else if (pct !== undefined && (typeof pct !== 'number' || pct < 0 || pct > 100)) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(at, 'ToleratedFailurePercentage'),
      "The value for the field 'ToleratedFailurePercentage' must be a NUMBER between 0 and 100",
    );
  }
  if (
    raw.Label !== undefined &&
    (typeof raw.Label !== 'string' || raw.Label.length > 40 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(raw.Label))
  ) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(at, 'Label'),
      "'Label' must be a STRING of at most 40 characters without whitespace or special characters",
    );
  }
  checkResourceBlock(sink, at, raw, 'ItemReader', 'ReaderConfig', language);
  checkResourceBlock(sink, at, raw, 'ResultWriter', 'WriterConfig', language);
  checkBatcher(sink, at, raw, language);
  return { processor, mapMode: mode, ...(executionType ? { mapExecutionType: executionType } : {}) };
}

function checkResourceBlock(
  sink: DiagnosticSink,
  at: string,
  raw: JsonObject,
  field: string,
  configField: string,
  language: QueryLanguage,
): void {
  const block = raw[field];
  if (block === undefined) return;
  const here = pointer(at, field);
  if (!isJsonObject(block)) {
    sink.error('SCHEMA_VALIDATION_FAILED', here, `The value for the field '${field}' must be an OBJECT`);
    return;
  }
  const argsField = language === 'JSONPath' ? 'Parameters' : 'Arguments';
  for (const key of Object.keys(block)) {
    if (![argsField, 'Resource', configField].includes(key))
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(here, key),
        `Field '${key}' is not supported in ${field} (use Resource, ${argsField}, ${configField})`,
      );
  }
  if (typeof block.Resource !== 'string')
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      here,
      `${field} needs 'Resource', e.g. "arn:aws:states:::s3:getObject"`,
    );
  const args = block[argsField];
  if (args !== undefined) {
    if (language === 'JSONPath') checkPayloadTemplate(sink, pointer(here, argsField), argsField, args);
    else checkJsonataValue(sink, pointer(here, argsField), argsField, args, { noResult: true });
  }
  if (block[configField] !== undefined && !isJsonObject(block[configField]))
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(here, configField),
      `The value for the field '${configField}' must be an OBJECT`,
    );
}

function checkBatcher(sink: DiagnosticSink, at: string, raw: JsonObject, language: QueryLanguage): void {
  const b = raw.ItemBatcher;
  if (b === undefined) return;
  const here = pointer(at, 'ItemBatcher');
  if (!isJsonObject(b)) {
    sink.error('SCHEMA_VALIDATION_FAILED', here, "The value for the field 'ItemBatcher' must be an OBJECT");
    return;
  }
  const fields =
    language === 'JSONPath'
      ? [
          'MaxItemsPerBatch',
          'MaxItemsPerBatchPath',
          'MaxInputBytesPerBatch',
          'MaxInputBytesPerBatchPath',
          'BatchInput',
        ]
      : ['MaxItemsPerBatch', 'MaxInputBytesPerBatch', 'BatchInput'];
  for (const key of Object.keys(b))
    if (!fields.includes(key))
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(here, key),
        `Field '${key}' is not supported in ItemBatcher (use ${fields.join(', ')})`,
      );
  if (!fields.some((f) => f !== 'BatchInput' && b[f] !== undefined))
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      here,
      'ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch',
    );
  checkIntegerOrJsonata(
    sink,
    pointer(here, 'MaxItemsPerBatch'),
    'MaxItemsPerBatch',
    b.MaxItemsPerBatch,
    1,
    MAX_SECONDS,
    language,
  );
  checkIntegerOrJsonata(
    sink,
    pointer(here, 'MaxInputBytesPerBatch'),
    'MaxInputBytesPerBatch',
    b.MaxInputBytesPerBatch,
    1,
    262_144,
    language,
  );
  if (language === 'JSONPath') {
    checkPath(sink, pointer(here, 'MaxItemsPerBatchPath'), 'MaxItemsPerBatchPath', b.MaxItemsPerBatchPath);
    checkPath(
      sink,
      pointer(here, 'MaxInputBytesPerBatchPath'),
      'MaxInputBytesPerBatchPath',
      b.MaxInputBytesPerBatchPath,
    );
    if (b.BatchInput !== undefined)
      checkPayloadTemplate(sink, pointer(here, 'BatchInput'), 'BatchInput', b.BatchInput);
  } else if (b.BatchInput !== undefined)
    checkJsonataValue(sink, pointer(here, 'BatchInput'), 'BatchInput', b.BatchInput, { noResult: true });
}
