// The tables part of deploys: create declared tables (keys can't change), enable streams, and
// replace the app's table triggers.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { isNimbusError, NimbusError } from '../../errors.js';
import { parseTableTriggers } from '../../events/tables/table-triggers.js';
import type { DocumentStore, TableTriggerInput } from '../../store/ports/documents.js';
import { describeKey, parseTableSpec, sameKeySchema } from './table-config.js';
import type { TableSpec, TableSpecInput } from './table-config.js';

interface Plan {
  readonly tables: TableSpec[];
  readonly triggers: TableTriggerInput[];
}

/** Parses the spec; table errors become InvalidParameterValueException (a refused deploy). */
function plan(spec: AppEventSpec): Plan & { readonly wheres: Map<TableTriggerInput, string> } {
  const tables: TableSpec[] = [];
  for (const [name, options] of Object.entries(spec.resources.tables ?? {})) {
    try {
      tables.push(parseTableSpec(name, options as TableSpecInput, `resources.tables.${name}`, spec.app));
    } catch (err) {
      if (isNimbusError(err) && err.code === 'ValidationException') {
        throw new NimbusError('InvalidParameterValueException', err.message);
      }
      throw err;
    }
  }
  const triggers: TableTriggerInput[] = [];
  const wheres = new Map<TableTriggerInput, string>();
  for (const fn of spec.functions) {
    for (const { where, ...trigger } of parseTableTriggers(spec.app, fn)) {
      triggers.push(trigger);
      wheres.set(trigger, where);
    }
  }
  return { tables, triggers, wheres };
}

/** The {@link AppDeployHook} of tables; `refresh` restarts pollers after a change. */
export function createTableDeployHook(store: DocumentStore, refresh: () => Promise<void>): AppDeployHook {
  return {
    async validate(spec) {
      const { tables, triggers, wheres } = plan(spec);
      for (const table of tables) {
        const existing = await store.getTable(table.name);
        if (existing !== undefined && !sameKeySchema(existing, table)) {
          throw new NimbusError(
            'InvalidParameterValueException',
            `resources.tables.${table.name}: the table exists with partition key ${describeKey(existing.partitionKey)} and sort key ` +
              `${describeKey(existing.sortKey)}; keys can't change. Declare the same keys, or use a new table name.`,
          );
        }
      }
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

    async apply(spec) {
      const { tables, triggers } = plan(spec);
      for (const table of tables) {
        await store.createTable(table);
        if (table.streamEnabled) await store.enableStream(table.name, table.streamViewType);
      }
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
