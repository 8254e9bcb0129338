// Before/after of the process-tier hardening: runs the cold-start and warm-invoke benches of two
// checkouts (old, new) in alternating rounds and prints p50/p90 per round and the median ratios.
// Usage: node --import tsx bench/hardening-before-after.ts --old=DIR --new=DIR [--rounds=3]
//        [--out-dir=/tmp/hb] [--max-load=3]; or --from=FILE (its printed RUN lines) to re-read a run.
// Each DIR is a `git worktree` with node_modules; for cold-start p90 both need bench/lib/stats.ts's
// fmtSummary to print `p50 … / p90 … / p99 …` (the same one-line patch in both; without it p90 is n/a).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { sleep } from './lib/stats.js';

const arg = (name: string, fallback?: string): string => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = hit?.slice(name.length + 3) ?? fallback;
  if (value === undefined) throw new Error(`--${name}=… is required`);
  return value;
};
const trees = { old: arg('old', ''), new: arg('new', '') } as const;
const rounds = Number(arg('rounds', '3'));
const outDir = arg('out-dir', '/tmp/hb');
const maxLoad = Number(arg('max-load', '3'));
mkdirSync(outDir, { recursive: true });

/** One bench run's figures (ms). */
interface Run {
  readonly tree: keyof typeof trees;
  readonly round: number;
  readonly loadBefore: number;
  readonly loadAfter: string;
  readonly serverP50: number;
  readonly serverP90: number;
  readonly backendP50: number;
  readonly backendP90: number;
  readonly warmP50: number;
  readonly warmP90: number;
  readonly bareP50: number;
  readonly threadWarmP50: number;
}

const num = (s: string | undefined): number => (s === undefined ? Number.NaN : Number(s));

/** The trimmed cells of the first table row after `after` whose first cell is `label` (and `second`). */
function row(md: string, after: string, label: string, second?: string): string[] {
  const rows = md
    .slice(Math.max(0, md.indexOf(after)))
    .split('\n')
    .map((l) => l.split('|').map((c) => c.trim()));
  return rows.find((c) => c[1] === label && (second === undefined || c[2] === second)) ?? [];
}

/** p50 and p90 (ms) of a `p50 X / p90 Y / p99 Z ms` summary cell. */
function summaryRow(md: string, after: string, label: string): [number, number] {
  const m = /p50 ([\d.]+)(?: \/ p90 ([\d.]+))?/.exec(row(md, after, label)[2] ?? '');
  return [num(m?.[1]), num(m?.[2])];
}

/** p50 and p90 (ms) of a warm-invoke row at `connections`. */
function warmRow(md: string, name: string, connections: number): [number, number] {
  const cells = row(md, '| server', name, String(connections));
  return [num(cells[4]?.replace(' ms', '')), num(cells[5]?.replace(' ms', ''))];
}

/** Figures of one run's results file. */
function parse(md: string): Omit<Run, 'tree' | 'round' | 'loadBefore' | 'loadAfter'> {
  const [serverP50, serverP90] = summaryRow(md, '**Through the server**', 'node, from the pool');
  const [backendP50, backendP90] = summaryRow(md, '**Backend level**', 'node, from the pool');
  const [warmP50, warmP90] = warmRow(md, 'nimbus process tier', 1);
  const [bareP50] = warmRow(md, 'bare node:http', 1);
  const [threadWarmP50] = warmRow(md, 'nimbus thread tier', 1);
  return { serverP50, serverP90, backendP50, backendP90, warmP50, warmP90, bareP50, threadWarmP50 };
}

async function runOnce(tree: keyof typeof trees, round: number): Promise<Run> {
  // Wait (up to 3 min) for other work on the machine to calm down before each run.
  for (let i = 0; i < 36 && loadavg()[0]! > maxLoad; i++) await sleep(5000);
  const loadBefore = loadavg()[0]!;
  const out = join(outDir, `${tree}-${round}.md`);
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run-all.ts', '--only=cold,warm', `--out=${out}`],
      { cwd: trees[tree], stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status === 0) break;
    // A run can fail under load (an instance not loaded in time): retry once, then give up.
    if (attempt === 1) throw new Error(`${tree} round ${round} failed twice`);
  }
  const loadAfter = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  return { tree, round, loadBefore, loadAfter, ...parse(readFileSync(out, 'utf8')) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const runs: Run[] = [];
const from = process.argv.find((a) => a.startsWith('--from='))?.slice(7);
if (from !== undefined) {
  // Re-read the results files of an earlier run, with the loads it printed on its RUN lines.
  for (const line of readFileSync(from, 'utf8').split('\n')) {
    if (!line.startsWith('RUN ')) continue;
    const r = JSON.parse(line.slice(4)) as Run;
    runs.push({ ...r, ...parse(readFileSync(join(outDir, `${r.tree}-${r.round}.md`), 'utf8')) });
  }
} else {
  for (let round = 1; round <= rounds; round++) {
    for (const tree of ['old', 'new'] as const) {
      const run = await runOnce(tree, round);
      runs.push(run);
      process.stdout.write(`RUN ${JSON.stringify(run)}\n`);
    }
  }
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const lines = [
  '| round | code | load 1 min before / after (1/5/15) | pool-hit cold start, server, p50 / p90 | pool-hit cold start, backend, p50 / p90 | warm invoke process tier, p50 / p90 | warm overhead (− bare p50) |',
  '|---|---|---|---|---|---|---|',
  ...runs.map(
    (r) =>
      `| ${r.round} | ${r.tree} | ${f(r.loadBefore)} / ${r.loadAfter} | ${f(r.serverP50)} / ${f(r.serverP90)} ms | ${f(r.backendP50)} / ${f(r.backendP90)} ms | ${f(r.warmP50, 3)} / ${f(r.warmP90, 3)} ms | ${f(r.warmP50 - r.bareP50, 3)} ms |`,
  ),
];
const of = (tree: 'old' | 'new', pick: (r: Run) => number) =>
  median(runs.filter((r) => r.tree === tree).map(pick));
const ratio = (pick: (r: Run) => number) => of('new', pick) / of('old', pick);
const diff = (pick: (r: Run) => number) => of('new', pick) - of('old', pick);
const picks: Array<[string, (r: Run) => number, number]> = [
  ['pool-hit cold start, server, p50', (r) => r.serverP50, 2],
  ['pool-hit cold start, server, p90', (r) => r.serverP90, 2],
  ['pool-hit cold start, backend, p50', (r) => r.backendP50, 2],
  ['pool-hit cold start, backend, p90', (r) => r.backendP90, 2],
  ['warm invoke, process tier, p50', (r) => r.warmP50, 3],
  ['warm invoke, process tier, p90', (r) => r.warmP90, 3],
  ['warm overhead, process tier, p50 − bare', (r) => r.warmP50 - r.bareP50, 3],
  ['warm overhead, thread tier, p50 − bare', (r) => r.threadWarmP50 - r.bareP50, 3],
];
lines.push(
  '',
  '| figure | median old | median new | new − old | new / old |',
  '|---|---|---|---|---|',
  ...picks.map(
    ([label, pick, d]) =>
      `| ${label} | ${f(of('old', pick), d)} ms | ${f(of('new', pick), d)} ms | ${f(diff(pick), d)} ms | ${f(ratio(pick))} |`,
  ),
);
process.stdout.write(lines.join('\n') + '\n');
