// Reads topic configuration as written (nimbus.yml `resources.topics`, function `topic:`/`sns:`
// events, /v1 subscribe bodies) into validated subscription specs, with errors naming path and fix.

import { NimbusError } from '../../errors.js';
import { lambdaName } from '../../functions/function-model.js';
import type { AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { eventsOfType } from '../../deploy/app-deploy-hook.js';
import { compileFilterPolicy, parseFilterPolicyScope } from './filter-policy.js';
import type { SubscribeInput, WebhookDeliveryPolicy } from './topic-types.js';

/** SNS topic names: 1-256 letters, digits, hyphens and underscores. */
export const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

/** A subscription a deploy wants, before ids and secrets. */
export interface WantedSubscription extends SubscribeInput {
  readonly topic: string;
  /** Full name of the function whose trigger it is. */
  readonly ownerFunction?: string | undefined;
}

/** What a deploy declares about topics. */
export interface TopicDeployPlan {
  /** Topics to create if missing (declared, or named by a trigger). */
  readonly topics: readonly string[];
  /** Topics declared under resources.topics (their subscriptions are replaced). */
  readonly declared: readonly string[];
  readonly subscriptions: readonly WantedSubscription[];
}

const bad = (message: string): never => {
  throw new NimbusError('InvalidParameterValueException', message);
};

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Throws unless `name` is a valid topic name; `where` names the field. */
export function checkTopicName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name)) {
    bad(`${where}: topic names are 1-256 letters, digits, '-' and '_'; got ${show(name)}`);
  }
  return name as string;
}

/** The topic name in an SNS ARN (`arn:aws:sns:<region>:<account>:<name>`). */
export function topicFromArn(arn: string, where: string): string {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sns') {
    bad(
      `${where}: ${show(arn)} is not an SNS topic ARN; write arn:aws:sns:<region>:<account>:<topic> or just the topic name`,
    );
  }
  return checkTopicName(parts[5], where);
}

function parseDeliveryPolicy(value: unknown, where: string): Partial<WebhookDeliveryPolicy> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMapping(value))
    return bad(
      `${where}: must be a mapping with maxAttempts, minDelaySeconds, maxDelaySeconds, timeoutSeconds`,
    );
  const limits: Record<keyof WebhookDeliveryPolicy, [number, number, boolean]> = {
    maxAttempts: [1, 20, true],
    minDelaySeconds: [0, 3600, false],
    maxDelaySeconds: [0, 3600, false],
    timeoutSeconds: [1, 60, false],
  };
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(value)) {
    const limit = limits[key as keyof WebhookDeliveryPolicy];
    if (limit === undefined) bad(`${where}.${key}: unknown setting; use ${Object.keys(limits).join(', ')}`);
    const [min, max, integer] = limit!;
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    ) {
      bad(
        `${where}.${key}: must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}; got ${show(v)}`,
      );
    }
    out[key] = v as number;
  }
  if (
    out.minDelaySeconds !== undefined &&
    out.maxDelaySeconds !== undefined &&
    out.minDelaySeconds > out.maxDelaySeconds
  ) {
    bad(
      `${where}: minDelaySeconds (${out.minDelaySeconds}) is above maxDelaySeconds (${out.maxDelaySeconds})`,
    );
  }
  return out;
}

function checkWebhookUrl(url: unknown, where: string): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    bad(
      `${where}: must be an http:// or https:// URL, e.g. https://example.com/hooks/nimbus; got ${show(url)}`,
    );
  }
  return url as string;
}

/**
 * The error for a subscription whose function or queue does not exist. The API gives the same
 * answer for a target the caller may not use, so it must be this one error, built in one place.
 */
export function subscriptionTargetMissing(protocol: 'function' | 'queue', endpoint: string): NimbusError {
  return new NimbusError(
    'ResourceNotFoundException',
    protocol === 'function'
      ? `function '${endpoint}' does not exist; give the full name (app-function) of a deployed function`
      : `queue '${endpoint}' does not exist; create it with \`nimbus queues create ${endpoint}\``,
  );
}

const SUBSCRIPTION_KEYS = new Set([
  'function',
  'queue',
  'webhook',
  'filterPolicy',
  'filterPolicyScope',
  'rawMessageDelivery',
  'deliveryPolicy',
  'secret',
]);

/**
 * Reads one subscription as written (`{ webhook: url, filterPolicy }`, `{ queue: jobs }`,
 * `{ function: work }`). A function name is resolved with `resolveFunction` (the app's full name).
 */
