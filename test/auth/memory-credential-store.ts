// An in-memory CredentialStore for the auth tests.
//
// Why not the real stores: SQLite/PostgreSQL implementations are written in parallel by another
// engineer and proven by their own contract suite (test/store/store.contract.ts). Auth only needs
// the port's behaviour, which this map reproduces, including `putAccessKey` replacing by id.

import type { AppTokenRecord } from '../../src/store/ports/app-tokens.js';
import type { AccessKeyRecord, CredentialStore, TokenRecord } from '../../src/store/store.js';

/** A CredentialStore over two Maps; `keys`/`tokens` are exposed so tests can inspect records. */
export class MemoryCredentialStore implements CredentialStore {
  readonly keys = new Map<string, AccessKeyRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly appTokens = new Map<string, AppTokenRecord>();
  /** Number of getAccessKey calls, to observe caching. */
  keyLookups = 0;

  async putAccessKey(key: AccessKeyRecord): Promise<void> {
    this.keys.set(key.accessKeyId, { ...key });
  }
  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    this.keyLookups++;
    return this.keys.get(accessKeyId);
  }
  async putToken(token: TokenRecord): Promise<void> {
    this.tokens.set(token.tokenHash, { ...token, scopes: [...token.scopes] });
  }
  async getToken(tokenHash: string): Promise<TokenRecord | undefined> {
    return this.tokens.get(tokenHash);
  }
  async putAppToken(token: AppTokenRecord): Promise<void> {
    if (!this.appTokens.has(token.id)) this.appTokens.set(token.id, { ...token });
  }
  async getAppToken(id: string): Promise<AppTokenRecord | undefined> {
    return this.appTokens.get(id);
  }
  async listAppTokens(o: { now: number; app?: string | undefined }): Promise<AppTokenRecord[]> {
    return [...this.appTokens.values()]
      .filter((t) => t.expiresAt > o.now && (o.app === undefined || t.app === o.app))
      .sort((a, b) => b.issuedAt - a.issuedAt || (a.id < b.id ? -1 : 1));
  }
  async revokeAppToken(id: string, at: number): Promise<AppTokenRecord | undefined> {
    const t = this.appTokens.get(id);
    if (t === undefined) return undefined;
    if (t.revokedAt === undefined) this.appTokens.set(id, { ...t, revokedAt: at });
    return this.appTokens.get(id);
  }
  async deleteExpiredAppTokens(before: number): Promise<number> {
    let n = 0;
    for (const [id, t] of this.appTokens) if (t.expiresAt < before && this.appTokens.delete(id)) n++;
    return n;
  }
  async countAccessKeys(): Promise<number> {
    return this.keys.size;
  }
}
