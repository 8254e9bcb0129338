// The server's own parsers of `resources:` and functions' `events:`, run on nimbus.yml at load, so
// the CLI refuses (with file:line) exactly what a deploy would refuse, before uploading anything.

import type { AppEventSpec, DeployedFunctionEvents } from '../deploy/app-deploy-hook.js';
import { isNimbusError } from '../errors.js';
import { parseBucketTriggers } from '../events/buckets/bucket-triggers.js';
import { parseQueueTrigger } from '../events/queues/queue-trigger-config.js';
import { schedulesOfApp } from '../events/schedules/schedule-spec.js';
import { parseTableTriggers } from '../events/tables/table-triggers.js';
import { lambdaName } from '../functions/function-model.js';
import { checkDeclaredBuckets } from '../services/buckets/bucket-names.js';
import { declaredQueues } from '../services/queues/queue-deploy.js';
import { declaredTables } from '../services/tables/table-deploy-hook.js';
import { planTopics } from '../services/topics/topic-config.js';
import type { AppResources, ResourceKind } from './app-config.js';
import type { PathIssue } from './app-config-checks.js';
import type { ConfigPath } from './yaml-locations.js';

/** One function as nimbus.yml declares it: its name and `events` as written. */
export interface FunctionEvents {
  readonly name: string;
  readonly events: readonly unknown[];
}

const QUEUE_EVENTS = ['queue', 'sqs'];

/**
 * Every check a deploy's services make without looking at the store (names, options, triggers,
 * schedules, subscriptions), as issues located at the resource or event entry they are about.
 * The deploy hooks run the same parsers on the server (AppDeployHook.validate), plus the checks
 * that need the store (a trigger's queue exists, a table's keys did not change).
 */
export function checkEventSpec(
  app: string,
  resources: AppResources,
  functions: readonly FunctionEvents[],
): PathIssue[] {
  const issues: PathIssue[] = [];
  const empty: AppResources = { buckets: {}, queues: {}, tables: {}, topics: {} };
  // Each resource alone first, so a problem is reported where it is written.
  const valid = { buckets: {}, queues: {}, tables: {}, topics: {} } as Record<
    ResourceKind,
    Record<string, Readonly<Record<string, unknown>>>
  >;
  for (const kind of Object.keys(empty) as ResourceKind[]) {
    for (const [name, options] of Object.entries(resources[kind])) {
      const problem = problemOf(() => checkAll(spec(app, { ...empty, [kind]: { [name]: options } }, [])));
      if (problem === undefined) valid[kind][name] = options;
      else issues.push({ path: ['resources', kind, name], target: 'key', message: problem });
    }
  }
  // Then each event alone, next to the valid resources (events may name them).
  for (const fn of functions) {
    fn.events.forEach((event, index) => {
      const alone: FunctionEvents = {
        name: fn.name,
        // Other entries blanked, so messages keep this entry's index.
        events: fn.events.map((e, j) => (j === index ? e : null)),
      };
      const problem = problemOf(() => checkAll(spec(app, valid, [alone])));
      if (problem !== undefined) issues.push({ path: eventPath(fn.name, index, event), message: problem });
    });
  }
  // Last the whole app: rules across entries (one trigger per function and table, ...).
  if (issues.length === 0) {
    const problem = problemOf(() => checkAll(spec(app, resources, functions)));
    if (problem !== undefined) issues.push({ path: ['functions'], target: 'key', message: problem });
  }
  return issues;
}

/** The {@link AppEventSpec} a deploy of these parts sends (a whole app: `prune`). */
function spec(app: string, resources: AppResources, functions: readonly FunctionEvents[]): AppEventSpec {
  return {
    app,
    resources,
    functions: functions.map((fn): DeployedFunctionEvents => ({
      name: fn.name,
      fullName: lambdaName(app, fn.name),
      events: fn.events,
    })),
    prune: true,
  };
}

/** The store-free part of every deploy hook's `validate`. */
function checkAll(s: AppEventSpec): void {
  checkDeclaredBuckets(Object.keys(s.resources.buckets));
  declaredQueues(s);
  declaredTables(s);
  planTopics(s);
  schedulesOfApp(s);
  parseBucketTriggers(s);
  for (const fn of s.functions) {
    parseTableTriggers(s.app, fn);
    fn.events.forEach((event, index) => {
      if (typeof event !== 'object' || event === null || Array.isArray(event)) return;
      const [type] = Object.keys(event);
      if (type !== undefined && QUEUE_EVENTS.includes(type)) {
        parseQueueTrigger(
          type,
          (event as Record<string, unknown>)[type],
          `functions.${fn.name}.events[${index}].${type}`,
        );
      }
    });
  }
}

/** The message of the NimbusError `check` throws, or undefined when it passes. */
function problemOf(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (!isNimbusError(err)) throw err;
    return err.message.replace(/\.$/, '');
  }
}

function eventPath(fn: string, index: number, event: unknown): ConfigPath {
  const path: ConfigPath = ['functions', fn, 'events', index];
  const keys = typeof event === 'object' && event !== null ? Object.keys(event) : [];
  return keys.length === 1 ? [...path, keys[0]!] : path;
}
