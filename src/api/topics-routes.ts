// The /v1 routes of topics (bearer tokens): see docs/resources.md and docs/api.md.

import { z } from 'zod';
import { NimbusError } from '../errors.js';
import { parseWith } from '../functions/function-config-schema.js';
import { parseSubscription, subscriptionTargetMissing } from '../services/topics/topic-config.js';
import type { TopicMessageAttribute } from '../services/topics/topic-types.js';
import type { DeliveryStatus } from '../store/ports/topics.js';
import { header, parseJsonBody, type ApiResponse } from './http-io.js';
import { requireReference, type RouteContext, type RouteTable } from './route-context.js';

const json = (status: number, body: unknown): ApiResponse => ({ status, body });

const createSchema = z.object({ name: z.string() }).strict();

// Attributes: `{ DataType, StringValue | BinaryValue }` as on SNS, or a shorthand value: a string
// (String), a number (Number) or an array (String.Array).
const attributeSchema = z.union([
  z
    .object({ DataType: z.string(), StringValue: z.string().optional(), BinaryValue: z.string().optional() })
    .strict(),
  z.string(),
  z.number(),
  z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])),
]);

const publishSchema = z
  .object({
    message: z.unknown(),
    subject: z.string().optional(),
    attributes: z.record(z.string(), attributeSchema).optional(),
  })
  .strict();

/** The attributes of a publish body in SNS's shape. */
function toAttributes(
  input: Record<string, z.infer<typeof attributeSchema>> | undefined,
): Record<string, TopicMessageAttribute> {
  const out: Record<string, TopicMessageAttribute> = {};
  for (const [name, v] of Object.entries(input ?? {})) {
    if (typeof v === 'string') out[name] = { DataType: 'String', StringValue: v };
    else if (typeof v === 'number') out[name] = { DataType: 'Number', StringValue: String(v) };
    else if (Array.isArray(v)) out[name] = { DataType: 'String.Array', StringValue: JSON.stringify(v) };
    else out[name] = v;
  }
  return out;
}

/**
 * A webhook makes the server send requests on the caller's behalf, and reports how each went:
 * only a principal that may use the network may create one (root, a `*` or `network:*` token, or
 * the token of an app with a `network: true` function), and only to a target the egress policy
 * allows (deliveries check again on every connection and redirect).
 */
async function checkWebhook(ctx: Pick<RouteContext, 'platform' | 'authorize'>, url: URL): Promise<void> {
  await ctx.authorize({ kind: 'network', name: url.hostname }).catch((err: unknown) => {
    if ((err as { code?: unknown })?.code !== 'AccessDeniedException') throw err;
    throw new NimbusError(
      'NetworkNotAllowedException',
      `This token may not create webhook subscriptions: they make the server send requests out, so only root, a token with scope * or network:*, or the token of an app with a \`network: true\` function may. Give one of the app's functions \`network: true\` in nimbus.yml, declare the webhook under resources.topics.<topic>.subscriptions, or use such a token.`,
    );
  });
  await ctx.platform.webhookEgress.check(url);
}

const STATUSES: readonly DeliveryStatus[] = ['pending', 'running', 'delivered', 'failed'];

