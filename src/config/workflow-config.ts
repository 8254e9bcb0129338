// nimbus.yml's `workflows:` and serverless.yml's `stepFunctions.stateMachines`: shape checks,
// definition files read, CloudFormation function references resolved, and each definition run
// through the deploy hook's own resolution and validation, with errors at file:line.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { NAME_PATTERN } from '../functions/function-model.js';
import type { WorkflowType } from '../store/ports/workflows.js';
import { resolveWorkflow, type AppWorkflowSpec } from '../workflow/app-workflows.js';
import type { ConfigFlavour } from './app-config.js';
import { isMapping, type CheckResult } from './app-config-checks.js';
import type { ConfigIssue } from './config-error.js';
import { closestMatch } from './suggest-key.js';
import { describeValue, formatPath, locate, toPosition, type ConfigPath } from './yaml-locations.js';

const NIMBUS_KEYS = ['definition', 'type', 'events'];
// serverless-step-functions keys that configure AWS around the machine: accepted, warned.
const PLUGIN_AWS_KEYS = [
  'id',
  'role',
  'loggingConfig',
  'tracingConfig',
  'alarms',
  'notifications',
  'tags',
  'dependsOn',
  'useExactVersion',
  'retain',
];
const PLUGIN_KEYS = ['definition', 'type', 'name', 'events', ...PLUGIN_AWS_KEYS];
const JSON_FILE = /\.json$/i;
const YAML_FILE = /\.ya?ml$/i;

/** Where an app's workflows are written: nimbus.yml `workflows`, or the plugin's block. */
function sections(raw: Record<string, unknown>, flavour: ConfigFlavour): Array<[ConfigPath, unknown]> {
  const out: Array<[ConfigPath, unknown]> = [];
  if (raw.workflows !== undefined && raw.workflows !== null) out.push([['workflows'], raw.workflows]);
  if (flavour === 'serverless' && isMapping(raw.stepFunctions)) {
    const machines = raw.stepFunctions.stateMachines;
    if (machines !== undefined && machines !== null) {
      out.push([['stepFunctions', 'stateMachines'], machines]);
    }
  }
  return out;
}

/** Shape checks of the workflow sections (errors), and warnings for what is accepted but ignored. */
export function checkWorkflowSections(
  raw: Record<string, unknown>,
  flavour: ConfigFlavour,
  out: CheckResult,
): void {
  if (flavour === 'serverless' && raw.stepFunctions !== undefined && raw.stepFunctions !== null) {
    if (!isMapping(raw.stepFunctions)) {
      out.errors.push({
        path: ['stepFunctions'],
        message: `stepFunctions must be a mapping with \`stateMachines:\`; got ${describeValue(raw.stepFunctions)}`,
      });
    } else {
      for (const key of Object.keys(raw.stepFunctions)) {
        if (key === 'stateMachines') continue;
        out.warnings.push({
          path: ['stepFunctions', key],
          target: 'key',
          message: `stepFunctions.${key} is accepted but ignored: Nimbus deploys stepFunctions.stateMachines only`,
        });
      }
    }
  }
  for (const [path, value] of sections(raw, flavour)) {
    const plugin = path[0] === 'stepFunctions';
    if (!isMapping(value)) {
      out.errors.push({
        path,
        message: `${formatPath(path)} must be a mapping of name → { definition: <file.asl.json> }; got ${describeValue(value)}`,
      });
      continue;
    }
    for (const [name, wf] of Object.entries(value)) {
      const at = [...path, name];
      if (!NAME_PATTERN.test(name)) {
        out.errors.push({
          path: at,
          target: 'key',
          message: `workflow name ${JSON.stringify(name)} must be 1-64 letters, digits, dashes or underscores`,
        });
      }
      if (!isMapping(wf)) {
        out.errors.push({
          path: at,
          message: `${formatPath(at)} must be a mapping such as \`{ definition: workflows/${name}.asl.json }\`; got ${describeValue(wf)}`,
        });
        continue;
      }
      checkWorkflowKeys(wf, at, plugin, out);
    }
  }
}

