// Secrets at rest: AES-256-GCM under a master key from NIMBUS_MASTER_KEY or <dataDir>/master.key.

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NimbusError } from '../errors.js';

/** Environment variable holding the master key, base64 of 32 bytes; wins over the key file. */
export const MASTER_KEY_ENV = 'NIMBUS_MASTER_KEY';
/** File name of the master key inside the data directory. */
export const MASTER_KEY_FILE = 'master.key';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Version prefix of a sealed value, so the format can change without guessing. */
const PREFIX = 'v1.';

/** A loaded master key and where it came from (for error messages; never the key itself). */
export interface MasterKey {
  readonly key: Buffer;
  /** `env` for NIMBUS_MASTER_KEY, `file` for `<dataDir>/master.key`. */
  readonly source: 'env' | 'file';
  /** Human description of the source, e.g. `/var/lib/nimbus/master.key`. */
  readonly description: string;
  /** True if this call created the key file. */
  readonly created: boolean;
}

/**
 * Load the master key: `NIMBUS_MASTER_KEY` (base64 of 32 bytes; set the same value on every node
 * of a cluster) or `<dataDir>/master.key` (32 raw bytes, mode 0600), created on first use.
 * @throws NimbusError `InvalidConfigError` if the key is malformed or its file is readable by others.
 */
export async function loadMasterKey(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MasterKey> {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = Buffer.from(fromEnv.trim(), 'base64');
    if (key.length !== KEY_BYTES) {
      throw new NimbusError(
        'InvalidConfigError',
        `${MASTER_KEY_ENV} must be the base64 of exactly ${KEY_BYTES} bytes (it decodes to ${key.length}); generate one with \`openssl rand -base64 32\`.`,
      );
    }
    return { key, source: 'env', description: MASTER_KEY_ENV, created: false };
  }
  const path = join(dataDir, MASTER_KEY_FILE);
  const created = await createKeyFileIfMissing(dataDir, path);
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    // Refuse rather than silently fix: a readable key may already have leaked, and an operator
    // should know (ssh treats private keys the same way).
    throw new NimbusError(
      'InvalidConfigError',
      `${path} is accessible by group or others (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${path}\`.`,
    );
  }
  const key = await readFile(path);
  if (key.length !== KEY_BYTES) {
    throw new NimbusError(
      'InvalidConfigError',
      `${path} must hold exactly ${KEY_BYTES} bytes (it has ${key.length}); restore it from a backup, or remove it only if no secrets were encrypted with it yet.`,
    );
  }
  return { key, source: 'file', description: path, created };
}

/** Create the key file atomically; returns false if it already existed. */
async function createKeyFileIfMissing(dataDir: string, path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Write a temp file then link() it into place: link fails if the key appeared meanwhile (another
  // process starting on the same data dir), so nobody ever reads a half-written key or loses one.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Seals and opens small secrets with AES-256-GCM. A sealed value is
 * `v1.<base64url(iv | tag | ciphertext)>`; the caller's `context` (e.g. the access key id) is
 * authenticated as associated data, so a sealed secret copied onto another record fails to open.
 */
export class SecretBox {
  readonly #key: Buffer;
  readonly #description: string;
  /** Derived MAC keys by purpose (a handful: one per kind of MAC). */
  readonly #macKeys = new Map<string, Buffer>();

  /**
   * @param key 32-byte master key.
   * @param description Where the key came from, for error messages.
   */
  constructor(key: Buffer, description = 'the master key') {
    if (key.length !== KEY_BYTES) throw new RangeError(`master key must be ${KEY_BYTES} bytes`);
    this.#key = Buffer.from(key);
    this.#description = description;
  }

  /** Load the master key (see {@link loadMasterKey}) and build a box. */
  static async fromDataDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SecretBox> {
    const mk = await loadMasterKey(dataDir, env);
    return new SecretBox(mk.key, mk.description);
  }

  /**
   * HMAC-SHA256 of `data` under a subkey of the master key for `purpose` (so a MAC made for one
   * purpose never verifies for another). Deterministic: every node with the same master key
   * computes the same value, which is what lets app tokens need no storage.
   */
  mac(purpose: string, data: string): Buffer {
    let subkey = this.#macKeys.get(purpose);
    if (subkey === undefined) {
      subkey = createHmac('sha256', this.#key).update(`nimbus-mac:${purpose}`).digest();
      this.#macKeys.set(purpose, subkey);
    }
    return createHmac('sha256', subkey).update(data, 'utf8').digest();
  }

  /** Encrypt `plaintext`, binding it to `context`. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
  }

  /**
   * Decrypt a value from {@link seal} with the same `context`.
   * @throws NimbusError `ServiceException` if it was sealed under another key or context, or is corrupt.
   */
  open(sealed: string, context: string): string {
    const raw = sealed.startsWith(PREFIX) ? Buffer.from(sealed.slice(PREFIX.length), 'base64url') : undefined;
    if (raw === undefined || raw.length < IV_BYTES + TAG_BYTES) {
      throw new NimbusError(
        'ServiceException',
        `The encrypted secret of '${context}' is not in a known format.`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch (cause) {
      throw new NimbusError(
        'ServiceException',
        `Could not decrypt the secret of '${context}' with ${this.#description}: the secret was encrypted under a different master key. Restore the original master.key (or NIMBUS_MASTER_KEY; every node of a cluster needs the same one), or issue a new access key.`,
        { cause },
      );
    }
  }
}
