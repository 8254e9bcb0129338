// What a route handler receives, and the table routes register into with their auth mode.

import type { IncomingMessage } from 'node:http';
import type { ResourceRef } from '../auth/resource-scopes.js';
import type { Platform } from '../server/platform.js';
import type { ApiResponse } from './http-io.js';
import type { Params } from './router.js';

/** The request as a route handler sees it. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly params: Params;
  readonly query: URLSearchParams;
  readonly platform: Platform;
  /** The authenticated principal's name (`root`, a token name, or an access key id). */
  readonly principal: string;
  /**
   * Throws `AccessDeniedException` unless the caller may act on `resource`. Every /v1 route that
   * touches a resource calls this first (listings and creations pass `name: '*'`); root and `*`
   * tokens may do anything, a function's SDK token only what its app owns or declares.
   */
  authorize(resource: ResourceRef): Promise<void>;
  /** The body, when the auth step had to read it (SigV4 hashes it); routes should use `body()`. */
  body(limit: number, what?: string): Promise<Buffer>;
}

/**
 * Checks a reference from the resource a route acts on to another one (a dead-letter queue, a
 * redrive destination, a subscription's target, a copy source): throws `missing()` unless the
 * caller may use `target` AND `exists()` says it is there. A target the caller may not use
 * answers exactly as a missing one (same status, code and message), so an app learns nothing
 * about another app's resources and cannot point its own at them. Both questions are always
 * asked, so the answer does not come measurably sooner for one case.
 */
export async function requireReference(
  ctx: Pick<RouteContext, 'authorize'>,
  target: ResourceRef,
  exists: () => Promise<boolean>,
  missing: () => Error,
): Promise<void> {
  const [allowed, found] = await Promise.all([
    ctx.authorize(target).then(
      () => true,
      (err: unknown) => {
        if ((err as { code?: unknown })?.code === 'AccessDeniedException') return false;
        throw err;
      },
    ),
    exists(),
  ]);
  if (!allowed || !found) throw missing();
}

/** A route handler. */
export type RouteHandler = (ctx: RouteContext) => Promise<ApiResponse>;

/** How a route authenticates, and in which error dialect it answers. */
export type AuthMode = 'public' | 'bearer' | 'sigv4';

/** A registered route. */
export interface RouteEntry {
  readonly auth: AuthMode;
  readonly handler: RouteHandler;
}

/** Registration surface the route modules use. */
export interface RouteTable {
  public(method: string, pattern: string, handler: RouteHandler): void;
  bearer(method: string, pattern: string, handler: RouteHandler): void;
  sigv4(method: string, pattern: string, handler: RouteHandler): void;
}
