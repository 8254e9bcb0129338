// `nimbus keys`: create (the key is printed once), list, show usage of and revoke gateway API keys.
import type { CommandSpec } from '../command.js';
import { UsageError, stringOption } from '../command.js';
import { formatTable } from '../output.js';

const SUBCOMMANDS = ['create', 'ls', 'usage', 'revoke'];

/** `nimbus keys`. */
export const keysCommand: CommandSpec = {
  name: 'keys',
  summary: 'Create, list, show usage of and revoke gateway API keys',
  usage: [
    'keys create <name> --plan PLAN [--app APP]',
    'keys ls [--app APP]',
    'keys usage <name|id>',
    'keys revoke <name|id>',
  ],
  options: {
    plan: {
      type: 'string',
      valueName: 'PLAN',
      description: 'usage plan (declared under gateway.usagePlans)',
    },
    app: {
      type: 'string',
      short: 'a',
      valueName: 'APP',
      description: 'app of the plan (needed when several declare it)',
    },
  },
  async run(ctx, args) {
    const [sub, ...rest] = args.positionals;
    if (sub === undefined || !SUBCOMMANDS.includes(sub)) {
      throw new UsageError(
        sub === undefined
          ? 'missing subcommand: create, ls, usage or revoke'
          : `unknown subcommand: keys ${sub}`,
        keysCommand,
      );
    }
    const wanted = sub === 'ls' ? 0 : 1;
    if (rest.length < wanted) throw new UsageError('missing argument: <name|id>', keysCommand);
    if (rest.length > wanted) throw new UsageError(`unexpected argument: ${rest[wanted]}`, keysCommand);
    const plan = stringOption(args, 'plan');
    const app = stringOption(args, 'app');
    if (sub === 'create' && !plan) throw new UsageError('`keys create` needs --plan PLAN', keysCommand);
    const client = ctx.client();
    const { stdout } = ctx;
    const target = rest[0]!;

    if (sub === 'create') {
      const created = await client.createKey({ name: target, plan: plan!, ...(app ? { app } : {}) });
      if (ctx.globals.json) {
        stdout.json(created);
        return 0;
      }
      // The key alone on stdout, so `KEY=$(nimbus keys create …)` captures just the key; the
      // rest is for the person at the terminal.
      const { stderr } = ctx;
      stderr.line(
        `${stderr.style('green', '✓')} created key ${stderr.style('bold', created.name)} (${created.id}) for plan ${created.plan} of app ${created.app}`,
      );
      stdout.line(created.key);
      stderr.line(
        stderr.style('dim', 'Send it as the x-api-key header. It is shown only now; only its hash is kept.'),
      );
      return 0;
    }
    if (sub === 'ls') {
      const keys = await client.listKeys(app);
      if (ctx.globals.json) {
        stdout.json({ keys });
        return 0;
      }
      const lines = formatTable(
        stdout,
        keys,
        [
          { header: 'name', value: (k) => k.name, style: 'bold' },
          { header: 'id', value: (k) => k.id },
          { header: 'prefix', value: (k) => `${k.prefix}…` },
          { header: 'app', value: (k) => k.app },
          { header: 'plan', value: (k) => k.plan },
          { header: 'status', value: (k) => k.status },
          { header: 'created', value: (k) => k.createdAt },
        ],
        stdout.style('dim', 'no API keys; create one with `nimbus keys create <name> --plan <plan>`'),
      );
      for (const line of lines) stdout.line(line);
      return 0;
    }
    if (sub === 'usage') {
      const u = await client.keyUsage(target);
      if (ctx.globals.json) {
        stdout.json(u);
        return 0;
      }
      stdout.line(`${stdout.style('bold', u.name)} (${u.id}) · app ${u.app} · plan ${u.plan} · ${u.status}`);
      const l = u.limits;
      if (l)
        stdout.line(
          `limits: ${l.rate === undefined ? 'no rate limit' : `${l.rate}/s, burst ${l.burst}`}${l.quota ? `, ${l.quota.limit} per ${l.quota.period}` : ''}`,
        );
      if (u.quota) stdout.line(`quota: ${u.quota.used} of ${u.quota.limit} used in ${u.quota.period}`);
      for (const p of u.usage) stdout.line(`  ${p.period}  ${p.count}`);
      return 0;
    }
    const revoked = await client.revokeKey(target);
    if (ctx.globals.json) stdout.json(revoked);
    else
      stdout.line(
        `${stdout.style('green', '✓')} revoked key ${stdout.style('bold', revoked.name)} (${revoked.id})`,
      );
    return 0;
  },
};
