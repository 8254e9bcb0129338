// Turns failures into what the user sees on stderr and the exit code the CLI returns.
import { ApiError } from './api-client.js';
import { CliError, UsageError } from './command.js';
import { shortUsage } from './cli-args.js';
import type { Output } from './output.js';

/** Exit codes: 0 ok, 1 failure (API error, function error, bad config), 2 bad command line. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** Prints a usage error and the synopsis; returns exit code 2. */
export function usageFailure(stderr: Output, err: UsageError): number {
  stderr.line(`${stderr.style(['red', 'bold'], 'error')}: ${err.message}`);
  stderr.stream.write(shortUsage(err.command));
  return EXIT.usage;
}

/**
 * Prints a failure and returns its exit code: usage errors with the synopsis (2), API and
 * Nimbus errors as `error <code>: <message>` (1), Ctrl-C as 130.
 */
export function reportError(
  stderr: Output,
  err: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
): number {
  if (err instanceof UsageError) return usageFailure(stderr, err);
  const label = stderr.style(['red', 'bold'], 'error');
  if (err instanceof ApiError && err.code === 'Aborted') {
    stderr.line(`${label}: interrupted`);
    return EXIT.interrupted;
  }
  if (err instanceof CliError) {
    stderr.line(`${label}: ${err.message}`);
    return err.exitCode;
  }
  // ApiError, and NimbusError from config loading/bundling (checked by capability, not class).
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    const message = (err as { message?: string }).message ?? '';
    // PascalCase API/Nimbus codes only; errno codes (ENOENT) already lead their message.
    if (/^[A-Z][A-Za-z]*[a-z][A-Za-z]*$/.test(err.code)) {
      stderr.line(`${label} ${err.code}: ${message}`);
      return EXIT.failure;
    }
  }
  const e = err as { message?: string; stack?: string };
  stderr.line(`${label}: ${e.message ?? String(err)}`);
  if (e.stack && env.NIMBUS_DEBUG) stderr.line(stderr.style('dim', e.stack));
  return EXIT.failure;
}
