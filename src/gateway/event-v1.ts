// Builds the payload format 1.0 event (the REST API proxy shape Serverless `http` handlers expect).

import { domainName, eventBody, parseQuery, requestTime, type GatewayRequest } from './gateway-request.js';
import { forwardedHeaderValues, type EventIdentity } from './event-v2.js';
import type { RouteMatch } from './route-table.js';

/**
 * The 1.0 event: single-value maps hold the last value of each header or parameter,
 * `multiValue*` maps hold them all; absent maps and bodies are `null`, as API Gateway sends them.
 */
export function buildEventV1(
  req: GatewayRequest,
  match: RouteMatch,
  identity: EventIdentity,
): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, all] of req.headers) {
    const values = forwardedHeaderValues(name, all);
    if (values.length === 0) continue;
    headers[name] = values[values.length - 1]!;
    multiValueHeaders[name] = [...values];
  }
  const query = parseQuery(req.rawQueryString);
  const hasQuery = query.size > 0;
  const domain = domainName(req);
  const body = eventBody(req);
  const resource = match.route.resource === '$default' ? '$default' : match.route.resource;
  const auth = identity.authorizer;
  return {
    version: '1.0',
    resource,
    path: req.rawPath,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery
      ? Object.fromEntries([...query].map(([k, v]) => [k, v[v.length - 1]!]))
      : null,
    multiValueQueryStringParameters: hasQuery ? Object.fromEntries(query) : null,
    requestContext: {
      accountId: identity.accountId,
      apiId: match.route.app,
      ...(auth?.jwt
        ? {
            authorizer: {
              claims: auth.jwt.claims,
              scopes: auth.jwt.scopes.length > 0 ? auth.jwt.scopes : null,
            },
          }
        : auth?.lambda
          ? { authorizer: { ...auth.lambda } }
          : {}),
      domainName: domain,
      domainPrefix: domain.split('.')[0],
      extendedRequestId: req.requestId,
      httpMethod: req.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: auth?.apiKey?.value ?? null,
        apiKeyId: auth?.apiKey?.id ?? null,
        caller: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent: headers['user-agent'] ?? '',
        userArn: null,
      },
      path: req.rawPath,
      protocol: req.protocol,
      requestId: req.requestId,
      requestTime: requestTime(req.timeEpoch),
      requestTimeEpoch: req.timeEpoch,
      resourceId: match.route.routeKey,
      resourcePath: resource,
      stage: '$default',
    },
    pathParameters: match.params ?? null,
    stageVariables: null,
    body: body?.body ?? null,
    isBase64Encoded: body?.isBase64Encoded ?? false,
  };
}
