// Two versions of one app that differ in every part a deploy switches (functions and code,
// routes, queues, topics, buckets, tables, their triggers, schedules, subscriptions, the app
// token's scopes), and a snapshot of those parts read from the store, for the atomicity tests.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../src/store/store.js';

/** Writes version `v` (1 or 2) of app `app` into `dir` (created), with `extra` more functions. */
export function writeAtomicApp(dir: string, app: string, v: 1 | 2, extra = 0): void {
  mkdirSync(dir, { recursive: true });
  const other = v === 1 ? 'b' : 'c';
  const lines = [
    `app: ${app}`,
    'functions:',
    '  a:',
    '    handler: index.a',
    '    events:',
    `      - http: GET /${app}/v${v}`,
    `      - queue: ${app}-q${v}`,
    `      - schedule: rate(${v + 1} hours)`,
    `  ${other}:`,
    '    handler: index.a',
    '    events:',
    `      - topic: ${app}-t${v}`,
    `      - bucket: ${app}-b${v}`,
    `      - table: ${app}-tb${v}`,
  ];
  for (let i = 0; i < extra; i++) {
    lines.push(
      `  x${i}:`,
      '    handler: index.a',
      '    events:',
      `      - http: POST /${app}/v${v}/x${i}`,
      `      - queue: ${app}-q${v}`,
    );
  }
  lines.push(
    'resources:',
    `  queues: { ${app}-q${v}: { visibilityTimeout: ${10 * v} } }`,
    `  topics: [${app}-t${v}]`,
    `  buckets: [${app}-b${v}]`,
    `  tables: { ${app}-tb${v}: { partitionKey: id } }`,
  );
  writeFileSync(join(dir, 'nimbus.yml'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'index.js'), `exports.a = async () => ({ statusCode: 200, body: 'v${v}' });\n`);
}

const PARTS = [
  'functions',
  'routes',
  'queues',
  'topics',
  'subscriptions',
  'buckets',
  'tables',
  'queueTriggers',
  'bucketTriggers',
  'tableTriggers',
  'schedules',
  'scopes',
] as const;

/** Everything a deploy of `app` switches, as sorted strings per part. */
export type AppState = Record<(typeof PARTS)[number], readonly string[]>;

/** Reads {@link AppState} of `app` (resources named `<app>-...`) from `store`. */
export async function readAppState(store: Store, app: string): Promise<AppState> {
  const mine = (name: string) => name.startsWith(`${app}-`);
  const sorted = (xs: string[]) => xs.sort();
  const functions = await store.functions.listFunctions(app);
  const routes = (await store.routes.listApps()).filter((a) => a.app === app);
  return {
    functions: sorted(functions.map((f) => `${f.name} ${f.codeSha256.slice(0, 12)}`)),
    routes: sorted(routes.flatMap((a) => a.routes.map((r) => `${r.method} ${r.path} ${r.function}`))),
    queues: sorted((await store.queues.listQueues(`${app}-`)).map((q) => `${q.name} ${q.settings}`)),
    topics: sorted((await store.topics.listTopics(`${app}-`)).map((t) => t.name)),
    subscriptions: sorted(
      (await store.topics.listSubscriptions())
        .filter((s) => mine(s.topic))
        .map((s) => `${s.topic} ${s.protocol} ${s.endpoint}`),
    ),
    buckets: sorted((await store.objects.listBuckets()).map((b) => b.name).filter(mine)),
    tables: sorted((await store.documents.listTables()).map((t) => t.name).filter(mine)),
    queueTriggers: sorted(
      (await store.queues.listTriggers())
        .filter((t) => t.app === app)
        .map((t) => `${t.functionName} ${t.queue}`),
    ),
    bucketTriggers: sorted(
      (await store.objects.listTriggers())
        .filter((t) => t.app === app)
        .map((t) => `${t.functionName} ${t.bucket}`),
    ),
    tableTriggers: sorted(
      (await store.documents.listTriggers())
        .filter((t) => t.app === app)
        .map((t) => `${t.functionName} ${t.table}`),
    ),
    schedules: sorted((await store.schedules.list(app)).map((s) => `${s.functionName} ${s.expression}`)),
    scopes: [(await store.settings.get(`app-resources:${app}`)) ?? ''],
  };
}

/** True when `state` has any trace of version `v` of `app` (its resources or triggers). */
export function mentionsVersion(state: AppState, app: string, v: 1 | 2): boolean {
  return PARTS.some((part) =>
    state[part].some((x) => x.includes(`${app}-q${v}`) || x.includes(`${app}-t${v}`)),
  );
}
