// Running one benchmark on its own (`node --import tsx bench/<name>.ts [--quick] [--no-write]`):
// print its figures and replace only its own section of bench/RESULTS.md.

import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineFacts } from './machine.js';
import { removeAppDirs } from './nimbus-client.js';
import { stopAllChildren } from './processes.js';
import { table, type BenchOutput } from './report.js';

/** Which figure table a section shows above its details. */
export type FigureTable = 'none' | 'values' | 'targets';

/** The markdown of one section: heading, how and where it was measured, figures, details, method. */
export function sectionMarkdown(
  section: string,
  script: string,
  out: BenchOutput,
  options: { quick: boolean; figures: FigureTable },
): string {
  const facts = machineFacts()
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  const value = (f: BenchOutput['figures'][number]) =>
    `${Number.isFinite(f.value) ? f.value.toFixed(f.digits ?? 2) : 'n/a'} ${f.unit}`;
  const figures =
    options.figures === 'none'
      ? []
      : [
          ...(options.figures === 'targets'
            ? table(
                ['figure', 'value', 'target'],
                out.figures.map((f) => [
                  f.label,
                  value(f),
                  f.target ? `${f.target.op === '<=' ? '≤' : '≥'} ${f.target.value} ${f.unit}` : '—',
                ]),
              )
            : table(
                ['figure', 'value'],
                out.figures.map((f) => [f.label, value(f)]),
              )),
          '',
        ];
  return [
    section,
    '',
    `Measured by \`node --import tsx ${script}${options.quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Machine: ${facts}. Load average when it finished: ${load} (1 / 5 / 15 min; other work on the same 2 cores lowers the figures).`,
    '',
    ...figures,
    ...out.details,
    '',
    '**Method.**',
    '',
    ...out.method,
    '',
  ].join('\n');
}

/** Replace `section` (a `## ` heading) in `file`, or insert it before `## Analysis` (or at the end). */
export function replaceSection(file: string, section: string, markdown: string): void {
  const old = readFileSync(file, 'utf8');
  const start = old.indexOf(`\n${section}\n`);
  let text: string;
  if (start >= 0) {
    const rest = old.slice(start + 1 + section.length);
    const end = rest.search(/\n## /);
    text = old.slice(0, start + 1) + markdown + (end >= 0 ? rest.slice(end + 1) : '');
  } else {
    const analysis = old.indexOf('\n## Analysis\n');
    text =
      analysis >= 0
        ? old.slice(0, analysis + 1) + markdown + '\n' + old.slice(analysis + 1)
        : `${old}\n${markdown}`;
  }
  writeFileSync(file, text);
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] === fileURLToPath(moduleUrl);
}

/**
 * The standalone entry of a benchmark: run it (`--quick` for short runs), print its figures and
 * details, and unless `--no-write` replace its section of bench/RESULTS.md. Always stops the
 * servers it started.
 */
export async function runStandalone(spec: {
  readonly section: string;
  readonly script: string;
  readonly figures: FigureTable;
  readonly run: (quick: boolean) => Promise<BenchOutput>;
}): Promise<void> {
  const quick = process.argv.includes('--quick');
  try {
    const out = await spec.run(quick);
    for (const f of out.figures)
      process.stderr.write(`${f.label}: ${f.value.toFixed(f.digits ?? 2)} ${f.unit}\n`);
    process.stderr.write(out.details.join('\n') + '\n');
    if (!process.argv.includes('--no-write')) {
      const file = join(fileURLToPath(new URL('..', import.meta.url)), 'RESULTS.md');
      replaceSection(
        file,
        spec.section,
        sectionMarkdown(spec.section, spec.script, out, { quick, figures: spec.figures }),
      );
    }
  } finally {
    await stopAllChildren();
    removeAppDirs();
  }
}
