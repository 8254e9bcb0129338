// Deploy-time checks of an uploaded code bundle against its function's runtime and handler, so
// a bundle that cannot run is refused at deploy (a 400 naming the function), not at first invoke.

import { NimbusError } from '../errors.js';
import type { RuntimeName } from '../functions/function-model.js';
import { unpackBundleAsync, type BundleFiles } from './bundle-archive.js';

/** What is checked of one function's bundle. */
export interface BundleCheckInput {
  /** The function's name inside the app, for messages. */
  readonly name: string;
  readonly runtime: RuntimeName;
  readonly handler: string;
}

const NODE_EXTENSIONS = ['.mjs', '.cjs', '.js'];

/**
 * Checks `bytes` (a blob made by `packBundle`) for every function in `functions` that uses it:
 * a readable archive, the handler's file, its export where the source shows it (a name that
 * appears nowhere in the file cannot be exported by it), and a runtime that matches the files.
 * The archive is inflated on the thread pool; the rest is string searches.
 * @throws NimbusError `InvalidBundleException` naming the function and the fix.
 */
export async function checkBundle(bytes: Buffer, functions: readonly BundleCheckInput[]): Promise<void> {
  let files: BundleFiles;
  try {
    files = await unpackBundleAsync(bytes);
  } catch (err) {
    const names = functions.map((f) => `'${f.name}'`).join(', ');
    throw new NimbusError(
      'InvalidBundleException',
      `The code of function ${names} is not a Nimbus code bundle (${(err as Error).message.replace(/^Corrupt code bundle \((.*)\);.*$/, '$1')}); ` +
        'deploy with `nimbus deploy`, which bundles and packs the code, or upload a blob made by packBundle.',
      { cause: err },
    );
  }
  for (const fn of functions) {
    const problem = problemOf(files, fn);
    if (problem !== undefined) {
      throw new NimbusError('InvalidBundleException', `Function '${fn.name}': ${problem}`);
    }
  }
}

function problemOf(files: BundleFiles, fn: BundleCheckInput): string | undefined {
  switch (fn.runtime) {
    case 'nodejs':
      return nodeProblem(files, fn);
    case 'python':
      return pythonProblem(files, fn);
    case 'provided': {
      const bootstrap = files.get('bootstrap');
      if (bootstrap === undefined) {
        return `the bundle has no \`bootstrap\` at its root, which a provided runtime runs${looksLike(files, 'provided')}; add an executable bootstrap or fix \`runtime:\` in nimbus.yml.`;
      }
      if (!(bootstrap.mode & 0o111))
        return 'bootstrap is not executable; run `chmod +x bootstrap` and deploy again.';
      return undefined;
    }
  }
}

function nodeProblem(files: BundleFiles, fn: BundleCheckInput): string | undefined {
  const slash = fn.handler.lastIndexOf('/');
  const dot = fn.handler.indexOf('.', slash + 1);
  if (dot <= slash + 1 || dot === fn.handler.length - 1) {
    return `handler \`${fn.handler}\` must be \`<file without extension>.<export>\`, e.g. \`index.handler\`.`;
  }
  const module = fn.handler.slice(0, dot);
  const exportName = fn.handler.slice(dot + 1).split('.')[0]!;
  const file = NODE_EXTENSIONS.map((ext) => module + ext).find((path) => files.has(path));
  if (file === undefined) {
    return `handler file ${module}.mjs, .cjs or .js is not in the bundle${looksLike(files, 'nodejs')}; fix \`handler:\` (or \`runtime:\`) in nimbus.yml and deploy again.`;
  }
  if (!mentions(files.get(file)!.data, exportName)) {
    return `${file} does not export \`${exportName}\` (the name appears nowhere in it); export it (\`export const ${exportName} = async (event) => …\`) or fix \`handler:\` in nimbus.yml.`;
  }
  return undefined;
}

function pythonProblem(files: BundleFiles, fn: BundleCheckInput): string | undefined {
  const dot = fn.handler.lastIndexOf('.');
  if (dot <= 0 || dot === fn.handler.length - 1) {
    return `handler \`${fn.handler}\` must be \`<module>.<function>\`, e.g. \`app.handler\`.`;
  }
  const module = fn.handler.slice(0, dot).replace(/\./g, '/');
  const name = fn.handler.slice(dot + 1);
  const file = [`${module}.py`, `${module}/__init__.py`].find((path) => files.has(path));
  if (file === undefined) {
    return `handler module ${module}.py is not in the bundle${looksLike(files, 'python')}; fix \`handler:\` (or \`runtime:\`) in nimbus.yml and deploy again.`;
  }
  if (!mentions(files.get(file)!.data, name)) {
    return `${file} does not define \`${name}\` (the name appears nowhere in it); add \`def ${name}(event, context):\` or fix \`handler:\` in nimbus.yml.`;
  }
  return undefined;
}

/**
 * True when `name` occurs in `source` as a whole identifier. Searched in the bytes: decoding each
 * handler file to a string put ~18 MB of garbage on the heap per 60-function deploy, and the
 * collections it caused held the event loop longer than the check itself.
 */
function mentions(source: Buffer, name: string): boolean {
  const needle = Buffer.from(name, 'utf8');
  let at = source.indexOf(needle);
  while (at !== -1) {
    const before = at > 0 ? source[at - 1] : undefined;
    const after = source[at + needle.length];
    if (!isIdentifierByte(before) && !isIdentifierByte(after)) return true;
    at = source.indexOf(needle, at + 1);
  }
  return false;
}

/** `[A-Za-z0-9_$]`, as `\w` and `$` were on the decoded text (a byte of a multi-byte character is none). */
function isIdentifierByte(b: number | undefined): boolean {
  return (
    b !== undefined &&
    ((b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x5f ||
      b === 0x24)
  );
}

/** ` (it looks like a <runtime> bundle)` when the files say another runtime than `runtime`. */
function looksLike(files: BundleFiles, runtime: RuntimeName): string {
  const paths = [...files.keys()];
  const guess = paths.some((p) => /^index\.(mjs|cjs)$/.test(p))
    ? 'nodejs'
    : files.has('bootstrap')
      ? 'provided'
      : paths.some((p) => p.endsWith('.py'))
        ? 'python'
        : undefined;
  return guess !== undefined && guess !== runtime
    ? ` (it looks like a ${guess} bundle, and the function's runtime is ${runtime})`
    : '';
}
