// Time to deploy a small TypeScript function through the CLI's deploy code (esbuild bundle,
// upload of the new blob, deploy request), p50 over several deploys with small code changes.
import { BenchClient, writeApp } from './lib/nimbus-client.js';
import { startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import { summarize, fmtSummary } from './lib/stats.js';

const YAML = 'app: deploy\nfunctions:\n  hello:\n    handler: src/hello.handler\n    runtime: typescript\n';

/** A small TS app whose greeting changes with `i`, so every deploy uploads a new bundle. */
function tsFiles(i: number): Record<string, string> {
  return {
    'nimbus.yml': YAML,
    'src/greet.ts': `export function greet(name: string): string {\n  return \`Hello #${i}, \${name}!\`;\n}\n`,
    'src/hello.ts': [
      "import { greet } from './greet';",
      'interface Event { name?: string }',
      'export const handler = async (event: Event) => ({ message: greet(event.name ?? "world") });',
      '',
    ].join('\n'),
    'tsconfig.json': '{ "compilerOptions": { "strict": true, "target": "es2022", "module": "esnext" } }\n',
  };
}

/** Run `deploys` timed deploys after one untimed warm-up deploy. */
export async function deployTimeBench(opts: { deploys: number }): Promise<BenchOutput> {
  const server = await startServerProcess({}); // default prewarm: 2 node runners
  const client = new BenchClient(server.info);
  const deploys: number[] = [];
  const toInvoke: number[] = [];
  try {
    const dir = writeApp(tsFiles(0));
    for (let i = 0; i <= opts.deploys; i++) {
      if (i > 0) writeApp(tsFiles(i), dir);
      const t = performance.now();
      const outcome = await client.deploy(dir);
      const ms = performance.now() - t;
      if (outcome.uploaded.length !== 1)
        throw new Error(`deploy ${i} uploaded ${outcome.uploaded.length} blobs, expected 1`);
      // Then the first invoke of the new code (a cold start from the pool).
      const body = await client.invoke('deploy-hello', '{"name":"bench"}');
      const ready = performance.now() - t;
      if (!body.includes(`Hello #${i}, bench!`)) throw new Error(`deploy ${i} is not live: ${body}`);
      if (i > 0) {
        // The first deploy warms esbuild's service and both sides' code paths: not timed.
        deploys.push(ms);
        toInvoke.push(ready);
      }
    }
  } finally {
    client.close();
    await server.stop();
  }
  const d = summarize(deploys);
  const r = summarize(toInvoke);
  const figures: Figure[] = [
    {
      label: 'Deploy of a small TS function (bundle + upload + deploy), p50',
      value: d.p50,
      unit: 'ms',
      digits: 1,
    },
    { label: 'Deploy → first successful invoke of the new code, p50', value: r.p50, unit: 'ms', digits: 1 },
  ];
  const details = table(
    ['what', 'time'],
    [
      ['deploy (bundle + upload + deploy request)', fmtSummary(d, 'ms', 1)],
      ['deploy, then first invoke of the new code', fmtSummary(r, 'ms', 1)],
    ],
  );
  const method = [
    '- `deployApp` from src/cli/commands/deploy.ts (what `nimbus deploy` runs; test-server.ts does the same) in the bench process against a server in its own process: load and validate nimbus.yml, esbuild-bundle `src/hello.ts` (imports `src/greet.ts`), pack, `HEAD` then `PUT` the new blob, deploy with prune.',
    `- ${deploys.length} timed deploys, each after editing the greeting in src/greet.ts so every one bundles and uploads a new blob; one untimed deploy first (esbuild service start, first-use code paths). After each deploy the new code is invoked once and its answer checked, giving "deploy → first invoke" (a cold start from the pool).`,
    '- Not included: node start-up of a separate `nimbus` CLI process (≈ node + tsx/dist load) — measured in-process.',
  ];
  return { title: 'Deploy time (TypeScript, CLI path)', figures, details, method };
}
