// The /v1 routes of queues (bearer tokens): queues, messages, visibility, purge and redrive.
// See docs/api.md; the SDK for function code sends through these.

import { z } from 'zod';
import { parseWith } from '../functions/function-config-schema.js';
import { NimbusError } from '../errors.js';
import { checkQueueName } from '../services/queues/queue-settings.js';
import type { QueueInfo, QueueSettingsInput, SendMessageInput } from '../services/queues/queue-types.js';
import { header, parseJsonBody, type ApiResponse } from './http-io.js';
import { requireReference, type RouteContext, type RouteTable } from './route-context.js';

/** Settings bodies are small; message bodies up to 10 × 256 KiB plus JSON overhead. */
const SETTINGS_LIMIT = 64 * 1024;
const MESSAGES_LIMIT = 4 * 1024 * 1024;

const deadLetterSchema = z
  .object({ queue: z.string(), maxReceiveCount: z.number().int().optional() })
  .strict()
  .nullable();

const settingsShape = {
  visibilityTimeout: z.number().int().optional(),
  delaySeconds: z.number().int().optional(),
  messageRetentionPeriod: z.number().int().optional(),
  maximumMessageSize: z.number().int().optional(),
  receiveMessageWaitTime: z.number().int().optional(),
  fifo: z.boolean().optional(),
  contentBasedDeduplication: z.boolean().optional(),
  deadLetter: deadLetterSchema.optional(),
};

const createSchema = z.object({ name: z.string().min(1).max(80), ...settingsShape }).strict();
const updateSchema = z.object(settingsShape).strict();

const attributeSchema = z
  .object({ DataType: z.string(), StringValue: z.string().optional(), BinaryValue: z.string().optional() })
  .strict();

const messageShape = {
  body: z.string(),
  delaySeconds: z.number().int().optional(),
  attributes: z.record(z.string(), attributeSchema).optional(),
  groupId: z.string().optional(),
  deduplicationId: z.string().optional(),
};

const sendSchema = z.union([
  z.object(messageShape).strict(),
  z.object({ entries: z.array(z.object({ id: z.string(), ...messageShape }).strict()) }).strict(),
]);

const receiveSchema = z
  .object({
    maxMessages: z.number().int().optional(),
    visibilityTimeout: z.number().int().optional(),
    waitTimeSeconds: z.number().int().optional(),
  })
  .strict();

const deleteSchema = z.union([
  z.object({ receiptHandles: z.array(z.string()) }).strict(),
  z.object({ entries: z.array(z.object({ id: z.string(), receiptHandle: z.string() }).strict()) }).strict(),
]);

const visibilitySchema = z
  .object({ receiptHandle: z.string(), visibilityTimeout: z.number().int() })
  .strict();
const redriveSchema = z.object({ toQueue: z.string().optional() }).strict();

const json = (status: number, body: unknown): ApiResponse => ({ status, body });

/** Settings from a parsed body (null deadLetter removes the redrive policy). */
function settingsOf(body: z.infer<typeof updateSchema>): QueueSettingsInput {
  const { deadLetter, ...rest } = body;
  return {
    ...rest,
    ...(deadLetter === undefined
      ? {}
      : { deadLetter: (deadLetter ?? null) as QueueSettingsInput['deadLetter'] }),
  } as QueueSettingsInput;
}

function describe(info: QueueInfo): Record<string, unknown> {
  return { name: info.name, arn: info.arn, createdAt: info.createdAt, settings: info.settings };
}

/**
 * A dead-letter queue named in settings must be one the caller may use, and exist: another app's
 * queue answers as a missing one (the error QueueService gives a missing dead-letter queue), so an
 * app can neither send its failures into another app's queue nor learn which queues exist.
 */
async function checkDeadLetter(
  ctx: Pick<RouteContext, 'authorize' | 'platform'>,
  queue: string,
  settings: z.infer<typeof updateSchema>,
): Promise<void> {
  const dlq = settings.deadLetter?.queue;
  if (dlq === undefined) return;
  try {
    checkQueueName(dlq);
  } catch {
    return; // a name no queue can have: the service refuses it the same way for every caller
  }
  await requireReference(
    ctx,
    { kind: 'queue', name: dlq },
    async () => (await ctx.platform.queues.getQueue(dlq)) !== undefined,
    () =>
      new NimbusError(
        'InvalidParameterValueException',
        `queue '${queue}': deadLetter.queue '${dlq}' does not exist; create it first (\`nimbus queues create ${dlq}\`) or declare it under resources.queues in nimbus.yml.`,
      ),
  );
}

/** Aborts when the client goes away (a long poll should not outlive its caller). */
function disconnectSignal(ctx: RouteContext): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const socket = ctx.req.socket;
  const onClose = (): void => controller.abort();
  socket.once('close', onClose);
  return { signal: controller.signal, done: () => socket.removeListener('close', onClose) };
}

