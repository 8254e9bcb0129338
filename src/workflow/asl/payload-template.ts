// Payload templates (Parameters, ResultSelector, ItemSelector, Assign in JSONPath states):
// fields whose names end in `.$` take the value of a path or an intrinsic call.

import { defaultEnvironment, type AslEnvironment } from './asl-environment.js';
import { isJsonObject, type Json, type JsonObject } from './asl-types.js';
import { evaluateIntrinsic } from './intrinsic-functions.js';
import { looksLikeIntrinsic } from './intrinsic-parser.js';
import { readPath, type PathRoots } from './json-path.js';
import { STATES_ERRORS, StatesError } from './states-errors.js';

/** Resolves one `.$` value: an intrinsic call, or a path (`$`, `$$`, `$var`). */
export function resolveDynamicValue(
  field: string,
  expr: string,
  roots: PathRoots,
  env: AslEnvironment = defaultEnvironment,
): Json {
  if (looksLikeIntrinsic(expr)) return evaluateIntrinsic(expr.trim(), roots, env);
  const r = readPath(expr, roots);
  if (!r.found) {
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The JSONPath '${expr}' specified for the field '${field}' could not be found in the input '${JSON.stringify(roots.input)}'`,
    );
  }
  return r.value;
}

/** Applies a payload template to `roots` (a fresh value; the template is not changed). */
export function applyPayloadTemplate(
  template: Json,
  roots: PathRoots,
  env: AslEnvironment = defaultEnvironment,
): Json {
  if (Array.isArray(template)) return template.map((t) => applyPayloadTemplate(t, roots, env));
  if (!isJsonObject(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      out[key.slice(0, -2)] = resolveDynamicValue(key, value as string, roots, env);
    } else out[key] = applyPayloadTemplate(value, roots, env);
  }
  return out;
}
