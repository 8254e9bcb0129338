// The starter apps `nimbus init` writes: a nimbus.yml and a hello handler per runtime.

/** Runtimes `nimbus init` has a template for. */
export const TEMPLATE_RUNTIMES = ['nodejs', 'typescript', 'python'] as const;

/** A runtime `nimbus init` has a template for. */
export type TemplateRuntime = (typeof TEMPLATE_RUNTIMES)[number];

/** One file of a template: path relative to the app dir, and its text. */
export interface TemplateFile {
  readonly path: string;
  readonly content: string;
}

const HANDLER_FILE: Record<TemplateRuntime, string> = {
  nodejs: 'handler.mjs',
  typescript: 'handler.ts',
  python: 'handler.py',
};

function nimbusYml(app: string, runtime: TemplateRuntime): string {
  // The route carries the app name: routes are global to a server, so a second app made by
  // `nimbus init` would otherwise claim the same GET /hello and its deploy would fail with a 409.
  return `# Nimbus app. \`nimbus dev\` runs it locally and redeploys on every save;
# \`nimbus deploy\` deploys it to the server at NIMBUS_ENDPOINT.
app: ${app}

functions:
  hello:
    handler: handler.handler
    runtime: ${runtime}
    memory: 128
    timeout: 10
    environment:
      GREETING: Hello
    events:
      - http: GET /${app}/hello
`;
}

const NODE_HANDLER = `// The \`hello\` function. Try: nimbus invoke APP-hello --data '{"name":"Ada"}'
export const handler = async (event) => {
  const name = typeof event?.name === 'string' ? event.name : 'world';
  console.log(\`saying hello to \${name}\`);
  return { message: \`\${process.env.GREETING ?? 'Hello'}, \${name}!\` };
};
`;

const TS_HANDLER = `// The \`hello\` function. Try: nimbus invoke APP-hello --data '{"name":"Ada"}'
interface HelloEvent {
  name?: string;
}

interface HelloResult {
  message: string;
}

export const handler = async (event: HelloEvent | null): Promise<HelloResult> => {
  const name = typeof event?.name === 'string' ? event.name : 'world';
  console.log(\`saying hello to \${name}\`);
  return { message: \`\${process.env.GREETING ?? 'Hello'}, \${name}!\` };
};
`;

const PY_HANDLER = `# The \`hello\` function. Try: nimbus invoke APP-hello --data '{"name":"Ada"}'
import os


def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"saying hello to {name}")
    return {"message": f"{os.environ.get('GREETING', 'Hello')}, {name}!"}
`;

// Optional for Nimbus (esbuild compiles TypeScript without them); they make editors and
// \`tsc --noEmit\` happy.
const TS_CONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "types": ["node"]
  },
  "include": ["**/*.ts"],
  "exclude": ["node_modules", ".nimbus"]
}
`;

function packageJson(app: string): string {
  return `${JSON.stringify(
    {
      name: app.toLowerCase(),
      private: true,
      type: 'module',
      devDependencies: { '@types/node': '^20.0.0', typescript: '^5.0.0' },
    },
    null,
    2,
  )}\n`;
}

const GITIGNORE = `node_modules/
.nimbus/
`;

/** The files of the starter app `app` for `runtime`, nimbus.yml first. */
export function appTemplate(app: string, runtime: TemplateRuntime): TemplateFile[] {
  const handler = { nodejs: NODE_HANDLER, typescript: TS_HANDLER, python: PY_HANDLER }[runtime];
  const files: TemplateFile[] = [
    { path: 'nimbus.yml', content: nimbusYml(app, runtime) },
    { path: HANDLER_FILE[runtime], content: handler.replace('APP-hello', `${app}-hello`) },
    { path: '.gitignore', content: GITIGNORE },
  ];
  if (runtime === 'typescript') {
    files.push(
      { path: 'tsconfig.json', content: TS_CONFIG },
      { path: 'package.json', content: packageJson(app) },
    );
  }
  return files;
}
