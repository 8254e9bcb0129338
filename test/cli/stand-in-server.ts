// Test helper: a small node:http server that mimics the /v1 contract the CLI speaks.
//
// Why a stand-in and not the real server: these tests pin down the CLI's side of the wire
// (paths, headers, bodies, error mapping, output) and run without sandboxes or a store. The
// real server is exercised end-to-end through the CLI by the lead's tests (and cli-e2e.test.ts).
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stand-in received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

interface StoredFunction {
  app: string;
  name: string;
  fullName: string;
  codeSha256: string;
  codeSize: number;
  config: Record<string, unknown>;
  versions: Array<{ version: string; codeSha256: string; description: string; createdAt: string }>;
  aliases: Map<string, Record<string, unknown>>;
}

/** A running stand-in server and the state it keeps. */
export interface StandIn {
  readonly url: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  readonly code: Map<string, Buffer>;
  readonly functions: Map<string, StoredFunction>;
  /** Log lines served by GET /logs, in id order; tests append to simulate new output. */
  readonly logLines: Array<{
    id: number;
    timestamp: number;
    requestId: string;
    stream: string;
    message: string;
    version: string;
  }>;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
  res.end(text);
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { code, __type: code, message });
}

/** Starts a stand-in on port 0 accepting `Authorization: Bearer <token>`. */
export async function startStandIn(token = 'test-token'): Promise<StandIn> {
  const requests: RecordedRequest[] = [];
  const code = new Map<string, Buffer>();
  const functions = new Map<string, StoredFunction>();
  const logLines: StandIn['logLines'] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      handle(rec, res);
    });
  });

  function handle(req: RecordedRequest, res: ServerResponse): void {
    const auth = req.headers.authorization;
    if (!auth) return fail(res, 403, 'MissingAuthenticationTokenException', 'Missing authentication token.');
    if (auth !== `Bearer ${token}`)
      return fail(res, 403, 'UnrecognizedClientException', 'The token is not valid.');
    const parts = req.path.split('/').slice(1).map(decodeURIComponent);
    const json = (): Record<string, unknown> =>
      JSON.parse(req.body.toString() || '{}') as Record<string, unknown>;
    const route = `${req.method} /${parts.map((p, i) => (i >= 2 && i % 2 === 0 ? ':' : p)).join('/')}`;
    const fn =
      parts[0] === 'v1' && parts[1] === 'functions' && parts[2] ? functions.get(parts[2]) : undefined;
    const notFound = (): void =>
      fail(res, 404, 'ResourceNotFoundException', `Function not found: ${parts[2]}`);

    switch (route) {
      case 'HEAD /v1/code/:':
        return send(res, code.has(parts[2]!) ? 200 : 404);
      case 'PUT /v1/code/:': {
        if (req.headers['content-type'] !== 'application/octet-stream') {
          return fail(res, 400, 'InvalidRequestContentException', 'expected application/octet-stream');
        }
        const sha = createHash('sha256').update(req.body).digest('hex');
        if (sha !== parts[2]) return fail(res, 400, 'InvalidParameterValueException', 'sha256 mismatch');
        const existed = code.has(sha);
        code.set(sha, req.body);
        return send(res, existed ? 200 : 201, { codeSha256: sha, codeSize: req.body.length });
      }
      case 'POST /v1/apps/:/deploy': {
        const app = parts[2]!;
        const body = json() as {
          functions: Array<{
            name: string;
            codeSha256: string;
            codeSize: number;
            config: Record<string, unknown>;
          }>;
          prune: boolean;
        };
        for (const f of body.functions) {
          if (!code.has(f.codeSha256))
            return fail(res, 400, 'InvalidParameterValueException', `code ${f.codeSha256} not uploaded`);
        }
        if (body.prune) for (const [k, f] of functions) if (f.app === app) functions.delete(k);
        for (const f of body.functions) {
          const fullName = `${app}-${f.name}`;
          functions.set(fullName, {
            app,
            name: f.name,
            fullName,
            codeSha256: f.codeSha256,
            codeSize: f.codeSize,
            config: f.config,
            versions: [],
            aliases: new Map(),
          });
        }
        return send(res, 200, {
          app,
          functions: body.functions.map((f) => ({
            name: f.name,
            fullName: `${app}-${f.name}`,
            version: '$LATEST',
            codeSha256: f.codeSha256,
          })),
        });
      }
      case 'GET /v1/functions': {
        const app = req.query.get('app');
        return send(res, 200, {
          functions: [...functions.values()]
            .filter((f) => !app || f.app === app)
            .map((f) => ({
              fullName: f.fullName,
              app: f.app,
              name: f.name,
              runtime: f.config.runtime,
              memory: f.config.memory,
              timeout: f.config.timeout,
              codeSize: f.codeSize,
              lastModified: '2026-11-22T06:40:12.000Z',
              isolation: f.config.isolation,
            })),
        });
      }
      case 'DELETE /v1/functions/:':
        if (!fn) return notFound();
        functions.delete(fn.fullName);
        return send(res, 204);
      case 'DELETE /v1/apps/:':
        for (const [k, f] of functions) if (f.app === parts[2]) functions.delete(k);
        return send(res, 200, { app: parts[2], deleted: true });
      case 'POST /v1/functions/:/invoke': {
        if (!fn) return notFound();
        const event = JSON.parse(req.body.toString()) as { name?: string; fail?: boolean };
        if (req.query.get('async') === 'true') return send(res, 202, { invocationId: 'inv-123' });
        const headers: Record<string, string> = { 'x-nimbus-request-id': 'req-42' };
        if (req.query.get('log') === 'tail')
          headers['x-nimbus-log-result'] = Buffer.from('START\nsaying hello\nEND\n').toString('base64');
        if (event.fail) {
          headers['x-nimbus-function-error'] = 'Unhandled';
          return send(
            res,
            200,
            { errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom'] },
            headers,
          );
        }
        return send(
          res,
          200,
          { message: `Hello, ${event.name ?? 'world'}!`, qualifier: req.query.get('qualifier') },
          headers,
        );
      }
      case 'GET /v1/functions/:/logs': {
        if (!fn) return notFound();
        const after = req.query.get('after');
        const since = req.query.get('since');
        return send(res, 200, {
          lines: logLines.filter(
            (l) =>
              (after === null || l.id > Number(after)) && (since === null || l.timestamp >= Number(since)),
          ),
        });
      }
      case 'GET /v1/functions/:/versions':
        if (!fn) return notFound();
        return send(res, 200, { versions: fn.versions });
      case 'POST /v1/functions/:/versions': {
        if (!fn) return notFound();
        const v = {
          version: String(fn.versions.length + 1),
          codeSha256: fn.codeSha256,
          description: String(json().description ?? ''),
          createdAt: '2026-11-22T06:40:12.000Z',
        };
        fn.versions.push(v);
        return send(res, 201, v);
      }
      case 'GET /v1/functions/:/aliases':
        if (!fn) return notFound();
        return send(res, 200, { aliases: [...fn.aliases.values()] });
      case 'PUT /v1/functions/:/aliases/:': {
        if (!fn) return notFound();
        const alias = { name: parts[4], description: '', ...json() };
        fn.aliases.set(parts[4]!, alias);
        return send(res, 200, alias);
      }
      case 'DELETE /v1/functions/:/aliases/:':
        if (!fn?.aliases.delete(parts[4]!))
          return fail(res, 404, 'ResourceNotFoundException', `Alias not found: ${parts[4]}`);
        return send(res, 204);
      default:
        return fail(res, 404, 'NotFound', `No route for ${req.method} ${req.path}`);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    code,
    functions,
    logLines,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
