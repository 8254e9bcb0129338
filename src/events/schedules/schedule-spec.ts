// The `schedule` events of a deploy, validated once into schedule definitions: the string form,
// the mapping form (timezone, input, enabled, name, description, catchUp) and Serverless's list of rates.

import type { AppEventSpec, DeployedFunctionEvents } from '../../deploy/app-deploy-hook.js';
import { eventsOfType } from '../../deploy/app-deploy-hook.js';
import { NimbusError, isNimbusError } from '../../errors.js';
import type { ScheduleDefinition } from '../../store/ports/schedules.js';
import { checkTimeZone, parseScheduleExpression } from './schedule-expression.js';

/** The zone of a schedule that names none. @default 'UTC' (as EventBridge rules) */
export const DEFAULT_TIME_ZONE = 'UTC';

// `method` (Serverless: eventBus or scheduler) is accepted and ignored: both behave the same here.
const KEYS = new Set([
  'rate',
  'cron',
  'timezone',
  'timeZone',
  'input',
  'enabled',
  'name',
  'description',
  'catchUp',
  'method',
]);
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const EXAMPLE =
  'e.g. `- schedule: rate(1 hour)` or `- schedule: { rate: cron(0 12 * * ? *), timezone: Europe/Berlin }`';

function fail(path: string, detail: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', `${path}: ${detail}`);
}

/** Runs `fn`, prefixing a NimbusError's message with `path`. */
function at<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isNimbusError(err)) throw fail(path, err.message);
    throw err;
  }
}

/** Static input as JSON text: objects are serialised; a string holding JSON is used as written. */
function inputText(value: unknown): string {
  if (typeof value === 'string') {
    try {
      JSON.parse(value);
      return value;
    } catch {
      return JSON.stringify(value);
    }
  }
  return JSON.stringify(value);
}

/** The schedule definitions one function declares, validated; throws naming `functions.<fn>.events[i].schedule`. */
export function schedulesOfFunction(app: string, fn: DeployedFunctionEvents): ScheduleDefinition[] {
  const out: ScheduleDefinition[] = [];
  let ordinal = 0;
  for (const { index, value } of eventsOfType(fn, ['schedule'])) {
    ordinal += 1;
    const path = `functions.${fn.name}.events[${index}].schedule`;
    let options: Record<string, unknown>;
    if (typeof value === 'string') options = { rate: value };
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      options = value as Record<string, unknown>;
    } else throw fail(path, `must be an expression or a mapping with \`rate:\`; ${EXAMPLE}.`);
    for (const key of Object.keys(options)) {
      if (!KEYS.has(key)) {
        throw fail(
          path,
          `unknown option '${key}'; the options are rate, timezone, input, enabled, name, description and catchUp.`,
        );
      }
    }
    const rateValue = options['rate'] ?? options['cron'];
    const rates = Array.isArray(rateValue) ? rateValue : [rateValue];
    if (rates.length === 0 || rates.some((r) => typeof r !== 'string')) {
      throw fail(path, `\`rate\` must be an expression or a list of them; ${EXAMPLE}.`);
    }
    const timeZone = options['timezone'] ?? options['timeZone'] ?? DEFAULT_TIME_ZONE;
    if (typeof timeZone !== 'string')
      throw fail(`${path}.timezone`, 'must be an IANA zone name such as Europe/Berlin.');
    at(`${path}.timezone`, () => checkTimeZone(timeZone));
    for (const flag of ['enabled', 'catchUp'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
        throw fail(`${path}.${flag}`, `must be true or false.`);
      }
    }
    const description = options['description'];
    if (description !== undefined && typeof description !== 'string') {
      throw fail(`${path}.description`, 'must be text.');
    }
    const name = options['name'];
    if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) {
      throw fail(
        `${path}.name`,
        'must be 1-64 letters, digits, dots, dashes or underscores, e.g. `nightly`.',
      );
    }
    const input = options['input'] === undefined ? undefined : inputText(options['input']);
    rates.forEach((rate, j) => {
      const where = Array.isArray(rateValue) ? `${path}.rate[${j}]` : path;
      const expr = at(where, () => parseScheduleExpression(rate as string));
      const base = (name as string | undefined) ?? `${fn.name}-schedule-${ordinal}`;
      out.push({
        app,
        functionName: fn.fullName,
        name: rates.length > 1 ? `${base}-${j + 1}` : base,
        expression: expr.text,
        timeZone,
        input,
        description: description as string | undefined,
        enabled: (options['enabled'] as boolean | undefined) ?? true,
        catchUp: (options['catchUp'] as boolean | undefined) ?? false,
      });
    });
  }
  return out;
}

/** Every schedule of a deploy; throws on a bad one or on two with the same name in the app. */
export function schedulesOfApp(spec: AppEventSpec): ScheduleDefinition[] {
  const all: ScheduleDefinition[] = [];
  const owner = new Map<string, string>();
  for (const fn of spec.functions) {
    for (const d of schedulesOfFunction(spec.app, fn)) {
      const other = owner.get(d.name);
      if (other !== undefined) {
        throw fail(
          `functions.${fn.name}.events`,
          `schedule name '${d.name}' is also used by function '${other}'; give one of them another \`name:\`.`,
        );
      }
      owner.set(d.name, fn.name);
      all.push(d);
    }
  }
  return all;
}
