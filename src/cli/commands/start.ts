// `nimbus start`: run a Nimbus server in the foreground until Ctrl-C / SIGTERM.
import type { CommandContext, CommandSpec, OptionSpec, ParsedArgs } from '../command.js';
import { UsageError, expectPositionals, stringOption } from '../command.js';
import { parseEgressAllowList } from '../../events/topics/egress-policy.js';
import { NimbusError } from '../../errors.js';
import type { Output } from '../output.js';
import type { RetentionOptions } from '../../observe/retention.js';
import { compileStorageQuotas, type StorageQuotas } from '../../services/storage-quotas.js';

/** Server options as `startServer` takes them. */
export interface ServerLaunchOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly store?: string;
  /** Unset: the server's default (NIMBUS_SANDBOX, else auto). */
  readonly sandbox?: 'auto' | 'required' | 'off';
  /** Webhook targets allowed despite the egress policy (unset: NIMBUS_WEBHOOK_ALLOW, else none). */
  readonly webhookAllow?: readonly string[];
  /** Storage quotas given with `--quota NAME=N` (the rest keep their defaults). */
  readonly quotas?: Partial<StorageQuotas>;
  /** Retention windows given with `--retention KIND=DAYS`. */
  readonly retention?: RetentionOptions;
  /** Environment the server reads NIMBUS_* variables from. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A running server, as `startServer` returns it. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly rootCredentials?: { accessKeyId: string; secretAccessKey: string; token: string };
  close(): Promise<void>;
}

/** Flags shared by `start` and `dev`. */
export const SERVER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  port: {
    type: 'string',
    short: 'p',
    valueName: 'PORT',
    description: 'port to listen on, 0 for any (default 8080)',
  },
  host: { type: 'string', valueName: 'HOST', description: 'address to bind (default 127.0.0.1)' },
  store: {
    type: 'string',
    valueName: 'URL',
    description: 'store URL, e.g. postgres://… (env NIMBUS_DATABASE_URL; default SQLite in the data dir)',
  },
  sandbox: {
    type: 'string',
    valueName: 'MODE',
    description: 'auto (bubblewrap when available), required, or off (env NIMBUS_SANDBOX; default auto)',
  },
  'webhook-allow': {
    type: 'string',
    multiple: true,
    valueName: 'CIDR|HOST',
    description:
      'let webhooks reach this loopback/private/link-local target (repeat or comma-separate; env NIMBUS_WEBHOOK_ALLOW)',
  },
  quota: {
    type: 'string',
    multiple: true,
    valueName: 'NAME=N',
    description:
      'a storage quota: bucketBytes, bucketObjects, queueMessages, tableItems, tableBytes, logBytesPerApp (e.g. bucketBytes=20GiB; repeat)',
  },
  retention: {
    type: 'string',
    multiple: true,
    valueName: 'KIND=DAYS',
    description: 'keep logs, invocations or deliveries this many days (default 7 each; repeat)',
  },
};

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};
const RETENTION_KINDS: Readonly<Record<string, keyof RetentionOptions>> = {
  logs: 'logsMs',
  invocations: 'invocationsMs',
  deliveries: 'deliveriesMs',
};

function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

