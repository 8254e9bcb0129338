// `nimbus tokens`: list and revoke the app tokens functions get for the SDK (root credentials only).
import type { CommandSpec } from '../command.js';
import { UsageError, stringOption } from '../command.js';
import { formatTable } from '../output.js';

const SUBCOMMANDS = ['ls', 'revoke'];

/** `nimbus tokens`. */
export const tokensCommand: CommandSpec = {
  name: 'tokens',
  summary: "List and revoke app tokens (functions' SDK tokens)",
  usage: ['tokens ls [--app APP]', 'tokens revoke <id>'],
  options: {
    app: { type: 'string', short: 'a', valueName: 'APP', description: 'only the tokens of this app' },
  },
  async run(ctx, args) {
    const [sub, ...rest] = args.positionals;
    if (sub === undefined || !SUBCOMMANDS.includes(sub)) {
      throw new UsageError(
        sub === undefined ? 'missing subcommand: ls or revoke' : `unknown subcommand: tokens ${sub}`,
        tokensCommand,
      );
    }
    const wanted = sub === 'ls' ? 0 : 1;
    if (rest.length < wanted) throw new UsageError('missing argument: <id>', tokensCommand);
    if (rest.length > wanted) throw new UsageError(`unexpected argument: ${rest[wanted]}`, tokensCommand);
    const client = ctx.client();
    const { stdout } = ctx;
    if (sub === 'ls') {
      const tokens = await client.listAppTokens(stringOption(args, 'app'));
      if (ctx.globals.json) {
        stdout.json({ tokens });
        return 0;
      }
      const lines = formatTable(
        stdout,
        tokens,
        [
          { header: 'id', value: (t) => t.id, style: 'bold' },
          { header: 'app', value: (t) => t.app },
          { header: 'status', value: (t) => t.status },
          { header: 'issued', value: (t) => t.issuedAt },
          { header: 'expires', value: (t) => t.expiresAt },
        ],
        stdout.style('dim', 'no app tokens; each app gets one when its functions first run'),
      );
      for (const line of lines) stdout.line(line);
      return 0;
    }
    const revoked = await client.revokeAppToken(rest[0]!);
    if (ctx.globals.json) stdout.json(revoked);
    else
      stdout.line(
        `${stdout.style('green', '✓')} revoked app token ${stdout.style('bold', revoked.id)} of app ${revoked.app}; its new instances get a new one`,
      );
    return 0;
  },
};
