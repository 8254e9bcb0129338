// Keeps the checkable parts of the docs true, derived from the code so they stay correct as it
// grows: every CLI command is in docs/cli.md's table (and nothing else is), command lines shown
// in the docs use real commands and options, every API route is in docs/api.md, every nimbus.yml
// key the schemas accept is documented, and every relative link in docs/*.md and README.md resolves.
// Error codes are kept in step with docs/errors.md by test/errors.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { z } from 'zod';
import { buildRouter } from '../../src/api/http-server.js';
import { Router } from '../../src/api/router.js';
import { GLOBAL_OPTIONS } from '../../src/cli/cli-args.js';
import { COMMANDS } from '../../src/cli/run-cli.js';
import { appConfigSchema, knownKeysAt } from '../../src/config/app-config-schema.js';
import { functionConfigSchema, gatewaySpecSchema } from '../../src/functions/function-config-schema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const docPages = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);

/** The text of a page without fenced code blocks (links and headings inside them do not count). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** The lines of `markdown` from the heading `heading` to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l === heading);
  assert.ok(start >= 0, `heading ${heading} not found`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** Whether `doc` documents `key`: in a code span (`key`, `a.key`, `key: …`) or as a YAML key (`key: …`, `{ key: … }`). */
function mentions(doc: string, key: string): boolean {
  const word = key.replace(/[$]/g, '\\$');
  return (
    new RegExp(`\`[^\`\\n]*(?<![\\w-])${word}(?![\\w-])[^\`\\n]*\``).test(doc) ||
    new RegExp(`(?:^|[\\s{,])${word}:`, 'm').test(doc)
  );
}

/** Every key of every object schema reachable from `schema` (through optional, default, records, ...). */
function schemaKeys(schema: z.ZodType, out = new Set<string>(), seen = new Set<unknown>()): Set<string> {
  if (seen.has(schema)) return out;
  seen.add(schema);
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  if (def.type === 'object') for (const key of Object.keys(def.shape as object)) out.add(key);
  const visit = (value: unknown): void => {
    if (value instanceof z.ZodType) schemaKeys(value, out, seen);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      for (const v of Object.values(value)) if (v instanceof z.ZodType) visit(v);
    }
  };
  for (const [name, value] of Object.entries(def)) if (name !== 'checks') visit(value);
  return out;
}

// Keys of the compiled deploy request that nobody writes in nimbus.yml.
const COMPILED_ONLY = new Map([
  ['sourceRuntime', 'compiled from `runtime: typescript`'],
  ['routes', 'compiled from the functions’ http events'],
  ['jwks', 'the JWKS file (`jwksFile`) read and sent inline'],
  ['keys', 'inside a JWKS document, not a Nimbus setting'],
]);

test('every CLI command is in docs/cli.md’s command table with its own section, and the table lists no other', () => {
  const cli = read('docs/cli.md');
  const table = [...prose(cli).matchAll(/^\|\s*\[`([a-z-]+)`\]\(#([a-z-]+)\)\s*\|/gm)];
  const documented = table.map((m) => m[1]!);
  const commands = COMMANDS.map((c) => c.name);
  for (const name of commands) {
    assert.ok(documented.includes(name), `docs/cli.md's command table lacks \`${name}\``);
    assert.match(cli, new RegExp(`^## ${name}$`, 'm'), `docs/cli.md has no "## ${name}" section`);
  }
  for (const name of documented) {
    assert.ok(commands.includes(name), `docs/cli.md's command table lists \`${name}\`, which is no command`);
  }
  for (const m of table) assert.equal(m[2], m[1], `the table links ${m[1]} to #${m[2]}`);
});

/** Every `METHOD /path` the API router serves, read by recording what buildRouter() registers. */
function apiRoutes(): string[] {
  const seen: string[] = [];
  const add = Router.prototype.add;
  Router.prototype.add = function (this: Router<unknown>, method: string, pattern: string, handler: unknown) {
    seen.push(`${method} ${pattern}`);
    return add.call(this, method, pattern, handler);
  } as typeof add;
  try {
    buildRouter();
  } finally {
    Router.prototype.add = add;
  }
  return seen;
}

test('every /v1 and Lambda API route is in docs/api.md, and api.md lists no route that does not exist', () => {
  // `{name}` and `{fn}` are the same parameter; `[?app=]` and query strings are not the path.
  const norm = (route: string) =>
    route
      .replace(/\{[^}]*\}/g, '{}')
      .replace(/\[[^\]]*\]|\?.*$/g, '')
      .replace(/(.)\/$/, '$1');
  const documented = new Set<string>();
  for (const m of read('docs/api.md').matchAll(
    /`((?:GET|POST|PUT|DELETE|HEAD|PATCH)(?:\|[A-Z]+)* \/[^`\s]*)/g,
  )) {
    const [methods = '', path = ''] = m[1]!.split(' ');
    const segments = path.split('/');
    const last = segments.pop()!;
    // `GET|POST /v1/x/{id}/enable|disable` stands for every combination.
    for (const method of methods.split('|')) {
      for (const alt of last.split('|')) documented.add(`${method} ${norm([...segments, alt].join('/'))}`);
    }
  }
  const served = new Set(apiRoutes().map((r) => norm(r)));
  const undocumented = [...served].filter((r) => !documented.has(r));
  assert.deepEqual(undocumented, [], `routes missing from docs/api.md: ${undocumented.join(', ')}`);
  const unknown = [...documented].filter((r) => !served.has(r));
  assert.deepEqual(unknown, [], `docs/api.md lists routes nobody serves: ${unknown.join(', ')}`);
});

