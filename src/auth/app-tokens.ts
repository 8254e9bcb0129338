// The app token format: `nbt_app_<app>.<id>.<issued>.<expires>.<mac>`, an HMAC under the master
// key over the app, a random id and the token's lifetime; only the id is stored (for listing and
// revocation).

import { APP_TOKEN_PREFIX } from './credentials.js';

/**
 * How long an app token is valid: 12 hours. Long enough that an instance never needs a new one
 * during its life (instances are recycled after {@link MAX_INSTANCE_AGE_MS}); short enough that
 * a token copied out of a function stops working within a working day even if nobody revokes it.
 */
export const APP_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * How long the server keeps handing out the same token for an app before issuing a new one:
 * 30 minutes (one store write per app and node per half hour).
 */
export const APP_TOKEN_REFRESH_MS = 30 * 60 * 1000;

/**
 * The longest an instance is kept: 10 hours. A token is at most {@link APP_TOKEN_REFRESH_MS} old
 * when the instance spec is built, the spec at most as old again when the instance starts, and
 * the last invocation runs at most 15 minutes past this age: 0.5 + 0.5 + 10 + 0.25 h < 12 h, so
 * an instance's token never expires under it.
 */
export const MAX_INSTANCE_AGE_MS = 10 * 60 * 60 * 1000;

/** The fields an app token carries and its MAC covers. */
export interface AppTokenClaims {
  readonly app: string;
  readonly id: string;
  /** Epoch ms. */
  readonly issuedAt: number;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** The text the MAC covers (newline-separated: no field can contain a newline). */
export function appTokenMacInput(c: AppTokenClaims): string {
  return `v2\n${c.app}\n${c.id}\n${c.issuedAt}\n${c.expiresAt}`;
}

/** The token string for claims and their MAC (base64url). */
export function formatAppToken(c: AppTokenClaims, mac: string): string {
  return `${APP_TOKEN_PREFIX}${c.app}.${c.id}.${c.issuedAt.toString(36)}.${c.expiresAt.toString(36)}.${mac}`;
}

const ID_RE = /^[A-Za-z0-9_-]{22}$/;
const TIME_RE = /^[0-9a-z]{1,12}$/;

/** Split an app token into claims and MAC; undefined when it is not of this format. */
export function parseAppToken(token: string): { claims: AppTokenClaims; mac: Buffer } | undefined {
  if (!token.startsWith(APP_TOKEN_PREFIX)) return undefined;
  const parts = token.slice(APP_TOKEN_PREFIX.length).split('.');
  if (parts.length < 5) return undefined;
  const [id, issued, expires, mac] = parts.slice(-4) as [string, string, string, string];
  const app = parts.slice(0, -4).join('.');
  if (app === '' || !ID_RE.test(id) || !TIME_RE.test(issued) || !TIME_RE.test(expires)) return undefined;
  return {
    claims: { app, id, issuedAt: parseInt(issued, 36), expiresAt: parseInt(expires, 36) },
    mac: Buffer.from(mac, 'base64url'),
  };
}
