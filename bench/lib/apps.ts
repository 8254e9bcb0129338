// The benchmark's function code and nimbus.yml builders: no-op handlers returning {"ok":true}.

/** The JSON every benchmark function (and the bare baseline) answers. */
export const OK_BODY = '{"ok":true}';

export const NODE_HANDLER = 'export const handler = async () => ({ ok: true });\n';
export const PYTHON_HANDLER = 'def handler(event, context):\n    return {"ok": True}\n';

/** Runtimes the benchmarks compare. */
export type BenchKind = 'node' | 'python' | 'thread';

/** nimbus.yml lines of one function of `kind` (extra config keys appended as-is). */
export function functionYaml(
  name: string,
  kind: BenchKind,
  extra: Record<string, string | number> = {},
): string {
  const base: Record<string, string | number> =
    kind === 'python'
      ? { handler: 'index.handler', runtime: 'python' }
      : {
          handler: 'index.handler',
          runtime: 'nodejs',
          ...(kind === 'thread' ? { isolation: 'thread' } : {}),
        };
  const lines = Object.entries({ ...base, ...extra }).map(([k, v]) => `    ${k}: ${v}`);
  return `  ${name}:\n${lines.join('\n')}\n`;
}

/** The files of app `app` with the given functions (name → kind and extra config). */
export function appFiles(
  app: string,
  functions: Array<{ name: string; kind: BenchKind; extra?: Record<string, string | number> }>,
): Record<string, string> {
  const yaml = `app: ${app}\nfunctions:\n${functions.map((f) => functionYaml(f.name, f.kind, f.extra)).join('')}`;
  return { 'nimbus.yml': yaml, 'index.mjs': NODE_HANDLER, 'index.py': PYTHON_HANDLER };
}
