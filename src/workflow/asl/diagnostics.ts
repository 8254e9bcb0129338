// Validation diagnostics in the shape of AWS's ValidateStateMachineDefinition, and the AWS
// `InvalidDefinition` message built from them.

/** AWS's diagnostic codes (errors and warnings) that Nimbus emits. */
export type DiagnosticCode =
  | 'INVALID_JSON_DESCRIPTION'
  | 'MISSING_DESCRIPTION'
  | 'SCHEMA_VALIDATION_FAILED'
  | 'INVALID_RESOURCE'
  | 'MISSING_END_STATE'
  | 'DUPLICATE_STATE_NAME'
  | 'INVALID_STATE_NAME'
  | 'MISSING_TRANSITION_TARGET'
  | 'NO_DOLLAR'
  | 'NO_PATH'
  | 'PASS_RESULT_IS_STATIC';

/** One finding about a definition. */
export interface Diagnostic {
  /** `ERROR` blocks create/update/deploy; `WARNING` does not. */
  readonly severity: 'ERROR' | 'WARNING';
  readonly code: DiagnosticCode;
  /** What is wrong and how to fix it. */
  readonly message: string;
  /** JSON pointer (RFC 6901) of the offending state or field, e.g. `/States/Wait/Seconds`. */
  readonly location: string;
  /** The file the definition came from, when known. */
  readonly file?: string;
}

/** Collects diagnostics while a definition is validated. */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];
  readonly #file: string | undefined;

  constructor(file?: string) {
    this.#file = file;
  }

  /** Records an error. */
  error(code: DiagnosticCode, location: string, message: string): void {
    this.#add('ERROR', code, location, message);
  }

  /** Records a warning. */
  warn(code: DiagnosticCode, location: string, message: string): void {
    this.#add('WARNING', code, location, message);
  }

  /** Whether any error was recorded. */
  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === 'ERROR');
  }

  #add(severity: Diagnostic['severity'], code: DiagnosticCode, location: string, message: string): void {
    this.diagnostics.push(
      this.#file === undefined
        ? { severity, code, message, location }
        : { severity, code, message, location, file: this.#file },
    );
  }
}

/** Appends reference tokens to a JSON pointer, escaping `~` and `/`. */
export function pointer(base: string, ...tokens: Array<string | number>): string {
  return base + tokens.map((t) => `/${String(t).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * The message AWS's CreateStateMachine puts in an `InvalidDefinition` error:
 * `Invalid State Machine Definition: 'CODE: message at /location, ...'` (errors only), with
 * the file in front when known.
 */
export function formatInvalidDefinition(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'ERROR');
  const file = errors.find((d) => d.file !== undefined)?.file;
  const body = errors.map((d) => `${d.code}: ${d.message} at ${d.location || '/'}`).join(', ');
  return `${file === undefined ? '' : `${file}: `}Invalid State Machine Definition: '${body}'`;
}
