// AuthService: root bootstrap, issuing keys and tokens, and verifying Bearer and SigV4 requests.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { NimbusError } from '../errors.js';
import type { AppTokenRecord } from '../store/ports/app-tokens.js';
import type { AccessKeyRecord, CredentialStore, TokenRecord } from '../store/store.js';
import {
  APP_TOKEN_REFRESH_MS,
  APP_TOKEN_TTL_MS,
  appTokenMacInput,
  formatAppToken,
  parseAppToken,
} from './app-tokens.js';
import { parseBearer } from './bearer-auth.js';
import {
  APP_TOKEN_PREFIX,
  generateAccessKeyId,
  generateSecretAccessKey,
  generateToken,
  hashSecret,
  rootKeyFromEnv,
  writeCredentialsFile,
  type RootCredentials,
} from './credentials.js';
import { SecretBox } from './secret-box.js';
import {
  SigningKeyCache,
  verifySigV4,
  type SigV4Identity,
  type SigV4Request,
  type SigV4VerifyOptions,
} from './sigv4-verifier.js';

/** Who made an API request. Access keys carry every scope (`*`). */
export type Principal =
  | { readonly kind: 'token'; readonly name: string; readonly scopes: readonly string[] }
  | {
      readonly kind: 'access-key';
      readonly name: string;
      readonly accessKeyId: string;
      readonly scopes: readonly string[];
    };

/** Options of {@link AuthService}. */
export interface AuthServiceOptions {
  /** The node's data directory (holds master.key and credentials.json). */
  readonly dataDir: string;
  /** Environment to read NIMBUS_ROOT_* and NIMBUS_MASTER_KEY from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * How long a looked-up access key (with its decrypted secret) or token is reused before the
   * store is asked again, in ms. Keeps a PostgreSQL round trip off every request; 0 disables.
   * @default 5000
   */
  readonly cacheTtlMs?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

/** A newly issued access key; the secret is shown once and only stored encrypted. */
export interface IssuedAccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly record: AccessKeyRecord;
}

/** A newly issued bearer token; only its hash is stored. */
export interface IssuedToken {
  readonly token: string;
  readonly record: TokenRecord;
}

/** Name of the access key and token created by {@link AuthService.bootstrap}. */
export const ROOT_CREDENTIAL_NAME = 'root';

const MAX_CACHED = 10_000;

interface CachedKey {
  readonly record: AccessKeyRecord;
  readonly secret: string;
  readonly at: number;
}

interface CachedToken {
  readonly record: TokenRecord;
  readonly at: number;
}

interface CachedAppToken {
  readonly record: AppTokenRecord | undefined;
  readonly at: number;
}

/** An issued app token (the string is shown to the function, never stored). */
export interface IssuedAppToken {
  readonly token: string;
  readonly record: AppTokenRecord;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_CACHED && !map.has(key)) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

function unrecognized(what: string): NimbusError {
  return new NimbusError(
    'UnrecognizedClientException',
    `The security token included in the request is invalid: ${what}. Use credentials issued by this Nimbus server (credentials.json in its data directory).`,
  );
}

/**
 * Authentication for the HTTP APIs, over a {@link CredentialStore}. Access key secrets are stored
 * AES-256-GCM encrypted (SigV4 needs the plain secret) plus their sha256; tokens only as sha256.
 */
export class AuthService {
  readonly #store: CredentialStore;
  readonly #dataDir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, CachedKey>();
  readonly #tokens = new Map<string, CachedToken>();
  readonly #signingKeys = new SigningKeyCache();
  /** App token records by id (revocation state), cached like keys and tokens. */
  readonly #appTokens = new Map<string, CachedAppToken>();
  /** The token currently handed to each app's instances. */
  readonly #currentAppTokens = new Map<string, Promise<IssuedAppToken>>();
  readonly #revokeListeners: Array<(record: AppTokenRecord) => void> = [];
  #lastPrune = 0;
  #box: Promise<SecretBox> | undefined;

