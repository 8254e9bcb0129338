// `nimbus deploy`: load and check nimbus.yml, bundle each function, upload new code blobs, deploy
// the app (one transaction on the server).
import type { ApiClient, DeployFunctionRequest, DeployRequest, DeployResponse } from '../api-client.js';
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
  readonly bytes: Buffer;
  readonly sha256: string;
}

/** An app bundled and checked, ready to upload: nothing has been sent yet. */
export interface PreparedDeploy {
  readonly app: string;
  readonly packed: readonly PackedFunction[];
  /** The body of `POST /v1/apps/{app}/deploy`, already accepted by the server's request schema. */
  readonly request: DeployRequest;
  readonly warnings: readonly string[];
}

/**
 * Loads nimbus.yml, runs every check the server would run without its store (the config schema,
 * the services' parsers of resources and events, the deploy request schema) and bundles each
 * function, all before anything is uploaded: a config or bundle error leaves the server untouched.
 */
export async function prepareDeploy(dir: string, progress: Spinner): Promise<PreparedDeploy> {
  // Loaded on demand: esbuild and the config schema are only needed by deploy and dev.
  const [{ loadAppConfig }, { bundleFunction }, { packBundle }, { formatIssue }, requestSchema] =
    await Promise.all([
      import('../../config/load-app-config.js'),
      import('../../deploy/bundler.js'),
      import('../../deploy/bundle-archive.js'),
      import('../../config/config-error.js'),
      import('../../functions/function-config-schema.js'),
    ]);
  const app = await loadAppConfig(dir);
  const warnings: string[] = app.warnings.map(formatIssue);
  const packed: PackedFunction[] = [];
  const functions: DeployFunctionRequest[] = [];
  for (const fn of app.functions) {
    progress.start(`bundling ${fn.name}`);
    try {
      const bundle = await bundleFunction(dir, fn);
      warnings.push(...bundle.notes.map((note) => `${fn.name}: ${note}`));
      const { bytes, sha256 } = packBundle(bundle.files);
      packed.push({ name: fn.name, bytes, sha256 });
      functions.push({
        name: fn.name,
        codeSha256: sha256,
        codeSize: bytes.length,
        config: { ...fn.config, handler: bundle.handler },
        events: fn.events,
      });
    } catch (err) {
      progress.fail(`bundling ${fn.name} failed`);
      throw err;
    }
  }
  const request: DeployRequest = {
    functions,
    prune: true,
    gateway: app.gateway,
    resources: app.resources,
    workflows: app.workflows,
  };
  // The server's own schema of the request (limits such as 200 functions, config ranges).
  requestSchema.parseWith(requestSchema.deployRequestSchema, request, `deploy of app '${app.app}'`);
  return { app: app.app, packed, request, warnings };
}

/** Uploads the blobs the server lacks (each once). @returns the functions whose blob was sent. */
export async function uploadCode(
  prepared: PreparedDeploy,
  client: ApiClient,
  progress: Spinner,
): Promise<string[]> {
  const uploaded: string[] = [];
  // Functions built from the same sources share a blob; check and send each blob once.
  const stored = new Set<string>();
  for (const fn of prepared.packed) {
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
  return uploaded;
}

/**
 * Deploys the app in `dir`: {@link prepareDeploy} (every check, every bundle), then uploads only
 * blobs the server lacks, then replaces the app's functions, routes, resources and triggers in
 * one request (`prune: true`), which the server applies in one transaction.
 */
export async function deployApp(dir: string, client: ApiClient, progress: Spinner): Promise<DeployOutcome> {
  const started = Date.now();
  const prepared = await prepareDeploy(dir, progress);
  const uploaded = await uploadCode(prepared, client, progress);
  progress.start(`deploying ${prepared.app}`);
  let response: DeployResponse;
  try {
    response = await client.deploy(prepared.app, prepared.request);
  } catch (err) {
    progress.fail(`deploying ${prepared.app} failed`);
    throw err;
  }
  progress.stop();
  return { response, uploaded, elapsedMs: Date.now() - started, warnings: prepared.warnings };
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
