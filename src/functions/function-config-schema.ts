// The schema of a compiled FunctionConfig as the deploy API receives it (the CLI compiles
// nimbus.yml into this shape; the server validates it again, since anyone can call the API).

import { z } from 'zod';
import { NimbusError } from '../errors.js';
import { FUNCTION_DEFAULTS, NAME_PATTERN, type FunctionConfig } from './function-model.js';

const d = FUNCTION_DEFAULTS;

/** Zod schema of {@link FunctionConfig}; fills in defaults. Ranges match src/config/app-config-schema.ts. */
export const functionConfigSchema = z
  .object({
    runtime: z.enum(['nodejs', 'python', 'provided']),
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
          })
          .strict(),
      )
      .max(200),
    prune: z.boolean().default(true),
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
  return Object.freeze({ ...c, environment: Object.freeze({ ...c.environment }) });
}
