// Hand-written checks of nimbus.yml: cross-field rules and the loosely typed sections.
//
// They run on the raw parsed value even when zod found problems, so one run reports every
// issue; each check therefore guards the types it relies on instead of trusting the schema.

import { lambdaName, NAME_PATTERN } from '../functions/function-model.js';
import { parseRouteEvent } from '../gateway/route-spec.js';
import type { ConfigFlavour, ResourceKind } from './app-config.js';
import {
  AWS_ONLY_FUNCTION_KEYS,
  AWS_ONLY_PROVIDER_KEYS,
  canonicalRuntime,
  SERVERLESS_ONLY_TOP_KEYS,
} from './app-config-schema.js';
import { checkAsyncSettings } from './async-settings.js';
import { checkGateway, routePayloadDefault } from './gateway-checks.js';
import { closestMatch } from './suggest-key.js';
import { describeValue, formatPath, type ConfigPath } from './yaml-locations.js';
import { parseScheduleExpression } from '../events/schedules/schedule-expression.js';

/** An issue before it is given a file position. */
export interface PathIssue {
  readonly path: ConfigPath;
  /** The complete sentence, starting with the path where that reads well. */
  readonly message: string;
  /** Point at the key (unknown or misplaced keys) rather than the value. @default 'value' */
  readonly target?: 'key' | 'value';
}

/** Event types Nimbus runs, with the Serverless (AWS) spellings it maps onto them. */
export const NIMBUS_EVENT_TYPES = [
  'http',
  'httpApi',
  'schedule',
  'queue',
  'sqs',
  'bucket',
  's3',
  'table',
  'stream',
  'topic',
  'sns',
] as const;

/** Serverless event types that are valid there but have no Nimbus trigger: kept, warned. */
export const UNSUPPORTED_EVENT_TYPES = [
  'websocket',
  'alb',
  'alexaSkill',
  'alexaSmartHome',
  'iot',
  'iotFleetProvisioning',
  'cloudwatchEvent',
  'cloudwatchLog',
  'cognitoUserPool',
  'eventBridge',
  'msk',
  'kafka',
  'activemq',
  'rabbitmq',
] as const;

const AWS_ONLY = 'only means something on AWS';
const RESOURCE_KINDS: readonly ResourceKind[] = ['buckets', 'queues', 'tables', 'topics'];
// CloudFormation sections a serverless.yml may carry under `resources`: ignored, warned.
const CLOUDFORMATION_KEYS = ['Resources', 'Outputs', 'Conditions', 'Description', 'Transform', 'extensions'];
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Variables the runtime sets itself; overriding them would break handler loading or context.
const RESERVED_ENV = new Set([
  '_HANDLER',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
]);

/** The result of {@link checkAppConfig}. */
export interface CheckResult {
  readonly errors: PathIssue[];
  readonly warnings: PathIssue[];
}

/** Runs every hand-written check over the raw parsed document. */
export function checkAppConfig(raw: Record<string, unknown>, flavour: ConfigFlavour): CheckResult {
  const out: CheckResult = { errors: [], warnings: [] };
  checkTop(raw, flavour, out);
  const provider = isMapping(raw.provider) ? raw.provider : isMapping(raw.defaults) ? raw.defaults : {};
  const providerKey = isMapping(raw.provider) ? 'provider' : 'defaults';
  checkEnvironment(provider.environment, [providerKey, 'environment'], out);
  if (flavour === 'serverless') {
    warnIgnored(provider, [providerKey], AWS_ONLY_PROVIDER_KEYS, AWS_ONLY, out);
  }
  const app = typeof raw.app === 'string' ? raw.app : typeof raw.service === 'string' ? raw.service : '';
  if (isMapping(raw.functions)) {
    for (const [name, fn] of Object.entries(raw.functions)) {
      checkFunction(app, name, fn, provider, providerKey, flavour, Object.keys(raw.functions), out);
    }
  }
  checkGateway(raw, flavour, out);
  warnPackaging(raw, out);
  checkResources(raw.resources, flavour, out);
  warnVariables(raw, [], out);
  return out;
}

