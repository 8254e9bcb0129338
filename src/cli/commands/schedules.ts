// `nimbus schedules`: list, enable, disable and run schedules, and preview an expression's ticks offline.
import type { CommandSpec } from '../command.js';
import { UsageError, stringOption, subcommandArgs } from '../command.js';
import { formatTable } from '../output.js';
import { checkTimeZone, parseScheduleExpression } from '../../events/schedules/schedule-expression.js';
import { formatInZone } from '../../events/schedules/time-zone.js';

/** A schedule as `GET /v1/schedules` returns it. */
interface ScheduleView {
  readonly id: string;
  readonly app: string;
  readonly name: string;
  readonly function: string;
  readonly expression: string;
  readonly timeZone: string;
  readonly enabled: boolean;
  readonly nextFireAt: string | null;
  readonly nextFireAtZone: string | null;
}

/** Local wall time of an ISO instant, `2026-12-01 13:00` (this machine's zone). */
function local(isoText: string | null): string {
  if (isoText === null) return '-';
  const d = new Date(isoText);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** `nimbus schedules`. */
export const schedulesCommand: CommandSpec = {
  name: 'schedules',
  summary: 'List, enable, disable and run schedules; preview the ticks of an expression',
  usage: [
    'schedules ls [--app APP]',
    'schedules enable <id>',
    'schedules disable <id>',
    'schedules run <id>',
    'schedules next "<expression>" [--tz ZONE] [--count N]',
  ],
  options: {
    app: { type: 'string', short: 'a', valueName: 'APP', description: 'only the schedules of this app' },
    tz: { type: 'string', valueName: 'ZONE', description: 'IANA time zone for `next` (default UTC)' },
    count: {
      type: 'string',
      short: 'n',
      valueName: 'N',
      description: 'how many ticks `next` prints (default 5)',
    },
  },
  details:
    'Ids are <app>:<name> (a name alone works when only one app has it). `next` needs no server:\n' +
    '  nimbus schedules next "cron(0 12 ? * MON-FRI *)" --tz Europe/Berlin --count 3',
  async run(ctx, args) {
    const byId = [1, 1, '<id>'] as const;
    const { sub, rest } = subcommandArgs(
      args,
      schedulesCommand,
      { ls: [0, 0, ''], enable: byId, disable: byId, run: byId, next: [1, 1, '"<expression>"'] },
      args.positionals[0] === 'next' ? ' (quote the expression)' : '',
    );
    const { stdout } = ctx;

    if (sub === 'next') {
      const tz = stringOption(args, 'tz') ?? 'UTC';
      const countText = stringOption(args, 'count') ?? '5';
      if (!/^\d+$/.test(countText) || Number(countText) < 1 || Number(countText) > 1000) {
        throw new UsageError('--count must be a number from 1 to 1000', schedulesCommand);
      }
      checkTimeZone(tz);
      const expr = parseScheduleExpression(rest[0]!);
      const ticks: number[] = [];
      let t = Date.now();
      while (ticks.length < Number(countText)) {
        const n = expr.next(t, tz);
        if (n === undefined) break;
        ticks.push(n);
        t = n;
      }
      if (ctx.globals.json) {
        stdout.json({
          expression: expr.text,
          timeZone: tz,
          ticks: ticks.map((n) => new Date(n).toISOString()),
        });
        return 0;
      }
      if (ticks.length === 0) stdout.line(stdout.style('dim', `${expr.text} has no ticks left`));
      for (const n of ticks) {
        stdout.line(
          `${formatInZone(n, tz)}  ${stdout.style('dim', `(${tz}; local ${local(new Date(n).toISOString())})`)}`,
        );
      }
      return 0;
    }

    const client = ctx.client();
    if (sub === 'ls') {
      const app = stringOption(args, 'app');
      const { schedules } = await client.request<{ schedules: ScheduleView[] }>('GET', '/v1/schedules', {
        query: { app },
      });
      if (ctx.globals.json) {
        stdout.json({ schedules });
        return 0;
      }
      const lines = formatTable(
        stdout,
        schedules,
        [
          { header: 'id', value: (s) => s.id, style: 'bold' },
          { header: 'function', value: (s) => s.function },
          { header: 'expression', value: (s) => s.expression },
          { header: 'tz', value: (s) => s.timeZone },
          { header: 'next (local)', value: (s) => local(s.nextFireAt) },
          { header: 'next (zone)', value: (s) => s.nextFireAtZone ?? '-' },
          { header: 'enabled', value: (s) => (s.enabled ? 'yes' : 'no') },
        ],
        stdout.style(
          'dim',
          "no schedules; declare one with `- schedule: rate(1 hour)` under a function's events",
        ),
      );
      for (const line of lines) stdout.line(line);
      return 0;
    }
    const id = encodeURIComponent(rest[0]!);
    if (sub === 'run') {
      const r = await client.request<{ id: string; invocationId: string }>('POST', `/v1/schedules/${id}/run`);
      if (ctx.globals.json) stdout.json(r);
      else
        stdout.line(
          `${stdout.style('green', '✓')} ran ${stdout.style('bold', r.id)}: invocation ${r.invocationId}`,
        );
      return 0;
    }
    const s = await client.request<ScheduleView>('POST', `/v1/schedules/${id}/${sub}`);
    if (ctx.globals.json) stdout.json(s);
    else {
      stdout.line(
        `${stdout.style('green', '✓')} ${sub}d ${stdout.style('bold', s.id)}${s.enabled ? `; next run ${s.nextFireAtZone ?? '-'}` : ''}`,
      );
    }
    return 0;
  },
};
