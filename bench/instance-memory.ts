// Private memory (Private_Clean + Private_Dirty) and PSS of idle warm instances: the whole
// process tree of one instance (bwrap processes + runner), node and python, process tier.
import { appFiles, type BenchKind } from './lib/apps.js';
import { BenchClient, writeApp } from './lib/nimbus-client.js';
import { childrenOf, cmdline, procMemory, processTree, type ProcMemory } from './lib/proc.js';
import { startServerProcess } from './lib/processes.js';
import { table, type BenchOutput, type Figure } from './lib/report.js';
import { percentile, sleep } from './lib/stats.js';

interface InstanceMemory {
  readonly kind: BenchKind;
  readonly total: ProcMemory;
  /** Per process of the tree: command (shortened) and its memory. */
  readonly parts: Array<{ command: string; memory: ProcMemory }>;
}

const sum = (ms: ProcMemory[]): ProcMemory => ({
  pssMB: ms.reduce((a, m) => a + m.pssMB, 0),
  privateMB: ms.reduce((a, m) => a + m.privateMB, 0),
  rssMB: ms.reduce((a, m) => a + m.rssMB, 0),
});

function shortCommand(cmd: string): string {
  const exe = cmd.split(' ')[0]?.split('/').pop() ?? '?';
  if (exe === 'bwrap' || exe === 'prlimit') return exe;
  return cmd.includes('node-runner') ? 'node runner' : cmd.includes('python-runner') ? 'python runner' : exe;
}

/** Measure `instances` idle warm instances per runtime on a server with no pre-started runners. */
export async function instanceMemoryBench(opts: { instances: number }): Promise<BenchOutput> {
  const server = await startServerProcess({
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    threadPrewarm: 0,
  });
  const client = new BenchClient(server.info);
  const measured: InstanceMemory[] = [];
  try {
    const kinds: BenchKind[] = ['node', 'python'];
    const fns = kinds.flatMap((kind) =>
      Array.from({ length: opts.instances }, (_, i) => ({ name: `${kind}-${i}`, kind })),
    );
    await client.deploy(writeApp(appFiles('mem', fns)));
    for (const f of fns) for (let i = 0; i < 5; i++) await client.invoke(`mem-${f.name}`);
    await sleep(2000); // idle: let the runners settle after their last invocation
    for (const child of childrenOf(server.pid)) {
      const pids = processTree(child);
      const parts = pids.map((pid) => ({ command: shortCommand(cmdline(pid)), memory: procMemory(pid) }));
      const kind: BenchKind | undefined = parts.some((p) => p.command === 'node runner')
        ? 'node'
        : parts.some((p) => p.command === 'python runner')
          ? 'python'
          : undefined;
      if (kind) measured.push({ kind, total: sum(parts.map((p) => p.memory)), parts });
    }
    const stats = await client.poolStats();
    if (stats.live !== fns.length)
      throw new Error(`expected ${fns.length} live instances, the pool has ${stats.live}`);
  } finally {
    client.close();
    await server.stop();
  }
  return report(measured, opts.instances);
}

function report(measured: InstanceMemory[], n: number): BenchOutput {
  const of = (kind: BenchKind) => measured.filter((m) => m.kind === kind);
  const median = (kind: BenchKind, key: keyof ProcMemory) =>
    percentile(
      of(kind).map((m) => m.total[key]),
      50,
    );
  const figures: Figure[] = [
    {
      label: 'Private memory per idle node instance (bwrap + runner)',
      value: median('node', 'privateMB'),
      unit: 'MB',
      digits: 1,
      target: { op: '<=', value: 10 },
    },
    { label: 'PSS per idle node instance', value: median('node', 'pssMB'), unit: 'MB', digits: 1 },
    {
      label: 'Private memory per idle python instance (bwrap + runner)',
      value: median('python', 'privateMB'),
      unit: 'MB',
      digits: 1,
    },
    { label: 'PSS per idle python instance', value: median('python', 'pssMB'), unit: 'MB', digits: 1 },
  ];
  const mb = (x: number) => `${x.toFixed(1)} MB`;
  const details = table(
    ['instance', 'private', 'PSS', 'RSS', 'processes (private / PSS each)'],
    measured.map((m, i) => [
      `${m.kind} #${i + 1}`,
      mb(m.total.privateMB),
      mb(m.total.pssMB),
      mb(m.total.rssMB),
      m.parts
        .map((p) => `${p.command} ${p.memory.privateMB.toFixed(1)} / ${p.memory.pssMB.toFixed(1)}`)
        .join('; '),
    ]),
  );
  const method = [
    `- A server with no pre-started runners; ${n} functions per runtime (no-op handler, default 128 MB), each invoked 5 times, then 2 s idle. Each direct child process of the server is one instance (prlimit execs bwrap; bwrap forks its namespace init and the runner): its whole tree is read from /proc/<pid>/smaps_rollup.`,
    '- Private = Private_Clean + Private_Dirty (pages only this process maps: what one more instance costs); PSS shares the node/python binary and libraries among every process that maps them, so it depends on how many others run. Figures are the median instance.',
  ];
  return { title: 'Idle instance memory', figures, details, method };
}
