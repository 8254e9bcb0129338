// Checks for field values shared by every state type: paths, payload templates, intrinsic
// calls, JSONata templates, Assign blocks and bounded integers.

import { isJsonObject, type Json, type QueryLanguage } from './asl-types.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';
import {
  IntrinsicSyntaxError,
  intrinsicPaths,
  looksLikeIntrinsic,
  parseIntrinsic,
} from './intrinsic-parser.js';
import { isJsonataTemplate, jsonataSyntaxError, templateBody } from './jsonata-eval.js';
import { isReferencePath, parsePath } from './json-path.js';

/** Where a JSONata template sits, which decides what `$states` holds there. */
export interface JsonataFieldRules {
  /** `$states.result` is not yet known (Arguments, Items, Condition, ...). */
  readonly noResult?: boolean;
  /** `$states.errorOutput` exists (only in a catcher's Output and Assign). */
  readonly errorOutput?: boolean;
}

/** Checks a JSONPath Path (InputPath, `*Path` fields, `.$` values); null allowed when `nullable`. */
export function checkPath(
  sink: DiagnosticSink,
  at: string,
  field: string,
  value: Json | undefined,
  opts: { nullable?: boolean; reference?: boolean; intrinsic?: boolean } = {},
): void {
  if (value === undefined) return;
  if (value === null && opts.nullable) return;
  if (typeof value !== 'string') {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `The value for the field '${field}' must be a STRING${opts.nullable ? ' or null' : ''}`,
    );
    return;
  }
  if (opts.intrinsic && looksLikeIntrinsic(value)) {
    checkIntrinsic(sink, at, field, value);
    return;
  }
  if (opts.reference) {
    if (!isReferencePath(value)) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        at,
        `The value for the field '${field}' must be a valid ReferencePath: '$' followed by .name, ['name'] or [index] steps only (got '${value}')`,
      );
    }
    return;
  }
  try {
    parsePath(value);
  } catch (err) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `The value for the field '${field}' must be a valid JSONPath${opts.intrinsic ? ' or a valid intrinsic function call' : ''}: ${(err as Error).message}`,
    );
  }
}

function checkIntrinsic(sink: DiagnosticSink, at: string, field: string, value: string): void {
  try {
    const call = parseIntrinsic(value.trim());
    for (const p of intrinsicPaths(call)) {
      try {
        parsePath(p);
      } catch (err) {
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          at,
          `The value for the field '${field}' has an invalid path argument: ${(err as Error).message}`,
        );
      }
    }
  } catch (err) {
    if (!(err instanceof IntrinsicSyntaxError)) throw err;
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `The value for the field '${field}' must be a valid JSONPath or a valid intrinsic function call: ${err.message}`,
    );
  }
}

/** Checks a JSONPath payload template (Parameters, ResultSelector, ItemSelector, Assign). */
export function checkPayloadTemplate(sink: DiagnosticSink, at: string, field: string, template: Json): void {
  if (Array.isArray(template)) {
    template.forEach((t, i) => checkPayloadTemplate(sink, pointer(at, i), field, t));
    return;
  }
  if (!isJsonObject(template)) return;
  for (const [key, value] of Object.entries(template)) {
    const here = pointer(at, key);
    if (key.endsWith('.$')) checkPath(sink, here, key, value, { intrinsic: true });
    else {
      if (typeof value === 'string' && (/^\$\.|^\$\$\./.test(value) || looksLikeIntrinsic(value))) {
        sink.warn(
          'NO_DOLLAR',
          here,
          `The value of '${key}' looks like a JSONPath or intrinsic function but is passed as a literal string; rename the field to '${key}.$' to evaluate it`,
        );
      }
      checkPayloadTemplate(sink, here, field, value);
    }
  }
}

