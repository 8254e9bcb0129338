// A small method + path router for the API: `/v1/functions/{name}/invoke` style patterns.

/** Path parameters captured by a route. */
export type Params = Record<string, string>;

interface Route<H> {
  readonly method: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly handler: H;
}

/** Result of a lookup: a handler, a 405 (path known, method not), or nothing. */
export type Match<H> =
  | { readonly kind: 'found'; readonly handler: H; readonly params: Params }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'not-found' };

/**
 * Routes are tried in registration order. Why a linear scan of compiled regexes: the API has
 * ~25 routes; matching costs well under a microsecond, so a trie would buy nothing measurable.
 */
export class Router<H> {
  readonly #routes: Route<H>[] = [];

  /**
   * Register `pattern` for `method`. Segments like `{name}` capture one path segment; a last
   * segment `{name+}` (greedy, as API Gateway's `{proxy+}`) captures the rest of the path,
   * slashes included (object keys).
   */
  add(method: string, pattern: string, handler: H): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)(\+?)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        names.push(m[1]!);
        return m[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    this.#routes.push({ method, regex: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  /** Find the handler for `method` and the raw (still percent-encoded) `path`. */
  match(method: string, path: string): Match<H> {
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        allowed.push(route.method);
        continue;
      }
      const params: Params = {};
      route.names.forEach((name, i) => {
        params[name] = safeDecode(m[i + 1]!);
      });
      return { kind: 'found', handler: route.handler, params };
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
