// Parsing `Authorization: Bearer ...` for the /v1 API: a Nimbus token or an `accessKeyId:secret` pair.

import { NimbusError } from '../errors.js';
import { TOKEN_PREFIX } from './credentials.js';

/** What a Bearer header carries. */
export type BearerCredential =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'access-key'; readonly accessKeyId: string; readonly secretAccessKey: string };

/**
 * Parse an Authorization header of the form `Bearer nbt_...` or `Bearer <accessKeyId>:<secret>`
 * (the second lets automation that only has the root key environment variables call the API).
 * @throws NimbusError `MissingAuthenticationTokenException` without a Bearer header,
 *   `UnrecognizedClientException` if the value is neither form.
 */
export function parseBearer(header: string | undefined): BearerCredential {
  const value = header?.trim() ?? '';
  const space = value.indexOf(' ');
  if (value === '' || space < 0 || value.slice(0, space).toLowerCase() !== 'bearer') {
    throw new NimbusError(
      'MissingAuthenticationTokenException',
      value === ''
        ? 'Missing Authentication Token: send `Authorization: Bearer <token>` with a Nimbus token (nbt_...) or `<accessKeyId>:<secretAccessKey>`; the server writes both to credentials.json in its data directory on first start.'
        : 'Missing Authentication Token: the Authorization header must use the Bearer scheme, `Authorization: Bearer <token>`.',
    );
  }
  const credential = value.slice(space + 1).trim();
  if (credential.startsWith(TOKEN_PREFIX)) return { kind: 'token', token: credential };
  const colon = credential.indexOf(':');
  if (colon > 0 && colon < credential.length - 1) {
    return {
      kind: 'access-key',
      accessKeyId: credential.slice(0, colon),
      secretAccessKey: credential.slice(colon + 1),
    };
  }
  throw new NimbusError(
    'UnrecognizedClientException',
    'The bearer credential is neither a Nimbus token (nbt_...) nor `<accessKeyId>:<secretAccessKey>`.',
  );
}
