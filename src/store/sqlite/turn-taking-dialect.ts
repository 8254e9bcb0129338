// Kysely's SQLite dialect with turn-taking: once store queries have held the event loop for a
// slice, the next query waits for the loop's next turn before it runs.

import { SqliteDialect } from 'kysely';
import type {
  CompiledQuery,
  DatabaseConnection,
  Driver,
  QueryCompiler,
  QueryResult,
  SqliteDialectConfig,
  TransactionSettings,
} from 'kysely';

/** How long store queries may run in one event-loop turn before the next one waits. */
export const DEFAULT_TURN_BUDGET_MS = 5;

// Captured at load: a test's fake timers must not be able to park the store.
const nextTurn = setImmediate;
const now = (): number => performance.now();

/** When the current turn's first query ran; undefined until a query runs in this turn. */
let turnStart: number | undefined;
let turnQueries = 0;
let maxTurnQueries = 0;

function endTurn(): void {
  turnStart = undefined;
  turnQueries = 0;
}

/**
 * Resolves when a query may run: at once while this turn's store work is within `budgetMs`,
 * else on a later turn. The turn is shared by every store in the process (there is one event
 * loop); a turn ends at the check phase (`setImmediate`), after the current task and its
 * microtasks.
 */
async function takeTurn(budgetMs: number): Promise<void> {
  for (;;) {
    if (turnStart === undefined) {
      turnStart = now();
      nextTurn(endTurn);
      break;
    }
    if (now() - turnStart < budgetMs) break;
    await new Promise<void>((resolve) => nextTurn(resolve));
  }
  turnQueries++;
  if (turnQueries > maxTurnQueries) maxTurnQueries = turnQueries;
}

/**
 * The most SQLite queries that ran in one event-loop turn since the last call (which resets it).
 * For tests: with a budget of 0 it is 1, whatever ran.
 */
export function takeMaxQueriesPerTurn(): number {
  const max = maxTurnQueries;
  maxTurnQueries = 0;
  return max;
}

/**
 * A {@link SqliteDialect} whose queries take turns with the rest of the event loop. Why:
 * better-sqlite3 is synchronous, so awaiting a query is a microtask and a chain of queries (a
 * deploy's transaction, sixty queue pollers starting at once) runs as one block: a 60-function
 * deploy held every other request for 60-80 ms after its transaction had committed, while its
 * new pollers made their first receives. Waiting before a query, not after, bounds a turn to the
 * budget plus one query however many callers are queued. On PostgreSQL every query waits on the
 * socket already.
 */
export class TurnTakingSqliteDialect extends SqliteDialect {
  readonly #budgetMs: number;

  /** @param budgetMs store time per turn; 0 gives every query a turn of its own (tests). */
  constructor(config: SqliteDialectConfig, budgetMs = DEFAULT_TURN_BUDGET_MS) {
    super(config);
    this.#budgetMs = budgetMs;
  }

  override createDriver(): Driver {
    return new TurnTakingDriver(super.createDriver(), this.#budgetMs);
  }
}

class TurnTakingDriver implements Driver {
  readonly #inner: Driver;
  readonly #budgetMs: number;
  readonly #wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver, budgetMs: number) {
    this.#inner = inner;
    this.#budgetMs = budgetMs;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    let wrapped = this.#wrapped.get(connection);
    if (wrapped === undefined) {
      const budgetMs = this.#budgetMs;
      wrapped = {
        async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
          await takeTurn(budgetMs);
          return connection.executeQuery<R>(query);
        },
        streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
          return connection.streamQuery<R>(query, chunkSize);
        },
      };
      this.#wrapped.set(connection, wrapped);
    }
    return wrapped;
  }

  // The inner driver runs BEGIN/COMMIT/savepoints through the connection it is given: ours.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.savepoint?.(connection, name, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, name, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, name, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
