// An in-memory CredentialStore for the auth tests.
//
// Why not the real stores: SQLite/PostgreSQL implementations are written in parallel by another
// engineer and proven by their own contract suite (test/store/store.contract.ts). Auth only needs
// the port's behaviour, which this map reproduces, including `putAccessKey` replacing by id.

import type { AccessKeyRecord, CredentialStore, TokenRecord } from '../../src/store/store.js';

/** A CredentialStore over two Maps; `keys`/`tokens` are exposed so tests can inspect records. */
export class MemoryCredentialStore implements CredentialStore {
  readonly keys = new Map<string, AccessKeyRecord>();
  readonly tokens = new Map<string, TokenRecord>();
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
  async countAccessKeys(): Promise<number> {
    return this.keys.size;
  }
}
