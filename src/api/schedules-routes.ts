// The /v1 routes of schedules (bearer tokens): list, show, enable, disable, run now; see docs/api.md.

import { NimbusError } from '../errors.js';
import { formatInZone } from '../events/schedules/time-zone.js';
import type { Platform } from '../server/platform.js';
import type { ScheduleRecord } from '../store/ports/schedules.js';
import type { ApiResponse } from './http-io.js';
import type { RouteTable } from './route-context.js';

const json = (status: number, body: unknown): ApiResponse => ({ status, body });

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** A schedule as the API shows it: times as ISO UTC and in the schedule's zone. */
export function describeSchedule(s: ScheduleRecord): Record<string, unknown> {
  let input: unknown;
  if (s.input !== undefined) {
    try {
      input = JSON.parse(s.input);
    } catch {
      input = s.input;
    }
  }
  return {
    id: s.id,
    app: s.app,
    name: s.name,
    function: s.functionName,
    expression: s.expression,
    timeZone: s.timeZone,
    enabled: s.enabled,
    catchUp: s.catchUp,
    ...(s.description === undefined ? {} : { description: s.description }),
    ...(input === undefined ? {} : { input }),
    nextFireAt: iso(s.nextFireAt) ?? null,
    nextFireAtZone: s.nextFireAt === undefined ? null : formatInZone(s.nextFireAt, s.timeZone),
    lastTick: iso(s.lastTick) ?? null,
  };
}

/** The schedule `<app>:<name>`, or the only one named `<name>`. */
async function resolve(p: Platform, idOrName: string): Promise<ScheduleRecord> {
  const byId = await p.store.schedules.get(idOrName);
  if (byId !== undefined) return byId;
  const named = idOrName.includes(':')
    ? []
    : (await p.store.schedules.list()).filter((s) => s.name === idOrName);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) {
    throw new NimbusError(
      'InvalidParameterValueException',
      `Several apps have a schedule named '${idOrName}' (${named.map((s) => s.id).join(', ')}); use the id <app>:<name>.`,
    );
  }
  throw new NimbusError(
    'ResourceNotFoundException',
    `Schedule not found: ${idOrName}; list schedules with \`nimbus schedules ls\` (ids are <app>:<name>).`,
  );
}

/** Register the /v1 schedules routes. */
export function schedulesRoutes(routes: RouteTable): void {
  routes.bearer('GET', '/v1/schedules', async ({ platform, query, authorize }) => {
    await authorize({ kind: 'schedule', name: '*' });
    const list = await platform.store.schedules.list(query.get('app') ?? undefined);
    return json(200, { schedules: list.map(describeSchedule) });
  });

  routes.bearer('GET', '/v1/schedules/{id}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'schedule', name: params.id! });
    return json(200, describeSchedule(await resolve(platform, params.id!)));
  });

  for (const action of ['enable', 'disable'] as const) {
    routes.bearer('POST', `/v1/schedules/{id}/${action}`, async ({ platform, params, authorize }) => {
      await authorize({ kind: 'schedule', name: params.id! });
      const s = await resolve(platform, params.id!);
      return json(200, describeSchedule(await platform.scheduler.setEnabled(s.id, action === 'enable')));
    });
  }

  routes.bearer('POST', '/v1/schedules/{id}/run', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'schedule', name: params.id! });
    const s = await resolve(platform, params.id!);
    const run = await platform.scheduler.runNow(s.id);
    return json(202, { id: s.id, invocationId: run.invocationId, time: new Date(run.time).toISOString() });
  });
}
