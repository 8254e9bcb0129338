// `nimbus init`: write a starter app (nimbus.yml + hello handler) into a directory.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { NAME_PATTERN } from '../../functions/function-model.js';
import type { CommandSpec } from '../command.js';
import { CliError, UsageError, expectPositionals, stringOption } from '../command.js';
import { TEMPLATE_RUNTIMES, appTemplate } from '../templates/app-templates.js';
import type { TemplateRuntime } from '../templates/app-templates.js';

/** Config file names whose presence means the directory already holds an app. */
const CONFIG_FILES = ['nimbus.yml', 'nimbus.yaml', 'serverless.yml', 'serverless.yaml'];

/** An app name derived from a directory name (`My App!` → `My-App`), or undefined if none fits. */
export function appNameFromDir(dir: string): string | undefined {
  const name = basename(dir)
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 64);
  return NAME_PATTERN.test(name) ? name : undefined;
}

/** `nimbus init`. */
export const initCommand: CommandSpec = {
  name: 'init',
  summary: 'Create a starter app (nimbus.yml + hello handler) in a directory',
  usage: ['init <dir> --runtime nodejs|typescript|python [--name app]'],
  options: {
    runtime: {
      type: 'string',
      short: 'r',
      valueName: 'RUNTIME',
      description: `runtime of the hello function: ${TEMPLATE_RUNTIMES.join(', ')}`,
    },
    name: { type: 'string', valueName: 'APP', description: 'app name (default: the directory name)' },
  },
  details: 'Existing files are kept; a directory that already has a nimbus.yml is refused.',
  async run(ctx, args) {
    const [dirArg] = expectPositionals(initCommand, args, ['dir']);
    const runtime = stringOption(args, 'runtime');
    if (runtime === undefined) {
      throw new UsageError(`missing --runtime (one of ${TEMPLATE_RUNTIMES.join(', ')})`, initCommand);
    }
    if (!(TEMPLATE_RUNTIMES as readonly string[]).includes(runtime)) {
      throw new UsageError(
        `--runtime must be one of ${TEMPLATE_RUNTIMES.join(', ')}, got ${runtime}`,
        initCommand,
      );
    }
    const dir = ctx.resolvePath(dirArg!);
    const nameArg = stringOption(args, 'name');
    if (nameArg !== undefined && !NAME_PATTERN.test(nameArg)) {
      throw new UsageError(
        `--name must be 1-64 letters, digits, dashes or underscores, starting with a letter or digit; got ${nameArg}`,
        initCommand,
      );
    }
    const app = nameArg ?? appNameFromDir(dir);
    if (app === undefined) {
      throw new UsageError(`cannot derive an app name from ${basename(dir)}; pass --name`, initCommand);
    }

    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new CliError(`${dir} exists and is not a directory`);
      const existing = readdirSync(dir).find((f) => CONFIG_FILES.includes(f));
      if (existing) {
        throw new CliError(
          `${join(dir, existing)} already exists; edit it, or pick an empty directory for a new app`,
        );
      }
    }
    mkdirSync(dir, { recursive: true });

    const created: string[] = [];
    const kept: string[] = [];
    for (const file of appTemplate(app, runtime as TemplateRuntime)) {
      const path = join(dir, file.path);
      if (existsSync(path)) {
        kept.push(file.path);
        continue;
      }
      // 'wx': never overwrite, even if the file appeared since the check.
      writeFileSync(path, file.content, { flag: 'wx' });
      created.push(file.path);
    }

    const out = ctx.stdout;
    if (ctx.globals.json) {
      out.json({ app, runtime, dir, created, kept });
      return 0;
    }
    const shown = relative(ctx.io.cwd, dir) || '.';
    out.line(`Created app ${out.style('bold', app)} (${runtime}) in ${shown}:`);
    for (const f of created) out.line(`  ${out.style('green', '+')} ${f}`);
    for (const f of kept) out.line(`  ${out.style('dim', `= ${f} (kept existing file)`)}`);
    out.line('');
    out.line('Next:');
    out.line(`  nimbus dev ${shown}`);
    out.line(`  nimbus invoke ${app}-hello --data '{"name":"Ada"}'`);
    out.line(`  curl ${ctx.globals.endpoint}/${app}/hello`);
    return 0;
  },
};