/** Register the /v1 queues routes. */
export function queuesRoutes(routes: RouteTable): void {
  routes.bearer('GET', '/v1/queues', async ({ platform, query, authorize }) => {
    await authorize({ kind: 'queue', name: '*' });
    const queues = await platform.queues.listQueues(query.get('prefix') ?? undefined);
    return json(200, { queues: queues.map(describe) });
  });

  routes.bearer('POST', '/v1/queues', async ({ platform, body, authorize }) => {
    await authorize({ kind: 'queue', name: '*' });
    const { name, ...settings } = parseWith(createSchema, parseJsonBody(await body(SETTINGS_LIMIT)), 'queue');
    await checkDeadLetter({ platform, authorize }, name, settings);
    const existed = (await platform.queues.getQueue(name)) !== undefined;
    const info = await platform.queues.createQueue(name, settingsOf(settings));
    return json(existed ? 200 : 201, describe(info));
  });

  routes.bearer('GET', '/v1/queues/{name}', async ({ platform, params, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'queue', name });
    const info = await platform.queues.getQueue(name);
    if (info === undefined) throw notFound(name);
    return json(200, { ...describe(info), counts: await platform.queues.counts(name) });
  });

  routes.bearer('PATCH', '/v1/queues/{name}', async ({ platform, params, body, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'queue', name });
    const settings = parseWith(updateSchema, parseJsonBody(await body(SETTINGS_LIMIT)), 'queue settings');
    await checkDeadLetter({ platform, authorize }, name, settings);
    return json(200, describe(await platform.queues.updateQueue(name, settingsOf(settings))));
  });

  routes.bearer('DELETE', '/v1/queues/{name}', async ({ platform, params, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'queue', name });
    if (!(await platform.queues.deleteQueue(name))) throw notFound(name);
    return { status: 204 };
  });

  routes.bearer(
    'POST',
    '/v1/queues/{name}/messages',
    async ({ platform, params, body, authorize, req: http }) => {
      const name = params.name!;
      await authorize({ kind: 'queue', name });
      const req = parseWith(sendSchema, parseJsonBody(await body(MESSAGES_LIMIT)), 'send request');
      // The sender's X-Ray header becomes the message's AWSTraceHeader (recursive loop detection).
      const traceHeader = header(http, 'x-amzn-trace-id');
      if ('entries' in req) {
        const results = await platform.queues.sendMessageBatch(
          name,
          (req.entries as Array<SendMessageInput & { id: string }>).map((e) => ({ ...e, traceHeader })),
        );
        return json(200, {
          successful: results.filter((r) => r.ok).map(({ ok: _ok, ...r }) => r),
          failed: results.filter((r) => !r.ok).map(({ ok: _ok, ...r }) => r),
        });
      }
      return json(
        200,
        await platform.queues.sendMessage(name, { ...(req as SendMessageInput), traceHeader }),
      );
    },
  );

  routes.bearer('POST', '/v1/queues/{name}/receive', async (ctx) => {
    const name = ctx.params.name!;
    await ctx.authorize({ kind: 'queue', name });
    const req = parseWith(receiveSchema, parseJsonBody(await ctx.body(SETTINGS_LIMIT)), 'receive request');
    const { signal, done } = disconnectSignal(ctx);
    try {
      const messages = await ctx.platform.queues.receiveMessages(name, { ...req, signal });
      return json(200, { messages });
    } finally {
      done();
    }
  });

  routes.bearer(
    'DELETE',
    '/v1/queues/{name}/messages/{receiptHandle}',
    async ({ platform, params, authorize }) => {
      const name = params.name!;
      await authorize({ kind: 'queue', name });
      await platform.queues.deleteMessage(name, params.receiptHandle!);
      return { status: 204 };
    },
  );

  routes.bearer('POST', '/v1/queues/{name}/delete', async ({ platform, params, body, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'queue', name });
    const req = parseWith(deleteSchema, parseJsonBody(await body(SETTINGS_LIMIT)), 'delete request');
    const entries =
      'entries' in req
        ? req.entries
        : req.receiptHandles.map((receiptHandle, i) => ({ id: String(i), receiptHandle }));
    const results = await platform.queues.deleteMessageBatch(name, entries);
    return json(200, {
      successful: results.filter((r) => r.ok).map((r) => ({ id: r.id })),
      failed: results.filter((r) => !r.ok).map(({ ok: _ok, ...r }) => r),
    });
  });

  routes.bearer('POST', '/v1/queues/{name}/visibility', async ({ platform, params, body, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'queue', name });
    const req = parseWith(visibilitySchema, parseJsonBody(await body(SETTINGS_LIMIT)), 'visibility request');
    await platform.queues.changeMessageVisibility(name, req.receiptHandle, req.visibilityTimeout);
    return { status: 204 };
  });

  routes.bearer('POST', '/v1/queues/{name}/purge', async ({ platform, params, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'queue', name });
    await platform.queues.purgeQueue(name);
    return { status: 204 };
  });

  routes.bearer('POST', '/v1/queues/{name}/redrive', async ({ platform, params, body, authorize }) => {
    const name = params.name!;
    await authorize({ kind: 'queue', name });
    const req = parseWith(redriveSchema, parseJsonBody(await body(SETTINGS_LIMIT)), 'redrive request');
    const to = req.toQueue;
    // Another app's queue answers as a missing one. Without toQueue, messages go back only to the
    // queue each came from, which put it here by naming this queue as its dead-letter queue.
    if (to !== undefined) {
      await requireReference(
        { authorize },
        { kind: 'queue', name: to },
        async () => (await platform.queues.getQueue(to)) !== undefined,
        () => notFound(to),
      );
    }
    return json(200, { moved: await platform.queues.redriveBack(name, req.toQueue) });
  });
}

function notFound(name: string): NimbusError {
  return new NimbusError(
    'ResourceNotFoundException',
    `The queue '${name}' does not exist; create it with \`nimbus queues create ${name}\` or declare it under resources.queues in nimbus.yml.`,
  );
}