function checkWorkflowKeys(
  wf: Record<string, unknown>,
  at: ConfigPath,
  plugin: boolean,
  out: CheckResult,
): void {
  const known = plugin ? PLUGIN_KEYS : NIMBUS_KEYS;
  for (const key of Object.keys(wf)) {
    if (!known.includes(key)) {
      const guess = closestMatch(key, known);
      out.errors.push({
        path: [...at, key],
        target: 'key',
        message: `unknown key \`${key}\` in ${formatPath(at)}; ${guess ? `did you mean \`${guess}\`?` : `valid keys: ${known.join(', ')}`}`,
      });
    } else if (PLUGIN_AWS_KEYS.includes(key)) {
      out.warnings.push({
        path: [...at, key],
        target: 'key',
        message: `${formatPath([...at, key])} only means something on AWS; Nimbus ignores it`,
      });
    }
  }
  if (wf.events !== undefined) {
    out.warnings.push({
      path: [...at, 'events'],
      target: 'key',
      message: `${formatPath([...at, 'events'])} is accepted but ignored: triggers that start executions are not built yet; start them with \`nimbus workflows start\` or the Step Functions API`,
    });
  }
  if (wf.definition === undefined || wf.definition === null) {
    out.errors.push({
      path: at,
      message: `${formatPath(at)} needs \`definition:\`, a file (\`workflows/x.asl.json\`) or an inline ASL mapping`,
    });
  } else if (typeof wf.definition !== 'string' && !isMapping(wf.definition)) {
    out.errors.push({
      path: [...at, 'definition'],
      message: `${formatPath(at)}.definition must be a file path or an inline ASL mapping; got ${describeValue(wf.definition)}`,
    });
  } else if (plugin && typeof wf.definition === 'string') {
    out.errors.push({
      path: [...at, 'definition'],
      message: `${formatPath(at)}.definition must be an inline ASL mapping (the plugin's \`\${file(...)}\` is not resolved); or move the machine to nimbus.yml's \`workflows: { ${String(at[at.length - 1])}: { definition: <file> } }\``,
    });
  }
  if (wf.type !== undefined && typeOf(wf.type) === undefined) {
    out.errors.push({
      path: [...at, 'type'],
      message: `${formatPath([...at, 'type'])} must be standard or express; got ${describeValue(wf.type)}`,
    });
  }
  if (plugin && wf.name !== undefined && (typeof wf.name !== 'string' || !NAME_PATTERN.test(wf.name))) {
    out.errors.push({
      path: [...at, 'name'],
      message: `${formatPath([...at, 'name'])} must be 1-64 letters, digits, dashes or underscores; got ${describeValue(wf.name)}`,
    });
  }
}

function typeOf(value: unknown): WorkflowType | undefined {
  if (value === undefined) return 'STANDARD';
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return upper === 'STANDARD' || upper === 'EXPRESS' ? upper : undefined;
}

/** What {@link compileWorkflows} needs to read files and place issues. */
export interface WorkflowCompileInput {
  readonly raw: Record<string, unknown>;
  readonly flavour: ConfigFlavour;
  readonly app: string;
  /** The app's function names. */
  readonly functions: readonly string[];
  /** The config file's path (definition files are relative to its directory). */
  readonly file: string;
  /** The config file as messages name it. */
  readonly display: string;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
}

/**
 * The app's workflows, definitions read and checked as the deploy hook checks them (unknown
 * functions, every ASL error), each issue at the definition's file:line. Runs after the shape
 * checks passed.
 */
export function compileWorkflows(input: WorkflowCompileInput): {
  readonly workflows: Record<string, AppWorkflowSpec>;
  readonly issues: ConfigIssue[];
} {
  const workflows: Record<string, AppWorkflowSpec> = {};
  const issues: ConfigIssue[] = [];
  const inMain = (path: ConfigPath, message: string, target: 'key' | 'value' = 'value'): ConfigIssue => ({
    file: input.display,
    ...locate(input.doc, input.lineCounter, path, target),
    path: formatPath(path),
    message,
  });
  const functions = new Set(input.functions);
  for (const [sectionPath, section] of sections(input.raw, input.flavour)) {
    if (!isMapping(section)) continue;
    for (const [key, wf] of Object.entries(section)) {
      if (!isMapping(wf)) continue;
      const at = [...sectionPath, key];
      if (workflows[key] !== undefined) {
        issues.push(
          inMain(
            at,
            `workflow \`${key}\` is declared twice (workflows and stepFunctions); rename one`,
            'key',
          ),
        );
        continue;
      }
      const source = definitionSource(wf.definition, at, input, inMain);
      if ('issue' in source) {
        issues.push(source.issue);
        continue;
      }
      const resolvedRefs = resolveIntrinsics(source.definition, functions, '');
      const spec: AppWorkflowSpec = {
        type: typeOf(wf.type) ?? 'STANDARD',
        definition: resolvedRefs.value as Record<string, unknown>,
        ...(source.file === undefined ? {} : { file: source.file }),
        ...(typeof wf.name === 'string' ? { name: wf.name } : {}),
      };
      const { problems } = resolveWorkflow(spec, {
        app: input.app,
        functions,
        // Placeholders: only the problems are used here; the server writes its own ARNs.
        region: 'local',
        accountId: '000000000000',
      });
      const all = [...resolvedRefs.problems, ...problems];
      for (const p of all) {
        const tokens = p.pointer === '' ? [] : p.pointer.slice(1).split('/').map(pathToken);
        const shown = `${formatPath(at)}: ${p.pointer || '/'}: ${p.message}`;
        if (source.file === undefined) issues.push(inMain([...at, 'definition', ...tokens], shown));
        else {
          issues.push({
            file: source.display!,
            ...locate(source.doc!, source.lineCounter!, tokens),
            path: formatPath(at),
            message: shown,
          });
        }
      }
      if (all.length === 0) workflows[key] = spec;
    }
  }
  return { workflows, issues };
}

