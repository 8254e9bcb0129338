// The /v1 routes of tables (bearer tokens): see docs/resources.md and docs/api.md. Items are plain JSON here.

import { z } from 'zod';
import { parseWith } from '../functions/function-config-schema.js';
import type { Item } from '../store/ports/documents.js';
import { parseJsonBody } from './http-io.js';
import type { ApiResponse } from './http-io.js';
import type { RouteContext, RouteTable } from './route-context.js';

/** Largest request body: a 400 KB item plus its expression and placeholders. */
const BODY_LIMIT = 1024 * 1024;

const json = (status: number, body: unknown): ApiResponse => ({ status, body });

const object = z.record(z.string(), z.unknown());
const keyValue = z.union([z.string(), z.number()]);
const placeholders = {
  names: z.record(z.string(), z.string()).optional(),
  values: z.record(z.string(), z.unknown()).optional(),
};
const conditional = { condition: z.string().max(4096).optional(), ...placeholders };

const createSchema = z
  .object({
    name: z.string(),
    partitionKey: z.unknown(),
    sortKey: z.unknown().optional(),
    stream: z.unknown().optional(),
  })
  .strict();
const putSchema = z.object({ item: object, returnOld: z.boolean().optional(), ...conditional }).strict();
const getSchema = z.object({ key: object }).strict();
const updateSchema = z
  .object({
    key: object,
    update: z
      .object({
        set: object.optional(),
        remove: z.array(z.string()).optional(),
        add: z.record(z.string(), z.number()).optional(),
      })
      .strict(),
    ...conditional,
  })
  .strict();
const deleteSchema = z.object({ key: object, returnOld: z.boolean().optional(), ...conditional }).strict();
const page = {
  limit: z.number().int().optional(),
  exclusiveStartKey: object.optional(),
  cursor: z.string().optional(),
  filter: z.string().max(4096).optional(),
  ...placeholders,
};
const querySchema = z
  .object({
    partition: keyValue,
    sort: z
      .object({
        eq: keyValue.optional(),
        lt: keyValue.optional(),
        le: keyValue.optional(),
        gt: keyValue.optional(),
        ge: keyValue.optional(),
        between: z.tuple([keyValue, keyValue]).optional(),
        beginsWith: z.string().optional(),
      })
      .strict()
      .optional(),
    scanForward: z.boolean().optional(),
    ...page,
  })
  .strict();
const scanSchema = z.object(page).strict();

async function bodyOf<T>(ctx: RouteContext, schema: z.ZodType<T>, what: string): Promise<T> {
  return parseWith(schema, parseJsonBody(await ctx.body(BODY_LIMIT)), what);
}

/** The table named in the path, after checking the caller may use it. */
async function tableOf(ctx: RouteContext): Promise<string> {
  const name = ctx.params.name!;
  await ctx.authorize({ kind: 'table', name });
  return name;
}

const old = (item: Item | undefined, asked: boolean | undefined) =>
  asked === true ? { oldItem: item ?? null } : {};

/** Register the /v1 tables routes. */
export function tablesRoutes(routes: RouteTable): void {
  routes.bearer('GET', '/v1/tables', async ({ platform, authorize }) => {
    await authorize({ kind: 'table', name: '*' });
    return json(200, { tables: await platform.tables.listTables() });
  });

  routes.bearer('POST', '/v1/tables', async (ctx) => {
    await ctx.authorize({ kind: 'table', name: '*' });
    const { name, ...spec } = await bodyOf(ctx, createSchema, 'table');
    return json(201, await ctx.platform.tables.createTable(name, spec));
  });

  routes.bearer('GET', '/v1/tables/{name}', async (ctx) => {
    return json(200, await ctx.platform.tables.describeTable(await tableOf(ctx)));
  });

  routes.bearer('DELETE', '/v1/tables/{name}', async (ctx) => {
    await ctx.platform.tables.deleteTable(await tableOf(ctx));
    return { status: 204 };
  });

  routes.bearer('PUT', '/v1/tables/{name}/items', async (ctx) => {
    const table = await tableOf(ctx);
    const { item, returnOld, ...options } = await bodyOf(ctx, putSchema, 'put request');
    const result = await ctx.platform.tables.putItem(table, item, options);
    return json(200, old(result.old, returnOld));
  });

  routes.bearer('POST', '/v1/tables/{name}/items/get', async (ctx) => {
    const table = await tableOf(ctx);
    const { key } = await bodyOf(ctx, getSchema, 'get request');
    return json(200, { item: (await ctx.platform.tables.getItem(table, key)) ?? null });
  });

  routes.bearer('POST', '/v1/tables/{name}/items/update', async (ctx) => {
    const table = await tableOf(ctx);
    const { key, update, ...options } = await bodyOf(ctx, updateSchema, 'update request');
    return json(200, { item: await ctx.platform.tables.updateItem(table, key, update, options) });
  });

  routes.bearer('POST', '/v1/tables/{name}/items/delete', async (ctx) => {
    const table = await tableOf(ctx);
    const { key, returnOld, ...options } = await bodyOf(ctx, deleteSchema, 'delete request');
    const result = await ctx.platform.tables.deleteItem(table, key, options);
    return json(200, old(result.old, returnOld));
  });

  routes.bearer('POST', '/v1/tables/{name}/query', async (ctx) => {
    const table = await tableOf(ctx);
    return json(200, await ctx.platform.tables.query(table, await bodyOf(ctx, querySchema, 'query')));
  });

  routes.bearer('POST', '/v1/tables/{name}/scan', async (ctx) => {
    const table = await tableOf(ctx);
    return json(200, await ctx.platform.tables.scan(table, await bodyOf(ctx, scanSchema, 'scan')));
  });
}
