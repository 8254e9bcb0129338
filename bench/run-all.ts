// `npm run bench`: runs every benchmark, writes bench/RESULTS.md, and cleans up even on failure.
// Flags: --quick (fewer samples, shorter runs), --only=cold,warm,memory,deploy,gateway,queues,buckets,async, --out=FILE.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBench } from './async.js';
import { bucketsBench } from './buckets.js';
import { coldStartBench } from './cold-start.js';
import { deployTimeBench } from './deploy-time.js';
import { gatewayBench } from './gateway.js';
import { instanceMemoryBench } from './instance-memory.js';
import { removeAppDirs } from './lib/nimbus-client.js';
import { stopAllChildren } from './lib/processes.js';
import { writeResults, status, type BenchOutput } from './lib/report.js';
import { queuesBench } from './queues.js';
import { warmInvokeBench } from './warm-invoke.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined =>
  args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=')[1] ??
  (args.includes(`--${name}`) ? '' : undefined);
const quick = flag('quick') !== undefined;
const only = flag('only')?.split(',').filter(Boolean);
const out = flag('out') || join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

const benches: Array<[string, () => Promise<BenchOutput>]> = [
  ['cold', () => coldStartBench({ n: quick ? 10 : 40 })],
  ['warm', () => warmInvokeBench({ seconds: quick ? 2 : 5 })],
  ['memory', () => instanceMemoryBench({ instances: quick ? 2 : 3 })],
  ['deploy', () => deployTimeBench({ deploys: quick ? 4 : 8 })],
  ['gateway', () => gatewayBench({ seconds: quick ? 2 : 10 })],
  ['queues', () => queuesBench({ seconds: quick ? 2 : 5 })],
  ['buckets', () => bucketsBench({ seconds: quick ? 2 : 5, largeCount: quick ? 3 : 8 })],
  [
    'async',
    () => asyncBench({ seconds: quick ? 2 : 5, n: quick ? 3000 : 10_000, samples: quick ? 50 : 200 }),
  ],
];

const started = performance.now();
const outputs: BenchOutput[] = [];
const errors: string[] = [];
let interrupted = false;
const onSignal = () => {
  interrupted = true;
  process.stderr.write('\ninterrupted: stopping servers…\n');
  void stopAllChildren().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  for (const [name, run] of benches) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`bench ${name}…\n`);
    const t = performance.now();
    try {
      const o = await run();
      outputs.push(o);
      for (const f of o.figures) {
        process.stderr.write(`  ${f.label}: ${f.value.toFixed(f.digits ?? 2)} ${f.unit} ${status(f)}\n`);
      }
    } catch (err) {
      errors.push(`${name}: ${(err as Error).stack ?? String(err)}`.split('\n').slice(0, 4).join(' '));
      process.stderr.write(`  FAILED: ${(err as Error).stack ?? String(err)}\n`);
      await stopAllChildren();
    }
    process.stderr.write(`  (${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
  }
} finally {
  await stopAllChildren();
  removeAppDirs();
}
if (!interrupted) {
  const seconds = (performance.now() - started) / 1000;
  await writeResults(out, outputs, { mode: quick ? 'quick' : 'full', seconds, errors });
  process.stderr.write(`wrote ${out} (${seconds.toFixed(0)} s)\n`);
  process.exitCode = errors.length ? 1 : 0;
}
