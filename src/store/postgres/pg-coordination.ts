// LISTEN/NOTIFY and advisory locks on PostgreSQL, each on its own dedicated session.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { AdvisoryLocks, HeldLock, Notifier, Subscription } from '../coordination.js';
import type { Database } from '../kysely/database.js';

/** The part of a `pg.Client` a dedicated session needs. */
export interface PgSession {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  on(
    event: 'notification',
    listener: (msg: { channel: string; payload?: string | undefined }) => void,
  ): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  end(): Promise<void>;
}

/** PostgreSQL limits identifiers (channel names) to 63 bytes. */
const MAX_IDENTIFIER_BYTES = 63;

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Dedicated sessions for listeners and locks. Why not pool connections: both live as long as the
 * subscription or leadership does, and would starve the pool that serves queries.
 */
export class PgSessions {
  readonly #newSession: () => PgSession;
  readonly #open = new Set<PgSession>();

  constructor(newSession: () => PgSession) {
    this.#newSession = newSession;
  }

  /** Opens a session; `lost` resolves if it ends or fails before its own `end()` is called. */
  async open(): Promise<{ session: PgSession; lost: Promise<void>; end: () => Promise<void> }> {
    const session = this.#newSession();
    let ended = false;
    let markLost!: () => void;
    const lost = new Promise<void>((resolve) => (markLost = resolve));
    // A pg client without an 'error' listener crashes the process when the server goes away.
    session.on('error', () => {
      if (!ended) markLost();
    });
    session.on('end', () => {
      if (!ended) markLost();
    });
    this.#open.add(session);
    const end = async (): Promise<void> => {
      if (ended) return;
      ended = true;
      this.#open.delete(session);
      await session.end().catch(() => undefined);
    };
    try {
      await session.connect();
    } catch (err) {
      await end();
      throw err;
    }
    return { session, lost, end };
  }

  /** Ends every open session (store close). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((s) => s.end().catch(() => undefined)));
    this.#open.clear();
  }
}

/** {@link Notifier} over LISTEN/NOTIFY; channel names are prefixed with the store's schema. */
export class PgNotifier implements Notifier {
  readonly #db: Kysely<Database>;
  readonly #sessions: PgSessions;
  readonly #prefix: string;

  constructor(db: Kysely<Database>, sessions: PgSessions, scope: string) {
    this.#db = db;
    this.#sessions = sessions;
    this.#prefix = `${scope}:`;
  }

  /**
   * Channels are database-wide, not per schema: the prefix keeps two stores in one database
   * (two test schemas, two clusters) from waking each other.
   */
  #channel(channel: string): string {
    const full = this.#prefix + channel;
    if (Buffer.byteLength(full) > MAX_IDENTIFIER_BYTES) {
      throw new RangeError(
        `channel '${full}' is longer than ${MAX_IDENTIFIER_BYTES} bytes; use a shorter name`,
      );
    }
    return full;
  }

  async notify(channel: string, payload = ''): Promise<void> {
    await sql`select pg_notify(${this.#channel(channel)}, ${payload})`.execute(this.#db);
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<Subscription> {
    const full = this.#channel(channel);
    const { session, lost, end } = await this.#sessions.open();
    session.on('notification', (msg) => {
      if (msg.channel === full) onMessage(msg.payload ?? '');
    });
    try {
      await session.query(`LISTEN ${quoteIdent(full)}`);
    } catch (err) {
      await end();
      throw err;
    }
    return { lost, close: end };
  }
}

/** {@link AdvisoryLocks} over session-level `pg_try_advisory_lock`, keyed by a 64-bit hash. */
export class PgAdvisoryLocks implements AdvisoryLocks {
  readonly #sessions: PgSessions;
  readonly #prefix: string;

  constructor(sessions: PgSessions, scope: string) {
    this.#sessions = sessions;
    this.#prefix = `${scope}:`;
  }

  async tryAcquire(key: string): Promise<HeldLock | undefined> {
    const { session, lost, end } = await this.#sessions.open();
    try {
      // Advisory locks are database-wide, so the key is scoped like notification channels.
      const { rows } = await session.query('select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', [
        this.#prefix + key,
      ]);
      if (rows[0]?.ok !== true) {
        await end();
        return undefined;
      }
    } catch (err) {
      await end();
      throw err;
    }
    // Ending the session releases a session-level advisory lock, so release is just end().
    return { key, lost, release: end };
  }
}
