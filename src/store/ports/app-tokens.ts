// The app tokens port: which SDK tokens were issued to apps, until when, and which are revoked.
// One implementation (kysely/credential-store.ts), one contract suite (test/store/app-tokens-store.contract.test.ts).

/** One issued app token (`nbt_app_…`); the token itself is never stored, only its id. */
export interface AppTokenRecord {
  /** Random id carried in the token (22 base64url characters). */
  readonly id: string;
  readonly app: string;
  /** Epoch ms. */
  readonly issuedAt: number;
  /** Epoch ms after which the token is refused. */
  readonly expiresAt: number;
  /** Epoch ms of the revocation; undefined while valid. */
  readonly revokedAt?: number | undefined;
}

/** Issued app tokens and their revocations. */
export interface AppTokenStore {
  /** Record an issued token (an existing id is left as it is). */
  putAppToken(token: AppTokenRecord): Promise<void>;
  getAppToken(id: string): Promise<AppTokenRecord | undefined>;
  /** Tokens not yet expired at `now` (revoked ones included), newest first, of one app or all. */
  listAppTokens(options: {
    readonly now: number;
    readonly app?: string | undefined;
  }): Promise<AppTokenRecord[]>;
  /**
   * Revoke a token at `at` (a second revocation keeps the first time).
   * @returns The record as revoked, or undefined when no token has that id.
   */
  revokeAppToken(id: string, at: number): Promise<AppTokenRecord | undefined>;
  /** Forget tokens that expired before `before` (they are refused anyway). @returns How many. */
  deleteExpiredAppTokens(before: number): Promise<number>;
}
