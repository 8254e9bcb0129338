// `nimbus rm`: delete one function, or a whole app with --app.
import type { CommandSpec } from '../command.js';
import { UsageError, expectPositionals, stringOption } from '../command.js';

/** `nimbus rm`. */
export const rmCommand: CommandSpec = {
  name: 'rm',
  summary: 'Delete a function (with its versions and aliases), or a whole app',
  usage: ['rm <app-fn>', 'rm --app APP'],
  options: {
    app: {
      type: 'string',
      short: 'a',
      valueName: 'APP',
      description: 'delete this app and all its functions',
    },
  },
  async run(ctx, args) {
    const app = stringOption(args, 'app');
    const positionals = expectPositionals(rmCommand, args, app === undefined ? ['app-fn'] : []);
    if (app === '') throw new UsageError('--app must not be empty', rmCommand);
    const client = ctx.client();
    const { stdout } = ctx;
    if (app !== undefined) {
      const res = await client.deleteApp(app);
      if (ctx.globals.json) stdout.json(isEmpty(res) ? { deleted: { app } } : res);
      else stdout.line(`${stdout.style('green', '✓')} deleted app ${stdout.style('bold', app)}`);
      return 0;
    }
    const fn = positionals[0]!;
    const res = await client.deleteFunction(fn);
    if (ctx.globals.json) stdout.json(isEmpty(res) ? { deleted: { function: fn } } : res);
    else stdout.line(`${stdout.style('green', '✓')} deleted function ${stdout.style('bold', fn)}`);
    return 0;
  },
};

function isEmpty(value: unknown): boolean {
  return typeof value !== 'object' || value === null || Object.keys(value).length === 0;
}