function checkTop(raw: Record<string, unknown>, flavour: ConfigFlavour, out: CheckResult): void {
  if (raw.app === undefined && raw.service === undefined) {
    out.errors.push({
      path: [],
      message: 'missing `app:`; add `app: <name>` at the top of the file (or run `nimbus init`)',
    });
  }
  if (raw.app !== undefined && raw.service !== undefined) {
    out.errors.push({
      path: ['service'],
      target: 'key',
      message: 'set either `app` or `service` (the serverless.yml spelling), not both',
    });
  }
  if (raw.provider !== undefined && raw.defaults !== undefined) {
    out.errors.push({
      path: ['defaults'],
      target: 'key',
      message: 'set either `provider` or `defaults` (they mean the same), not both',
    });
  }
  if (flavour === 'serverless') {
    warnIgnored(raw, [], SERVERLESS_ONLY_TOP_KEYS, 'is a Serverless Framework setting', out);
  }
}

function checkFunction(
  app: string,
  name: string,
  fn: unknown,
  provider: Record<string, unknown>,
  providerKey: string,
  flavour: ConfigFlavour,
  functionNames: readonly string[],
  out: CheckResult,
): void {
  const path = ['functions', name];
  const where = formatPath(path);
  if (!NAME_PATTERN.test(name)) {
    out.errors.push({
      path,
      target: 'key',
      message: `function name ${JSON.stringify(name)} must be 1-64 letters, digits, dashes or underscores, starting with a letter or digit`,
    });
  } else if (app && lambdaName(app, name).length > 64) {
    out.errors.push({
      path,
      target: 'key',
      message: `the full function name \`${lambdaName(app, name)}\` is longer than 64 characters; shorten the app or function name`,
    });
  }
  if (fn === null || fn === undefined) {
    out.errors.push({
      path,
      target: 'key',
      message: `${where} has no settings; add at least \`handler: <file>.<export>\` (e.g. \`handler: src/${name}.handler\`)`,
    });
    return;
  }
  if (!isMapping(fn)) return; // zod reports the type.

  for (const [a, b] of [
    ['memory', 'memorySize'],
    ['maxConcurrency', 'reservedConcurrency'],
    ['minInstances', 'provisionedConcurrency'],
    ['tmpSize', 'ephemeralStorageSize'],
  ] as const) {
    if (fn[a] !== undefined && fn[b] !== undefined) {
      out.errors.push({
        path: [...path, b],
        target: 'key',
        message: `${where}: set either \`${a}\` or \`${b}\` (the Serverless spelling), not both`,
      });
    }
  }

  const runtimeText = pick(fn.runtime, provider.runtime, 'nodejs');
  const runtime = typeof runtimeText === 'string' ? canonicalRuntime(runtimeText) : undefined;
  if (runtime !== undefined && runtime !== 'provided' && fn.handler === undefined) {
    out.errors.push({
      path,
      target: 'key',
      message: `${where}.handler is missing; add \`handler: <file>.<export>\` (e.g. \`handler: src/${name}.handler\`)`,
    });
  }
  const isolationPath = fn.isolation !== undefined ? [...path, 'isolation'] : [providerKey, 'isolation'];
  const isolation = pick(fn.isolation, provider.isolation, 'process');
  if (isolation === 'thread' && runtime !== undefined && runtime !== 'nodejs' && runtime !== 'typescript') {
    out.errors.push({
      path: isolationPath,
      message: `${where}: isolation \`thread\` runs only nodejs/typescript code and this function's runtime is ${runtime}; use \`isolation: process\``,
    });
  }
  const max = pick(fn.maxConcurrency ?? fn.reservedConcurrency, provider.maxConcurrency, 10);
  const min = pick(fn.minInstances ?? fn.provisionedConcurrency, provider.minInstances, 0);
  if (typeof max === 'number' && typeof min === 'number' && min > max) {
    out.errors.push({
      path: [...path, fn.minInstances !== undefined ? 'minInstances' : 'provisionedConcurrency'],
      message: `${where}: minInstances (${min}) is larger than maxConcurrency (${max}); lower minInstances or raise maxConcurrency`,
    });
  }
  checkEnvironment(fn.environment, [...path, 'environment'], out);
  checkEvents(fn.events, [...path, 'events'], flavour, out);
  checkAsyncSettings(fn, path, { app, functions: functionNames }, out);
  if (flavour === 'serverless') warnIgnored(fn, path, AWS_ONLY_FUNCTION_KEYS, AWS_ONLY, out);
}

