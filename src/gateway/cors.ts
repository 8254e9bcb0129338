// CORS as API Gateway HTTP API applies it per API: preflights answered by the gateway itself,
// and allow/expose headers added to every response for an allowed origin.

import type { CorsConfig } from './route-spec.js';

/** The allowed `Access-Control-Allow-Origin` value for `origin`, or undefined when not allowed. */
export function allowedOrigin(cors: CorsConfig, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  if (cors.allowOrigins.includes('*')) return cors.allowCredentials ? origin : '*';
  return cors.allowOrigins.includes(origin) ? origin : undefined;
}

/** Headers to add to an actual (non-preflight) response. */
export function corsResponseHeaders(cors: CorsConfig, origin: string | undefined): Record<string, string> {
  const allow = allowedOrigin(cors, origin);
  if (allow === undefined) return {};
  const h: Record<string, string> = { 'access-control-allow-origin': allow };
  if (allow !== '*') h.vary = 'origin';
  if (cors.allowCredentials) h['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders.length > 0) h['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  return h;
}

/**
 * Headers answering a preflight, or undefined when the origin or the requested method is not
 * allowed (the gateway then answers without CORS headers, and the browser blocks the call).
 */
export function preflightHeaders(
  cors: CorsConfig,
  origin: string | undefined,
  requestMethod: string,
  requestHeaders: string | undefined,
): Record<string, string> | undefined {
  const allow = allowedOrigin(cors, origin);
  if (allow === undefined) return undefined;
  const method = requestMethod.toUpperCase();
  if (!cors.allowMethods.includes('*') && !cors.allowMethods.includes(method)) return undefined;
  const h: Record<string, string> = {
    'access-control-allow-origin': allow,
    'access-control-allow-methods': cors.allowMethods.includes('*') ? method : cors.allowMethods.join(','),
  };
  if (allow !== '*') h.vary = 'origin';
  if (requestHeaders) {
    const asked = requestHeaders
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const ok = cors.allowHeaders.includes('*') ? asked : asked.filter((a) => cors.allowHeaders.includes(a));
    if (ok.length > 0) h['access-control-allow-headers'] = ok.join(',');
  }
  if (cors.allowCredentials) h['access-control-allow-credentials'] = 'true';
  if (cors.maxAge !== undefined) h['access-control-max-age'] = String(cors.maxAge);
  return h;
}
