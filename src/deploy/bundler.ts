// Turns one function of an app into the files of its code bundle: esbuild for nodejs and
// typescript, a filtered copy of the app directory for python and provided.

import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { NimbusError } from '../errors.js';
import type { AppFunction } from '../config/app-config.js';
import { CONFIG_FILE_NAMES } from '../config/load-app-config.js';
import { normalizeMode, type BundleFiles } from './bundle-archive.js';

/**
 * The SDK entry bundled into functions that import `nimbus/sdk`: the compiled file next to this
 * module (dist/), or the TypeScript source when Nimbus runs from src/ (tests, tsx).
 */
const SDK_ENTRY = ((): string => {
  const js = fileURLToPath(new URL('../sdk/index.js', import.meta.url));
  return existsSync(js) ? js : js.replace(/\.js$/, '.ts');
})();

/** The bundle of one function. */
export interface BundleResult {
  /** Files by relative path, ready for `packBundle`. */
  readonly files: BundleFiles;
  /**
   * The handler inside the bundle, to store as the version's `config.handler`: `index.handler`
   * for nodejs (same export name as written), unchanged for python and provided.
   */
  readonly handler: string;
  /** Things the user should hear about (e.g. a bootstrap marked executable); empty when none. */
  readonly notes: readonly string[];
}

/** Directories never copied into a bundle: dependencies, caches, VCS and Nimbus's own data. */
export const EXCLUDED_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '__pycache__',
  'venv',
  '.venv',
  '.git',
  '.nimbus',
]);

/** Largest bundle accepted before packing: Lambda's unzipped limit. */
export const MAX_BUNDLE_BYTES = 250 * 1024 * 1024;

// Tried in this order; a typescript function prefers the .ts source over compiled .js beside it.
const JS_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];
const TS_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

// CJS dependencies bundled into ESM output still call require() and read __dirname; ESM has
// neither, so the bundle defines them. esbuild renames user declarations of these names, so a
// handler that defines its own `require` keeps working (checked with esbuild 0.28).
const ESM_BANNER = [
  "import { createRequire as __nimbusCreateRequire } from 'node:module';",
  "import { fileURLToPath as __nimbusFileURLToPath } from 'node:url';",
  "import { dirname as __nimbusDirname } from 'node:path';",
  'const require = __nimbusCreateRequire(import.meta.url);',
  'const __filename = __nimbusFileURLToPath(import.meta.url);',
  'const __dirname = __nimbusDirname(__filename);',
].join('\n');

/**
 * Bundles one function of the app in `appDir`.
 * @throws NimbusError `BundleError` naming the file (and line, for esbuild errors) and the fix.
 */
export async function bundleFunction(appDir: string, fn: AppFunction): Promise<BundleResult> {
  const root = resolve(appDir);
  switch (fn.config.runtime) {
    case 'nodejs':
      return bundleNode(root, fn);
    case 'python':
      return bundlePython(root, fn);
    case 'provided':
      return bundleProvided(root, fn);
  }
}

/**
 * Stops esbuild's helper process (started on the first nodejs bundle and reused after).
 * Call when done bundling in a short-lived process or test; bundling again restarts it.
 */
export async function stopBundler(): Promise<void> {
  await esbuild.stop();
}

async function bundleNode(root: string, fn: AppFunction): Promise<BundleResult> {
  const { modulePath, exportPath } = splitNodeHandler(fn);
  const base = insideApp(root, modulePath, fn);
  const extensions = fn.sourceRuntime === 'typescript' ? TS_EXTENSIONS : JS_EXTENSIONS;
  let entry: string | undefined;
  for (const ext of extensions) {
    if (await isFile(base + ext)) {
      entry = base + ext;
      break;
    }
  }
  if (!entry) {
    const tried = extensions.map((e) => modulePath + e).join(', ');
    throw bundleError(
      fn,
      `handler file not found: tried ${tried} in ${root}; create the file or fix \`handler:\` in nimbus.yml (\`<file without extension>.<export>\`)`,
    );
  }
  const format = await detectFormat(root, entry);
  const outName = format === 'esm' ? 'index.mjs' : 'index.cjs';
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile: join(root, outName),
      write: false,
      bundle: true,
      platform: 'node', // node built-ins stay external; every package in node_modules is bundled.
      target: 'node20',
      format,
      banner: format === 'esm' ? { js: ESM_BANNER } : {},
      // A separate map file without sourcesContent maps stack traces back to the original files
      // when the runner enables source maps, and costs nothing at load time otherwise. Measured
      // on a 1.07 MB zod + yaml bundle: the map is 0.62 MB (99 KB gzipped, +56% on the blob);
      // inline it would be base64 in the code itself, parsed on every cold start.
      sourcemap: 'linked',
      sourcesContent: false,
      // Function and class names survive, so stack traces and `fn.name` read as written.
      keepNames: true,
      logLevel: 'silent',
      metafile: false,
      // `import ... from 'nimbus/sdk'` needs no install: the SDK is bundled from this package.
      alias: { 'nimbus/sdk': SDK_ENTRY },
    });
  } catch (err) {
    throw esbuildError(fn, root, err);
  }
  const files: BundleFiles = new Map();
  for (const out of result.outputFiles) {
    files.set(relative(root, out.path).split(sep).join('/'), {
      data: Buffer.from(out.contents),
      mode: 0o644,
    });
  }
  // esbuild warnings (e.g. `import.meta` in CommonJS output, a dynamic require it cannot
  // follow) often explain a runtime failure later, so they are passed on.
  const notes: string[] = result.warnings.slice(0, 10).map((m) => `esbuild: ${formatMessage(m)}`);
  if (fn.package.include.length > 0) {
    // Extra files (templates, data) the handler reads at runtime, next to the bundle.
    const extra = await collectFiles(root, fn, { include: fn.package.include, exclude: fn.package.exclude });
    for (const [path, file] of extra) {
      if (files.has(path)) notes.push(`package.include: ${path} is shadowed by the bundle's own ${path}`);
      else files.set(path, file);
    }
  }
  checkSize(fn, files);
  return { files, handler: `index.${exportPath}`, notes };
}

