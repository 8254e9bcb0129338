// Reads nimbus.yml (or serverless.yml), validates it and compiles the frozen AppConfig.

import { compileGateway, inlineJwksFiles } from './compile-gateway.js';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { NimbusError } from '../errors.js';
import { FUNCTION_DEFAULTS, type FunctionConfig, type RuntimeName } from '../functions/function-model.js';
import type {
  AppConfig,
  AppFunction,
  AppResources,
  ConfigFlavour,
  PackagePatterns,
  ResourceKind,
} from './app-config.js';
import { checkAppConfig, isMapping, type PathIssue } from './app-config-checks.js';
import { compileAsyncTargets } from './async-settings.js';
import {
  appConfigSchema,
  canonicalRuntime,
  knownKeysAt,
  type RawAppConfig,
  type RawFunction,
  type RawProvider,
} from './app-config-schema.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { checkEventSpec } from './event-spec-checks.js';
import { closestMatch } from './suggest-key.js';
import { checkWorkflowSections, compileWorkflows } from './workflow-config.js';
import type { AppWorkflowSpec } from '../workflow/app-workflows.js';
import { describeValue, formatPath, locate, toPosition, valueAt } from './yaml-locations.js';

/** File names looked for in an app directory, in order of preference. */
export const CONFIG_FILE_NAMES = ['nimbus.yml', 'nimbus.yaml', 'serverless.yml', 'serverless.yaml'] as const;

/**
 * Finds and loads the config of the app in `dir` (the first of {@link CONFIG_FILE_NAMES}).
 * Messages name the file relative to the working directory when it is inside it.
 * @throws ConfigError (code `InvalidConfigError`) listing every problem with file:line:col;
 *   NimbusError `InvalidConfigError` when no config file exists.
 */
export async function loadAppConfig(dir: string): Promise<AppConfig> {
  const appDir = resolve(dir);
  for (const name of CONFIG_FILE_NAMES) {
    const file = join(appDir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'ENOTDIR') break;
      throw new NimbusError('InvalidConfigError', `Could not read ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const shown = relative(process.cwd(), file);
    const display = shown.startsWith('..') || isAbsolute(shown) ? file : shown;
    const config = parse(text, file, display);
    return Object.freeze({ ...config, gateway: await inlineJwksFiles(config.gateway, appDir) });
  }
  throw new NimbusError(
    'InvalidConfigError',
    `No nimbus.yml in ${appDir}; create one with \`nimbus init\` (a serverless.yml is read too).`,
  );
}

/**
 * Validates config text and compiles it. `fileName` appears in messages and as
 * `AppConfig.file`; a name starting with `serverless` selects the serverless.yml flavour (so
 * does a `service:` key).
 * @throws ConfigError listing every problem with file:line:col.
 */
export function parseAppConfig(text: string, fileName: string): AppConfig {
  return parse(text, fileName, fileName);
}

function parse(text: string, file: string, display: string): AppConfig {
  const lineCounter = new LineCounter();
  // merge: serverless.yml files often share settings with `<<: *defaults`.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const at = (pos: { line: number; column: number }, path: string, message: string): ConfigIssue => ({
    file: display,
    line: pos.line,
    column: pos.column,
    path,
    message,
  });

  const [syntax] = doc.errors;
  if (syntax) {
    // One broken line makes the parser report every token after it; only the first is real.
    const more = doc.errors.length > 1 ? ` (${doc.errors.length - 1} more YAML errors follow from it)` : '';
    throw new ConfigError([
      at(
        toPosition(lineCounter, syntax.pos[0]),
        '',
        `YAML syntax error: ${yamlHint(syntax.code, syntax.message)}${more}`,
      ),
    ]);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ConfigError(
      [at({ line: 1, column: 1 }, '', `could not read the YAML: ${(err as Error).message}`)],
      {
        cause: err,
      },
    );
  }
  if (!isMapping(value)) {
    const what = value === null || value === undefined ? 'the file is empty' : `got ${describeValue(value)}`;
    throw new ConfigError([
      at(
        locate(doc, lineCounter, []),
        '',
        `${what}; a config is a mapping starting with \`app: <name>\` and \`functions:\` (run \`nimbus init\` for an example)`,
      ),
    ]);
  }

  const flavour: ConfigFlavour =
    basename(display).startsWith('serverless') || value.service !== undefined ? 'serverless' : 'nimbus';
  // Top-level `x-*` keys only hold YAML anchors shared with `<<: *defaults`, as in Compose files.
  const raw = Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('x-')));
  const result = appConfigSchema(flavour).safeParse(raw);
  const pathIssues: PathIssue[] = result.success ? [] : zodIssues(result.error.issues, raw, flavour);
  const checks = checkAppConfig(raw, flavour);
  checkWorkflowSections(raw, flavour, checks);
  pathIssues.push(...checks.errors);

  const toIssue = (i: PathIssue): ConfigIssue =>
    at(locate(doc, lineCounter, i.path, i.target), formatPath(i.path), i.message);
  if (pathIssues.length > 0 || !result.success) {
    throw new ConfigError(sortIssues(pathIssues.map(toIssue)));
  }
  // The services' own parsers, as the server runs them at deploy: one set of rules for both.
  const rawFunctions = isMapping(raw.functions) ? raw.functions : {};
  const specIssues = checkEventSpec(
    (result.data.app ?? result.data.service) as string,
    compileResources(raw.resources),
    Object.entries(rawFunctions).map(([name, fn]) => ({
      name,
      events: isMapping(fn) && Array.isArray(fn.events) ? (fn.events as unknown[]) : [],
    })),
  );
  if (specIssues.length > 0) throw new ConfigError(sortIssues(specIssues.map(toIssue)));
  // Definitions read and checked as the workflow deploy hook checks them (one code path).
  const { workflows, issues: workflowIssues } = compileWorkflows({
    raw,
    flavour,
    app: (result.data.app ?? result.data.service) as string,
    functions: Object.keys(rawFunctions),
    file,
    display,
    doc,
    lineCounter,
  });
  if (workflowIssues.length > 0) throw new ConfigError(workflowIssues);
  const warnings = sortIssues(checks.warnings.map(toIssue));
  return compile(result.data, raw, file, flavour, warnings, doc, workflows);
}

