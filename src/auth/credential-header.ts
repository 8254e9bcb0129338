// Recognising Nimbus credentials in an Authorization header, so the gateway never forwards them
// to a function.

import { TOKEN_PREFIX } from './credentials.js';

/** `Bearer <accessKeyId>:<secret>`: the key id form {@link rootKeyFromEnv} accepts, then a secret. */
const BEARER_KEY_PAIR = /^bearer\s+[A-Za-z0-9]{3,128}:\S+$/i;
const BEARER_TOKEN = new RegExp(`^bearer\\s+${TOKEN_PREFIX}`, 'i');

/**
 * True when an `Authorization` value carries Nimbus (or AWS) credentials: a Nimbus bearer token
 * (`nbt_…`, app tokens included), a `Bearer <accessKeyId>:<secret>` pair, or an AWS signature
 * (`AWS4-…`, whose Credential names an access key id). A JWT (`Bearer eyJ…`), Basic auth or any
 * other scheme is the route's own business and is kept.
 */
export function isNimbusCredential(authorization: string): boolean {
  const value = authorization.trim();
  return BEARER_TOKEN.test(value) || BEARER_KEY_PAIR.test(value) || /^AWS4-/i.test(value);
}
