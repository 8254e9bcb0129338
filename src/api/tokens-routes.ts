// The /v1 API of app tokens (the `nbt_app_…` tokens functions get for the SDK): list and revoke.

import { NimbusError } from '../errors.js';
import type { AppTokenRecord } from '../store/ports/app-tokens.js';
import type { ApiResponse } from './http-io.js';
import type { RouteContext, RouteTable } from './route-context.js';

/** An app token as the API shows it (the token itself is never stored, so never shown). */
function describe(t: AppTokenRecord, now: number) {
  return {
    id: t.id,
    app: t.app,
    issuedAt: new Date(t.issuedAt).toISOString(),
    expiresAt: new Date(t.expiresAt).toISOString(),
    status: t.revokedAt !== undefined ? 'revoked' : t.expiresAt <= now ? 'expired' : 'active',
    ...(t.revokedAt !== undefined ? { revokedAt: new Date(t.revokedAt).toISOString() } : {}),
  };
}

/**
 * Only unscoped credentials (root, access keys, `*` tokens) may see or revoke tokens: checked
 * before anything is read or changed (the router's default deny would only refuse the answer).
 */
async function requireRoot(ctx: RouteContext): Promise<void> {
  const who = await ctx.platform.auth.verifyBearer(ctx.req.headers.authorization);
  if (!who.scopes.includes('*')) {
    throw new NimbusError(
      'AccessDeniedException',
      `The token '${who.name}' is scoped (${who.scopes.join(', ')}); listing and revoking app tokens needs a root credential (scope *).`,
    );
  }
  // Marks the request authorized for the router; an unscoped principal passes any check.
  await ctx.authorize({ kind: 'function', name: '*' });
}

/** Register the app token routes. */
export function tokensRoutes(routes: RouteTable): void {
  routes.bearer('GET', '/v1/tokens', async (ctx): Promise<ApiResponse> => {
    await requireRoot(ctx);
    const app = ctx.query.get('app') ?? undefined;
    const tokens = await ctx.platform.auth.listAppTokens(app);
    const now = Date.now();
    return { status: 200, body: { tokens: tokens.map((t) => describe(t, now)) } };
  });

  routes.bearer('DELETE', '/v1/tokens/{id}', async (ctx): Promise<ApiResponse> => {
    await requireRoot(ctx);
    const record = await ctx.platform.auth.revokeAppToken(ctx.params.id!);
    return { status: 200, body: describe(record, Date.now()) };
  });
}
