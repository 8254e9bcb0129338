// An app's declared workflows (nimbus.yml `workflows:`, serverless.yml `stepFunctions`): Task
// function references resolved to the app's function ARNs, then validated. One code path for the
// CLI's checks before upload and the deploy hook on the server, so both refuse the same things.

import { lambdaName } from '../functions/function-model.js';
import type { WorkflowType } from '../store/ports/workflows.js';
import { parseDefinition } from './asl/index.js';

/** One workflow of a deploy, as the CLI sends it (definition files already read). */
export interface AppWorkflowSpec {
  readonly type: WorkflowType;
  /** The ASL definition as an object (read from its file, or written inline). */
  readonly definition: Readonly<Record<string, unknown>>;
  /** Where the definition was written, for messages (`workflows/pipeline.asl.json`). */
  readonly file?: string | undefined;
  /** The stored name (serverless.yml's `name:`). @default `<app>-<key>` */
  readonly name?: string | undefined;
}

/** A problem with one workflow's definition, at a JSON pointer inside the definition. */
export interface WorkflowProblem {
  /** JSON pointer (RFC 6901) into the definition, e.g. `/States/Work/Resource` (`` for the root). */
  readonly pointer: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/** What the resolution needs to know about the app and the node. */
export interface ResolveContext {
  readonly app: string;
  /** The app's function names (inside the app); undefined when unknown (a partial deploy). */
  readonly functions: ReadonlySet<string> | undefined;
  readonly region: string;
  readonly accountId: string;
}

/** The stored name of workflow `key` of `app`: `<app>-<key>` as for functions, or its own `name`. */
export function workflowName(app: string, key: string, spec: Pick<AppWorkflowSpec, 'name'>): string {
  return spec.name ?? lambdaName(app, key);
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_ARN = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(?::(.+))?$/;
const SUFFIX = /\.(waitForTaskToken|sync(:2)?)$/;

/**
 * The definition with every Task's function reference turned into this app's function ARN
 * (`work`, `arn:aws:lambda:…:function:work`, lambda:invoke's `FunctionName`), as JSON text,
 * and every problem: references to functions the app does not have, then the ASL validator's
 * errors. Empty `problems`: the definition deploys as it is.
 */
export function resolveWorkflow(
  spec: AppWorkflowSpec,
  ctx: ResolveContext,
): { readonly definition: string; readonly problems: readonly WorkflowProblem[] } {
  const problems: WorkflowProblem[] = [];
  const copy = structuredClone(spec.definition) as Record<string, unknown>;
  resolveStates(copy, '', ctx, problems);
  const definition = JSON.stringify(copy);
  const parsed = parseDefinition(copy);
  const seen = new Set(problems.map((p) => p.pointer));
  for (const d of parsed.diagnostics) {
    // A reference already reported (an unknown function) would read twice otherwise.
    if (d.severity !== 'ERROR' || seen.has(d.location)) continue;
    problems.push({ pointer: d.location, message: `${d.code}: ${d.message}` });
  }
  return { definition, problems };
}

/** `file: /States/X: message` lines: how a deploy names each problem. */
export function describeProblems(
  key: string,
  spec: AppWorkflowSpec,
  problems: readonly WorkflowProblem[],
): string {
  const where = spec.file === undefined ? `workflows.${key}.definition` : spec.file;
  const list = problems.map((p) => `${where} at ${p.pointer || '/'}: ${p.message}`).join('; ');
  return `Workflow '${key}' is invalid and nothing was deployed: ${list}. Fix the definition and deploy again (\`nimbus deploy\` checks it before uploading).`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Walks a machine's States, and the machines nested in Parallel branches and Map processors.
function resolveStates(
  machine: unknown,
  base: string,
  ctx: ResolveContext,
  problems: WorkflowProblem[],
): void {
  if (!isObject(machine) || !isObject(machine.States)) return;
  for (const [stateName, state] of Object.entries(machine.States)) {
    if (!isObject(state)) continue;
    const at = `${base}/States/${escapePointer(stateName)}`;
    if (state.Type === 'Task') resolveTask(state, stateName, at, ctx, problems);
    if (Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, i) => resolveStates(branch, `${at}/Branches/${i}`, ctx, problems));
    }
    for (const field of ['ItemProcessor', 'Iterator']) {
      if (isObject(state[field])) resolveStates(state[field], `${at}/${field}`, ctx, problems);
    }
  }
}

function resolveTask(
  state: Record<string, unknown>,
  stateName: string,
  at: string,
  ctx: ResolveContext,
  problems: WorkflowProblem[],
): void {
  const resource = state.Resource;
  if (typeof resource !== 'string') return; // The validator reports it.
  const suffix = SUFFIX.exec(resource)?.[0] ?? '';
  const base = resource.slice(0, resource.length - suffix.length);
  if (base === LAMBDA_INVOKE) {
    // JSONPath's Parameters or JSONata's Arguments; `FunctionName.$` and `{% %}` are dynamic.
    for (const field of ['Parameters', 'Arguments']) {
      const args = state[field];
      if (!isObject(args) || typeof args.FunctionName !== 'string') continue;
      if (args.FunctionName.trim().startsWith('{%')) continue;
      const arn = functionArn(args.FunctionName, stateName, ctx);
      if (typeof arn === 'string') args.FunctionName = arn;
      else problems.push({ pointer: `${at}/${field}/FunctionName`, message: arn.problem });
    }
    return;
  }
  // Service integrations (states, sqs, sns, dynamodb, aws-sdk) and activities stay as written.
  if (base.startsWith('arn:') && !LAMBDA_ARN.test(base)) return;
  const arn = functionArn(base, stateName, ctx);
  if (typeof arn === 'string') state.Resource = arn + suffix;
  else problems.push({ pointer: `${at}/Resource`, message: arn.problem });
}

// `work`, `work:live`, `<app>-work` or a Lambda ARN of either → this app's function ARN.
function functionArn(ref: string, stateName: string, ctx: ResolveContext): string | { problem: string } {
  const arn = LAMBDA_ARN.exec(ref);
  const [name, qualifier] = arn ? [arn[1]!, arn[2]] : [ref.split(':')[0]!, ref.split(':')[1]];
  const prefix = `${ctx.app}-`;
  let fullName: string | undefined;
  if (ctx.functions === undefined) {
    fullName = name.startsWith(prefix) ? name : lambdaName(ctx.app, name);
  } else if (ctx.functions.has(name)) {
    fullName = lambdaName(ctx.app, name);
  } else if (name.startsWith(prefix) && ctx.functions.has(name.slice(prefix.length))) {
    fullName = name;
  }
  if (fullName === undefined) {
    const known = [...(ctx.functions ?? [])].sort();
    return {
      problem: `Task state '${stateName}' names function '${name}', which is not a function of app '${ctx.app}'; name one of its functions (${known.join(', ') || 'none declared'}) or declare '${name}' under \`functions:\``,
    };
  }
  const q = qualifier === undefined || qualifier === '' ? '' : `:${qualifier}`;
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${fullName}${q}`;
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
