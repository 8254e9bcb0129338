// Command-line parsing with node:util parseArgs: global flags, the command word, its options.
import { parseArgs } from 'node:util';
import type { CommandSpec, OptionSpec, OptionValues, ParsedArgs } from './command.js';
import { UsageError } from './command.js';

/** Flags every command accepts. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  endpoint: {
    type: 'string',
    valueName: 'URL',
    description: 'Nimbus API URL (env NIMBUS_ENDPOINT; default http://127.0.0.1:8080)',
  },
  'data-dir': {
    type: 'string',
    valueName: 'DIR',
    description:
      'server data directory, where credentials are found (env NIMBUS_DATA_DIR; default ./.nimbus)',
  },
  json: { type: 'boolean', description: 'print machine-readable JSON on stdout, no colour' },
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
};

/** Long flags that take a value, also in their short form (so `--endpoint URL cmd` splits right). */
const GLOBAL_VALUE_FLAGS = new Set(['--endpoint', '--data-dir']);

/** The command word found in argv, and the other arguments (globals included). */
export interface SplitArgv {
  /** First word that is neither a flag nor a global flag's value; undefined when none. */
  readonly command: string | undefined;
  readonly rest: string[];
}

/**
 * Finds the command word, allowing global flags before it (`nimbus --json ls`). A `--`
 * ends flag scanning: the next word is the command.
 */
export function splitCommand(argv: readonly string[]): SplitArgv {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      const command = argv[i + 1];
      return { command, rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
    }
    if (arg.startsWith('-')) {
      if (GLOBAL_VALUE_FLAGS.has(arg)) i++;
      continue;
    }
    return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: [...argv] };
}

/** Parses a command's arguments (its options plus the globals); bad flags throw {@link UsageError}. */
export function parseCommandArgs(command: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options })) {
    options[name] = { type: spec.type };
    if (spec.short) options[name].short = spec.short;
    if (spec.multiple) options[name].multiple = true;
  }
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError(describeParseError(err), command);
  }
}

/** Turns a parseArgs error into one short sentence. */
function describeParseError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const flag = /'([^']+)'/.exec(message)?.[1];
      return flag ? `unknown option: ${flag}` : message.split('.')[0]!;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // "Option '--port <value>' argument missing" / "Option '--json' does not take an argument"
      const flag = /--[\w-]+/.exec(message)?.[0] ?? /'(-[^ ',]+)/.exec(message)?.[1] ?? 'option';
      if (/argument missing/.test(message)) return `option ${flag} needs a value`;
      if (/does not take an argument/.test(message)) return `option ${flag} takes no value`;
      return message.split('.')[0]!;
    }
    default:
      return message.split('\n')[0]!;
  }
}

/** Renders `--name VALUE` (with `-s, ` when it has a short form) for help. */
function flagLabel(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '    ';
  const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
  return `${short}--${name}${value}`;
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options);
  const labels = entries.map(([name, spec]) => flagLabel(name, spec));
  const width = Math.max(...labels.map((l) => l.length));
  return entries.map(([, spec], i) => `  ${labels[i]!.padEnd(width)}  ${spec.description}`);
}

/** The `--help` text of a command. */
export function commandHelp(command: CommandSpec): string {
  const lines = [
    `Usage: ${command.usage.map((u, i) => (i === 0 ? `nimbus ${u}` : `       nimbus ${u}`)).join('\n')}`,
    '',
    command.summary,
  ];
  if (Object.keys(command.options).length > 0) {
    lines.push('', 'Options:', ...optionLines(command.options));
  }
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  if (command.details) lines.push('', command.details);
  return `${lines.join('\n')}\n`;
}

/** The top-level `nimbus --help` text. */
export function mainHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = [
    'Usage: nimbus <command> [options]',
    '',
    'Nimbus: self-hosted serverless functions.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Run `nimbus <command> --help` for the options of a command.',
  ];
  return `${lines.join('\n')}\n`;
}

/** Short usage printed after a usage error: the synopsis and a pointer to --help. */
export function shortUsage(command: CommandSpec | undefined): string {
  if (!command) return 'Usage: nimbus <command> [options]\nRun `nimbus --help` for the list of commands.\n';
  const synopsis = command.usage
    .map((u, i) => (i === 0 ? `Usage: nimbus ${u}` : `       nimbus ${u}`))
    .join('\n');
  return `${synopsis}\nRun \`nimbus ${command.name} --help\` for its options.\n`;
}