interface DefinitionSource {
  readonly definition: Record<string, unknown>;
  /** The definition file as written in the config (undefined: inline). */
  readonly file?: string;
  readonly display?: string;
  readonly doc?: Document;
  readonly lineCounter?: LineCounter;
}

function definitionSource(
  definition: unknown,
  at: ConfigPath,
  input: WorkflowCompileInput,
  inMain: (path: ConfigPath, message: string) => ConfigIssue,
): DefinitionSource | { issue: ConfigIssue } {
  if (isMapping(definition)) return { definition };
  const written = String(definition);
  const where = [...at, 'definition'];
  if (!JSON_FILE.test(written) && !YAML_FILE.test(written)) {
    return {
      issue: inMain(
        where,
        `${formatPath(where)} must name a .asl.json, .asl.yaml, .json or .yaml file; got ${describeValue(written)}`,
      ),
    };
  }
  const path = isAbsolute(written) ? written : resolve(dirname(input.file), written);
  const display = isAbsolute(written) ? written : join(dirname(input.display), written);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      issue: inMain(
        where,
        code === 'ENOENT'
          ? `${formatPath(where)}: no file ${display}; the path is relative to ${input.display}`
          : `${formatPath(where)}: could not read ${display}: ${(err as Error).message}`,
      ),
    };
  }
  // The YAML parser reads JSON too, and gives positions for both.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [syntax] = doc.errors;
  const fileIssue = (offset: number, message: string): { issue: ConfigIssue } => ({
    issue: { file: display, ...toPosition(lineCounter, offset), path: formatPath(at), message },
  });
  if (syntax) {
    const kind = JSON_FILE.test(written) ? 'JSON' : 'YAML';
    return fileIssue(
      syntax.pos[0],
      `${formatPath(at)}: ${kind} syntax error: ${syntax.message.split('\n')[0]}`,
    );
  }
  const value: unknown = doc.toJS();
  if (!isMapping(value)) {
    return fileIssue(
      0,
      `${formatPath(at)}: ${display} must hold one ASL object with StartAt and States; got ${describeValue(value)}`,
    );
  }
  return { definition: value, file: written, display, doc, lineCounter };
}

// CloudFormation references to the app's functions (`Fn::GetAtt: [HelloLambdaFunction, Arn]`,
// `Ref`), as the serverless-step-functions plugin takes them, become the function's name; the
// deploy turns names into ARNs. Anything else cannot be resolved without CloudFormation.
function resolveIntrinsics(
  value: unknown,
  functions: ReadonlySet<string>,
  pointer: string,
): { value: unknown; problems: Array<{ pointer: string; message: string }> } {
  const problems: Array<{ pointer: string; message: string }> = [];
  const walk = (v: unknown, at: string): unknown => {
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${at}/${i}`));
    if (!isMapping(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'Fn::GetAtt' || keys[0] === 'Ref')) {
      const target = keys[0] === 'Ref' ? v.Ref : v['Fn::GetAtt'];
      const [logicalId, attribute] = Array.isArray(target)
        ? [target[0], target[1]]
        : typeof target === 'string' && keys[0] === 'Fn::GetAtt'
          ? target.split('.')
          : [target, undefined];
      const fn = typeof logicalId === 'string' ? functionOfLogicalId(logicalId, functions) : undefined;
      const attributeOk = keys[0] === 'Ref' || attribute === 'Arn';
      if (fn !== undefined && attributeOk) return fn;
      problems.push({
        pointer: at,
        message: `${keys[0]} ${JSON.stringify(target)} cannot be resolved without CloudFormation; Nimbus resolves only \`Fn::GetAtt: [<Function>LambdaFunction, Arn]\` and \`Ref\` of this app's functions: write the function's name instead`,
      });
      return v;
    }
    return Object.fromEntries(
      Object.entries(v).map(([k, item]) => [
        k,
        walk(item, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`),
      ]),
    );
  };
  return { value: walk(value, pointer), problems };
}

/** `HelloLambdaFunction` (Serverless's logical id of function `hello`), or the name itself. */
function functionOfLogicalId(id: string, functions: ReadonlySet<string>): string | undefined {
  if (functions.has(id)) return id;
  for (const name of functions) if (logicalId(name) === id) return name;
  return undefined;
}

// Serverless's normalisation: first letter upper-cased, `-` → `Dash`, `_` → `Underscore`.
function logicalId(name: string): string {
  const normalized = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

// A JSON pointer token as a config path segment: list indexes as numbers (what `locate` walks).
function pathToken(token: string): string | number {
  const text = token.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^(0|[1-9]\d*)$/.test(text) ? Number(text) : text;
}