async function bundlePython(root: string, fn: AppFunction): Promise<BundleResult> {
  const files = await collectFiles(root, fn, fn.package);
  // Lambda's Python handler: the last dot separates the function; the rest is a module path
  // written with slashes (`src/app.handler`) or dots (`pkg.app.handler`).
  const handler = fn.config.handler;
  const dot = handler.lastIndexOf('.');
  const module = handler.slice(0, dot).replace(/\./g, '/');
  const candidates = [`${module}.py`, `${module}/__init__.py`];
  if (!candidates.some((c) => files.has(c))) {
    throw bundleError(
      fn,
      `handler module not found: expected ${candidates[0]} (or ${candidates[1]}) in ${root}; create it or fix \`handler:\` in nimbus.yml (\`<module>.<function>\`)`,
    );
  }
  checkSize(fn, files);
  return { files, handler, notes: [] };
}

async function bundleProvided(root: string, fn: AppFunction): Promise<BundleResult> {
  const files = await collectFiles(root, fn, fn.package);
  const notes: string[] = [];
  const bootstrap = files.get('bootstrap');
  if (!bootstrap) {
    throw bundleError(
      fn,
      `no \`bootstrap\` file in ${root}; a provided runtime runs an executable named bootstrap at the app root that speaks the Lambda Runtime API`,
    );
  }
  if (!(bootstrap.mode & 0o111)) {
    const head = bootstrap.data.subarray(0, 4);
    const runnable = head.subarray(0, 2).toString('latin1') === '#!' || head.toString('latin1') === '\x7fELF';
    if (!runnable) {
      throw bundleError(fn, `bootstrap is not executable; run \`chmod +x ${join(root, 'bootstrap')}\``);
    }
    files.set('bootstrap', { data: bootstrap.data, mode: 0o755 });
    notes.push(
      `bootstrap is not executable on disk; it is marked executable in the bundle (run \`chmod +x bootstrap\` to silence this)`,
    );
  }
  checkSize(fn, files);
  return { files, handler: fn.config.handler, notes };
}

/** Node's handler split: the first dot of the last path segment ends the module path. */
function splitNodeHandler(fn: AppFunction): { modulePath: string; exportPath: string } {
  const handler = fn.config.handler;
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot <= slash + 1 || dot === handler.length - 1) {
    throw bundleError(
      fn,
      `handler \`${handler}\` must be \`<file without extension>.<export>\`, e.g. \`src/app.handler\``,
    );
  }
  return { modulePath: handler.slice(0, dot), exportPath: handler.slice(dot + 1) };
}

function insideApp(root: string, modulePath: string, fn: AppFunction): string {
  const full = resolve(root, modulePath);
  if (full !== root && !full.startsWith(root + sep)) {
    throw bundleError(fn, `handler \`${fn.config.handler}\` points outside the app directory ${root}`);
  }
  return full;
}

