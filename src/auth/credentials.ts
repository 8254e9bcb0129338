// Credential formats: generating access keys and tokens, and the local credentials.json the CLI reads.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NimbusError } from '../errors.js';

/** Environment variable with the root access key id (use with {@link ROOT_SECRET_ACCESS_KEY_ENV}). */
export const ROOT_ACCESS_KEY_ID_ENV = 'NIMBUS_ROOT_ACCESS_KEY_ID';
/** Environment variable with the root secret access key. */
export const ROOT_SECRET_ACCESS_KEY_ENV = 'NIMBUS_ROOT_SECRET_ACCESS_KEY';
/** Environment variable with a bearer token for the CLI (optional). */
export const TOKEN_ENV = 'NIMBUS_TOKEN';
/** File name, inside the data directory, of the root credentials written on first start. */
export const CREDENTIALS_FILE = 'credentials.json';
/** Prefix of Nimbus bearer tokens, so scanners and people recognise a leaked one. */
export const TOKEN_PREFIX = 'nbt_';
/**
 * Prefix of an app token (`nbt_app_<app>.<mac>`): what a function's SDK authenticates with. Such
 * a token is not stored anywhere; it is an HMAC of the app name under the master key.
 */
export const APP_TOKEN_PREFIX = 'nbt_app_';
/** Prefix of Nimbus access key ids (AWS uses `AKIA`; ours are recognisably not AWS keys). */
export const ACCESS_KEY_ID_PREFIX = 'AKNB';

/** Credentials a client uses: an access key pair and, optionally, a bearer token. */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly token?: string;
}

/** The root credentials created on first start; printed once by the server. */
export interface RootCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly token: string;
  /** Where they were written (mode 0600). */
  readonly credentialsFile: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new access key id: `AKNB` + 16 uppercase base32 characters (80 random bits), 20 in all. */
export function generateAccessKeyId(): string {
  const bytes = randomBytes(10);
  let out = ACCESS_KEY_ID_PREFIX;
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >> bits) & 31];
    }
  }
  return out;
}

/** A new secret access key: 40 base64url characters (240 random bits). */
export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64url');
}

/** A new bearer token: `nbt_` + 43 base64url characters (256 random bits). */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** sha256 hex of a secret or token: what the store keeps to look up or check it. */
export function hashSecret(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Write `<dataDir>/credentials.json` (mode 0600) atomically, replacing any previous file.
 * @returns The file's path.
 */
export async function writeCredentialsFile(dataDir: string, creds: LocalCredentials): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, CREDENTIALS_FILE);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const body = JSON.stringify(
    { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, token: creds.token },
    null,
    2,
  );
  try {
    await writeFile(tmp, body + '\n', { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return path;
}

/**
 * The credentials the local CLI should use: `NIMBUS_ROOT_ACCESS_KEY_ID` and
 * `NIMBUS_ROOT_SECRET_ACCESS_KEY` (plus optional `NIMBUS_TOKEN`) when set, else
 * `<dataDir>/credentials.json`; undefined when neither exists.
 * @throws NimbusError `InvalidConfigError` if only one of the two variables is set or the file is malformed.
 */
export function readLocalCredentials(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): LocalCredentials | undefined {
  const fromEnv = rootKeyFromEnv(env);
  if (fromEnv !== undefined) {
    const token = env[TOKEN_ENV];
    return token ? { ...fromEnv, token } : fromEnv;
  }
  const path = join(dataDir, CREDENTIALS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new NimbusError(
      'InvalidConfigError',
      `${path} is not valid JSON; delete it and restart the server.`,
      {
        cause,
      },
    );
  }
  const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof o.accessKeyId !== 'string' || typeof o.secretAccessKey !== 'string') {
    throw new NimbusError(
      'InvalidConfigError',
      `${path} must hold {"accessKeyId": "...", "secretAccessKey": "..."}; set ${ROOT_ACCESS_KEY_ID_ENV} and ${ROOT_SECRET_ACCESS_KEY_ENV} instead, or restore the file.`,
    );
  }
  return typeof o.token === 'string'
    ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, token: o.token }
    : { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey };
}

/**
 * The root key pair from the environment, or undefined when neither variable is set.
 * @throws NimbusError `InvalidConfigError` if only one is set or the id is unusable.
 */
export function rootKeyFromEnv(
  env: NodeJS.ProcessEnv,
): { accessKeyId: string; secretAccessKey: string } | undefined {
  const accessKeyId = env[ROOT_ACCESS_KEY_ID_ENV] || undefined;
  const secretAccessKey = env[ROOT_SECRET_ACCESS_KEY_ENV] || undefined;
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    const missing = accessKeyId === undefined ? ROOT_ACCESS_KEY_ID_ENV : ROOT_SECRET_ACCESS_KEY_ENV;
    throw new NimbusError(
      'InvalidConfigError',
      `${missing} is not set; set both ${ROOT_ACCESS_KEY_ID_ENV} and ${ROOT_SECRET_ACCESS_KEY_ENV}, or neither.`,
    );
  }
  // The id travels in the SigV4 credential scope (`/`-separated) and in `Bearer id:secret`.
  if (!/^[A-Za-z0-9]{3,128}$/.test(accessKeyId)) {
    throw new NimbusError(
      'InvalidConfigError',
      `${ROOT_ACCESS_KEY_ID_ENV} must be 3-128 letters and digits (like AKNBEXAMPLE1234567890).`,
    );
  }
  return { accessKeyId, secretAccessKey };
}
