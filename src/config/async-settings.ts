// A function's async-invocation settings in nimbus.yml: destinations (onSuccess/onFailure) and
// the dead-letter target (`onError` / `deadLetter`), checked with exact paths and compiled.

import { lambdaName, type DestinationTarget } from '../functions/function-model.js';
import type { CheckResult } from './app-config-checks.js';
import { describeValue, formatPath, type ConfigPath } from './yaml-locations.js';

/** The async keys of a function mapping (the numeric ones are checked by the zod schema). */
export const ASYNC_FUNCTION_KEYS = ['destinations', 'onError', 'deadLetter'] as const;

const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const FUNCTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const TARGET_HINT =
  'must be `queue:<name>`, `topic:<name>`, `function:<name>`, a mapping `{ type: queue, name: jobs }` or an ARN (`arn:aws:sqs:<region>:<account>:<queue>`, `arn:aws:sns:...:<topic>`, `arn:aws:lambda:...:function:<name>`)';
const TYPE_ALIASES: Readonly<Record<string, DestinationTarget['type']>> = {
  queue: 'queue',
  sqs: 'queue',
  topic: 'topic',
  sns: 'topic',
  function: 'function',
  lambda: 'function',
};

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads one target as written. Bare names are functions of the app (Serverless's
 * `onSuccess: otherFunction`); `function:x` names a function of this app when it has one called
 * `x`, else a Lambda full name. Returns a problem sentence (without the path) when invalid.
 */
export function parseDestinationTarget(
  value: unknown,
  ctx: { app: string; functions: readonly string[] },
): DestinationTarget | { problem: string } {
  const fromTypeAndName = (
    type: DestinationTarget['type'],
    name: string,
  ): DestinationTarget | { problem: string } => {
    if (type === 'function') {
      if (!FUNCTION_NAME.test(name))
        return { problem: `has an invalid function name ${JSON.stringify(name)}` };
      return { type, name: ctx.functions.includes(name) && ctx.app ? lambdaName(ctx.app, name) : name };
    }
    if (!RESOURCE_NAME.test(name)) {
      return {
        problem: `has an invalid ${type} name ${JSON.stringify(name)}; use 1-63 letters, digits, dots, dashes or underscores`,
      };
    }
    return { type, name };
  };
  if (typeof value === 'string') {
    const arn = /^arn:aws[\w-]*:(sqs|sns|lambda):[^:]*:[^:]*:(.+)$/.exec(value);
    if (arn) {
      const service = arn[1]!;
      const rest = arn[2]!;
      if (service === 'lambda') {
        const fn = /^function:([^:]+)(?::[^:]+)?$/.exec(rest);
        if (!fn) return { problem: `is a Lambda ARN without \`function:<name>\`; ${TARGET_HINT}` };
        return fromTypeAndName('function', fn[1]!);
      }
      return fromTypeAndName(service === 'sqs' ? 'queue' : 'topic', rest);
    }
    const prefixed = /^(queue|topic|function|sqs|sns|lambda):(.+)$/.exec(value);
    if (prefixed) return fromTypeAndName(TYPE_ALIASES[prefixed[1]!]!, prefixed[2]!);
    if (ctx.functions.includes(value)) return fromTypeAndName('function', value);
    return { problem: TARGET_HINT };
  }
  if (isMapping(value)) {
    const keys = Object.keys(value).sort().join(',');
    const type = typeof value.type === 'string' ? TYPE_ALIASES[value.type] : undefined;
    if ((keys === 'name,type' || keys === 'arn,type') && type !== undefined) {
      if (typeof value.arn === 'string') {
        const parsed = parseDestinationTarget(value.arn, ctx);
        if (!('problem' in parsed) && parsed.type !== type) {
          return { problem: `says type ${String(value.type)} but its ARN names a ${parsed.type}` };
        }
        return parsed;
      }
      if (typeof value.name === 'string') return fromTypeAndName(type, value.name);
    }
    return { problem: TARGET_HINT };
  }
  return { problem: TARGET_HINT };
}

/** Checks a function's `destinations`, `onError` and `deadLetter` keys. */
export function checkAsyncSettings(
  fn: Record<string, unknown>,
  path: ConfigPath,
  ctx: { app: string; functions: readonly string[] },
  out: CheckResult,
): void {
  compileAsyncTargets(fn, path, ctx, out);
}

