// `nimbus versions`: list a function's published versions, or publish $LATEST as a new one.
import type { VersionInfo } from '../api-client.js';
import type { CommandSpec } from '../command.js';
import { UsageError, stringOption } from '../command.js';
import { formatTable, formatTime } from '../output.js';
import type { Output } from '../output.js';

function printVersions(out: Output, versions: readonly VersionInfo[]): void {
  const lines = formatTable(
    out,
    versions,
    [
      { header: 'version', value: (v) => v.version, style: 'bold' },
      { header: 'code', value: (v) => v.codeSha256.slice(0, 12) },
      { header: 'created', value: (v) => formatTime(v.createdAt) },
      { header: 'description', value: (v) => v.description },
    ],
    out.style('dim', 'no published versions; publish one with `nimbus versions publish <app-fn>`'),
  );
  for (const line of lines) out.line(line);
}

/** `nimbus versions`. */
export const versionsCommand: CommandSpec = {
  name: 'versions',
  summary: 'List published versions of a function, or publish a new one',
  usage: ['versions <app-fn>', 'versions publish <app-fn> [--description TEXT]'],
  options: {
    description: {
      type: 'string',
      valueName: 'TEXT',
      description: 'description of the version being published',
    },
  },
  details: 'Publishing snapshots the code and config of $LATEST as an immutable numbered version.',
  async run(ctx, args) {
    const [first, second, ...extra] = args.positionals;
    const publish = first === 'publish' || (first === 'ls' && second !== undefined) ? first : undefined;
    const fn = publish ? second : first;
    if (fn === undefined) {
      throw new UsageError(`missing argument: <app-fn>`, versionsCommand);
    }
    const unexpected = publish ? extra[0] : (second ?? extra[0]);
    if (unexpected !== undefined) throw new UsageError(`unexpected argument: ${unexpected}`, versionsCommand);
    const description = stringOption(args, 'description');
    if (publish !== 'publish' && description !== undefined) {
      throw new UsageError('--description goes with `nimbus versions publish`', versionsCommand);
    }
    const client = ctx.client();
    const { stdout } = ctx;
    if (publish === 'publish') {
      const version = await client.publishVersion(fn, description);
      if (ctx.globals.json) stdout.json(version);
      else
        stdout.line(
          `${stdout.style('green', '✓')} published ${stdout.style('bold', `${fn}:${version.version}`)}` +
            ` (code ${String(version.codeSha256 ?? '').slice(0, 12)})`,
        );
      return 0;
    }
    const versions = await client.listVersions(fn);
    if (ctx.globals.json) stdout.json({ versions });
    else printVersions(stdout, versions);
    return 0;
  },
};
