// Step Functions state machine actions: Create/Update/Describe/List/Delete, and
// ValidateStateMachineDefinition with AWS's diagnostics.

import { NimbusError } from '../../errors.js';
import type { WorkflowRecord, WorkflowType } from '../../store/ports/workflows.js';
import { parseDefinition } from '../../workflow/asl/index.js';
import { checkName } from '../../workflow/core/workflow-engine.js';
import { roleArnOf, SFN_API_APP, type SfnAction, type SfnActionContext } from './sfn-action-context.js';
import { SfnError } from './sfn-errors.js';
import {
  decodeToken,
  encodeToken,
  epochSeconds,
  optionalString,
  pageSize,
  requiredString,
  stateMachineArn,
  stateMachineDoesNotExist,
  stateMachineNameOf,
  type SfnInput,
} from './sfn-shapes.js';

/** `type` as given (STANDARD by default), or `ValidationException`. */
function machineType(input: SfnInput): WorkflowType {
  const t = optionalString(input, 'type') ?? 'STANDARD';
  if (t !== 'STANDARD' && t !== 'EXPRESS') {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value '${t}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS].`,
    );
  }
  return t;
}

/** The definition member as text (the SDK sends a string; a JSON object is accepted too). */
function definitionText(input: SfnInput, required: true): string;
function definitionText(input: SfnInput, required: false): string | undefined;
function definitionText(input: SfnInput, required: boolean): string | undefined {
  const d = input['definition'];
  if (d !== undefined && d !== null && typeof d === 'object') return JSON.stringify(d);
  return required ? requiredString(input, 'definition') : optionalString(input, 'definition');
}

/** Validates a name the way the engine does, answering `InvalidName`. */
function checkMachineName(name: string): void {
  try {
    checkName(name, 'state machine');
  } catch (err) {
    if (err instanceof NimbusError) throw new SfnError('InvalidName', `Invalid Name: ${err.message}`);
    throw err;
  }
}

/** The machine of a `stateMachineArn` member, or `StateMachineDoesNotExist`. */
export async function existingMachine(
  ctx: SfnActionContext,
  input: SfnInput,
  member = 'stateMachineArn',
): Promise<WorkflowRecord> {
  const arn = requiredString(input, member);
  const w = await ctx.engine.store.getWorkflow(stateMachineNameOf(ctx, arn));
  if (w === undefined || w.frontEnd !== 'asl') throw stateMachineDoesNotExist(arn);
  return w;
}

const LOGGING = { level: 'OFF', includeExecutionData: false } as const;
const TRACING = { enabled: false } as const;

/** DescribeStateMachine's answer for a machine (also DescribeStateMachineForExecution's core). */
export function describeMachine(ctx: SfnActionContext, w: WorkflowRecord): Record<string, unknown> {
  return {
    stateMachineArn: stateMachineArn(ctx, w.name),
    name: w.name,
    status: 'ACTIVE',
    definition: w.definition,
    roleArn: roleArnOf(ctx),
    type: w.type,
    creationDate: epochSeconds(w.createdAt),
    loggingConfiguration: LOGGING,
    tracingConfiguration: TRACING,
    revisionId: String(w.version),
  };
}

const createStateMachine: SfnAction = async (ctx, input) => {
  const name = requiredString(input, 'name');
  checkMachineName(name);
  const definition = definitionText(input, true);
  const type = machineType(input);
  // roleArn, loggingConfiguration, tracingConfiguration and tags are accepted and ignored.
  const arn = stateMachineArn(ctx, name);
  const existing = await ctx.engine.store.getWorkflow(name);
  if (existing !== undefined) {
    // AWS answers a repeated create with the same definition and type with the same machine.
    if (existing.definition === definition && existing.type === type && existing.frontEnd === 'asl') {
      return { stateMachineArn: arn, creationDate: epochSeconds(existing.createdAt) };
    }
    throw new SfnError(
      'StateMachineAlreadyExists',
      `State Machine Already Exists: '${arn}' with another definition or type; change it with UpdateStateMachine or pick another name.`,
    );
  }
  const w = await ctx.engine.putWorkflow({ name, app: SFN_API_APP, type, frontEnd: 'asl', definition });
  return { stateMachineArn: arn, creationDate: epochSeconds(w.createdAt) };
};

const updateStateMachine: SfnAction = async (ctx, input) => {
  const w = await existingMachine(ctx, input);
  const definition = definitionText(input, false);
  if (input['publish'] === true) {
    throw new SfnError(
      'ValidationException',
      'Nimbus does not publish state machine versions; call UpdateStateMachine without publish.',
    );
  }
  // Only the definition changes anything on Nimbus (roleArn, logging and tracing are ignored).
  const updated =
    definition === undefined || definition === w.definition
      ? w
      : await ctx.engine.putWorkflow({
          name: w.name,
          app: w.app,
          type: w.type,
          frontEnd: w.frontEnd,
          definition,
        });
  return { updateDate: epochSeconds(updated.updatedAt), revisionId: String(updated.version) };
};

const describeStateMachine: SfnAction = async (ctx, input) =>
  describeMachine(ctx, await existingMachine(ctx, input));

const listStateMachines: SfnAction = async (ctx, input) => {
  const size = pageSize(input);
  const token = optionalString(input, 'nextToken');
  const after = token === undefined ? undefined : String(decodeToken('machines', token));
  const all = (await ctx.engine.store.listWorkflows())
    .filter((w) => w.frontEnd === 'asl' && (after === undefined || w.name > after))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = all.slice(0, size);
  return {
    stateMachines: page.map((w) => ({
      stateMachineArn: stateMachineArn(ctx, w.name),
      name: w.name,
      type: w.type,
      creationDate: epochSeconds(w.createdAt),
    })),
    ...(all.length > size ? { nextToken: encodeToken('machines', page.at(-1)!.name) } : {}),
  };
};

const deleteStateMachine: SfnAction = async (ctx, input) => {
  const arn = requiredString(input, 'stateMachineArn');
  const name = stateMachineNameOf(ctx, arn);
  // Idempotent as on AWS: deleting a machine that is gone succeeds. Its executions stay.
  const w = await ctx.engine.store.getWorkflow(name);
  if (w !== undefined && w.frontEnd === 'asl') await ctx.engine.store.deleteWorkflow(name);
  return {};
};

const validateStateMachineDefinition: SfnAction = async (_ctx, input) => {
  const definition = definitionText(input, true);
  machineType(input);
  const severity = optionalString(input, 'severity') ?? 'ERROR';
  if (severity !== 'ERROR' && severity !== 'WARNING') {
    throw new SfnError('ValidationException', `Value '${severity}' at 'severity' must be ERROR or WARNING.`);
  }
  const max = pageSize(input);
  const parsed = parseDefinition(definition);
  const all = parsed.diagnostics
    .filter((d) => severity === 'WARNING' || d.severity === 'ERROR')
    .map((d) => ({ severity: d.severity, code: d.code, message: d.message, location: d.location }));
  return {
    result: parsed.ok ? 'OK' : 'FAIL',
    diagnostics: all.slice(0, max),
    truncated: all.length > max,
  };
};

/** The state machine actions by name. */
export const MACHINE_ACTIONS: Readonly<Record<string, SfnAction>> = {
  CreateStateMachine: createStateMachine,
  UpdateStateMachine: updateStateMachine,
  DescribeStateMachine: describeStateMachine,
  ListStateMachines: listStateMachines,
  DeleteStateMachine: deleteStateMachine,
  ValidateStateMachineDefinition: validateStateMachineDefinition,
};
