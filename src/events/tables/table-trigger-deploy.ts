// The table triggers' part in deploys: the functions' `table`/`stream` events, validated against
// the tables the app declares or that exist, stored (turning the table's stream on), and synced.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import { declaredTables } from '../../services/tables/table-deploy-hook.js';
import type { DocumentStore, TableTriggerInput } from '../../store/ports/documents.js';
import { parseTableTriggers } from './table-triggers.js';

/** The triggers of `spec`, validated, with where each was written. */
function plan(spec: AppEventSpec): { triggers: TableTriggerInput[]; wheres: Map<TableTriggerInput, string> } {
  const triggers: TableTriggerInput[] = [];
  const wheres = new Map<TableTriggerInput, string>();
  for (const fn of spec.functions) {
    for (const { where, ...trigger } of parseTableTriggers(spec.app, fn)) {
      triggers.push(trigger);
      wheres.set(trigger, where);
    }
  }
  return { triggers, wheres };
}

/** Replaces the app's table triggers with those of `spec` (turning their streams on), through `store`. */
async function storeTriggers(spec: AppEventSpec, store: DocumentStore): Promise<void> {
  const { triggers } = plan(spec);
  // A trigger on a table turns its stream on (keeping a view type the table already has).
  for (const name of new Set(triggers.map((t) => t.table))) {
    const def = await store.getTable(name);
    if (def !== undefined && !def.streamEnabled) await store.enableStream(name, def.streamViewType);
  }
  await store.replaceTriggers(
    spec.app,
    triggers,
    spec.prune ? undefined : spec.functions.map((f) => f.fullName),
  );
}

/**
 * The {@link AppDeployHook} of table triggers (listed after the tables' own hook, which creates
 * the tables); `refresh` restarts pollers after a change.
 */
export function createTableTriggerDeployHook(
  store: DocumentStore,
  refresh: () => Promise<void>,
): AppDeployHook {
  return {
    async validate(spec) {
      const tables = declaredTables(spec);
      const { triggers, wheres } = plan(spec);
      for (const trigger of triggers) {
        if (tables.some((t) => t.name === trigger.table)) continue;
        if ((await store.getTable(trigger.table)) !== undefined) continue;
        throw new NimbusError(
          'InvalidParameterValueException',
          `${wheres.get(trigger)}: table '${trigger.table}' does not exist; declare it under resources.tables ` +
            `(e.g. ${trigger.table}: { partitionKey: id }) or create it with \`nimbus tables create ${trigger.table} --pk id\`.`,
        );
      }
    },

    // In the deploy's transaction, through its document store; the pollers follow after the commit.
    write: (spec, tx) => storeTriggers(spec, tx.documents),
    afterCommit: () => refresh(),

    async apply(spec) {
      await storeTriggers(spec, store);
      await refresh();
    },

    async removeApp(app) {
      await store.deleteTriggers(app);
      await refresh();
    },

    async removeFunction(app, fullName) {
      await store.deleteTriggers(app, fullName);
      await refresh();
    },
  };
}
