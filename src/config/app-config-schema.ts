// The zod schema of nimbus.yml / serverless.yml: the strict shapes, their messages and runtimes.
//
// Loose sections (events, resources, workflows, gateway) are `unknown` here and checked by hand in
// app-config-checks.ts, where messages can name the exact entry; cross-field rules live there too.

import { z } from 'zod';
import { NAME_PATTERN } from '../functions/function-model.js';
import type { ConfigFlavour, SourceRuntime } from './app-config.js';

/** Memory limits in MB, as Lambda's. */
export const MEMORY_RANGE = { min: 128, max: 10240 } as const;
/** Timeout limits in seconds, as Lambda's. */
export const TIMEOUT_RANGE = { min: 1, max: 900 } as const;

const RUNTIME_HINT =
  'must be one of nodejs, typescript, python, provided (AWS spellings such as nodejs20.x, python3.12 and provided.al2023 work too)';

/**
 * The Nimbus runtime for a runtime string as written, or undefined if unsupported.
 * AWS spellings map to the family: `nodejs20.x` → nodejs, `python3.12` → python,
 * `provided.al2023` → provided.
 */
export function canonicalRuntime(runtime: string): SourceRuntime | undefined {
  if (runtime === 'typescript') return 'typescript';
  if (/^(node|nodejs)(\d+(\.x)?)?$/.test(runtime)) return 'nodejs';
  if (/^python(3(\.\d+)?)?$/.test(runtime)) return 'python';
  if (/^provided(\.al2|\.al2023)?$/.test(runtime)) return 'provided';
  return undefined;
}

/** A whole number in [min, max]; every failure reads "must be a number between min and max (unit)". */
function wholeNumber(min: number, max: number, unit: string) {
  const range = `between ${min} and ${max}${unit ? ` (${unit})` : ''}`;
  return z
    .number({ error: `must be a number ${range}` })
    .int({ error: `must be a whole number ${range}` })
    .min(min, { error: `must be a number ${range}` })
    .max(max, { error: `must be a number ${range}` });
}

const runtime = z
  .string({ error: RUNTIME_HINT })
  .refine((r) => canonicalRuntime(r) !== undefined, { error: RUNTIME_HINT });
const memory = wholeNumber(MEMORY_RANGE.min, MEMORY_RANGE.max, 'MB');
const timeout = wholeNumber(TIMEOUT_RANGE.min, TIMEOUT_RANGE.max, 'seconds');
const isolation = z.enum(['process', 'thread'], {
  error: 'must be `process` (sandboxed, default) or `thread` (trusted nodejs code)',
});
const network = z.boolean({ error: 'must be true or false' });
const tmpSize = wholeNumber(1, 10240, 'MB');
const maxConcurrency = wholeNumber(1, 10000, 'instances');
const minInstances = wholeNumber(0, 10000, 'instances');
const idleTimeout = wholeNumber(1, 86400, 'seconds');
const maxOpenFiles = wholeNumber(16, 1048576, '');
const maxProcesses = wholeNumber(1, 65536, '');
// Lambda's ranges for asynchronous invocation settings.
const maximumRetryAttempts = wholeNumber(0, 2, 'retries');
const maximumEventAge = wholeNumber(60, 21600, 'seconds');

// Serverless writes numbers and booleans in `environment` and stringifies them; so do we.
const envValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error: 'must be a string, number or boolean (write "" for an empty value)',
  })
  .transform(String);
const environment = z.record(z.string(), envValue, { error: 'must be a mapping of NAME: value' });

const globs = z.array(z.string({ error: 'must be a glob string' }), { error: 'must be a list of globs' });
const packageSchema = z.strictObject(
  {
    include: globs.optional(),
    exclude: globs.optional(),
    // Serverless v3: one list where `!pattern` excludes.
    patterns: globs.optional(),
    individually: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'must be a mapping with include / exclude lists' },
);

/** Keys of a serverless.yml provider that only mean something on AWS: accepted, ignored, warned. */
export const AWS_ONLY_PROVIDER_KEYS = [
  'stage',
  'region',
  'profile',
  'architecture',
  'iam',
  'role',
  'iamRoleStatements',
  'iamManagedPolicies',
  'tags',
  'stackTags',
  'stackName',
  'deploymentBucket',
  'deploymentMethod',
  'deploymentPrefix',
  'versionFunctions',
  'tracing',
  'logs',
  'logRetentionInDays',
  'httpApi',
  'apiGateway',
  'apiName',
  'endpointType',
  'vpc',
  'runtimeManagement',
  'ecr',
  'kmsKeyArn',
  'layers',
  'lambdaHashingVersion',
  'stackPolicy',
  'cfnRole',
  'rolePermissionsBoundary',
  'notificationArns',
  'disableRollback',
] as const;

/** Function keys of a serverless.yml that only mean something on AWS: accepted, ignored, warned. */
export const AWS_ONLY_FUNCTION_KEYS = [
  'name',
  'layers',
  'role',
  'tags',
  'vpc',
  'architecture',
  'tracing',
  'url',
  'kmsKeyArn',
  'snapStart',
  'disableLogs',
  'logRetentionInDays',
  'dependsOn',
  'condition',
  'image',
  'fileSystemConfig',
  'runtimeManagement',
] as const;

/** Top-level serverless.yml keys for the framework itself: accepted, ignored, warned. */
export const SERVERLESS_ONLY_TOP_KEYS = [
  'frameworkVersion',
  'plugins',
  'custom',
  'useDotenv',
  'configValidationMode',
  'variablesResolutionMode',
  'deprecationNotificationMode',
  'disabledDeprecations',
  'org',
  'console',
  'params',
  'layers',
  'outputs',
  'stages',
  'build',
] as const;

