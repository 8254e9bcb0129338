// Kysely table type of issued app tokens and their revocations (migration 010 of both backends).

import type { EpochMs } from '../database.js';

/** One issued app token; the token is an HMAC over these fields, never stored itself. */
export interface AppTokensTable {
  id: string;
  app: string;
  issued_at: EpochMs;
  expires_at: EpochMs;
  /** Null while the token is valid. */
  revoked_at: EpochMs | null;
}

/** The app token tables. */
export interface AppTokenTables {
  app_tokens: AppTokensTable;
}