/** Register the /v1 topics routes. */
export function topicsRoutes(routes: RouteTable): void {
  routes.bearer('GET', '/v1/topics', async ({ platform, query, authorize }) => {
    await authorize({ kind: 'topic', name: '*' });
    return json(200, { topics: await platform.topics.listTopics(query.get('prefix') ?? undefined) });
  });

  routes.bearer('POST', '/v1/topics', async ({ platform, body, authorize }) => {
    await authorize({ kind: 'topic', name: '*' });
    const req = parseWith(createSchema, parseJsonBody(await body(16 * 1024)), 'topic');
    const { created, ...topic } = await platform.topics.createTopic(req.name);
    return json(created ? 201 : 200, topic);
  });

  routes.bearer('GET', '/v1/topics/{name}', async ({ platform, params, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'topic', name });
    const topic = await platform.topics.getTopic(name);
    if (topic === undefined) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `topic '${name}' does not exist; create it with \`nimbus topics create ${name}\` or declare it under resources.topics in nimbus.yml`,
      );
    }
    const subscriptions = await platform.topics.listSubscriptions(name);
    return json(200, { ...topic, subscriptions: subscriptions.length });
  });

  routes.bearer('DELETE', '/v1/topics/{name}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'topic', name: params.name! });
    await platform.topics.deleteTopic(params.name!);
    return json(200, { deleted: params.name });
  });

  routes.bearer(
    'POST',
    '/v1/topics/{name}/publish',
    async ({ platform, params, body, authorize, req: http }) => {
      await authorize({ kind: 'topic', name: params.name! });
      // 256 KiB of message plus room for the JSON around it; the service checks the message itself.
      const req = parseWith(publishSchema, parseJsonBody(await body(512 * 1024)), 'publish request');
      if (req.message === undefined || req.message === null) {
        throw new NimbusError(
          'InvalidParameterValueException',
          'message: required; send { "message": "text" } or any JSON value (sent JSON-encoded)',
        );
      }
      const message = typeof req.message === 'string' ? req.message : JSON.stringify(req.message);
      const result = await platform.topics.publish(params.name!, message, {
        subject: req.subject,
        attributes: toAttributes(req.attributes),
        // The publisher's X-Ray header goes on with every delivery (recursive loop detection).
        traceHeader: header(http, 'x-amzn-trace-id'),
      });
      return json(200, result);
    },
  );

  routes.bearer('GET', '/v1/topics/{name}/subscriptions', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'topic', name: params.name! });
    return json(200, { subscriptions: await platform.topics.listSubscriptions(params.name!) });
  });

  routes.bearer('POST', '/v1/topics/{name}/subscriptions', async ({ platform, params, body, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'topic', name });
    const input = parseSubscription(parseJsonBody(await body(64 * 1024)), 'subscription');
    // Subscribing hands the topic's messages to the target: the caller must be allowed to use it,
    // and one it may not use answers exactly as a missing one.
    if (input.protocol === 'function' || input.protocol === 'queue') {
      const { protocol, endpoint } = input;
      await requireReference(
        { authorize },
        { kind: protocol, name: endpoint },
        async () =>
          protocol === 'function'
            ? (await platform.store.functions.getVersion(endpoint, '$LATEST')) !== undefined
            : (await platform.queues.getQueue(endpoint)) !== undefined,
        () => subscriptionTargetMissing(protocol, endpoint),
      );
    }
    if (input.protocol === 'webhook') await checkWebhook({ platform, authorize }, new URL(input.endpoint));
    return json(201, await platform.topics.subscribe(name, input));
  });

  routes.bearer('DELETE', '/v1/topics/{name}/subscriptions/{id}', async ({ platform, params, authorize }) => {
    await authorize({ kind: 'topic', name: params.name! });
    await platform.topics.unsubscribe(params.name!, params.id!);
    return json(200, { deleted: params.id });
  });

  routes.bearer('GET', '/v1/topics/{name}/deliveries', async ({ platform, params, query, authorize }) => {
    await authorize({ kind: 'topic', name: params.name! });
    const status = query.get('status') ?? undefined;
    if (status !== undefined && !STATUSES.includes(status as DeliveryStatus)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `status: must be one of ${STATUSES.join(', ')}; got '${status}'`,
      );
    }
    const limitText = query.get('limit');
    const limit = limitText === null ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new NimbusError('InvalidParameterValueException', 'limit: must be an integer from 1 to 1000');
    }
    const deliveries = await platform.topics.listDeliveries(params.name!, {
      ...(status !== undefined ? { status: status as DeliveryStatus } : {}),
      limit,
    });
    return json(200, { deliveries });
  });
}
