// The gateway benchmark's auth cases (API key, JWT): their nimbus.yml pieces, credentials, and a
// probe that tells whether this tree enforces them (deploy accepted, anonymous request refused).
import { SignJWT } from 'jose';
import { functionYaml } from './apps.js';
import { writeApp, type BenchClient } from './nimbus-client.js';

/** One auth variant of the `GET /noop` route. */
export interface AuthCase {
  readonly id: 'key' | 'jwt';
  /** Row label suffix: `API key`, `JWT (HS256)`. */
  readonly label: string;
  /** Route path of this variant (on the same function as `GET /noop`). */
  readonly path: string;
  /** Lines under the app's `gateway:` block (2-space indented), or ''. */
  gatewayYaml(): string;
  /** The route's long form as a YAML flow mapping. */
  routeYaml(): string;
  /** Headers that pass the check; called once the config is deployed (creates keys etc.). */
  credentials(client: BenchClient, app: string): Promise<Record<string, string>>;
}

const JWT_SECRET = 'nimbus-bench-hs256-secret-0123456789abcdef';
const ISSUER = 'https://bench.nimbus.invalid';
const AUDIENCE = 'nimbus-bench';

/** API key in `x-api-key`, in a usage plan far above what the benchmark sends (no 429s). */
export const apiKeyCase: AuthCase = {
  id: 'key',
  label: 'API key',
  path: '/key/noop',
  gatewayYaml: () =>
    ['  usagePlans:', '    bench:', '      rate: 1000000', '      burst: 1000000'].join('\n') + '\n',
  routeYaml: () => '{ method: get, path: /key/noop, auth: { apiKey: true } }',
  async credentials(client, app) {
    const res = await fetch(`${client.info.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${app}-bench`, app, plan: 'bench' }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`creating an API key: ${res.status} ${text}`);
    const j = JSON.parse(text) as { key?: unknown; value?: unknown };
    const value = typeof j.key === 'string' ? j.key : j.value;
    if (typeof value !== 'string') throw new Error(`no key in ${text}`);
    return { 'x-api-key': value };
  },
};

/** JWT authorizer with an HS256 secret; one token signed with jose, valid for 2 hours. */
export const jwtCase: AuthCase = {
  id: 'jwt',
  label: 'JWT (HS256)',
  path: '/jwt/noop',
  gatewayYaml: () =>
    [
      '  authorizers:',
      '    bench:',
      '      type: jwt',
      `      issuer: ${ISSUER}`,
      `      audience: [${AUDIENCE}]`,
      `      secret: ${JWT_SECRET}`,
    ].join('\n') + '\n',
  routeYaml: () => '{ method: get, path: /jwt/noop, auth: { authorizer: bench } }',
  async credentials() {
    const token = await new SignJWT({ scope: 'bench' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('bench-user')
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(JWT_SECRET));
    return { authorization: `Bearer ${token}` };
  },
};

export const AUTH_CASES: readonly AuthCase[] = [apiKeyCase, jwtCase];

/** The probe's verdict: headers to send, or why the case cannot run in this tree. */
export type Probe = { ok: true } | { ok: false; reason: string };

/**
 * Deploy a throw-away app with only this case's route, then check that a request without
 * credentials is refused (401/403) and one with them answers 200. The app is deleted after.
 */
export async function probeAuth(client: BenchClient, c: AuthCase): Promise<Probe> {
  const app = `gwprobe-${c.id}`;
  const yaml =
    `app: ${app}\ngateway:\n  basePath: /probe-${c.id}\n${c.gatewayYaml()}functions:\n` +
    functionYaml('fn', 'node') +
    `    events:\n      - http: ${c.routeYaml()}\n`;
  const dir = writeApp({
    'nimbus.yml': yaml,
    'index.mjs': 'export const handler = async () => ({ ok: true });\n',
  });
  try {
    await client.deploy(dir);
  } catch (err) {
    return { ok: false, reason: `deploy refused: ${oneLine(err)}` };
  }
  try {
    const url = `${client.info.url}/probe-${c.id}${c.path}`;
    const anon = await fetch(url);
    await anon.arrayBuffer();
    if (anon.status !== 401 && anon.status !== 403) {
      return { ok: false, reason: `\`auth:\` accepted but not enforced (no credentials → ${anon.status})` };
    }
    const authed = await fetch(url, { headers: await c.credentials(client, app) });
    const body = await authed.text();
    if (authed.status !== 200) return { ok: false, reason: `with credentials → ${authed.status} ${body}` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: oneLine(err) };
  } finally {
    await client.api.deleteApp(app).catch(() => undefined);
  }
}

/** The error as one short line (config errors span several lines and name a temp dir). */
function oneLine(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err))
    .replace(/\/tmp\/nimbus-bench-app-\w+\//g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
