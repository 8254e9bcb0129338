// parseDefinition: turns a definition (JSON text or object) into a validated StateMachine, or
// the list of diagnostics AWS's ValidateStateMachineDefinition would report.

import {
  isJsonObject,
  type Json,
  type QueryLanguage,
  type StateDefinition,
  type StateMachine,
} from './asl-types.js';
import {
  BRANCH_FIELDS,
  MAX_SECONDS,
  MAX_STATE_NAME,
  PROCESSOR_FIELDS,
  TOP_LEVEL_FIELDS,
} from './definition-schema.js';
import { DiagnosticSink, pointer, type Diagnostic } from './diagnostics.js';
import { checkState } from './validate-state.js';
import { checkInteger } from './validate-values.js';

/** Options for parseDefinition. */
export interface ParseOptions {
  /** The file the definition came from; diagnostics carry it. */
  readonly file?: string;
}

/** The outcome of parseDefinition: a machine (with any warnings), or the diagnostics. */
export type ParseResult =
  | { readonly ok: true; readonly machine: StateMachine; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

type MachineKind = 'top' | 'branch' | 'processor';

/** Validates a definition (JSON text, or an already-parsed object such as YAML produced). */
export function parseDefinition(definition: string | unknown, options: ParseOptions = {}): ParseResult {
  const sink = new DiagnosticSink(options.file);
  let raw: unknown = definition;
  if (typeof definition === 'string') {
    if (definition.trim() === '') {
      sink.error(
        'MISSING_DESCRIPTION',
        '',
        'The definition is empty; pass a JSON object with StartAt and States',
      );
      return { ok: false, diagnostics: sink.diagnostics };
    }
    try {
      raw = JSON.parse(definition);
    } catch (err) {
      sink.error(
        'INVALID_JSON_DESCRIPTION',
        '',
        `The definition is not valid JSON: ${(err as Error).message}`,
      );
      return { ok: false, diagnostics: sink.diagnostics };
    }
  }
  if (raw === null || raw === undefined) {
    sink.error(
      'MISSING_DESCRIPTION',
      '',
      'The definition is empty; pass a JSON object with StartAt and States',
    );
    return { ok: false, diagnostics: sink.diagnostics };
  }
  const validator = new MachineValidator(sink);
  const machine = validator.machine(raw as Json, '', 'top', 'JSONPath', new Set());
  if (sink.failed || !machine) return { ok: false, diagnostics: sink.diagnostics };
  return { ok: true, machine, diagnostics: sink.diagnostics };
}

class MachineValidator {
  readonly #sink: DiagnosticSink;
  /** State names seen anywhere in the definition: AWS requires them unique across branches. */
  readonly #names = new Map<string, string>();

  constructor(sink: DiagnosticSink) {
    this.#sink = sink;
  }

  machine(
    raw: Json,
    at: string,
    kind: MachineKind,
    inherited: QueryLanguage,
    outerVariables: ReadonlySet<string>,
  ): StateMachine | undefined {
    const sink = this.#sink;
    if (!isJsonObject(raw)) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        at,
        kind === 'top'
          ? 'The definition must be a JSON OBJECT with StartAt and States'
          : 'Expected an OBJECT with StartAt and States',
      );
      return undefined;
    }
    const allowed = kind === 'top' ? TOP_LEVEL_FIELDS : kind === 'branch' ? BRANCH_FIELDS : PROCESSOR_FIELDS;
    for (const key of Object.keys(raw)) {
      if (!allowed.has(key))
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, key),
          `Field '${key}' is not supported here (allowed: ${[...allowed].join(', ')})`,
        );
    }
    let language = inherited;
    if (kind === 'top') {
      if (raw.QueryLanguage !== undefined) {
        if (raw.QueryLanguage !== 'JSONPath' && raw.QueryLanguage !== 'JSONata') {
          sink.error(
            'SCHEMA_VALIDATION_FAILED',
            pointer(at, 'QueryLanguage'),
            'The value for the field \'QueryLanguage\' must be "JSONPath" or "JSONata"',
          );
        } else language = raw.QueryLanguage;
      }
      checkInteger(sink, pointer(at, 'TimeoutSeconds'), 'TimeoutSeconds', raw.TimeoutSeconds, 1, MAX_SECONDS);
      if (raw.Version !== undefined && raw.Version !== '1.0')
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, 'Version'),
          'The value for the field \'Version\' must be "1.0"',
        );
    }
    if (raw.Comment !== undefined && typeof raw.Comment !== 'string')
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, 'Comment'),
        "The value for the field 'Comment' must be a STRING",
      );
    if (typeof raw.StartAt !== 'string') {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        raw.StartAt === undefined ? at : pointer(at, 'StartAt'),
        "'StartAt' is required: the STRING name of the first state",
      );
    }
    const statesRaw = raw.States;
    if (!isJsonObject(statesRaw) || Object.keys(statesRaw).length === 0) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        statesRaw === undefined ? at : pointer(at, 'States'),
        "'States' is required: a non-empty OBJECT mapping state names to states",
      );
      return undefined;
    }

    const states = new Map<string, StateDefinition>();
    const edges = new Map<string, string[]>();
    const transitions: Array<{ next: string; at: string; field: string }> = [];
    const assignedHere = new Set<string>();
    let terminal = false;
    // Variables assigned anywhere at this level are this scope's; nested scopes must not reuse them.
    for (const s of Object.values(statesRaw)) {
      if (isJsonObject(s) && isJsonObject(s.Assign))
        for (const k of Object.keys(s.Assign)) assignedHere.add(k.replace(/\.\$$/, ''));
    }
    const scopeForNested = new Set([...outerVariables, ...assignedHere]);
    for (const [name, stateRaw] of Object.entries(statesRaw)) {
      const stateAt = pointer(at, 'States', name);
      if (name.length === 0 || name.length > MAX_STATE_NAME) {
        sink.error(
          'INVALID_STATE_NAME',
          stateAt,
          `State name '${name}' must be 1 to ${MAX_STATE_NAME} characters long`,
        );
      } else if (
        [...name].some(
          (ch) => ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) <= 0x9f),
        )
      ) {
        sink.error(
          'INVALID_STATE_NAME',
          stateAt,
          `State name '${name}' contains control characters; use printable characters only`,
        );
      }
      const seen = this.#names.get(name);
      if (seen !== undefined)
        sink.error(
          'DUPLICATE_STATE_NAME',
          stateAt,
          `Duplicate State name: '${name}' is also used at ${seen}; state names must be unique in the whole state machine`,
        );
      else this.#names.set(name, stateAt);
      const checked = checkState(
        {
          sink,
          at: stateAt,
          name,
          machineLanguage: language,
          outerVariables,
          scopeVariables: scopeForNested,
          subMachine: (sub, subAt, subKind, subLanguage, outer) =>
            this.machine(sub, subAt, subKind, subLanguage, outer),
        },
        stateRaw,
      );
      if (checked.definition) states.set(name, checked.definition);
      edges.set(
        name,
        checked.transitions.map((t) => t.next),
      );
      transitions.push(...checked.transitions);
      terminal ||= checked.terminal;
    }
    for (const t of transitions) {
      if (!Object.hasOwn(statesRaw, t.next)) {
        sink.error(
          'MISSING_TRANSITION_TARGET',
          t.at,
          `Missing '${t.field}' target: '${t.next}'; name a state in the same States object${kind === 'top' ? '' : ' (a branch or Map processor cannot go to states outside it)'}`,
        );
      }
    }
    const startAt = typeof raw.StartAt === 'string' ? raw.StartAt : undefined;
    if (startAt !== undefined && !Object.hasOwn(statesRaw, startAt)) {
      sink.error(
        'MISSING_TRANSITION_TARGET',
        pointer(at, 'StartAt'),
        `Missing 'StartAt' target: '${startAt}'; name one of ${Object.keys(statesRaw).join(', ')}`,
      );
    } else if (startAt !== undefined) {
      const reached = new Set<string>([startAt]);
      const queue = [startAt];
      while (queue.length > 0) {
        for (const n of edges.get(queue.pop()!) ?? []) {
          if (!reached.has(n) && Object.hasOwn(statesRaw, n)) {
            reached.add(n);
            queue.push(n);
          }
        }
      }
      for (const name of Object.keys(statesRaw)) {
        if (!reached.has(name))
          sink.error(
            'MISSING_TRANSITION_TARGET',
            pointer(at, 'States', name),
            `State "${name}" is not reachable; make StartAt, a Next, a Default or a Catch point at it, or remove it`,
          );
      }
    }
    if (!terminal)
      sink.error(
        'MISSING_END_STATE',
        pointer(at, 'States'),
        'Workflow has no terminal state: give a state "End": true, or add a Succeed or Fail state',
      );
    if (startAt === undefined) return undefined;
    return {
      startAt,
      states,
      queryLanguage: language,
      pointer: at,
      raw,
      ...(typeof raw.TimeoutSeconds === 'number' ? { timeoutSeconds: raw.TimeoutSeconds } : {}),
      ...(typeof raw.Comment === 'string' ? { comment: raw.Comment } : {}),
    };
  }
}
