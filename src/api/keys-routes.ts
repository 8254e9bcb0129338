// The /v1 API of gateway API keys (bearer auth): create (the key is shown once), list, usage, revoke.

import { z } from 'zod';
import { NimbusError } from '../errors.js';
import { parseJsonBody, type ApiResponse } from './http-io.js';
import { parseWith } from '../functions/function-config-schema.js';
import { periodOf } from '../gateway/auth/usage-plans.js';
import type { UsagePlanSpec } from '../gateway/auth/auth-spec.js';
import type { Platform } from '../server/platform.js';
import type { ApiKeyRecord } from '../store/store.js';
import type { RouteTable } from './route-context.js';

const createSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/),
    plan: z.string().min(1).max(64),
    app: z.string().min(1).max(64).optional(),
  })
  .strict();

const json = (status: number, body: unknown): ApiResponse => ({ status, body });

function describeKey(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.keyPrefix,
    app: k.app,
    plan: k.plan,
    createdAt: k.createdAt,
    status: k.revokedAt ? 'revoked' : 'active',
    ...(k.revokedAt ? { revokedAt: k.revokedAt } : {}),
  };
}

/** The app that declares `plan` (the one named, or the only one declaring it). */
async function resolvePlan(
  p: Platform,
  plan: string,
  app: string | undefined,
): Promise<{ app: string; spec: UsagePlanSpec }> {
  const apps = await p.store.routes.listApps();
  const declaring = apps.filter((a) => a.usagePlans?.[plan] && (app === undefined || a.app === app));
  if (declaring.length === 1) return { app: declaring[0]!.app, spec: declaring[0]!.usagePlans![plan]! };
  if (declaring.length === 0) {
    throw new NimbusError(
      'InvalidParameterValueException',
      app === undefined
        ? `No deployed app declares usage plan '${plan}'; declare it under gateway.usagePlans in nimbus.yml and deploy.`
        : `App '${app}' declares no usage plan '${plan}'; declare it under gateway.usagePlans in its nimbus.yml and deploy.`,
    );
  }
  throw new NimbusError(
    'InvalidParameterValueException',
    `Usage plan '${plan}' is declared by apps ${declaring.map((a) => `'${a.app}'`).join(', ')}; say which with --app.`,
  );
}

async function requireKey(p: Platform, idOrName: string): Promise<ApiKeyRecord> {
  const key = await p.store.apiKeys.find(idOrName);
  if (!key) {
    throw new NimbusError(
      'ResourceNotFoundException',
      `API key not found: ${idOrName}; list them with \`nimbus keys ls\`.`,
    );
  }
  return key;
}

/** Register the /v1/keys routes. */
export function keysRoutes(routes: RouteTable): void {
  routes.bearer('POST', '/v1/keys', async ({ platform, body, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    const req = parseWith(createSchema, parseJsonBody(await body(16 * 1024)), 'API key request');
    const { app } = await resolvePlan(platform, req.plan, req.app);
    const issued = await platform.gatewayAuth.keys.create(req.name, app, req.plan);
    return json(201, { ...describeKey(issued.record), key: issued.key });
  });

  routes.bearer('GET', '/v1/keys', async ({ platform, query, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    const keys = await platform.store.apiKeys.list(query.get('app') ?? undefined);
    return json(200, { keys: keys.map(describeKey) });
  });

  routes.bearer('GET', '/v1/keys/{key}/usage', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    const key = await requireKey(platform, params.key!);
    // This node's unwritten counts go to the store first, so the answer includes them.
    await platform.gatewayAuth.meter.flush();
    const apps = await platform.store.routes.listApps();
    const plan = apps.find((a) => a.app === key.app)?.usagePlans?.[key.plan];
    const usage = await platform.store.apiKeys.getUsage(key.id);
    const period = plan?.quota ? periodOf(plan.quota.period, Date.now()) : undefined;
    return json(200, {
      ...describeKey(key),
      limits: plan ?? null,
      ...(plan?.quota && period !== undefined
        ? {
            quota: {
              period,
              used: usage.find((u) => u.period === period)?.count ?? 0,
              limit: plan.quota.limit,
            },
          }
        : {}),
      usage,
    });
  });

  routes.bearer('DELETE', '/v1/keys/{key}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'function', name: '*' });
    await requireKey(platform, params.key!);
    const revoked = await platform.gatewayAuth.keys.revoke(params.key!);
    return json(200, describeKey(revoked!));
  });
}
