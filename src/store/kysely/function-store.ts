// FunctionStore over Kysely: functions, their versions ($LATEST = seq 0) and aliases.

import type { Kysely, Selectable, Transaction } from 'kysely';
import { NimbusError, errors } from '../../errors.js';
import { LATEST, lambdaName } from '../../functions/function-model.js';
import type { Alias, FunctionConfig, FunctionVersion } from '../../functions/function-model.js';
import type { AppGatewaySpec } from '../../gateway/route-spec.js';
import type { DeployFunctionInput, FunctionStore } from '../store.js';
import type { AliasesTable, Database, FunctionVersionsTable } from './database.js';
import { dropEmptyAppGateway, replaceAppRoutes } from './route-store.js';

type Db = Kysely<Database> | Transaction<Database>;
type VersionRow = Selectable<FunctionVersionsTable>;
type Owner = { app: string; name: string };

/** `$LATEST` → 0, `"3"` → 3; anything else is not a version (undefined). */
function parseVersion(version: string): number | undefined {
  if (version === LATEST) return 0;
  return /^[1-9][0-9]{0,9}$/.test(version) ? Number(version) : undefined;
}

function versionName(seq: number): string {
  return seq === 0 ? LATEST : String(seq);
}

/**
 * JSON with object keys sorted at every level. Why: publish compares `$LATEST`'s config with the
 * last version's as text, and two equal configs built in a different key order must match.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function toVersion(owner: Owner, row: VersionRow): FunctionVersion {
  const parsed = JSON.parse(row.config) as FunctionConfig;
  const config: FunctionConfig = Object.freeze({
    ...parsed,
    environment: Object.freeze({ ...parsed.environment }),
    ...(row.description === null ? {} : { description: row.description }),
  });
  return {
    app: owner.app,
    name: owner.name,
    version: versionName(row.seq),
    codeSha256: row.code_sha256,
    codeSize: Number(row.code_size),
    config,
    createdAt: row.created_at,
  };
}

function toAlias(owner: Owner, row: Selectable<AliasesTable>): Alias {
  return {
    app: owner.app,
    functionName: owner.name,
    name: row.name,
    version: row.version,
    additionalVersion:
      row.additional_version === null
        ? undefined
        : { version: row.additional_version, weight: Number(row.additional_weight ?? 0) },
    description: row.description,
    updatedAt: row.updated_at,
  };
}

/** {@link FunctionStore} for any Kysely dialect whose schema matches {@link Database}. */
export class KyselyFunctionStore implements FunctionStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async deployApp(
    app: string,
    functions: readonly DeployFunctionInput[],
    options: { prune: boolean; gateway?: AppGatewaySpec | undefined },
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.#db.transaction().execute(async (trx) => {
      for (const fn of functions) {
        const fullName = lambdaName(app, fn.name);
        // Claim the full name for this app in one statement: the upsert only touches a row this
        // app already owns, so an empty RETURNING means another app holds the name.
        const owned = await trx
          .insertInto('functions')
          .values({ full_name: fullName, app, name: fn.name, created_at: now })
          .onConflict((oc) =>
            oc
              .column('full_name')
              .doUpdateSet((eb) => ({ name: eb.ref('excluded.name') }))
              .where('functions.app', '=', app),
          )
          .returning('full_name')
          .executeTakeFirst();
        if (owned === undefined) {
          const other = await trx
            .selectFrom('functions')
            .select('app')
            .where('full_name', '=', fullName)
            .executeTakeFirst();
          throw new NimbusError(
            'ResourceConflictException',
            `Function name '${fullName}' (app '${app}', function '${fn.name}') is already used by app ` +
              `'${other?.app ?? '?'}'; rename the function or the app, or remove it from app '${other?.app ?? '?'}'.`,
          );
        }
        await this.#putLatest(trx, fullName, fn, now);
      }
      if (options.prune) {
        let stale = trx.selectFrom('functions').select('full_name').where('app', '=', app);
        const keep = functions.map((fn) => lambdaName(app, fn.name));
        if (keep.length > 0) stale = stale.where('full_name', 'not in', keep);
        for (const row of await stale.execute()) await deleteFunctionRows(trx, row.full_name);
      }
      if (options.gateway) await replaceAppRoutes(trx, app, options.gateway, now);
      else await dropEmptyAppGateway(trx, app);
    });
  }

  /** Writes `$LATEST`, keeping its timestamp when neither code nor config changed. */
  async #putLatest(trx: Db, fullName: string, fn: DeployFunctionInput, now: string): Promise<void> {
    const config = canonicalJson(fn.config);
    const current = await trx
      .selectFrom('function_versions')
      .select(['code_sha256', 'code_size', 'config'])
      .where('function_name', '=', fullName)
      .where('seq', '=', 0)
      .executeTakeFirst();
    const values = { code_sha256: fn.codeSha256, code_size: fn.codeSize, config, created_at: now };
    if (current === undefined) {
      await trx
        .insertInto('function_versions')
        .values({ function_name: fullName, seq: 0, description: null, ...values })
        .execute();
    } else if (
      current.code_sha256 !== fn.codeSha256 ||
      Number(current.code_size) !== fn.codeSize ||
      current.config !== config
    ) {
      await trx
        .updateTable('function_versions')
        .set(values)
        .where('function_name', '=', fullName)
        .where('seq', '=', 0)
        .execute();
    }
  }

  async getVersion(fullName: string, version: string): Promise<FunctionVersion | undefined> {
    const seq = parseVersion(version);
    if (seq === undefined) return undefined;
    const row = await this.#db
      .selectFrom('function_versions as v')
      .innerJoin('functions as f', 'f.full_name', 'v.function_name')
      .selectAll('v')
      .select(['f.app', 'f.name'])
      .where('v.function_name', '=', fullName)
      .where('v.seq', '=', seq)
      .executeTakeFirst();
    return row === undefined ? undefined : toVersion(row, row);
  }

  async listFunctions(app?: string): Promise<FunctionVersion[]> {
    let query = this.#db
      .selectFrom('function_versions as v')
      .innerJoin('functions as f', 'f.full_name', 'v.function_name')
      .selectAll('v')
      .select(['f.app', 'f.name'])
      .where('v.seq', '=', 0)
      .orderBy('f.full_name');
    if (app !== undefined) query = query.where('f.app', '=', app);
    return (await query.execute()).map((row) => toVersion(row, row));
  }

  async listVersions(fullName: string): Promise<FunctionVersion[]> {
    const rows = await this.#db
      .selectFrom('function_versions as v')
      .innerJoin('functions as f', 'f.full_name', 'v.function_name')
      .selectAll('v')
      .select(['f.app', 'f.name'])
      .where('v.function_name', '=', fullName)
      .orderBy('v.seq')
      .execute();
    return rows.map((row) => toVersion(row, row));
  }

  async publishVersion(fullName: string, description?: string): Promise<FunctionVersion> {
    return this.#db.transaction().execute(async (trx) => {
      const owner = await lockFunction(trx, fullName);
      if (owner === undefined) throw errors.functionNotFound(fullName);
      const versions = trx.selectFrom('function_versions').selectAll().where('function_name', '=', fullName);
      const latest = await versions.where('seq', '=', 0).executeTakeFirstOrThrow();
      const top = await versions.where('seq', '>', 0).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      // As Lambda does: publishing an unchanged $LATEST returns the version it already equals.
      if (top !== undefined && top.code_sha256 === latest.code_sha256 && top.config === latest.config) {
        return toVersion(owner, top);
      }
      const row: VersionRow = {
        function_name: fullName,
        seq: (top?.seq ?? 0) + 1,
        code_sha256: latest.code_sha256,
        code_size: latest.code_size,
        config: latest.config,
        description: description ?? null,
        created_at: new Date().toISOString(),
      };
      await trx.insertInto('function_versions').values(row).execute();
      return toVersion(owner, row);
    });
  }

  async deleteFunction(fullName: string): Promise<boolean> {
    return this.#db.transaction().execute((trx) => deleteFunctionRows(trx, fullName));
  }

  async putAlias(fullName: string, alias: Omit<Alias, 'app' | 'functionName' | 'updatedAt'>): Promise<Alias> {
    return this.#db.transaction().execute(async (trx) => {
      const owner = await lockFunction(trx, fullName);
      if (owner === undefined) throw errors.functionNotFound(fullName);
      const wanted = [alias.version, ...(alias.additionalVersion ? [alias.additionalVersion.version] : [])];
      for (const version of wanted) {
        const seq = parseVersion(version);
        const found =
          seq !== undefined &&
          (await trx
            .selectFrom('function_versions')
            .select('seq')
            .where('function_name', '=', fullName)
            .where('seq', '=', seq)
            .executeTakeFirst()) !== undefined;
        if (!found) {
          throw new NimbusError(
            'ResourceNotFoundException',
            `Alias '${alias.name}' of function '${fullName}' points at version '${version}', which does not ` +
              `exist; publish it first (\`nimbus versions publish ${fullName}\`) or choose an existing version.`,
          );
        }
      }
      const row: Selectable<AliasesTable> = {
        function_name: fullName,
        name: alias.name,
        version: alias.version,
        additional_version: alias.additionalVersion?.version ?? null,
        additional_weight: alias.additionalVersion?.weight ?? null,
        description: alias.description,
        updated_at: new Date().toISOString(),
      };
      const { function_name: _f, name: _n, ...changes } = row;
      await trx
        .insertInto('aliases')
        .values(row)
        .onConflict((oc) => oc.columns(['function_name', 'name']).doUpdateSet(changes))
        .execute();
      return toAlias(owner, row);
    });
  }

  async getAlias(fullName: string, name: string): Promise<Alias | undefined> {
    const row = await this.#aliases(fullName).where('a.name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toAlias({ app: row.app, name: row.fn_name }, row);
  }

  async listAliases(fullName: string): Promise<Alias[]> {
    const rows = await this.#aliases(fullName).orderBy('a.name').execute();
    return rows.map((row) => toAlias({ app: row.app, name: row.fn_name }, row));
  }

  /** Aliases of one function joined with their owner (`fn_name` is the function's name in its app). */
  #aliases(fullName: string) {
    return this.#db
      .selectFrom('aliases as a')
      .innerJoin('functions as f', 'f.full_name', 'a.function_name')
      .selectAll('a')
      .select(['f.app', 'f.name as fn_name'])
      .where('a.function_name', '=', fullName);
  }

  async deleteAlias(fullName: string, name: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('aliases')
      .where('function_name', '=', fullName)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

/**
 * Locks a function's row for the rest of the transaction and returns its owner. Why a no-op
 * UPDATE rather than `SELECT ... FOR UPDATE`: it takes the row lock on PostgreSQL and the write
 * lock on SQLite with the same SQL, so concurrent publishes never compute the same next number.
 */
async function lockFunction(trx: Db, fullName: string): Promise<Owner | undefined> {
  return trx
    .updateTable('functions')
    .set((eb) => ({ app: eb.ref('app') }))
    .where('full_name', '=', fullName)
    .returning(['app', 'name'])
    .executeTakeFirst();
}

async function deleteFunctionRows(trx: Db, fullName: string): Promise<boolean> {
  await trx.deleteFrom('routes').where('function_name', '=', fullName).execute();
  await trx.deleteFrom('aliases').where('function_name', '=', fullName).execute();
  await trx.deleteFrom('function_versions').where('function_name', '=', fullName).execute();
  const result = await trx.deleteFrom('functions').where('full_name', '=', fullName).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