export function parseSubscription(
  value: unknown,
  where: string,
  resolveFunction: (name: string) => string = (n) => n,
): SubscribeInput {
  if (!isMapping(value))
    bad(`${where}: must be a mapping such as { webhook: https://... } or { queue: jobs }`);
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!SUBSCRIPTION_KEYS.has(key))
      bad(`${where}.${key}: unknown setting; use ${[...SUBSCRIPTION_KEYS].join(', ')}`);
  }
  const kinds = (['function', 'queue', 'webhook'] as const).filter((k) => v[k] !== undefined);
  if (kinds.length !== 1) {
    bad(
      `${where}: give exactly one of function, queue or webhook (e.g. { queue: jobs }); got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`,
    );
  }
  const protocol = kinds[0]!;
  const raw = v[protocol];
  let endpoint: string;
  if (protocol === 'webhook') endpoint = checkWebhookUrl(raw, `${where}.webhook`);
  else if (typeof raw !== 'string' || !/^[A-Za-z0-9_.-]{1,256}$/.test(raw)) {
    endpoint = bad(`${where}.${protocol}: must be a ${protocol} name; got ${show(raw)}`);
  } else endpoint = protocol === 'function' ? resolveFunction(raw) : raw;
  const scope = parseFilterPolicyScope(v.filterPolicyScope, `${where}.filterPolicyScope`);
  const filterPolicy = v.filterPolicy === undefined || v.filterPolicy === null ? undefined : v.filterPolicy;
  if (filterPolicy !== undefined) compileFilterPolicy(filterPolicy, scope, `${where}.filterPolicy`);
  if (v.rawMessageDelivery !== undefined && typeof v.rawMessageDelivery !== 'boolean') {
    bad(`${where}.rawMessageDelivery: must be true or false`);
  }
  if (protocol === 'function' && v.rawMessageDelivery === true) {
    bad(`${where}.rawMessageDelivery: functions always get the SNS event; remove rawMessageDelivery`);
  }
  if (protocol !== 'webhook' && (v.deliveryPolicy !== undefined || v.secret !== undefined)) {
    bad(`${where}: deliveryPolicy and secret are for webhook subscriptions only`);
  }
  if (v.secret !== undefined && (typeof v.secret !== 'string' || v.secret.length < 16)) {
    bad(`${where}.secret: must be a string of at least 16 characters (or leave it out to get a random one)`);
  }
  return {
    protocol,
    endpoint,
    filterPolicy: filterPolicy as Record<string, unknown> | undefined,
    filterPolicyScope: scope,
    rawMessageDelivery: v.rawMessageDelivery === true,
    deliveryPolicy: parseDeliveryPolicy(v.deliveryPolicy, `${where}.deliveryPolicy`),
    secret: v.secret as string | undefined,
  };
}

// Serverless `sns:` keys Nimbus has no use for; accepted so serverless.yml files deploy.
const IGNORED_SNS_KEYS = new Set(['displayName', 'redrivePolicy', 'kmsMasterKeyId']);

function parseTrigger(
  type: string,
  value: unknown,
  where: string,
): Omit<WantedSubscription, 'ownerFunction' | 'endpoint' | 'protocol'> {
  if (typeof value === 'string') {
    return {
      topic: value.startsWith('arn:') ? topicFromArn(value, where) : checkTopicName(value, where),
      filterPolicyScope: 'MessageAttributes',
    };
  }
  if (!isMapping(value)) {
    return bad(
      `${where}: must be a topic name or a mapping with \`${type === 'sns' ? 'topicName' : 'topic'}:\` (e.g. \`${type}: updates\`)`,
    );
  }
  const allowed =
    type === 'sns'
      ? ['topicName', 'arn', 'filterPolicy', 'filterPolicyScope']
      : ['topic', 'filterPolicy', 'filterPolicyScope'];
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key) && !(type === 'sns' && IGNORED_SNS_KEYS.has(key))) {
      bad(`${where}.${key}: unknown setting; use ${allowed.join(', ')}`);
    }
  }
  let topic: string;
  if (type === 'topic') topic = checkTopicName(value.topic, `${where}.topic`);
  else if (value.arn !== undefined) {
    if (typeof value.arn !== 'string') {
      return bad(`${where}.arn: CloudFormation references are not supported; write the ARN or use topicName`);
    }
    topic = topicFromArn(value.arn, `${where}.arn`);
  } else topic = checkTopicName(value.topicName, `${where}.topicName`);
  const scope = parseFilterPolicyScope(value.filterPolicyScope, `${where}.filterPolicyScope`);
  if (value.filterPolicy !== undefined)
    compileFilterPolicy(value.filterPolicy, scope, `${where}.filterPolicy`);
  return {
    topic,
    filterPolicy: value.filterPolicy as Record<string, unknown> | undefined,
    filterPolicyScope: scope,
  };
}

/** Reads and validates a deploy's topics; throws naming the path and the fix. */
export function planTopics(spec: AppEventSpec): TopicDeployPlan {
  const topics = new Set<string>();
  const declared: string[] = [];
  const subscriptions: WantedSubscription[] = [];
  const functions = new Map(spec.functions.map((f) => [f.name, f.fullName]));
  const resolveFunction = (name: string) => functions.get(name) ?? lambdaName(spec.app, name);
  for (const [name, options] of Object.entries(spec.resources.topics ?? {})) {
    const where = `resources.topics.${name}`;
    checkTopicName(name, where);
    for (const key of Object.keys(options)) {
      if (key !== 'subscriptions' && key !== 'displayName')
        bad(`${where}.${key}: unknown setting; use subscriptions`);
    }
    topics.add(name);
    declared.push(name);
    const subs = options.subscriptions;
    if (subs === undefined || subs === null) continue;
    if (!Array.isArray(subs)) bad(`${where}.subscriptions: must be a list, e.g. [{ queue: jobs }]`);
    (subs as unknown[]).forEach((s, i) => {
      subscriptions.push({
        ...parseSubscription(s, `${where}.subscriptions[${i}]`, resolveFunction),
        topic: name,
      });
    });
  }
  for (const fn of spec.functions) {
    for (const { index, type, value } of eventsOfType(fn, ['topic', 'sns'])) {
      const t = parseTrigger(type, value, `functions.${fn.name}.events[${index}].${type}`);
      topics.add(t.topic);
      subscriptions.push({ ...t, protocol: 'function', endpoint: fn.fullName, ownerFunction: fn.fullName });
    }
  }
  return { topics: [...topics], declared, subscriptions };
}