  constructor(store: CredentialStore, options: AuthServiceOptions) {
    this.#store = store;
    this.#dataDir = options.dataDir;
    this.#env = options.env ?? process.env;
    this.#ttl = options.cacheTtlMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Make sure root credentials exist.
   *
   * - With `NIMBUS_ROOT_ACCESS_KEY_ID` and `NIMBUS_ROOT_SECRET_ACCESS_KEY` set: that key is
   *   inserted if missing, and **replaced** if the id exists with another secret (so rotating the
   *   variables and restarting rotates the key). Nothing is generated or written to disk; returns
   *   undefined, since the operator already holds the secret.
   * - Otherwise, on first start (no access keys at all): generates a root access key and bearer
   *   token, writes them to `<dataDir>/credentials.json` (mode 0600) for the local CLI, stores
   *   them (secret encrypted, token hashed) and returns them so the server prints them once.
   * - Otherwise returns undefined.
   *
   * Two nodes starting at once on an empty shared database could both generate root credentials
   * (both work); clusters should set the environment variables instead.
   */
  async bootstrap(): Promise<RootCredentials | undefined> {
    const fromEnv = rootKeyFromEnv(this.#env);
    if (fromEnv !== undefined) {
      await this.#ensureEnvKey(fromEnv.accessKeyId, fromEnv.secretAccessKey);
      return undefined;
    }
    if ((await this.#store.countAccessKeys()) > 0) return undefined;
    const accessKeyId = generateAccessKeyId();
    const secretAccessKey = generateSecretAccessKey();
    const token = generateToken();
    // The file first: if storing fails we start over next time and overwrite it, whereas a stored
    // key whose secret was never written down would lock the owner out.
    const credentialsFile = await writeCredentialsFile(this.#dataDir, {
      accessKeyId,
      secretAccessKey,
      token,
    });
    await this.#putAccessKey(accessKeyId, secretAccessKey, ROOT_CREDENTIAL_NAME);
    await this.#store.putToken(this.#tokenRecord(token, ROOT_CREDENTIAL_NAME, ['*']));
    return { accessKeyId, secretAccessKey, token, credentialsFile };
  }

  async #ensureEnvKey(accessKeyId: string, secret: string): Promise<void> {
    const existing = await this.#store.getAccessKey(accessKeyId);
    if (existing !== undefined && sameHex(existing.secretHash, hashSecret(secret))) {
      // Same secret; re-seal only if the master key changed since (the old ciphertext is useless).
      const box = await this.#secretBox();
      try {
        box.open(existing.secretEncrypted, accessKeyId);
        return;
      } catch {
        // fall through and re-store it under the current master key
      }
    }
    await this.#putAccessKey(accessKeyId, secret, existing?.name ?? ROOT_CREDENTIAL_NAME);
  }

  /** Issue a new access key (for `nimbus credentials create` and the like). */
  async createAccessKey(name: string): Promise<IssuedAccessKey> {
    const accessKeyId = generateAccessKeyId();
    const secretAccessKey = generateSecretAccessKey();
    const record = await this.#putAccessKey(accessKeyId, secretAccessKey, name);
    return { accessKeyId, secretAccessKey, record };
  }

  /**
   * Issue a new bearer token.
   * @param scopes What it may do; `*` is everything. @default ['*']
   */
  async createToken(name: string, scopes: readonly string[] = ['*']): Promise<IssuedToken> {
    const token = generateToken();
    const record = this.#tokenRecord(token, name, scopes);
    await this.#store.putToken(record);
    return { token, record };
  }

  /**
   * Authenticate an `Authorization: Bearer ...` header: a Nimbus token (`nbt_...`, looked up by
   * sha256) or `<accessKeyId>:<secretAccessKey>` (checked against the stored secret hash).
   * @throws NimbusError `MissingAuthenticationTokenException` or `UnrecognizedClientException`.
   */
  async verifyBearer(authorizationHeader: string | undefined): Promise<Principal> {
    const cred = parseBearer(authorizationHeader);
    if (cred.kind === 'token' && cred.token.startsWith(APP_TOKEN_PREFIX)) {
      const app = await this.#verifyAppToken(cred.token);
      return { kind: 'token', name: `app:${app}`, scopes: [`app:${app}`] };
    }
    if (cred.kind === 'token') {
      const record = await this.#getToken(hashSecret(cred.token));
      if (record === undefined) throw unrecognized('the bearer token is unknown');
      return { kind: 'token', name: record.name, scopes: record.scopes };
    }
    const cached = await this.#getKey(cred.accessKeyId);
    // One error for an unknown id and a wrong secret, so the API is no oracle for which ids exist.
    if (cached === undefined || !sameHex(cached.record.secretHash, hashSecret(cred.secretAccessKey))) {
      throw unrecognized('the access key id or secret is wrong');
    }
    return { kind: 'access-key', name: cached.record.name, accessKeyId: cred.accessKeyId, scopes: ['*'] };
  }

  /**
   * The token a function of `app` gets in its environment (`NIMBUS_TOKEN`) for the SDK: scope
   * `app:<app>`, so it reaches only what the app owns or declares. The same token is handed out
   * for {@link APP_TOKEN_REFRESH_MS}, then a new one is issued; a revoked one is replaced at once.
   * Each is valid {@link APP_TOKEN_TTL_MS} (see app-tokens.ts for why instances never outlive it).
   */
  async appToken(app: string): Promise<string> {
    const current = this.#currentAppTokens.get(app);
    if (current !== undefined) {
      const issued = await current.catch(() => undefined);
      if (
        issued !== undefined &&
        this.#now() - issued.record.issuedAt < APP_TOKEN_REFRESH_MS &&
        (await this.#appTokenRecord(issued.record.id))?.revokedAt === undefined
      ) {
        return issued.token;
      }
      if (this.#currentAppTokens.get(app) === current) this.#currentAppTokens.delete(app);
    }
    let next = this.#currentAppTokens.get(app);
    if (next === undefined) {
      next = this.issueAppToken(app);
      this.#currentAppTokens.set(app, next);
      next.catch(() => this.#currentAppTokens.delete(app));
    }
    return (await next).token;
  }

  /**
   * Issue a new app token: an HMAC under a key derived from the master key over the app, a
   * random id and its lifetime. The id is recorded (listing, revocation); the token is not.
   * @param ttlMs Lifetime. @default APP_TOKEN_TTL_MS (12 h)
   */
  async issueAppToken(app: string, ttlMs: number = APP_TOKEN_TTL_MS): Promise<IssuedAppToken> {
    const now = this.#now();
    const record: AppTokenRecord = {
      id: randomBytes(16).toString('base64url'),
      app,
      issuedAt: now,
      expiresAt: now + ttlMs,
    };
    const box = await this.#secretBox();
    // Stored before it is handed out, so every node that sees the token finds its record.
    await this.#store.putAppToken(record);
    if (now - this.#lastPrune > 60 * 60 * 1000) {
      // Expired tokens are refused by their expiry alone; their records are kept a day for listings.
      this.#lastPrune = now;
      this.#store.deleteExpiredAppTokens(now - 24 * 60 * 60 * 1000).catch(() => undefined);
    }
    const mac = box.mac('app-token', appTokenMacInput(record)).toString('base64url');
    return { token: formatAppToken(record, mac), record };
  }

  /** App tokens not yet expired (revoked ones included), newest first. */
  listAppTokens(app?: string): Promise<AppTokenRecord[]> {
    return this.#store.listAppTokens({ now: this.#now(), app });
  }

  /**
   * Revoke one app token. Every node refuses it within the cache TTL (5 s by default); this node
   * at once, and it hands the app a new token from then on.
   * @throws NimbusError `ResourceNotFoundException` when no token has this id.
   */
  async revokeAppToken(id: string): Promise<AppTokenRecord> {
    const record = await this.#store.revokeAppToken(id, this.#now());
    if (record === undefined) {
      throw new NimbusError(
        'ResourceNotFoundException',
        `No app token has the id '${id}'; list them with \`nimbus tokens ls\`.`,
      );
    }
    this.#appTokens.delete(id);
    const current = this.#currentAppTokens.get(record.app);
    if (current !== undefined && (await current.catch(() => undefined))?.record.id === id) {
      this.#currentAppTokens.delete(record.app);
    }
    for (const listener of this.#revokeListeners) listener(record);
    return record;
  }

  /** Call `listener` after each revocation made through this node (to recycle the app's instances). */
  onAppTokenRevoked(listener: (record: AppTokenRecord) => void): void {
    this.#revokeListeners.push(listener);
  }

  async #verifyAppToken(token: string): Promise<string> {
    const parsed = parseAppToken(token);
    if (parsed === undefined) throw unrecognized('the app token is not valid on this server');
    const { claims, mac } = parsed;
    const expected = (await this.#secretBox()).mac('app-token', appTokenMacInput(claims));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw unrecognized('the app token is not valid on this server');
    }
    const now = this.#now();
    if (now >= claims.expiresAt) {
      throw new NimbusError(
        'ExpiredTokenException',
        `The app token ${claims.id} of app '${claims.app}' expired at ${new Date(claims.expiresAt).toISOString()}. Functions get a fresh NIMBUS_TOKEN on every new instance; outside a function use a token of your own (nimbus keys).`,
      );
    }
    const record = await this.#appTokenRecord(claims.id);
    if (record === undefined || record.app !== claims.app) {
      // Valid MAC but never recorded: issued against another store with the same master key.
      throw unrecognized('the app token was not issued by this server');
    }
    if (record.revokedAt !== undefined) {
      throw new NimbusError(
        'TokenRevokedException',
        `The app token ${claims.id} of app '${claims.app}' was revoked at ${new Date(record.revokedAt).toISOString()}. New instances of the app get a new token; redeploy or wait for the instance to be replaced.`,
      );
    }
    return claims.app;
  }

  async #appTokenRecord(id: string): Promise<AppTokenRecord | undefined> {
    const now = this.#now();
    const hit = this.#appTokens.get(id);
    if (hit !== undefined && now - hit.at < this.#ttl) return hit.record;
    const record = await this.#store.getAppToken(id);
    if (this.#ttl > 0) remember(this.#appTokens, id, { record, at: now });
    return record;
  }

  /**
   * Verify an AWS SigV4-signed request against the stored access keys.
   * @throws NimbusError see {@link verifySigV4}.
   */
  verifySigV4(req: SigV4Request, opts: SigV4VerifyOptions = {}): Promise<SigV4Identity> {
    return verifySigV4(req, this.#lookupSecret, { signingKeyCache: this.#signingKeys, ...opts });
  }

  /** Drop cached keys and tokens (e.g. after changing them through another node). */
  clearCache(): void {
    this.#keys.clear();
    this.#tokens.clear();
    this.#appTokens.clear();
    this.#signingKeys.clear();
  }

  readonly #lookupSecret = async (accessKeyId: string): Promise<string | undefined> =>
    (await this.#getKey(accessKeyId))?.secret;

  async #getKey(accessKeyId: string): Promise<CachedKey | undefined> {
    const now = this.#now();
    const hit = this.#keys.get(accessKeyId);
    if (hit !== undefined && now - hit.at < this.#ttl) return hit;
    const record = await this.#store.getAccessKey(accessKeyId);
    if (record === undefined) {
      this.#keys.delete(accessKeyId);
      return undefined;
    }
    // Reuse the plaintext when the ciphertext did not change: decrypting is cheap but not free.
    const secret =
      hit !== undefined && hit.record.secretEncrypted === record.secretEncrypted
        ? hit.secret
        : (await this.#secretBox()).open(record.secretEncrypted, accessKeyId);
    const entry = { record, secret, at: now };
    if (this.#ttl > 0) remember(this.#keys, accessKeyId, entry);
    return entry;
  }

  async #getToken(tokenHash: string): Promise<TokenRecord | undefined> {
    const now = this.#now();
    const hit = this.#tokens.get(tokenHash);
    if (hit !== undefined && now - hit.at < this.#ttl) return hit.record;
    const record = await this.#store.getToken(tokenHash);
    if (record === undefined) this.#tokens.delete(tokenHash);
    else if (this.#ttl > 0) remember(this.#tokens, tokenHash, { record, at: now });
    return record;
  }

  async #putAccessKey(accessKeyId: string, secret: string, name: string): Promise<AccessKeyRecord> {
    const box = await this.#secretBox();
    const record: AccessKeyRecord = {
      accessKeyId,
      secretHash: hashSecret(secret),
      secretEncrypted: box.seal(secret, accessKeyId),
      name,
      createdAt: new Date(this.#now()).toISOString(),
    };
    await this.#store.putAccessKey(record);
    this.#keys.delete(accessKeyId);
    return record;
  }

  #tokenRecord(token: string, name: string, scopes: readonly string[]): TokenRecord {
    return {
      tokenHash: hashSecret(token),
      name,
      scopes: [...scopes],
      createdAt: new Date(this.#now()).toISOString(),
    };
  }

  /** The secret box, loading (or creating) the master key on first use. */
  #secretBox(): Promise<SecretBox> {
    this.#box ??= SecretBox.fromDataDir(this.#dataDir, this.#env).catch((err: unknown) => {
      this.#box = undefined;
      throw err;
    });
    return this.#box;
  }
}
