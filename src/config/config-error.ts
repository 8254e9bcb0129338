// ConfigError: the one error nimbus.yml validation throws, carrying every issue with its position.

import { NimbusError } from '../errors.js';

/** One problem found in a config file, pointing at the YAML node that caused it. */
export interface ConfigIssue {
  /** File name as given to the parser (usually `nimbus.yml` or an absolute path). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** Dotted path of the offending value (`functions.hello.timeout`); empty for the whole file. */
  readonly path: string;
  /** What is wrong and how to fix it, without the position prefix. */
  readonly message: string;
}

/** `file:line:col: message`, the shape editors and terminals turn into links. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`;
}

/**
 * An invalid config file. `message` lists every issue on its own line (for humans);
 * `issues` holds the same list as data (for `--json` output and tests).
 */
export class ConfigError extends NimbusError {
  /** Every problem found, in file order. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: { cause?: unknown } = {}) {
    const file = issues[0]?.file ?? 'config';
    const head =
      issues.length === 1 ? `${file} is invalid:` : `${file} is invalid (${issues.length} problems):`;
    super('InvalidConfigError', [head, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n'), options);
    this.issues = Object.freeze([...issues]);
  }

  /** A plain object for `--json` output. */
  toJSON(): { code: 'InvalidConfigError'; message: string; issues: readonly ConfigIssue[] } {
    return { code: 'InvalidConfigError', message: this.message, issues: this.issues };
  }
}