function checkEnvironment(env: unknown, path: ConfigPath, out: CheckResult): void {
  if (!isMapping(env)) return;
  for (const name of Object.keys(env)) {
    if (!ENV_NAME.test(name)) {
      out.errors.push({
        path: [...path, name],
        target: 'key',
        message: `${formatPath(path)}: ${JSON.stringify(name)} is not a valid variable name; use letters, digits and underscores, not starting with a digit`,
      });
    } else if (RESERVED_ENV.has(name)) {
      out.errors.push({
        path: [...path, name],
        target: 'key',
        message: `${formatPath(path)}: ${name} is reserved (Nimbus sets it for every function); remove it or use another name`,
      });
    }
  }
}

function checkEvents(events: unknown, path: ConfigPath, flavour: ConfigFlavour, out: CheckResult): void {
  if (events === undefined || events === null) return;
  if (!Array.isArray(events)) {
    out.errors.push({
      path,
      message: `${formatPath(path)} must be a list (\`- http: GET /hello\`); got ${describeValue(events)}`,
    });
    return;
  }
  events.forEach((event, i) => checkEvent(event, [...path, i], flavour, out));
}

function checkEvent(event: unknown, path: ConfigPath, flavour: ConfigFlavour, out: CheckResult): void {
  const where = formatPath(path);
  const keys = isMapping(event) ? Object.keys(event) : [];
  if (!isMapping(event) || keys.length !== 1) {
    out.errors.push({
      path,
      message: `${where} must be a mapping with one event type, such as \`- http: GET /hello\` or \`- queue: jobs\`; got ${keys.length > 1 ? `keys ${keys.join(', ')}` : describeValue(event)}`,
    });
    return;
  }
  const type = keys[0] as string;
  const value = event[type];
  const at = [...path, type];
  if ((UNSUPPORTED_EVENT_TYPES as readonly string[]).includes(type)) {
    out.warnings.push({
      path: at,
      target: 'key',
      message: `${where}: event type \`${type}\` is not supported by Nimbus yet; it is kept but never fires`,
    });
    return;
  }
  if (!(NIMBUS_EVENT_TYPES as readonly string[]).includes(type)) {
    const guess = closestMatch(type, [...NIMBUS_EVENT_TYPES, ...UNSUPPORTED_EVENT_TYPES]);
    out.errors.push({
      path: at,
      target: 'key',
      message: `${where}: unknown event type \`${type}\`; ${guess ? `did you mean \`${guess}\`?` : `use one of ${NIMBUS_EVENT_TYPES.join(', ')}`}`,
    });
    return;
  }
  const intrinsic = findIntrinsic(value, at);
  if (intrinsic) {
    out.errors.push({
      path: intrinsic.path,
      message: `${formatPath(intrinsic.path)}: \`${intrinsic.name}\` is a CloudFormation function, which Nimbus does not resolve; write the resource's name (e.g. \`${type}: jobs\`) or its ARN`,
    });
    return;
  }
  const problem = eventProblem(type, value, flavour);
  if (problem) {
    // A mapping's problem names the field it is about; "got a mapping" would mislead.
    const got = isMapping(value) ? '' : `; got ${describeValue(value)}`;
    out.errors.push({ path: at, message: `${formatPath(at)} ${problem}${got}` });
    return;
  }
  warnIgnoredEventKeys(type, value, at, out);
}

/** Keys of an event mapping that Nimbus accepts and does not act on (beyond the parsers' own). */
const IGNORED_EVENT_KEYS: Readonly<
  Record<string, { known: readonly string[]; ignored?: readonly string[] }>
> = {
  // Everything else in a Serverless http event (integration, request, response, ...) is API
  // Gateway configuration that Nimbus's gateway has no equivalent for.
  http: { known: ['method', 'path', 'payload', 'auth', 'private', 'cors'] },
  httpApi: { known: ['method', 'path', 'payload', 'auth', 'private', 'cors'] },
  schedule: { known: [], ignored: ['method'] },
};

