// `nimbus alias`: list, create/update (optionally as a weighted canary) and delete aliases.
import type { AliasInfo, AliasRequest } from '../api-client.js';
import type { CommandSpec } from '../command.js';
import { UsageError, stringOption } from '../command.js';
import { formatTable } from '../output.js';

/** Parses `--weight <version>=<0..1>` into the alias's second version. */
export function parseWeight(value: string): { version: string; weight: number } | undefined {
  const match = /^([^=\s]+)=(\d*\.?\d+)$/.exec(value.trim());
  if (!match) return undefined;
  const weight = Number(match[2]);
  if (!(weight >= 0 && weight <= 1)) return undefined;
  return { version: match[1]!, weight };
}

function describeTarget(alias: Pick<AliasInfo, 'version' | 'additionalVersion'>): string {
  const extra = alias.additionalVersion;
  if (!extra) return alias.version;
  const share = (w: number): string => `${Math.round(w * 1000) / 10}%`;
  return `${alias.version} (${share(1 - extra.weight)}), ${extra.version} (${share(extra.weight)})`;
}

const SUBCOMMANDS = ['ls', 'set', 'rm'];

/** `nimbus alias`. */
export const aliasCommand: CommandSpec = {
  name: 'alias',
  summary: 'List, set or remove the aliases of a function',
  usage: [
    'alias ls <app-fn>',
    'alias set <app-fn> <name> <version> [--weight VERSION=0..1] [--description TEXT]',
    'alias rm <app-fn> <name>',
  ],
  options: {
    weight: {
      type: 'string',
      valueName: 'VERSION=W',
      description: 'send share W (0..1) of the traffic to a second version (canary), e.g. 3=0.1',
    },
    description: { type: 'string', valueName: 'TEXT', description: 'description of the alias' },
  },
  async run(ctx, args) {
    const [sub, ...rest] = args.positionals;
    if (sub === undefined) throw new UsageError('missing subcommand: ls, set or rm', aliasCommand);
    if (!SUBCOMMANDS.includes(sub)) {
      throw new UsageError(`unknown subcommand: alias ${sub} (expected ls, set or rm)`, aliasCommand);
    }
    const names = { ls: ['app-fn'], set: ['app-fn', 'name', 'version'], rm: ['app-fn', 'name'] }[sub]!;
    if (rest.length < names.length) {
      throw new UsageError(`missing argument: <${names.slice(rest.length).join('> <')}>`, aliasCommand);
    }
    if (rest.length > names.length)
      throw new UsageError(`unexpected argument: ${rest[names.length]}`, aliasCommand);
    const weightText = stringOption(args, 'weight');
    const description = stringOption(args, 'description');
    if (sub !== 'set' && (weightText !== undefined || description !== undefined)) {
      throw new UsageError(`--weight and --description go with \`nimbus alias set\``, aliasCommand);
    }
    const [fn, name, version] = rest as [string, string, string];
    const client = ctx.client();
    const { stdout } = ctx;

    if (sub === 'ls') {
      const aliases = await client.listAliases(fn);
      if (ctx.globals.json) {
        stdout.json({ aliases });
        return 0;
      }
      const lines = formatTable(
        stdout,
        aliases,
        [
          { header: 'alias', value: (a) => a.name, style: 'bold' },
          { header: 'version', value: describeTarget },
          { header: 'description', value: (a) => a.description ?? '' },
        ],
        stdout.style('dim', `no aliases; create one with \`nimbus alias set ${fn} live <version>\``),
      );
      for (const line of lines) stdout.line(line);
      return 0;
    }

    if (sub === 'rm') {
      const res = await client.deleteAlias(fn, name);
      if (ctx.globals.json)
        stdout.json(res && Object.keys(res).length > 0 ? res : { deleted: { function: fn, alias: name } });
      else
        stdout.line(`${stdout.style('green', '✓')} deleted alias ${stdout.style('bold', `${fn}:${name}`)}`);
      return 0;
    }

    let additionalVersion: AliasRequest['additionalVersion'];
    if (weightText !== undefined) {
      additionalVersion = parseWeight(weightText);
      if (!additionalVersion) {
        throw new UsageError(
          `--weight must be VERSION=WEIGHT with WEIGHT from 0 to 1, e.g. 3=0.1; got ${weightText}`,
          aliasCommand,
        );
      }
      if (additionalVersion.version === version) {
        throw new UsageError(
          `--weight names version ${version}, which the alias already points at`,
          aliasCommand,
        );
      }
    }
    const request: AliasRequest = {
      version,
      ...(additionalVersion ? { additionalVersion } : {}),
      ...(description !== undefined ? { description } : {}),
    };
    const alias = await client.putAlias(fn, name, request);
    if (ctx.globals.json) stdout.json(alias);
    else
      stdout.line(
        `${stdout.style('green', '✓')} ${stdout.style('bold', `${fn}:${name}`)} → ` +
          describeTarget({
            version: alias.version ?? version,
            additionalVersion: alias.additionalVersion ?? additionalVersion,
          }),
      );
    return 0;
  },
};