/** `--quota NAME=N[KiB|MiB|GiB|TiB]`, validated as the server validates its `quotas` option. */
function quotasFrom(command: CommandSpec, args: ParsedArgs): Partial<StorageQuotas> | undefined {
  const out: Record<string, number> = {};
  for (const flag of listOption(args, 'quota')) {
    const m = /^([A-Za-z]+)=(\d+)(KiB|MiB|GiB|TiB)?$/.exec(flag.trim());
    if (m === null)
      throw new UsageError(
        `--quota must look like bucketBytes=20GiB or queueMessages=5000000, got ${flag}`,
        command,
      );
    out[m[1]!] = Number(m[2]) * UNITS[m[3] ?? '']!;
  }
  if (Object.keys(out).length === 0) return undefined;
  try {
    compileStorageQuotas(out);
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
  return out as Partial<StorageQuotas>;
}

/** `--retention KIND=DAYS` (logs, invocations, deliveries). */
function retentionFrom(command: CommandSpec, args: ParsedArgs): RetentionOptions | undefined {
  const out: Record<string, number> = {};
  for (const flag of listOption(args, 'retention')) {
    const m = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(flag.trim());
    const key = m ? RETENTION_KINDS[m[1]!] : undefined;
    if (m === null || key === undefined || Number(m[2]) <= 0) {
      throw new UsageError(
        `--retention must be logs=DAYS, invocations=DAYS or deliveries=DAYS with DAYS above 0, got ${flag}`,
        command,
      );
    }
    out[key] = Math.round(Number(m[2]) * 24 * 60 * 60 * 1000);
  }
  return Object.keys(out).length === 0 ? undefined : (out as RetentionOptions);
}

const SANDBOX_MODES = ['auto', 'required', 'off'] as const;

/** Validates the server flags of `start`/`dev` into {@link ServerLaunchOptions}. */
export function serverOptionsFrom(
  command: CommandSpec,
  ctx: Pick<CommandContext, 'globals' | 'io'>,
  args: ParsedArgs,
): ServerLaunchOptions {
  const portText = stringOption(args, 'port') ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${portText}`, command);
  }
  const sandbox = stringOption(args, 'sandbox');
  if (sandbox !== undefined && !(SANDBOX_MODES as readonly string[]).includes(sandbox)) {
    throw new UsageError(`--sandbox must be one of ${SANDBOX_MODES.join(', ')}, got ${sandbox}`, command);
  }
  const store = stringOption(args, 'store') ?? (ctx.io.env.NIMBUS_DATABASE_URL || undefined);
  const allowFlags = args.values['webhook-allow'];
  const webhookAllow = (
    Array.isArray(allowFlags) ? allowFlags : typeof allowFlags === 'string' ? [allowFlags] : []
  )
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  try {
    parseEgressAllowList(webhookAllow);
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
  const quotas = quotasFrom(command, args);
  const retention = retentionFrom(command, args);
  return {
    port,
    host: stringOption(args, 'host') ?? '127.0.0.1',
    dataDir: ctx.globals.dataDir,
    ...(store ? { store } : {}),
    ...(sandbox ? { sandbox: sandbox as NonNullable<ServerLaunchOptions['sandbox']> } : {}),
    ...(webhookAllow.length > 0 ? { webhookAllow } : {}),
    ...(quotas ? { quotas } : {}),
    ...(retention ? { retention } : {}),
    env: ctx.io.env as NodeJS.ProcessEnv,
  };
}

/** A logger for the server that writes `warn`/`error`-labelled lines to stderr. */
export function serverLogger(err: Output): {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
} {
  return {
    info: (m) => err.line(err.style('dim', m)),
    warn: (m) => err.line(`${err.style('yellow', 'warn')} ${m}`),
    error: (m) => err.line(`${err.style('red', 'error')} ${m}`),
  };
}

/**
 * Starts the server and prints where it listens, plus the root credentials when this start
 * generated them (the only time they are shown).
 */
export async function launchServer(
  ctx: CommandContext,
  options: ServerLaunchOptions,
): Promise<RunningServer> {
  // Loaded on demand so that client commands (ls, invoke, …) never load the server and its drivers.
  const { startServer } = await import('../../server/nimbus-server.js');
  let server: RunningServer;
  try {
    server = await startServer({ ...options, logger: serverLogger(ctx.stderr) });
  } catch (err) {
    throw portInUse(err, options) ?? err;
  }
  const out = ctx.stdout;
  if (ctx.globals.json) {
    out.stream.write(
      `${JSON.stringify({ url: server.url, port: server.port, rootCredentials: server.rootCredentials })}\n`,
    );
    return server;
  }
  out.line(`Nimbus listening on ${out.style('bold', server.url)}`);
  out.line(out.style('dim', `data dir ${options.dataDir}`));
  const creds = server.rootCredentials;
  if (creds) {
    const bar = out.style('yellow', '━'.repeat(64));
    out.line(bar);
    out.line(out.style(['yellow', 'bold'], 'Root credentials (generated now; they are not shown again):'));
    out.line(`  access key id      ${creds.accessKeyId}`);
    out.line(`  secret access key  ${creds.secretAccessKey}`);
    out.line(`  token              ${creds.token}`);
    out.line(`The CLI finds them in ${options.dataDir}; elsewhere use NIMBUS_TOKEN=${creds.token}`);
    out.line(bar);
  }
  return server;
}

/** A busy port as a CLI error naming the port and the fix, instead of the raw EADDRINUSE stack. */
function portInUse(err: unknown, options: ServerLaunchOptions): NimbusError | undefined {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') return undefined;
  return new NimbusError(
    'PortInUseError',
    `port ${options.port} on ${options.host} is already in use by another program; stop it, or start with another port: --port ${options.port === 65535 ? 8081 : options.port + 1} (--port 0 picks a free one).`,
    { cause: err },
  );
}

/** Resolves when `signal` fires (at once if it already has). */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** `nimbus start`. */
export const startCommand: CommandSpec = {
  name: 'start',
  summary: 'Run a Nimbus server in the foreground (Ctrl-C stops it)',
  usage: [
    'start [--port 8080] [--host 127.0.0.1] [--store URL] [--sandbox auto|required|off] [--webhook-allow CIDR|HOST]...',
  ],
  options: SERVER_OPTIONS,
  async run(ctx, args) {
    expectPositionals(startCommand, args, []);
    const options = serverOptionsFrom(startCommand, ctx, args);
    const server = await launchServer(ctx, options);
    if (!ctx.globals.json) ctx.stdout.line(ctx.stdout.style('dim', 'Press Ctrl-C to stop.'));
    await waitForAbort(ctx.signal);
    ctx.stderr.line(ctx.stderr.style('dim', 'stopping…'));
    await server.close();
    return 0;
  },
};