/** Checks every `{% %}` template inside `value` (and forbids JSONPath `.$` keys). */
export function checkJsonataValue(
  sink: DiagnosticSink,
  at: string,
  field: string,
  value: Json,
  rules: JsonataFieldRules = {},
): void {
  if (typeof value === 'string') {
    if (isJsonataTemplate(value)) checkJsonataTemplate(sink, at, field, value, rules);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkJsonataValue(sink, pointer(at, i), field, v, rules));
    return;
  }
  if (!isJsonObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key.endsWith('.$')) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, key),
        `Field names ending in '.$' are JSONPath syntax and are not supported in JSONata states; rename '${key}' to '${key.slice(0, -2)}' and write its value as '{% expression %}'`,
      );
    }
    checkJsonataValue(sink, pointer(at, key), field, v, rules);
  }
}

/** Checks one `{% %}` template: it parses, and uses `$states` only where it is defined. */
export function checkJsonataTemplate(
  sink: DiagnosticSink,
  at: string,
  field: string,
  template: string,
  rules: JsonataFieldRules = {},
): void {
  const body = templateBody(template);
  const error = jsonataSyntaxError(body);
  if (error !== undefined) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `The JSONata expression '${body}' in the field '${field}' is invalid: ${error}`,
    );
    return;
  }
  if (rules.noResult && /\$states\.result\b/.test(body)) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `$states.result is not available in the field '${field}': the state has no result yet; read $states.input instead`,
    );
  }
  if (!rules.errorOutput && /\$states\.errorOutput\b/.test(body)) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `$states.errorOutput is only available in a Catch's Output and Assign, not in the field '${field}'`,
    );
  }
}

/** A valid variable name: starts with a letter or underscore, then letters, digits, underscores. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,79}$/;

/** Checks an Assign block; returns the variable names it assigns. */
export function checkAssign(
  sink: DiagnosticSink,
  at: string,
  value: Json | undefined,
  language: QueryLanguage,
  rules: JsonataFieldRules = {},
): string[] {
  if (value === undefined) return [];
  if (!isJsonObject(value)) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      "The value for the field 'Assign' must be an OBJECT mapping variable names to values",
    );
    return [];
  }
  const names: string[] = [];
  for (const key of Object.keys(value)) {
    const name = language === 'JSONPath' && key.endsWith('.$') ? key.slice(0, -2) : key;
    if (!VARIABLE_NAME.test(name) || name === 'states') {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, key),
        name === 'states'
          ? "'states' is reserved for $states; choose another variable name"
          : `'${name}' is not a valid variable name: use a letter or underscore, then letters, digits or underscores (at most 80)`,
      );
    }
    names.push(name);
  }
  if (language === 'JSONPath') checkPayloadTemplate(sink, at, 'Assign', value);
  else checkJsonataValue(sink, at, 'Assign', value, rules);
  return names;
}

/** Checks an integer field within [min, max]. */
export function checkInteger(
  sink: DiagnosticSink,
  at: string,
  field: string,
  value: Json | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `The value for the field '${field}' must be an INTEGER between ${min} and ${max} (got ${JSON.stringify(value)})`,
    );
  }
}

/** Checks a field that may be a number in range, or (in JSONata states) a `{% %}` template. */
export function checkIntegerOrJsonata(
  sink: DiagnosticSink,
  at: string,
  field: string,
  value: Json | undefined,
  min: number,
  max: number,
  language: QueryLanguage,
): void {
  if (language === 'JSONata' && isJsonataTemplate(value))
    checkJsonataTemplate(sink, at, field, value, { noResult: true });
  else checkInteger(sink, at, field, value, min, max);
}

/** Reports two fields that must not appear together. */
export function exclusive(
  sink: DiagnosticSink,
  at: string,
  state: Record<string, unknown>,
  fields: readonly string[],
  required = false,
): void {
  const present = fields.filter((f) => state[f] !== undefined);
  if (present.length > 1) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(at, present[1]!),
      `The fields ${present.map((f) => `'${f}'`).join(' and ')} are mutually exclusive; keep exactly one`,
    );
  } else if (required && present.length === 0) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `Exactly one of ${fields.map((f) => `'${f}'`).join(', ')} is required`,
    );
  }
}
