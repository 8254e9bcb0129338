// The schema of a compiled FunctionConfig as the deploy API receives it (the CLI compiles
// nimbus.yml into this shape; the server validates it again, since anyone can call the API).

import { z } from 'zod';
import { NimbusError } from '../errors.js';
import {
  basePathProblem,
  normalizeBasePath,
  ROUTE_METHODS,
  routePathProblem,
} from '../gateway/route-spec.js';
import { authorizersSchema, routeAuthSchema, usagePlansSchema } from '../gateway/auth/auth-schema.js';
import { FUNCTION_DEFAULTS, NAME_PATTERN, type FunctionConfig } from './function-model.js';

const d = FUNCTION_DEFAULTS;

/** A compiled destination target (the CLI turns `queue:jobs`, ARNs, ... into this shape). */
export const destinationTargetSchema = z
  .object({
    type: z.enum(['queue', 'topic', 'function']),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/),
  })
  .strict();

/** Zod schema of {@link FunctionConfig}; fills in defaults. Ranges match src/config/app-config-schema.ts. */
export const functionConfigSchema = z
  .object({
    runtime: z.enum(['nodejs', 'python', 'provided']),
    sourceRuntime: z.literal('typescript').optional(),
    handler: z.string().min(1).max(256),
    memory: z.number().int().min(128).max(10240).default(d.memory),
    timeout: z.number().int().min(1).max(900).default(d.timeout),
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    isolation: z.enum(['process', 'thread']).default(d.isolation),
    network: z.boolean().default(d.network),
    tmpSize: z.number().int().min(1).max(10240).default(d.tmpSize),
    maxConcurrency: z.number().int().min(1).max(10_000).default(d.maxConcurrency),
    minInstances: z.number().int().min(0).max(10_000).default(d.minInstances),
    idleTimeout: z.number().int().min(1).max(86_400).default(d.idleTimeout),
    maxOpenFiles: z.number().int().min(16).max(1_048_576).default(d.maxOpenFiles),
    maxProcesses: z.number().int().min(1).max(65_536).default(d.maxProcesses),
    description: z.string().max(256).default(d.description),
    maximumRetryAttempts: z.number().int().min(0).max(2).default(d.maximumRetryAttempts),
    maximumEventAge: z.number().int().min(60).max(21_600).default(d.maximumEventAge),
    destinations: z
      .object({
        onSuccess: destinationTargetSchema.optional(),
        onFailure: destinationTargetSchema.optional(),
      })
      .strict()
      .default({}),
    deadLetter: destinationTargetSchema
      .refine((t) => t.type !== 'function', { message: 'a dead-letter target is a queue or a topic' })
      .optional(),
    recursiveLoop: z.enum(['Allow', 'Terminate']).optional(),
  })
  .strict()
  .refine((c) => c.isolation === 'process' || c.runtime === 'nodejs', {
    message: 'isolation "thread" runs only nodejs functions; use isolation "process" for python and provided',
    path: ['isolation'],
  })
  .refine((c) => c.minInstances <= c.maxConcurrency, {
    message: 'minInstances must not exceed maxConcurrency',
    path: ['minInstances'],
  });

const corsSchema = z
  .object({
    allowOrigins: z.array(z.string().min(1).max(512)).max(100),
    allowMethods: z.array(z.string().min(1).max(16)).max(20),
    allowHeaders: z.array(z.string().min(1).max(256)).max(100),
    exposeHeaders: z.array(z.string().min(1).max(256)).max(100),
    allowCredentials: z.boolean(),
    maxAge: z.number().int().min(0).max(86_400).optional(),
  })
  .strict();

/** An app's routes and gateway settings in a deploy (see src/gateway/route-spec.ts). */
export const gatewaySpecSchema = z
  .object({
    basePath: z
      .string()
      .max(256)
      .refine((p) => basePathProblem(p) === undefined, { message: 'must be empty or like /api' })
      .transform(normalizeBasePath)
      .default(''),
    cors: corsSchema.optional(),
    routes: z
      .array(
        z
          .object({
            function: z.string().regex(NAME_PATTERN),
            method: z.enum(ROUTE_METHODS),
            path: z
              .string()
              .max(1024)
              .refine((p) => p === '$default' || routePathProblem(p) === undefined, {
                message: 'must be $default or a path like /users/{id} or /files/{proxy+}',
              }),
            payload: z.enum(['1.0', '2.0']).default('2.0'),
            auth: routeAuthSchema.optional(),
          })
          .strict(),
      )
      .max(300),
    authorizers: authorizersSchema.optional(),
    usagePlans: usagePlansSchema.optional(),
  })
  .strict();

const resourceMap = z
  .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/), z.record(z.string(), z.unknown()))
  .default({});

/** Body of `POST /v1/apps/{app}/deploy`. */
export const deployRequestSchema = z
  .object({
    functions: z
      .array(
        z
          .object({
            name: z.string().regex(NAME_PATTERN),
            codeSha256: z.string().regex(/^[0-9a-f]{64}$/),
            codeSize: z.number().int().min(0),
            config: functionConfigSchema,
            /** The function's `events` as written in nimbus.yml; each service checks its own types. */
            events: z.array(z.unknown()).max(100).default([]),
          })
          .strict(),
      )
      .max(200),
    /** Declared resources (name → options as written) per kind; each service checks its own kind. */
    resources: z
      .object({
        buckets: resourceMap,
        queues: resourceMap,
        tables: resourceMap,
        topics: resourceMap,
      })
      .strict()
      .default({ buckets: {}, queues: {}, tables: {}, topics: {} }),
    prune: z.boolean().default(true),
    /** Absent (older clients): the app's routes stay as they are. Present: they are replaced. */
    gateway: gatewaySpecSchema.optional(),
    /**
     * The app's workflows by key, definitions as written (files already read). Absent (older
     * clients): the stored workflows stay; present: they are replaced (and pruned with `prune`).
     */
    workflows: z
      .record(
        z.string().regex(NAME_PATTERN),
        z
          .object({
            type: z.enum(['STANDARD', 'EXPRESS']).default('STANDARD'),
            definition: z.record(z.string(), z.unknown()),
            file: z.string().max(1024).optional(),
            name: z.string().regex(NAME_PATTERN).optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

/** A validated deploy request. */
export type DeployRequest = z.infer<typeof deployRequestSchema>;

/** Validate an API body with `schema`, or throw 400 naming each bad field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new NimbusError('InvalidParameterValueException', `Invalid ${what}: ${details}`);
}

/** Freeze a parsed config (deeply enough: its environment too). */
export function freezeConfig(c: FunctionConfig): FunctionConfig {
  return Object.freeze({
    ...c,
    environment: Object.freeze({ ...c.environment }),
    destinations: Object.freeze({ ...c.destinations }),
  });
}