/** `nimbus …` command lines shown in code: lines of code blocks, code spans and `$(nimbus …)`. */
function commandLines(markdown: string): string[] {
  const code = [
    ...[...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].flatMap((m) => m[1]!.split('\n')),
    ...[...prose(markdown).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!),
  ];
  return code.flatMap((line) =>
    [...line.matchAll(/(?:^|\$\(|^\$ )\s*nimbus ((?:[^#)'"]|'[^']*'|"[^"]*")*)/g)].map((m) => m[1]!.trim()),
  );
}

test('the nimbus command lines in docs/ and README.md name real commands, subcommands and options', () => {
  const problems: string[] = [];
  for (const page of ['README.md', ...docPages]) {
    for (const line of commandLines(read(page))) {
      const words = line.split(/\s+/);
      // Global options may come first (`nimbus --json ls`).
      while (words[0]?.startsWith('-')) words.splice(0, words[0] === '--json' ? 1 : 2);
      const [name, second] = words;
      if (name === undefined || name === 'help' || /^<.*>$/.test(name)) continue;
      const command = COMMANDS.find((c) => c.name === name);
      if (!command) {
        problems.push(`${page}: \`nimbus ${line}\`: no command ${name}`);
        continue;
      }
      // A command whose every usage line starts with a literal subcommand must be given one of them.
      const subs = command.usage.map((u) => u.split(/\s+/)[1] ?? '');
      if (
        subs.every((sub) => /^[a-z][a-z-]*$/.test(sub)) &&
        second !== undefined &&
        !second.startsWith('-')
      ) {
        if (!subs.includes(second))
          problems.push(`${page}: \`nimbus ${line}\`: no subcommand ${name} ${second}`);
      }
      const options = new Map(Object.entries({ ...GLOBAL_OPTIONS, ...command.options }));
      const shorts = new Set([...options.values()].map((o) => o.short).filter(Boolean));
      for (const flag of line.match(/(?<=\s|^)--?[a-z][a-z-]*/g) ?? []) {
        const ok = flag.startsWith('--')
          ? options.has(flag.slice(2)) ||
            flag === '--version' ||
            (flag.startsWith('--no-') && options.has(flag.slice(2)))
          : shorts.has(flag.slice(1));
        if (!ok) problems.push(`${page}: \`nimbus ${line}\`: ${name} has no option ${flag}`);
      }
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('every nimbus.yml key of the config schema is documented', () => {
  const functions = read('docs/functions.md');
  const settings = section(functions, '## nimbus.yml');

  // Top level, provider/defaults and function settings: functions.md's nimbus.yml section.
  const topLevel = section(functions, '### Top level');
  for (const key of knownKeysAt('nimbus', [])) {
    assert.ok(mentions(topLevel, key), `functions.md's top-level table lacks \`${key}\``);
  }
  for (const path of [['provider'], ['functions', 'fn'], ['package']]) {
    for (const key of knownKeysAt('nimbus', path)) {
      assert.ok(
        mentions(settings, key),
        `functions.md#nimbusyml does not document ${path[0]} key \`${key}\``,
      );
    }
  }
  // Each setting of a compiled function config has its own row in the settings table.
  const rows = section(functions, '### Function settings');
  const functionKeys = Object.keys((functionConfigSchema as unknown as z.ZodObject).shape ?? {});
  for (const key of schemaKeys(functionConfigSchema)) {
    if (COMPILED_ONLY.has(key) || !functionKeys.includes(key)) continue;
    assert.ok(
      new RegExp(`^\\|[^|\\n]*\`${key}\``, 'm').test(rows),
      `functions.md's function settings table has no row for \`${key}\``,
    );
  }

  // Everything else the schemas accept (nested settings, gateway, auth): somewhere in the pages
  // that describe nimbus.yml.
  const pages = ['functions.md', 'events.md', 'resources.md', 'gateway.md'].map((p) => read(`docs/${p}`));
  const all = new Set([
    ...schemaKeys(appConfigSchema('nimbus')),
    ...schemaKeys(functionConfigSchema),
    ...schemaKeys(gatewaySpecSchema),
  ]);
  const missing = [...all].filter((key) => !COMPILED_ONLY.has(key) && !pages.some((p) => mentions(p, key)));
  assert.deepEqual(missing, [], `nimbus.yml keys documented nowhere in docs/: ${missing.join(', ')}`);
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes, -1 for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  for (const m of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = counts.get(slug) ?? 0;
    counts.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

test('relative links in docs/*.md and README.md resolve to existing files and headings', () => {
  const broken: string[] = [];
  for (const page of ['README.md', ...docPages]) {
    const text = prose(read(page)).replace(/`[^`\n]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z][a-z+.-]*:/i.test(link)) continue; // https:, mailto:, ...
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? join(root, page) : resolve(join(root, dirname(page)), path);
      if (!existsSync(target)) {
        broken.push(`${page}: ${link} (no ${relative(root, target)})`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && statSync(target).isFile()) {
        if (!anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
          broken.push(`${page}: ${link} (no heading #${anchor} in ${relative(root, target)})`);
        }
      }
    }
  }
  assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
});
