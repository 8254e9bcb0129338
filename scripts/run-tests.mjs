#!/usr/bin/env node
// Finds test files and runs them with node's test runner through tsx.
// Usage: node scripts/run-tests.mjs [--all] [path-substring ...]
// Default: every test/**/*.test.ts except *.slow.test.ts; --all includes the slow ones.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const all = args.includes('--all');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts') && (all || !name.endsWith('.slow.test.ts'))) out.push(p);
  }
  return out;
}

const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.NIMBUS_TEST_CONCURRENCY ?? '2'}`,
    // A hung test fails after 2 minutes instead of hanging CI; a file whose leaked handle would
    // keep it alive is ended (the leak guard has already failed it).
    '--test-timeout=120000',
    '--test-force-exit',
    ...files,
  ],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
