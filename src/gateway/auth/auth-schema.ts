// Zod schemas of gateway auth as the deploy API receives it (the CLI compiles nimbus.yml into
// this shape; the server validates it again, since anyone can call the API).

import { z } from 'zod';
import { DEFAULT_AUTHORIZER_TTL, DEFAULT_CLOCK_SKEW, DEFAULT_JWT_IDENTITY } from './auth-spec.js';

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/);
const identity = z.string().regex(/^\$request\.(header|querystring)\.[A-Za-z0-9_.~!#$%&'*+^`|-]+$/);

/** A route's `auth`. */
export const routeAuthSchema = z
  .object({
    apiKey: z.boolean().default(false),
    authorizer: name.optional(),
    scopes: z.array(z.string().min(1).max(256)).max(50).optional(),
  })
  .strict();

/** One usage plan. */
export const usagePlanSchema = z
  .object({
    rate: z.number().positive().max(1_000_000).optional(),
    burst: z.number().int().positive().max(1_000_000).optional(),
    quota: z
      .object({ limit: z.number().int().positive(), period: z.enum(['day', 'month']) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => p.burst === undefined || p.rate !== undefined, { message: 'burst needs a rate' })
  .transform((p) =>
    p.rate !== undefined && p.burst === undefined ? { ...p, burst: Math.max(1, Math.ceil(p.rate)) } : p,
  );

const jwtSchema = z
  .object({
    type: z.literal('jwt'),
    issuer: z.string().min(1).max(1024),
    audience: z.array(z.string().min(1).max(1024)).max(50).default([]),
    identitySource: identity.refine((s) => s.startsWith('$request.header.')).default(DEFAULT_JWT_IDENTITY),
    secret: z.string().min(1).max(4096).optional(),
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    jwksUrl: z
      .string()
      .regex(/^https?:\/\//)
      .max(2048)
      .optional(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(100) }).optional(),
    clockSkew: z.number().int().min(0).max(3600).default(DEFAULT_CLOCK_SKEW),
  })
  .strict()
  .refine((a) => [a.secret, a.secretEnv, a.jwksUrl, a.jwks].filter((x) => x !== undefined).length === 1, {
    message: 'needs exactly one of secret, secretEnv, jwksUrl, jwks',
  });

const functionSchema = z
  .object({
    type: z.literal('function'),
    function: name,
    identitySource: z.array(identity).min(1).max(10),
    ttl: z.number().int().min(0).max(3600).default(DEFAULT_AUTHORIZER_TTL),
  })
  .strict();

/** Authorizers by name. */
export const authorizersSchema = z.record(name, z.union([jwtSchema, functionSchema]));

/** Usage plans by name. */
export const usagePlansSchema = z.record(name, usagePlanSchema);
