// Test helper: an in-memory CliIo for running the CLI in-process and reading what it printed.
import type { CliIo } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/run-cli.js';

/** A CliIo writing to strings, plus accessors for them. */
export interface CapturedIo {
  readonly io: CliIo;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Options for {@link captureIo}. */
export interface CaptureOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Pretend both streams are terminals. @default false */
  readonly tty?: boolean;
  readonly signal?: AbortSignal;
}

/** Creates an in-memory CliIo. The env is empty unless given (no NIMBUS_* leaks in from the shell). */
export function captureIo(options: CaptureOptions = {}): CapturedIo {
  let out = '';
  let err = '';
  const tty = options.tty ?? false;
  const io: CliIo = {
    stdout: { write: (chunk: string) => (out += chunk), isTTY: tty, columns: 100 },
    stderr: { write: (chunk: string) => (err += chunk), isTTY: tty, columns: 100 },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  return { io, stdout: () => out, stderr: () => err };
}

/** Runs the CLI in-process; returns the exit code and the captured output. */
export async function run(
  argv: string[],
  options: CaptureOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = captureIo(options);
  const code = await runCli(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}
