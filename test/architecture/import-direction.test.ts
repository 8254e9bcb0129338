// Keeps imports running one way between rooms: a resource (src/services) knows nothing of what
// consumes its change feed (src/events triggers, src/workflow); consumers subscribe, wired in src/server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Rooms a room must never import from (directly; type-only imports included). */
const FORBIDDEN: ReadonlyArray<{ from: string; to: readonly string[]; why: string }> = [
  {
    from: 'src/services',
    to: ['src/events', 'src/workflow'],
    why: 'resources expose a change feed (subscribe/onChange); triggers subscribe in src/server',
  },
  {
    from: 'src/services',
    to: ['src/server', 'src/api', 'src/cli'],
    why: 'server/ composes the services; shared contracts (Lifecycle, ServerLogger) live in src/lifecycle.ts',
  },
  {
    from: 'src/events',
    to: ['src/server', 'src/api', 'src/cli', 'src/workflow'],
    why: 'triggers are composed by server/; shared contracts live in src/lifecycle.ts',
  },
  {
    from: 'src/workflow',
    to: ['src/server', 'src/api', 'src/cli'],
    why: 'the engine is composed by server/ and spoken to by api/',
  },
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of every static import/export-from and dynamic import() in `source`. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** `specifier` as a path relative to the repository root, or undefined for packages. */
function target(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
    // A path alias or absolute-looking specifier naming a room (`src/events/...`) counts too.
    return specifier.startsWith('src/') ? specifier : undefined;
  }
  return relative(root, resolve(dirname(file), specifier))
    .split(sep)
    .join('/');
}

test('the specifier scan sees every import form', () => {
  assert.deepEqual(
    specifiers(
      [
        "import { a } from '../../events/a.js';",
        "import type { B } from '../events/b.js';",
        "export { c } from '../events/c.js';",
        "import '../events/d.js';",
        "const e = await import('../events/e.js');",
        'import {\n  f,\n  g,\n} from "../events/fg.js";',
      ].join('\n'),
    ).sort(),
    [
      '../../events/a.js',
      '../events/b.js',
      '../events/c.js',
      '../events/d.js',
      '../events/e.js',
      '../events/fg.js',
    ],
  );
});

for (const rule of FORBIDDEN) {
  test(`${rule.from} imports nothing from ${rule.to.join(' or ')}`, () => {
    const offenders: string[] = [];
    for (const file of tsFiles(join(root, rule.from))) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const to = target(file, spec);
        if (to !== undefined && rule.to.some((room) => to === room || to.startsWith(`${room}/`))) {
          offenders.push(`${relative(root, file)} imports '${spec}'`);
        }
      }
    }
    assert.deepEqual(offenders, [], `${rule.from} must not import ${rule.to.join('/')}: ${rule.why}`);
  });
}
