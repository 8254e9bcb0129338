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
