// `nimbus deploy`: load nimbus.yml, bundle each function, upload new code blobs, deploy the app.
import type { FunctionConfig } from '../../functions/function-model.js';
import type { ApiClient, DeployResponse } from '../api-client.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { expectPositionals } from '../command.js';
import { formatBytes, formatDuration, formatTable } from '../output.js';
import type { Output } from '../output.js';
import { Spinner } from '../spinner.js';

/** What {@link deployApp} did. */
export interface DeployOutcome {
  readonly response: DeployResponse;
  /** Functions whose code blob was uploaded (the others were already stored). */
  readonly uploaded: readonly string[];
  readonly elapsedMs: number;
  /** Config warnings (`file:line:col: …`) and bundler notes, for people to read. */
  readonly warnings: readonly string[];
}

interface PackedFunction {
  readonly name: string;
  readonly handler: string;
  readonly config: FunctionConfig;
  readonly bytes: Buffer;
  readonly sha256: string;
}

/**
 * Deploys the app in `dir`: validates nimbus.yml, bundles every function before anything is
 * uploaded (so a config or bundle error leaves the server untouched), uploads only blobs the
 * server lacks, then replaces the app's functions in one request (`prune: true`).
 */
export async function deployApp(dir: string, client: ApiClient, progress: Spinner): Promise<DeployOutcome> {
  const started = Date.now();
  // Loaded on demand: esbuild and the config schema are only needed by deploy and dev.
  const [{ loadAppConfig }, { bundleFunction }, { packBundle }] = await Promise.all([
    import('../../config/load-app-config.js'),
    import('../../deploy/bundler.js'),
    import('../../deploy/bundle-archive.js'),
  ]);
  const app = await loadAppConfig(dir);

  const { formatIssue } = await import('../../config/config-error.js');
  const warnings: string[] = app.warnings.map(formatIssue);
  const packed: PackedFunction[] = [];
  for (const fn of app.functions) {
    progress.start(`bundling ${fn.name}`);
    try {
      const bundle = await bundleFunction(dir, fn);
      warnings.push(...bundle.notes.map((note) => `${fn.name}: ${note}`));
      const { bytes, sha256 } = packBundle(bundle.files);
      packed.push({ name: fn.name, handler: bundle.handler, config: fn.config, bytes, sha256 });
    } catch (err) {
      progress.fail(`bundling ${fn.name} failed`);
      throw err;
    }
  }

  const uploaded: string[] = [];
  // Functions built from the same sources share a blob; check and send each blob once.
  const stored = new Set<string>();
  for (const fn of packed) {
    const size = formatBytes(fn.bytes.length);
    progress.start(`uploading ${fn.name} (${size})`);
    try {
      if (!stored.has(fn.sha256) && !(await client.hasCode(fn.sha256))) {
        await client.putCode(fn.sha256, fn.bytes);
        uploaded.push(fn.name);
        progress.succeed(`${fn.name}  ${size}  uploaded`);
      } else {
        progress.succeed(`${fn.name}  ${size}  unchanged`);
      }
      stored.add(fn.sha256);
    } catch (err) {
      progress.fail(`uploading ${fn.name} failed`);
      throw err;
    }
  }

  progress.start(`deploying ${app.app}`);
  let response: DeployResponse;
  try {
    response = await client.deploy(app.app, {
      functions: packed.map((fn) => ({
        name: fn.name,
        codeSha256: fn.sha256,
        codeSize: fn.bytes.length,
        config: { ...fn.config, handler: fn.handler },
        events: app.functions.find((f) => f.name === fn.name)?.events ?? [],
      })),
      prune: true,
      gateway: app.gateway,
      resources: app.resources,
    });
  } catch (err) {
    progress.fail(`deploying ${app.app} failed`);
    throw err;
  }
  progress.stop();
  return { response, uploaded, elapsedMs: Date.now() - started, warnings };
}

/**
 * Stops esbuild's helper process if bundling started it, so the CLI (and a test) can exit.
 * Bundling again later restarts it.
 */
export async function stopBundling(): Promise<void> {
  const { stopBundler } = await import('../../deploy/bundler.js');
  await stopBundler();
}

/** Prints the outcome of a deploy for people: one row per function, then a summary line. */
export function printDeploy(out: Output, outcome: DeployOutcome, err: Output = out): void {
  const { response } = outcome;
  for (const warning of outcome.warnings) err.line(`${err.style('yellow', 'warning')} ${warning}`);
  for (const line of formatTable(out, response.functions, [
    { header: 'function', value: (f) => f.fullName, style: 'bold' },
    { header: 'version', value: (f) => f.version },
    { header: 'code', value: (f) => f.codeSha256.slice(0, 12) },
  ])) {
    out.line(line);
  }
  const count = response.functions.length;
  out.line(
    `${out.style('green', '✓')} deployed ${out.style('bold', response.app)}: ` +
      `${count} function${count === 1 ? '' : 's'} in ${formatDuration(outcome.elapsedMs)}`,
  );
}

/** `nimbus deploy`. */
export const deployCommand: CommandSpec = {
  name: 'deploy',
  summary: 'Bundle and deploy the app in a directory (default .)',
  usage: ['deploy [dir]'],
  options: {},
  details: 'Reads nimbus.yml (or serverless.yml); functions no longer in it are removed.',
  async run(ctx: CommandContext, args) {
    const [dir = '.'] = expectPositionals(deployCommand, args, ['dir?']);
    const progress = new Spinner(ctx.stderr);
    let outcome: DeployOutcome;
    try {
      outcome = await deployApp(ctx.resolvePath(dir), ctx.client(), progress);
    } finally {
      progress.stop();
      await stopBundling();
    }
    if (ctx.globals.json) ctx.stdout.json(outcome.response);
    else printDeploy(ctx.stdout, outcome, ctx.stderr);
    return 0;
  },
};
