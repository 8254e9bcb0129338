// `nimbus ls`: list deployed functions as a table (or JSON).
import type { FunctionSummary } from '../api-client.js';
import type { CommandSpec } from '../command.js';
import { expectPositionals, stringOption } from '../command.js';
import { formatBytes, formatTable, formatTime } from '../output.js';
import type { Column } from '../output.js';

/** The columns of `nimbus ls`. */
export const FUNCTION_COLUMNS: readonly Column<FunctionSummary>[] = [
  { header: 'function', value: (f) => f.fullName, style: 'bold' },
  { header: 'runtime', value: (f) => f.sourceRuntime ?? f.runtime },
  { header: 'memory', value: (f) => `${f.memory} MB`, align: 'right' },
  { header: 'timeout', value: (f) => `${f.timeout} s`, align: 'right' },
  { header: 'code', value: (f) => formatBytes(f.codeSize), align: 'right' },
  { header: 'isolation', value: (f) => f.isolation },
  { header: 'last modified', value: (f) => formatTime(f.lastModified) },
];

/** `nimbus ls`. */
export const lsCommand: CommandSpec = {
  name: 'ls',
  summary: 'List deployed functions',
  usage: ['ls [--app APP]'],
  options: {
    app: { type: 'string', short: 'a', valueName: 'APP', description: 'only the functions of this app' },
  },
  async run(ctx, args) {
    expectPositionals(lsCommand, args, []);
    const app = stringOption(args, 'app');
    const functions = await ctx.client().listFunctions(app);
    if (ctx.globals.json) {
      ctx.stdout.json({ functions });
      return 0;
    }
    const empty = app
      ? `no functions in app ${app}; deploy it with \`nimbus deploy\``
      : 'no functions deployed; create an app with `nimbus init` and deploy it with `nimbus deploy`';
    for (const line of formatTable(ctx.stdout, functions, FUNCTION_COLUMNS, ctx.stdout.style('dim', empty))) {
      ctx.stdout.line(line);
    }
    return 0;
  },
};
