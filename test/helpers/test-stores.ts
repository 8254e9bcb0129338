// Test stores: run a block of tests once per store backend, each test on its own fresh database.
//
// Usage (any test file that needs a Store):
//
//   import { test } from 'node:test';
//   import { installLeakGuard } from '../helpers/leak-guard.js';
//   import { forEachStore } from '../helpers/test-stores.js';
//
//   installLeakGuard();
//   forEachStore((name, open) => {
//     test('remembers a setting', async () => {
//       const store = await open(); // new, empty, migrated database; closed and dropped after the file
//       await store.settings.set('k', 'v');
//     });
//   });
//
// - Which backends: env NIMBUS_TEST_STORES, comma-separated, default "sqlite,postgres".
// - PostgreSQL server: env NIMBUS_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test.
// - Each forEachStore block is a `describe(<name>)`; its `after` hook closes every store opened
//   through it and deletes what it created. SQLite: one temp directory per file (one .db per
//   open()), removed after. PostgreSQL: one schema per open(), named
//   nimbus_t_<hash of test file + pid>_<counter>, dropped after.
// - `open()` always gives an empty database. To open the same database twice (reopen after a
//   crash, two "nodes", a child process), reserve a location with `stores.target()` and pass it
//   to `stores.openAt(target)` or to `openStore(target)` in the child.
// - You may close stores yourself (close is idempotent); you must not delete the databases.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';

/** A store backend the tests can run against. */
export type TestStoreName = 'sqlite' | 'postgres';

/** Where a test database lives: exactly the options {@link openStore} takes. */
export interface TestStoreTarget {
  readonly url: string;
  readonly schema?: string | undefined;
}

/** The per-backend handle {@link forEachStore} passes to its callback. */
export interface TestStores {
  readonly name: TestStoreName;
  /** Opens a store on a new, empty database. */
  open(): Promise<Store>;
  /** Reserves a new, empty database location without opening it; deleted after the file. */
  target(): TestStoreTarget;
  /** Opens a(nother) store on a reserved location; closed after the file. */
  openAt(target: TestStoreTarget): Promise<Store>;
}

/** Backends selected by NIMBUS_TEST_STORES. @default ['sqlite', 'postgres'] */
export function selectedTestStores(): TestStoreName[] {
  const raw = process.env['NIMBUS_TEST_STORES'] ?? 'sqlite,postgres';
  const names = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const n of names) {
    if (n !== 'sqlite' && n !== 'postgres') {
      throw new Error(
        `NIMBUS_TEST_STORES: unknown store '${n}'; use sqlite, postgres or both (comma-separated)`,
      );
    }
  }
  return [...new Set(names)] as TestStoreName[];
}

/** The PostgreSQL server tests use. @default postgres://postgres@127.0.0.1:5432/test */
export function testPgUrl(): string {
  return process.env['NIMBUS_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
}

// Why file + pid: node --test runs each file in its own process, and two people (or two CI
// jobs) may run the same file at once against one server; the pid keeps their schemas apart.
const fileTag = createHash('sha256')
  .update(`${process.argv[1] ?? 'unknown'}:${process.pid}`)
  .digest('hex')
  .slice(0, 12);
let counter = 0;

class TestStoresImpl implements TestStores {
  readonly name: TestStoreName;
  readonly #stores: Store[] = [];
  readonly #schemas: string[] = [];
  #dir: string | undefined;

  constructor(name: TestStoreName) {
    this.name = name;
  }

  target(): TestStoreTarget {
    counter += 1;
    if (this.name === 'sqlite') {
      this.#dir ??= mkdtempSync(join(tmpdir(), 'nimbus-test-'));
      return { url: `sqlite:${join(this.#dir, `store-${counter}.db`)}` };
    }
    const schema = `nimbus_t_${fileTag}_${counter}`;
    this.#schemas.push(schema);
    return { url: testPgUrl(), schema };
  }

  async openAt(target: TestStoreTarget): Promise<Store> {
    const store = await openStore(target);
    this.#stores.push(store);
    return store;
  }

  open(): Promise<Store> {
    return this.openAt(this.target());
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.#stores.map((s) => s.close()));
    this.#stores.length = 0;
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
    if (this.#schemas.length > 0) {
      const client = new pg.Client({ connectionString: testPgUrl() });
      client.on('error', () => undefined);
      await client.connect();
      try {
        for (const schema of this.#schemas.splice(0))
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    }
  }
}

/**
 * Registers `fn`'s tests once per backend in NIMBUS_TEST_STORES, inside `describe(name)`.
 * `open` gives a fresh empty store per call; `stores` has the lower-level target/openAt.
 */
export function forEachStore(
  fn: (name: TestStoreName, open: () => Promise<Store>, stores: TestStores) => void,
): void {
  for (const name of selectedTestStores()) {
    void describe(name, () => {
      const stores = new TestStoresImpl(name);
      after(() => stores.cleanup());
      fn(name, () => stores.open(), stores);
    });
  }
}