type ZodIssueLike = { code: string; path: PropertyKey[]; message: string; keys?: string[] };

// Turns zod's issues into sentences: "functions.hello.timeout must be ...; got "ten"".
function zodIssues(issues: readonly ZodIssueLike[], raw: unknown, flavour: ConfigFlavour): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of issues) {
    const where = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const valid = knownKeysAt(flavour, issue.path);
      for (const key of issue.keys ?? []) {
        const guess = closestMatch(key, valid);
        const scope = where ? `in ${where}` : 'at the top level';
        const fix = guess
          ? `did you mean \`${guess}\`?`
          : valid.length > 0
            ? `valid keys: ${valid.join(', ')}`
            : 'remove it';
        out.push({
          path: [...issue.path, key],
          target: 'key',
          message: `unknown key \`${key}\` ${scope}; ${fix}`,
        });
      }
      continue;
    }
    const got = describeValue(valueAt(raw, issue.path));
    out.push({ path: issue.path, message: `${where || 'the file'} ${issue.message}; got ${got}` });
  }
  return out;
}

function yamlHint(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  switch (code) {
    case 'DUPLICATE_KEY':
      return `${first}; remove or rename one of the two keys`;
    case 'TAB_AS_INDENT':
      return `${first}; indent with spaces, not tabs`;
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `${first}; check the indentation and that every \`key:\` is followed by a space`;
    default:
      return `${first}; check the indentation and quoting around here`;
  }
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((i) => {
      const key = `${i.line}:${i.column}:${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

function compile(
  parsed: RawAppConfig,
  raw: Record<string, unknown>,
  file: string,
  flavour: ConfigFlavour,
  warnings: ConfigIssue[],
  doc: Document,
  workflows: Record<string, AppWorkflowSpec>,
): AppConfig {
  const provider: RawProvider = parsed.provider ?? parsed.defaults ?? {};
  const rawFunctions = isMapping(raw.functions) ? raw.functions : {};
  const topPackage = packagePatterns(parsed.package);
  // Function order as written: object keys that look like integers would otherwise sort first.
  const names = functionOrder(doc, Object.keys(parsed.functions ?? {}));
  const app = (parsed.app ?? parsed.service) as string;
  const asyncTargets = (fnRaw: Record<string, unknown>, name: string) => {
    const { destinations, deadLetter } = compileAsyncTargets(fnRaw, ['functions', name], {
      app,
      functions: names,
    });
    return {
      destinations: Object.freeze(destinations),
      ...(deadLetter ? { deadLetter: Object.freeze(deadLetter) } : {}),
    };
  };
  const functions: AppFunction[] = names.map((name) => {
    const fn = parsed.functions?.[name] as RawFunction;
    const fnRaw = rawFunctions[name] as Record<string, unknown>;
    const sourceRuntime = canonicalRuntime(fn.runtime ?? provider.runtime ?? 'nodejs') ?? 'nodejs';
    const runtime: RuntimeName = sourceRuntime === 'typescript' ? 'nodejs' : sourceRuntime;
    const fnPackage = packagePatterns(fn.package);
    const config: FunctionConfig = Object.freeze({
      runtime,
      ...(sourceRuntime === 'typescript' ? { sourceRuntime } : {}),
      // A provided bootstrap reads its handler from _HANDLER, if at all; Lambda's own default.
      handler: fn.handler ?? 'bootstrap',
      memory:
        fn.memory ?? fn.memorySize ?? provider.memory ?? provider.memorySize ?? FUNCTION_DEFAULTS.memory,
      timeout: fn.timeout ?? provider.timeout ?? FUNCTION_DEFAULTS.timeout,
      environment: Object.freeze({ ...provider.environment, ...fn.environment }),
      isolation: fn.isolation ?? provider.isolation ?? FUNCTION_DEFAULTS.isolation,
      network: fn.network ?? provider.network ?? FUNCTION_DEFAULTS.network,
      tmpSize: fn.tmpSize ?? fn.ephemeralStorageSize ?? provider.tmpSize ?? FUNCTION_DEFAULTS.tmpSize,
      maxConcurrency:
        fn.maxConcurrency ??
        fn.reservedConcurrency ??
        provider.maxConcurrency ??
        FUNCTION_DEFAULTS.maxConcurrency,
      minInstances:
        fn.minInstances ??
        fn.provisionedConcurrency ??
        provider.minInstances ??
        FUNCTION_DEFAULTS.minInstances,
      idleTimeout: fn.idleTimeout ?? provider.idleTimeout ?? FUNCTION_DEFAULTS.idleTimeout,
      maxOpenFiles: fn.maxOpenFiles ?? provider.maxOpenFiles ?? FUNCTION_DEFAULTS.maxOpenFiles,
      maxProcesses: fn.maxProcesses ?? provider.maxProcesses ?? FUNCTION_DEFAULTS.maxProcesses,
      description: fn.description ?? FUNCTION_DEFAULTS.description,
      maximumRetryAttempts: fn.maximumRetryAttempts ?? FUNCTION_DEFAULTS.maximumRetryAttempts,
      maximumEventAge: fn.maximumEventAge ?? FUNCTION_DEFAULTS.maximumEventAge,
      ...(fn.recursiveLoop === undefined ? {} : { recursiveLoop: fn.recursiveLoop }),
      ...asyncTargets(fnRaw, name),
    });
    return Object.freeze({
      name,
      sourceRuntime,
      config,
      events: deepFreeze(Array.isArray(fnRaw.events) ? [...(fnRaw.events as unknown[])] : []),
      package: Object.freeze({
        include: Object.freeze([...topPackage.include, ...fnPackage.include]),
        exclude: Object.freeze([...topPackage.exclude, ...fnPackage.exclude]),
      }),
    });
  });
  return Object.freeze({
    app,
    file,
    flavour,
    functions: Object.freeze(functions),
    resources: compileResources(raw.resources),
    gateway: compileGateway(raw.gateway, functions, flavour),
    workflows: deepFreeze(workflows),
    warnings: Object.freeze(warnings),
  });
}

function functionOrder(doc: Document, names: string[]): string[] {
  const functions = doc.get('functions', true) as { items?: { key: unknown }[] } | undefined;
  const written = (functions?.items ?? []).map((p) => String((p.key as { value?: unknown })?.value));
  const known = new Set(names);
  const ordered = written.filter((n) => known.has(n));
  return ordered.length === names.length ? ordered : names;
}

function packagePatterns(pkg: RawFunction['package']): PackagePatterns {
  const include = [...(pkg?.include ?? [])];
  const exclude = [...(pkg?.exclude ?? [])];
  for (const pattern of pkg?.patterns ?? []) {
    if (pattern.startsWith('!')) exclude.push(pattern.slice(1));
    else include.push(pattern);
  }
  return { include, exclude };
}

// CloudFormation sections of a serverless.yml were warned about by the checks and are dropped here.
function compileResources(resources: unknown): AppResources {
  const kinds: ResourceKind[] = ['buckets', 'queues', 'tables', 'topics'];
  const source = isMapping(resources) ? resources : {};
  const out = {} as Record<ResourceKind, Record<string, Record<string, unknown>>>;
  for (const kind of kinds) {
    const value = source[kind];
    const entries: Record<string, Record<string, unknown>> = {};
    if (Array.isArray(value)) for (const name of value) entries[String(name)] = {};
    else if (isMapping(value)) {
      for (const [name, options] of Object.entries(value)) entries[name] = isMapping(options) ? options : {};
    }
    out[kind] = entries;
  }
  return deepFreeze(out);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
