// Finds the bearer token the CLI sends: NIMBUS_TOKEN, else the local credentials of a data dir.
import { readLocalCredentials } from '../auth/credentials.js';

/** Credentials as a server prints or stores them. */
export interface CliCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly token?: string | undefined;
}

/** The bearer token for a set of credentials: their token, else `<accessKeyId>:<secretAccessKey>`. */
export function bearerToken(credentials: CliCredentials): string {
  return credentials.token ?? `${credentials.accessKeyId}:${credentials.secretAccessKey}`;
}

/**
 * Resolves the token for API requests. An explicit `NIMBUS_TOKEN` wins (it is how one points
 * the CLI at a remote server); otherwise `readLocalCredentials` looks at the root-key env
 * variables and then the data directory of a local server. Undefined when nothing is found.
 */
export function resolveToken(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (env.NIMBUS_TOKEN) return env.NIMBUS_TOKEN;
  const credentials = readLocalCredentials(dataDir, env as NodeJS.ProcessEnv);
  return credentials ? bearerToken(credentials) : undefined;
}
