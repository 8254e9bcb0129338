// The workflows' part in deploys: nimbus.yml's `workflows:` checked before anything is stored,
// written (and the ones the app no longer declares removed) in the deploy's one transaction.

import type { AppDeployHook, AppEventSpec } from '../deploy/app-deploy-hook.js';
import { NimbusError } from '../errors.js';
import type { Store } from '../store/store.js';
import { describeProblems, resolveWorkflow, workflowName, type AppWorkflowSpec } from './app-workflows.js';

/** Front end of the workflows a deploy declares (ASL state machines). */
const FRONT_END = 'asl';

/** What the hook needs: the store, and this node's region and account for the function ARNs. */
export interface WorkflowDeployHookDeps {
  readonly store: Store;
  readonly region: string;
  readonly accountId: string;
}

interface PlannedWorkflow {
  readonly name: string;
  readonly spec: AppWorkflowSpec;
  readonly definition: string;
}

/** The deploy hook of `workflows:`: validate, write through the deploy's transaction, prune. */
export function workflowDeployHook(deps: WorkflowDeployHookDeps): AppDeployHook {
  // Resolution and validation: the same code the CLI runs before uploading.
  const plan = (spec: AppEventSpec): PlannedWorkflow[] => {
    const functions = spec.prune ? new Set(spec.functions.map((f) => f.name)) : undefined;
    const ctx = { app: spec.app, functions, region: deps.region, accountId: deps.accountId };
    const out: PlannedWorkflow[] = [];
    const names = new Map<string, string>();
    for (const [key, wf] of Object.entries(spec.workflows ?? {})) {
      if (wf.type !== 'STANDARD' && wf.type !== 'EXPRESS') {
        throw new NimbusError(
          'InvalidParameterValueException',
          `Workflow '${key}' has type '${String(wf.type)}'; use STANDARD or EXPRESS.`,
        );
      }
      const name = workflowName(spec.app, key, wf);
      const other = names.get(name);
      if (other !== undefined) {
        throw new NimbusError(
          'InvalidParameterValueException',
          `Workflows '${other}' and '${key}' are both named '${name}'; give one of them another name.`,
        );
      }
      names.set(name, key);
      const { definition, problems } = resolveWorkflow(wf, ctx);
      if (problems.length > 0)
        throw new NimbusError('InvalidDefinition', describeProblems(key, wf, problems));
      out.push({ name, spec: wf, definition });
    }
    return out;
  };

  const write = async (spec: AppEventSpec, tx: Store): Promise<void> => {
    // An older client's deploy says nothing about workflows: the stored ones stay.
    if (spec.workflows === undefined) return;
    const planned = plan(spec);
    for (const wf of planned) {
      await tx.workflows.putWorkflow({
        name: wf.name,
        app: spec.app,
        type: wf.spec.type,
        frontEnd: FRONT_END,
        definition: wf.definition,
      });
    }
    if (!spec.prune) return;
    // Workflows the app no longer declares go (their executions' records stay, as on AWS).
    const keep = new Set(planned.map((w) => w.name));
    for (const stored of await tx.workflows.listWorkflows(spec.app)) {
      if (stored.frontEnd === FRONT_END && !keep.has(stored.name)) {
        await tx.workflows.deleteWorkflow(stored.name);
      }
    }
  };

  return {
    validate: (spec) => {
      plan(spec);
    },
    write,
    apply: (spec) => write(spec, deps.store),
    removeApp: async (app) => {
      for (const stored of await deps.store.workflows.listWorkflows(app)) {
        await deps.store.workflows.deleteWorkflow(stored.name);
      }
    },
  };
}
