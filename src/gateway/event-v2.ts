// Builds the API Gateway HTTP API payload format 2.0 event for a matched request.

import { isNimbusCredential } from '../auth/credential-header.js';
import { domainName, eventBody, parseQuery, requestTime, type GatewayRequest } from './gateway-request.js';
import type { AuthorizerContext } from './auth/route-authorizer.js';
import type { RouteMatch } from './route-table.js';

/** Account and API identity reported in `requestContext`. */
export interface EventIdentity {
  readonly accountId: string;
  /** What the route's auth established (JWT claims, custom authorizer context, API key). */
  readonly authorizer?: AuthorizerContext | undefined;
}

/**
 * The values of a header a function may see: `Authorization` values that carry Nimbus
 * credentials (bearer tokens, key pairs, AWS signatures) are dropped, so a function never
 * receives a token or key id meant for Nimbus itself, whatever route or client sent it.
 */
export function forwardedHeaderValues(name: string, values: readonly string[]): readonly string[] {
  return name === 'authorization' ? values.filter((v) => !isNimbusCredential(v)) : values;
}

/**
 * The 2.0 event. As API Gateway builds it: header names lowercased, duplicate headers and query
 * parameters joined with commas, cookies moved out of `headers` into `cookies`, optional fields
 * (cookies, queryStringParameters, pathParameters, body) left out when empty.
 */
export function buildEventV2(
  req: GatewayRequest,
  match: RouteMatch,
  identity: EventIdentity,
): Record<string, unknown> {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, all] of req.headers) {
    const values = forwardedHeaderValues(name, all);
    if (values.length === 0) continue;
    if (name === 'cookie') {
      cookies = values
        .flatMap((v) => v.split(';'))
        .map((c) => c.trim())
        .filter((c) => c !== '');
    } else {
      headers[name] = values.join(',');
    }
  }
  const query = parseQuery(req.rawQueryString);
  const domain = domainName(req);
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath: req.rawPath,
    rawQueryString: req.rawQueryString,
  };
  if (cookies && cookies.length > 0) event.cookies = cookies;
  event.headers = headers;
  if (query.size > 0) {
    event.queryStringParameters = Object.fromEntries([...query].map(([k, v]) => [k, v.join(',')]));
  }
  const auth = identity.authorizer;
  event.requestContext = {
    accountId: identity.accountId,
    apiId: match.route.app,
    ...(auth?.jwt
      ? {
          authorizer: {
            jwt: { claims: auth.jwt.claims, scopes: auth.jwt.scopes.length > 0 ? auth.jwt.scopes : null },
          },
        }
      : auth?.lambda
        ? { authorizer: { lambda: auth.lambda } }
        : {}),
    domainName: domain,
    domainPrefix: domain.split('.')[0],
    http: {
      method: req.method,
      path: req.rawPath,
      protocol: req.protocol,
      sourceIp: req.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: req.requestId,
    routeKey: match.route.routeKey,
    stage: '$default',
    time: requestTime(req.timeEpoch),
    timeEpoch: req.timeEpoch,
  };
  const body = eventBody(req);
  if (body) event.body = body.body;
  if (match.params) event.pathParameters = match.params;
  event.isBase64Encoded = body?.isBase64Encoded ?? false;
  return event;
}