function ignored(keys: readonly string[]): Record<string, z.ZodOptional<z.ZodUnknown>> {
  return Object.fromEntries(keys.map((k) => [k, z.unknown().optional()]));
}

/** Settings shared by `provider`/`defaults` and each function. */
const sharedSettings = {
  runtime: runtime.optional(),
  memory: memory.optional(),
  // Serverless spelling of `memory`.
  memorySize: memory.optional(),
  timeout: timeout.optional(),
  // An empty `environment:` (every variable commented out) is common in real files.
  environment: environment.nullable().optional(),
  isolation: isolation.optional(),
  network: network.optional(),
  tmpSize: tmpSize.optional(),
  maxConcurrency: maxConcurrency.optional(),
  idleTimeout: idleTimeout.optional(),
  maxOpenFiles: maxOpenFiles.optional(),
  maxProcesses: maxProcesses.optional(),
};

function buildSchema(flavour: ConfigFlavour) {
  const serverless = flavour === 'serverless';
  const provider = z.strictObject(
    {
      ...sharedSettings,
      name: z.enum(['aws', 'nimbus'], { error: 'must be `aws` (serverless.yml) or `nimbus`' }).optional(),
      minInstances: minInstances.optional(),
      ...(serverless ? ignored(AWS_ONLY_PROVIDER_KEYS) : {}),
    },
    { error: 'must be a mapping of default settings (runtime, memory, timeout, environment, ...)' },
  );
  const fn = z.strictObject(
    {
      ...sharedSettings,
      handler: z
        .string({ error: 'must be a string like `src/app.handler`' })
        .regex(/^[^\s.][^\s]*\.[A-Za-z_$][\w$.]*$/, {
          error:
            'must be `<file path without extension>.<exported function>`, e.g. `src/app.handler` or `main.handler`',
        })
        .optional(),
      minInstances: minInstances.optional(),
      description: z
        .string({ error: 'must be a string' })
        .max(256, { error: 'must be at most 256 characters' })
        .optional(),
      events: z.unknown().optional(),
      package: packageSchema.optional(),
      // Serverless spellings of Nimbus settings.
      reservedConcurrency: maxConcurrency.optional(),
      provisionedConcurrency: minInstances.optional(),
      ephemeralStorageSize: tmpSize.optional(),
      // Async invocations; targets are checked by hand in async-settings.ts.
      maximumRetryAttempts: maximumRetryAttempts.optional(),
      maximumEventAge: maximumEventAge.optional(),
      destinations: z.unknown().optional(),
      onError: z.unknown().optional(),
      deadLetter: z.unknown().optional(),
      recursiveLoop: z.enum(['Allow', 'Terminate'], { error: 'must be Allow or Terminate' }).optional(),
      ...(serverless ? ignored(AWS_ONLY_FUNCTION_KEYS) : {}),
    },
    { error: 'must be a mapping of function settings (handler, runtime, memory, ...)' },
  );
  return z.strictObject(
    {
      app: z
        .string({ error: 'must be a string' })
        .regex(NAME_PATTERN, {
          error: 'must be 1-64 letters, digits, dashes or underscores, starting with a letter or digit',
        })
        .optional(),
      // Serverless spelling of `app`.
      service: z
        .string({ error: 'must be a string' })
        .regex(NAME_PATTERN, {
          error: 'must be 1-64 letters, digits, dashes or underscores, starting with a letter or digit',
        })
        .optional(),
      provider: provider.nullable().optional(),
      defaults: provider.nullable().optional(),
      functions: z
        .record(z.string(), fn.nullable(), {
          error: 'must be a mapping of function name → settings',
        })
        .nullable()
        .optional(),
      package: packageSchema.optional(),
      resources: z.unknown().optional(),
      workflows: z.unknown().optional(),
      // The serverless-step-functions plugin's block; checked in workflow-config.ts.
      ...(serverless ? { stepFunctions: z.unknown().optional() } : {}),
      // The app's HTTP gateway settings (basePath, cors); checked in app-config-checks.ts.
      gateway: z.unknown().optional(),
      ...(serverless ? ignored(SERVERLESS_ONLY_TOP_KEYS) : {}),
    },
    { error: 'must be a mapping with `app:` and `functions:`' },
  );
}

const SCHEMAS = { nimbus: buildSchema('nimbus'), serverless: buildSchema('serverless') };

/** The schema for a file flavour. */
export function appConfigSchema(flavour: ConfigFlavour): (typeof SCHEMAS)['nimbus'] {
  return SCHEMAS[flavour];
}

/** What the schema accepts (before defaults and hand-checked sections). */
export type RawAppConfig = z.output<(typeof SCHEMAS)['nimbus']>;
/** One function's settings as accepted by the schema. */
export type RawFunction = NonNullable<NonNullable<RawAppConfig['functions']>[string]>;
/** The `provider` / `defaults` block as accepted by the schema. */
export type RawProvider = NonNullable<RawAppConfig['provider']>;

/**
 * The valid keys of the mapping at `path` (for "did you mean"), found by walking the schema;
 * empty when the path leads nowhere known.
 */
export function knownKeysAt(flavour: ConfigFlavour, path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = SCHEMAS[flavour];
  for (const segment of [...path, undefined]) {
    schema = unwrap(schema);
    if (segment === undefined) break;
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(segment)];
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

// Optional, nullable, default and union wrappers hide the object we want to list the keys of.
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  for (let i = 0; i < 10 && schema; i++) {
    if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) {
      schema = schema.unwrap() as z.ZodType;
    } else if (schema instanceof z.ZodUnion) {
      schema = (schema.options as z.ZodType[]).find((o) => o instanceof z.ZodObject) ?? schema;
      if (!(schema instanceof z.ZodObject)) return schema;
    } else return schema;
  }
  return schema;
}
