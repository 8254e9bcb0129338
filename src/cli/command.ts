// The shape of a CLI command, the context it runs in, and the usage errors argument parsing throws.
import type { ApiClient } from './api-client.js';
import type { CliStream, Output } from './output.js';

/** What the CLI reads and writes; `process` in production, buffers in tests. */
export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve against. */
  readonly cwd: string;
  /**
   * Aborts long-running commands (`start`, `dev`, `logs --follow`) and requests in flight.
   * main.ts fires it on SIGINT/SIGTERM; tests fire it directly.
   */
  readonly signal?: AbortSignal;
}

/** Global flags every command accepts, resolved with their defaults. */
export interface GlobalOptions {
  /** API base URL. @default NIMBUS_ENDPOINT or `http://127.0.0.1:8080` */
  readonly endpoint: string;
  /** Server data directory (credentials live there), absolute. @default NIMBUS_DATA_DIR or `./.nimbus` */
  readonly dataDir: string;
  /** Machine-readable output on stdout, no colour. @default false */
  readonly json: boolean;
}

/** One option of a command, as `node:util` parseArgs takes it plus help text. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** One line for `--help`. */
  readonly description: string;
  /** Placeholder shown in help, e.g. `PORT`. */
  readonly valueName?: string;
}

/** Parsed values of a command line. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** The parsed arguments a command receives. */
export interface ParsedArgs {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
}

/** Everything a running command needs. */
export interface CommandContext {
  readonly io: CliIo;
  readonly globals: GlobalOptions;
  /** Results go here (JSON with --json). */
  readonly stdout: Output;
  /** Progress, logs and diagnostics go here. */
  readonly stderr: Output;
  /** Fires on Ctrl-C; never fires when the caller gave none. */
  readonly signal: AbortSignal;
  /** An API client for `globals.endpoint` with the resolved credentials. */
  client(): ApiClient;
  /** Resolves a user-supplied path against `io.cwd`. */
  resolvePath(path: string): string;
}

/** A `nimbus` command. */
export interface CommandSpec {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Synopsis lines without the leading `nimbus `, e.g. `deploy [dir]`. */
  readonly usage: readonly string[];
  /** Command-specific options (the globals are added by the parser). */
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra help text after the options. */
  readonly details?: string;
  /** Runs the command; resolves to the exit code. */
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  /** The command whose usage to print, when known. */
  readonly command: CommandSpec | undefined;

  constructor(message: string, command?: CommandSpec) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Positional arguments a subcommand takes: at least `min`, at most `max`; `names` when missing. */
export type SubcommandArity = readonly [min: number, max: number, names: string];

/**
 * Split the positionals of `nimbus <command> <sub> ...`: `sub` must be a key of `arities` and the
 * rest must fit its arity, else a UsageError says what is missing or unexpected (plus `extraHint`
 * after an unexpected argument, e.g. "quote the expression").
 */
export function subcommandArgs(
  args: ParsedArgs,
  command: CommandSpec,
  arities: Readonly<Record<string, SubcommandArity>>,
  extraHint = '',
): { sub: string; rest: string[] } {
  const [sub, ...rest] = args.positionals;
  const names = Object.keys(arities);
  if (sub === undefined || !Object.hasOwn(arities, sub)) {
    throw new UsageError(
      sub === undefined
        ? `missing subcommand: ${names.join(', ')}`
        : `unknown subcommand: ${command.name} ${sub}`,
      command,
    );
  }
  const [min, max, wanted] = arities[sub]!;
  if (rest.length < min) throw new UsageError(`missing argument: ${wanted}`, command);
  if (rest.length > max) throw new UsageError(`unexpected argument: ${rest[max]}${extraHint}`, command);
  return { sub, rest };
}

/** A failure already explained to the user (message printed as is, exit code 1). */
export class CliError extends Error {
  /** Exit code. @default 1 */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Reads a string option (`undefined` when absent). */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Reads a boolean option (`false` when absent). */
export function booleanOption(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * Checks the number of positionals and returns them; `names` documents them for the error.
 * Optional positionals are marked with a trailing `?` (e.g. `dir?`).
 */
export function expectPositionals(
  command: CommandSpec,
  args: ParsedArgs,
  names: readonly string[],
): string[] {
  const required = names.filter((n) => !n.endsWith('?')).length;
  const got = args.positionals;
  if (got.length < required) {
    const missing = names.slice(got.length).filter((n) => !n.endsWith('?'));
    throw new UsageError(`missing argument: <${missing.join('> <')}>`, command);
  }
  if (got.length > names.length) {
    throw new UsageError(`unexpected argument: ${got[names.length]}`, command);
  }
  return [...got];
}
