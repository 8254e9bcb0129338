// The tables part of deploys: create declared tables (keys can't change) and enable their streams.
// The functions' `table`/`stream` events are the table triggers' own hook
// (src/events/tables/table-trigger-deploy.ts): a resource knows nothing of its consumers.

import type { AppDeployHook, AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { isNimbusError, NimbusError } from '../../errors.js';
import type { DocumentStore } from '../../store/ports/documents.js';
import { describeKey, parseTableSpec, sameKeySchema } from './table-config.js';
import type { TableSpec, TableSpecInput } from './table-config.js';

/** The declared tables of `spec`; table errors become InvalidParameterValueException (a refused deploy). */
export function declaredTables(spec: AppEventSpec): TableSpec[] {
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
  return tables;
}

/** Creates the declared tables that are missing and enables the streams they declare. */
async function createTables(spec: AppEventSpec, store: DocumentStore): Promise<void> {
  for (const table of declaredTables(spec)) {
    await store.createTable(table);
    if (table.streamEnabled) await store.enableStream(table.name, table.streamViewType);
  }
}

/** The {@link AppDeployHook} of tables. */
export function createTableDeployHook(store: DocumentStore): AppDeployHook {
  return {
    async validate(spec) {
      for (const table of declaredTables(spec)) {
        const existing = await store.getTable(table.name);
        if (existing !== undefined && !sameKeySchema(existing, table)) {
          throw new NimbusError(
            'InvalidParameterValueException',
            `resources.tables.${table.name}: the table exists with partition key ${describeKey(existing.partitionKey)} and sort key ` +
              `${describeKey(existing.sortKey)}; keys can't change. Declare the same keys, or use a new table name.`,
          );
        }
      }
    },

    // In the deploy's transaction, through its document store.
    write: (spec, tx) => createTables(spec, tx.documents),
    apply: (spec) => createTables(spec, store),

    // Tables and their items stay when an app goes.
    removeApp: () => Promise.resolve(),
  };
}