function warnIgnoredEventKeys(type: string, value: unknown, at: ConfigPath, out: CheckResult): void {
  const rule = IGNORED_EVENT_KEYS[type];
  if (rule === undefined || !isMapping(value)) return;
  for (const key of Object.keys(value)) {
    const ignored = rule.ignored ? rule.ignored.includes(key) : !rule.known.includes(key);
    if (ignored) {
      out.warnings.push({
        path: [...at, key],
        target: 'key',
        message: `${formatPath([...at, key])} is accepted but ignored: Nimbus does not act on it`,
      });
    }
  }
}

/** The first CloudFormation intrinsic (`{ Ref: x }`, `{ 'Fn::GetAtt': [...] }`) inside `value`. */
function findIntrinsic(value: unknown, path: ConfigPath): { name: string; path: ConfigPath } | undefined {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findIntrinsic(v, [...path, i]);
      if (found) return found;
    }
  } else if (isMapping(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')))
      return { name: keys[0]!, path };
    for (const [k, v] of Object.entries(value)) {
      const found = findIntrinsic(v, [...path, k]);
      if (found) return found;
    }
  }
  return undefined;
}

// The loose shape of each event type: enough to catch typos without rejecting valid Serverless files.
function eventProblem(type: string, value: unknown, flavour: ConfigFlavour): string | undefined {
  const named = (key: string, example: string): string | undefined =>
    typeof value === 'string' && value.trim() !== ''
      ? undefined
      : isMapping(value) && (typeof value[key] === 'string' || isMapping(value[key]))
        ? undefined
        : `must be a ${type} name or a mapping with \`${key}:\` (e.g. \`${type}: ${example}\`)`;
  switch (type) {
    case 'http':
    case 'httpApi': {
      const r = parseRouteEvent(value, routePayloadDefault(type, flavour), flavour === 'serverless');
      return 'problem' in r ? r.problem : undefined;
    }
    case 'schedule': {
      // The scheduler's own parser, so nimbus.yml is checked exactly as the server will read it.
      const problemOf = (v: unknown): string | undefined => {
        if (typeof v !== 'string') return 'must be an expression string';
        try {
          parseScheduleExpression(v.trim());
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      };
      const rate = isMapping(value) ? (value.rate ?? value.cron) : value;
      const list = Array.isArray(rate) && rate.length > 0 ? rate : [rate];
      for (const r of list) {
        if (typeof r !== 'string') {
          return 'must be `rate(<n> <unit>)`, `cron(<fields>)` or `at(<time>)` (e.g. `rate(1 hour)`), or a mapping with `rate:`';
        }
        const problem = problemOf(r);
        if (problem !== undefined) return `has an invalid expression: ${problem.replace(/\.$/, '')}`;
      }
      return undefined;
    }
    case 'queue':
      return named('queue', 'jobs');
    case 'bucket':
    case 's3':
      return named('bucket', 'images');
    case 'table':
      return named('table', 'results');
    case 'topic':
      return named('topic', 'updates');
    case 'sqs':
      return named('arn', 'arn:aws:sqs:region:account:jobs');
    case 'sns':
      // Serverless spells it `sns: name`, `sns: { topicName }` or `sns: { arn }`.
      return isMapping(value) && typeof value.arn === 'string' ? undefined : named('topicName', 'updates');
    case 'stream':
      return named('arn', 'arn:aws:dynamodb:...');
    default:
      return undefined;
  }
}

function checkResources(resources: unknown, flavour: ConfigFlavour, out: CheckResult): void {
  if (resources === undefined || resources === null) return;
  if (!isMapping(resources)) {
    out.errors.push({
      path: ['resources'],
      message: `resources must be a mapping with buckets, queues, tables or topics; got ${describeValue(resources)}`,
    });
    return;
  }
  for (const [key, value] of Object.entries(resources)) {
    const path = ['resources', key];
    if ((RESOURCE_KINDS as readonly string[]).includes(key)) {
      checkResourceKind(value, path, out);
    } else if (flavour === 'serverless' && CLOUDFORMATION_KEYS.includes(key)) {
      out.warnings.push({
        path,
        target: 'key',
        message: `resources.${key} is CloudFormation; Nimbus ignores it (declare resources.buckets/queues/tables/topics instead)`,
      });
    } else {
      const guess = closestMatch(key, RESOURCE_KINDS);
      out.errors.push({
        path,
        target: 'key',
        message: `unknown key \`${key}\` in resources; ${guess ? `did you mean \`${guess}\`?` : `valid keys: ${RESOURCE_KINDS.join(', ')}`}`,
      });
    }
  }
}

function checkResourceKind(value: unknown, path: ConfigPath, out: CheckResult): void {
  const where = formatPath(path);
  const checkName = (name: unknown, at: ConfigPath, target: 'key' | 'value'): void => {
    if (typeof name !== 'string' || !RESOURCE_NAME.test(name)) {
      out.errors.push({
        path: at,
        target,
        message: `${where}: ${describeValue(name)} is not a valid name; use 1-63 letters, digits, dots, dashes or underscores`,
      });
    }
  };
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    const seen = new Set<unknown>();
    value.forEach((name, i) => {
      checkName(name, [...path, i], 'value');
      if (seen.has(name)) {
        out.errors.push({ path: [...path, i], message: `${where}: ${describeValue(name)} is listed twice` });
      }
      seen.add(name);
    });
  } else if (isMapping(value)) {
    for (const [name, options] of Object.entries(value)) {
      checkName(name, [...path, name], 'key');
      if (options !== null && !isMapping(options)) {
        out.errors.push({
          path: [...path, name],
          message: `${formatPath([...path, name])} must be a mapping of options (or empty); got ${describeValue(options)}`,
        });
      } else if (path[1] === 'buckets' && isMapping(options)) {
        // A bucket has no options (versioning, CORS, lifecycle, ... are not implemented).
        for (const key of Object.keys(options)) {
          out.warnings.push({
            path: [...path, name, key],
            target: 'key',
            message: `${formatPath([...path, name, key])} is accepted but ignored: buckets take no options in Nimbus`,
          });
        }
      }
    }
  } else {
    out.errors.push({
      path,
      message: `${where} must be a list of names (\`[images]\`) or a mapping of name → options; got ${describeValue(value)}`,
    });
  }
}

// Each function is always bundled on its own; `individually: false` cannot be honoured.
function warnPackaging(raw: Record<string, unknown>, out: CheckResult): void {
  const places: Array<[unknown, ConfigPath]> = [[raw.package, ['package']]];
  if (isMapping(raw.functions)) {
    for (const [name, fn] of Object.entries(raw.functions)) {
      if (isMapping(fn)) places.push([fn.package, ['functions', name, 'package']]);
    }
  }
  for (const [pkg, path] of places) {
    if (isMapping(pkg) && pkg.individually === false) {
      out.warnings.push({
        path: [...path, 'individually'],
        target: 'key',
        message: `${formatPath([...path, 'individually'])} is accepted but ignored: Nimbus always packages each function on its own`,
      });
    }
  }
}

function warnIgnored(
  obj: Record<string, unknown>,
  path: ConfigPath,
  keys: readonly string[],
  reason: string,
  out: CheckResult,
): void {
  for (const key of keys) {
    if (obj[key] !== undefined) {
      out.warnings.push({
        path: [...path, key],
        target: 'key',
        message: `${formatPath([...path, key])} ${reason}; Nimbus ignores it`,
      });
    }
  }
}

// Serverless resolves `${self:...}`, `${env:...}` and friends before deploying; Nimbus does not,
// so a user porting a serverless.yml should hear that the text is used literally.
function warnVariables(value: unknown, path: ConfigPath, out: CheckResult): void {
  if (typeof value === 'string') {
    if (/\$\{[^}]+\}/.test(value)) {
      out.warnings.push({
        path,
        message: `${formatPath(path) || 'value'} contains a Serverless variable (${value.match(/\$\{[^}]+\}/)?.[0]}); Nimbus does not resolve variables and uses the text as written`,
      });
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => warnVariables(v, [...path, i], out));
  } else if (isMapping(value)) {
    for (const [k, v] of Object.entries(value)) warnVariables(v, [...path, k], out);
  }
}

function pick(...values: unknown[]): unknown {
  return values.find((v) => v !== undefined);
}

/** True for a plain mapping (not null, not a list). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