/** The compiled `destinations` and `deadLetter` of a function (valid input assumed; see the checks). */
export function compileAsyncTargets(
  fn: Record<string, unknown>,
  path: ConfigPath,
  ctx: { app: string; functions: readonly string[] },
  out: CheckResult = { errors: [], warnings: [] },
): {
  destinations: { onSuccess?: DestinationTarget; onFailure?: DestinationTarget };
  deadLetter?: DestinationTarget;
} {
  const result: {
    destinations: { onSuccess?: DestinationTarget; onFailure?: DestinationTarget };
    deadLetter?: DestinationTarget;
  } = { destinations: {} };
  const target = (value: unknown, at: ConfigPath): DestinationTarget | undefined => {
    const parsed = parseDestinationTarget(value, ctx);
    if ('problem' in parsed) {
      out.errors.push({
        path: at,
        message: `${formatPath(at)} ${parsed.problem}; got ${describeValue(value)}`,
      });
      return undefined;
    }
    return parsed;
  };

  const destinations = fn.destinations;
  if (destinations !== undefined && destinations !== null) {
    const at = [...path, 'destinations'];
    if (!isMapping(destinations)) {
      out.errors.push({
        path: at,
        message: `${formatPath(at)} must be a mapping with \`onSuccess:\` and/or \`onFailure:\`; got ${describeValue(destinations)}`,
      });
    } else {
      for (const [key, value] of Object.entries(destinations)) {
        if (key !== 'onSuccess' && key !== 'onFailure') {
          out.errors.push({
            path: [...at, key],
            target: 'key',
            message: `unknown key \`${key}\` in ${formatPath(at)}; valid keys: onSuccess, onFailure`,
          });
          continue;
        }
        if (value === null || value === undefined) continue;
        const t = target(value, [...at, key]);
        // The function's own path ends in its name: a record sent to itself would invoke it forever.
        const self = ctx.app ? lambdaName(ctx.app, String(path[path.length - 1])) : undefined;
        if (t?.type === 'function' && t.name === self) {
          out.errors.push({
            path: [...at, key],
            message: `${formatPath([...at, key])} is the function itself; each record would invoke it again, forever. Send it to another function, a queue or a topic`,
          });
        } else if (t) result.destinations[key] = t;
      }
    }
  }

  if (fn.onError !== undefined && fn.deadLetter !== undefined) {
    out.errors.push({
      path: [...path, 'deadLetter'],
      target: 'key',
      message: `${formatPath(path)}: set either \`onError\` (the Serverless spelling) or \`deadLetter\`, not both`,
    });
  }
  let dlq: DestinationTarget | undefined;
  if (fn.onError !== undefined && fn.onError !== null) {
    const at = [...path, 'onError'];
    // Serverless's onError is an SNS or SQS ARN; a bare name is a queue.
    const value =
      typeof fn.onError === 'string' && RESOURCE_NAME.test(fn.onError) ? `queue:${fn.onError}` : fn.onError;
    dlq = target(value, at);
    if (dlq?.type === 'function') {
      out.errors.push({
        path: at,
        message: `${formatPath(at)} must be a queue or a topic (a dead letter is the original event, not an invocation record); use destinations.onFailure for a function`,
      });
      dlq = undefined;
    }
  } else if (fn.deadLetter !== undefined && fn.deadLetter !== null) {
    const at = [...path, 'deadLetter'];
    const value = fn.deadLetter;
    const keys = isMapping(value) ? Object.keys(value) : [];
    if (isMapping(value) && keys.length === 1 && (keys[0] === 'queue' || keys[0] === 'topic')) {
      const kind = keys[0];
      const name = value[kind];
      if (typeof name === 'string' && RESOURCE_NAME.test(name)) dlq = { type: kind, name };
      else
        out.errors.push({
          path: [...at, kind],
          message: `${formatPath([...at, kind])} must be a ${kind} name (1-63 letters, digits, dots, dashes or underscores); got ${describeValue(name)}`,
        });
    } else {
      out.errors.push({
        path: at,
        message: `${formatPath(at)} must be a mapping \`{ queue: <name> }\` or \`{ topic: <name> }\`; got ${describeValue(value)}`,
      });
    }
  }
  if (dlq) result.deadLetter = dlq;
  return result;
}