// ESM when the extension or the nearest package.json says so, or when the source uses
// import/export (esbuild reports the syntax it saw); CJS otherwise, as Node decides.
async function detectFormat(root: string, entry: string): Promise<'esm' | 'cjs'> {
  if (/\.m[jt]s$/.test(entry)) return 'esm';
  if (/\.c[jt]s$/.test(entry)) return 'cjs';
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    const pkg = await readJson(join(dir, 'package.json'));
    if (pkg !== undefined) {
      if ((pkg as { type?: unknown }).type === 'module') return 'esm';
      break;
    }
    if (dir === root || dir === dirname(dir)) break;
  }
  try {
    const scan = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      bundle: false,
      write: false,
      metafile: true,
      logLevel: 'silent',
      outdir: join(root, '.nimbus-scan'),
      platform: 'node',
    });
    const input = scan.metafile.inputs[relative(root, entry).split(sep).join('/')];
    return input?.format === 'esm' ? 'esm' : 'cjs';
  } catch {
    return 'cjs'; // The real build reports the syntax error with its position.
  }
}

/** Filter for {@link collectFiles}. */
interface FileFilter {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/**
 * The app's files (not hidden, not in {@link EXCLUDED_DIRS}, not the config file), narrowed by include globs when
 * given and minus exclude globs. Symlinked files are copied; symlinked directories are skipped
 * (they can loop).
 */
async function collectFiles(root: string, fn: AppFunction, filter: FileFilter): Promise<BundleFiles> {
  const include = filter.include.map(globToRegExp);
  const exclude = filter.exclude.map(globToRegExp);
  const files: BundleFiles = new Map();
  let total = 0;
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || EXCLUDED_DIRS.has(entry.name)) continue;
      // The app's config is not code: leaving it out keeps a memory or timeout change from
      // producing a new code sha (and a new blob) when the code is unchanged.
      if (prefix === '' && (CONFIG_FILE_NAMES as readonly string[]).includes(entry.name)) continue;
      const full = join(dir, entry.name);
      const path = prefix + entry.name;
      let isDir = entry.isDirectory();
      let isRegular = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        isRegular = target?.isFile() ?? false;
        isDir = false;
      }
      if (isDir) {
        await walk(full, `${path}/`);
      } else if (isRegular) {
        if (include.length > 0 && !include.some((re) => matchesPath(re, path))) continue;
        if (exclude.some((re) => matchesPath(re, path))) continue;
        const [data, info] = await Promise.all([readFile(full), stat(full)]);
        total += data.length;
        if (total > MAX_BUNDLE_BYTES) {
          throw bundleError(
            fn,
            `the files in ${root} exceed ${MAX_BUNDLE_BYTES} bytes; leave large files out with \`package: { exclude: [...] }\``,
          );
        }
        files.set(path, { data, mode: normalizeMode(info.mode) });
      }
    }
  };
  await walk(root, '');
  return files;
}

/** A glob (relative to the app dir) as a RegExp: `**` any depth, `*` and `?` within a segment. */
export function globToRegExp(glob: string): RegExp {
  const pattern = glob.replace(/^\.\//, '').replace(/\/$/, '');
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

// A pattern naming a directory (`templates`) matches every file under it.
function matchesPath(re: RegExp, path: string): boolean {
  if (re.test(path)) return true;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    if (re.test(path.slice(0, i))) return true;
  }
  return false;
}

function checkSize(fn: AppFunction, files: BundleFiles): void {
  let total = 0;
  for (const file of files.values()) total += file.data.length;
  if (total > MAX_BUNDLE_BYTES) {
    throw bundleError(fn, `the bundle is ${total} bytes, over the ${MAX_BUNDLE_BYTES}-byte limit`);
  }
}

function esbuildError(fn: AppFunction, root: string, err: unknown): NimbusError {
  const messages = (err as { errors?: esbuild.Message[] }).errors;
  if (!Array.isArray(messages) || messages.length === 0) {
    return bundleError(fn, `esbuild failed: ${(err as Error).message}`, err);
  }
  const lines = messages.slice(0, 20).map((m) => `  ${formatMessage(m)}`);
  const missing = messages
    .map((m) => /^Could not resolve "([^"]+)"/.exec(m.text)?.[1])
    .filter((p): p is string => p !== undefined && !p.startsWith('.') && !p.startsWith('/'));
  const fix =
    missing.length > 0
      ? `install the missing package${missing.length > 1 ? 's' : ''} with \`npm install ${[...new Set(missing)].map((p) => packageName(p)).join(' ')}\` in ${root}`
      : 'fix the code at the positions above';
  return bundleError(fn, `could not bundle the code:\n${lines.join('\n')}\n${fix}`, err);
}

/** `file:line:col: text (first note)`, columns 1-based like the config errors. */
function formatMessage(m: esbuild.Message): string {
  const at = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
  const note = m.notes[0]?.text ? ` (${m.notes[0].text})` : '';
  return `${at}${m.text}${note}`;
}

// `@scope/pkg/sub` → `@scope/pkg`, `pkg/sub` → `pkg`.
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function bundleError(fn: AppFunction, message: string, cause?: unknown): NimbusError {
  return new NimbusError('BundleError', `functions.${fn.name}: ${message}`, { cause });
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
