// The request as the event builders see it: read once from node:http, headers lowercased and
// duplicates kept apart (1.0 needs them separately, 2.0 joins them with commas).

import type { IncomingMessage } from 'node:http';

/** A request, normalized for the event builders. */
export interface GatewayRequest {
  readonly method: string;
  /** Path as sent, still percent-encoded. */
  readonly rawPath: string;
  /** Query string without `?`, as sent. */
  readonly rawQueryString: string;
  /** Lowercased header name → every value in arrival order. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: Buffer;
  readonly sourceIp: string;
  /** `HTTP/1.1` */
  readonly protocol: string;
  readonly requestId: string;
  /** Epoch ms when the request arrived. */
  readonly timeEpoch: number;
}

/** Lowercased headers with every value, from `rawHeaders` (Node joins some duplicates itself). */
export function collectHeaders(req: IncomingMessage): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const list = out.get(name);
    if (list) list.push(raw[i + 1]!);
    else out.set(name, [raw[i + 1]!]);
  }
  return out;
}

/** First value of a header. */
export function firstHeader(req: GatewayRequest, name: string): string | undefined {
  return req.headers.get(name)?.[0];
}

/** Query parameters, decoded (`+` is a space), each name with every value in order. */
export function parseQuery(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (raw === '') return out;
  for (const [k, v] of new URLSearchParams(raw)) {
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

// Content types whose bodies reach the function as text; everything else is base64 (binary).
const TEXT_TYPE =
  /^(text\/|application\/(json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|javascript|x-www-form-urlencoded|graphql|yaml|x-yaml)\b)/i;

/** Whether a body of this content type travels as text (otherwise base64). */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === '' || TEXT_TYPE.test(contentType.trim());
}

/** The body as the event carries it: text, or base64 for binary content types. */
export function eventBody(req: GatewayRequest): { body: string; isBase64Encoded: boolean } | undefined {
  if (req.body.length === 0) return undefined;
  if (isTextContentType(firstHeader(req, 'content-type'))) {
    return { body: req.body.toString('utf8'), isBase64Encoded: false };
  }
  return { body: req.body.toString('base64'), isBase64Encoded: true };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's request time format: `12/Mar/2020:19:03:58 +0000`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Host without port, as `requestContext.domainName`. */
export function domainName(req: GatewayRequest): string {
  const host = firstHeader(req, 'host') ?? 'localhost';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
}
