// The CLI as a function: parse argv, run one command, map failures to messages and exit codes.
import { resolve } from 'node:path';
import { ApiClient } from './api-client.js';
import { commandHelp, mainHelp, parseCommandArgs, splitCommand } from './cli-args.js';
import { resolveToken } from './cli-credentials.js';
import type { CliIo, CommandContext, CommandSpec, GlobalOptions, ParsedArgs } from './command.js';
import { UsageError, stringOption } from './command.js';
import { EXIT, reportError, usageFailure } from './report-error.js';
import { createOutput } from './output.js';
import type { Output } from './output.js';
import { aliasCommand } from './commands/alias.js';
import { bucketsCommand } from './commands/buckets.js';
import { deployCommand } from './commands/deploy.js';
import { devCommand } from './commands/dev.js';
import { initCommand } from './commands/init.js';
import { invokeCommand } from './commands/invoke.js';
import { invocationsCommand } from './commands/invocations.js';
import { keysCommand } from './commands/keys.js';
import { queuesCommand } from './commands/queues.js';
import { logsCommand } from './commands/logs.js';
import { lsCommand } from './commands/ls.js';
import { rmCommand } from './commands/rm.js';
import { schedulesCommand } from './commands/schedules.js';
import { tablesCommand } from './commands/tables.js';
import { startCommand } from './commands/start.js';
import { tokensCommand } from './commands/tokens.js';
import { topicsCommand } from './commands/topics.js';
import { versionsCommand } from './commands/versions.js';
import { workflowsCommand } from './commands/workflows.js';

export type { CliIo } from './command.js';
export { EXIT } from './report-error.js';

/** Every command, in the order `nimbus --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  startCommand,
  devCommand,
  initCommand,
  deployCommand,
  invokeCommand,
  invocationsCommand,
  logsCommand,
  lsCommand,
  rmCommand,
  versionsCommand,
  aliasCommand,
  keysCommand,
  queuesCommand,
  topicsCommand,
  bucketsCommand,
  schedulesCommand,
  tablesCommand,
  tokensCommand,
  workflowsCommand,
];

/** Default API endpoint when neither --endpoint nor NIMBUS_ENDPOINT is set. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

/**
 * Runs `nimbus <argv>` in-process and resolves to the exit code. Never throws and never calls
 * `process.exit`; main.ts wires it to the real process, tests to buffers.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { command: name, rest } = splitCommand(argv);
  const wantsJson = rest.includes('--json');
  const stdout = createOutput(io.stdout, { env: io.env, json: wantsJson });
  const stderr = createOutput(io.stderr, { env: io.env, json: wantsJson });

  if (name === undefined || name === 'help') {
    const topic = name === 'help' ? splitCommand(rest).command : undefined;
    if (topic !== undefined) return runCli([topic, '--help'], io);
    if (name === 'help' || rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(mainHelp(COMMANDS));
      return EXIT.ok;
    }
    if (rest.includes('--version')) {
      io.stdout.write(`${await version()}\n`);
      return EXIT.ok;
    }
    const unknown = rest.find((a) => a.startsWith('-') && a !== '--json');
    return usageFailure(stderr, new UsageError(unknown ? `unknown option: ${unknown}` : 'no command given'));
  }

  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const guess = closest(
      name,
      COMMANDS.map((c) => c.name),
    );
    return usageFailure(
      stderr,
      new UsageError(`unknown command: ${name}${guess ? ` (did you mean \`nimbus ${guess}\`?)` : ''}`),
    );
  }

  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help === true) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    const ctx = createContext(io, resolveGlobals(command, args, io), stdout, stderr);
    return await command.run(ctx, args);
  } catch (err) {
    return reportError(stderr, err, io.env);
  }
}

function resolveGlobals(command: CommandSpec, args: ParsedArgs, io: CliIo): GlobalOptions {
  const endpoint = stringOption(args, 'endpoint') ?? io.env.NIMBUS_ENDPOINT ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`invalid endpoint URL: ${endpoint}`, command);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`endpoint must be an http:// or https:// URL, got ${endpoint}`, command);
  }
  return {
    endpoint: endpoint.replace(/\/+$/, ''),
    dataDir: resolve(io.cwd, stringOption(args, 'data-dir') ?? (io.env.NIMBUS_DATA_DIR || '.nimbus')),
    json: args.values.json === true,
  };
}

function createContext(io: CliIo, globals: GlobalOptions, stdout: Output, stderr: Output): CommandContext {
  const signal = io.signal ?? new AbortController().signal;
  let client: ApiClient | undefined;
  return {
    io,
    globals,
    stdout,
    stderr,
    signal,
    client() {
      client ??= new ApiClient({
        endpoint: globals.endpoint,
        token: resolveToken(globals.dataDir, io.env),
        signal,
      });
      return client;
    },
    resolvePath: (path) => resolve(io.cwd, path),
  };
}

/** The command name nearest to `word` (edit distance ≤ 2 or a shared prefix), if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = candidate.startsWith(word) && word.length >= 2 ? 1 : editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
