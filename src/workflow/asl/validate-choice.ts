// Validation of Choice rules: JSONPath data-test expressions with exactly one operator,
// And/Or/Not nesting, and JSONata `Condition` rules.

import { isJsonObject, type Json, type QueryLanguage } from './asl-types.js';
import { COMPARISON_OPERATORS, TYPE_TEST_OPERATORS } from './choice-rules.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';
import { checkAssign, checkJsonataTemplate, checkJsonataValue, checkPath } from './validate-values.js';
import { isJsonataTemplate } from './jsonata-eval.js';
import { isTimestamp } from './timestamps.js';

/** Checks a Choice state's `Choices`; returns each rule's `Next` (for the transition check). */
export function checkChoices(
  sink: DiagnosticSink,
  at: string,
  choices: Json | undefined,
  language: QueryLanguage,
): Array<{ next: string; at: string }> {
  const where = pointer(at, 'Choices');
  if (!Array.isArray(choices) || choices.length === 0) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      choices === undefined ? at : where,
      "A Choice state needs a non-empty 'Choices' array of rules",
    );
    return [];
  }
  const nexts: Array<{ next: string; at: string }> = [];
  choices.forEach((rule, i) => {
    const ruleAt = pointer(where, i);
    if (!isJsonObject(rule)) {
      sink.error('SCHEMA_VALIDATION_FAILED', ruleAt, 'Each choice rule must be an OBJECT');
      return;
    }
    if (typeof rule.Next !== 'string') {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        ruleAt,
        "A top-level choice rule needs 'Next' (a STRING naming the state to go to)",
      );
    } else nexts.push({ next: rule.Next, at: pointer(ruleAt, 'Next') });
    if (language === 'JSONata') checkJsonataRule(sink, ruleAt, rule);
    else checkRule(sink, ruleAt, rule, true);
  });
  return nexts;
}

function checkJsonataRule(sink: DiagnosticSink, at: string, rule: Record<string, Json>): void {
  for (const key of Object.keys(rule)) {
    if (!['Condition', 'Next', 'Comment', 'Assign', 'Output'].includes(key)) {
      const hint =
        COMPARISON_OPERATORS.has(key) ||
        TYPE_TEST_OPERATORS.has(key) ||
        ['Variable', 'And', 'Or', 'Not'].includes(key)
          ? "; in JSONata states write the test as 'Condition': '{% ... %}'"
          : '';
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, key),
        `Field '${key}' is not supported in a JSONata choice rule${hint}`,
      );
    }
  }
  const cond = rule.Condition;
  if (cond === undefined)
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      "A JSONata choice rule needs 'Condition': '{% boolean expression %}'",
    );
  else if (isJsonataTemplate(cond))
    checkJsonataTemplate(sink, pointer(at, 'Condition'), 'Condition', cond, { noResult: true });
  else if (typeof cond !== 'boolean')
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      pointer(at, 'Condition'),
      "The value for the field 'Condition' must be a JSONata template '{% ... %}' or a BOOLEAN",
    );
  if (rule.Output !== undefined)
    checkJsonataValue(sink, pointer(at, 'Output'), 'Output', rule.Output, { noResult: true });
  checkAssign(sink, pointer(at, 'Assign'), rule.Assign, 'JSONata', { noResult: true });
}

function checkRule(sink: DiagnosticSink, at: string, rule: Record<string, Json>, top: boolean): void {
  const allowed = new Set(['Comment', 'Variable', 'And', 'Or', 'Not', ...(top ? ['Next', 'Assign'] : [])]);
  const operators: string[] = [];
  for (const key of Object.keys(rule)) {
    if (COMPARISON_OPERATORS.has(key) || TYPE_TEST_OPERATORS.has(key)) operators.push(key);
    else if (key === 'Condition' || key === 'Output') {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, key),
        `Field '${key}' is JSONata syntax; set "QueryLanguage": "JSONata" on the state or use JSONPath comparison operators`,
      );
    } else if (!allowed.has(key)) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, key),
        key === 'Next'
          ? "Nested choice rules (inside And, Or or Not) must not have 'Next'"
          : `Field '${key}' is not supported in a choice rule`,
      );
    }
  }
  if (top) checkAssign(sink, pointer(at, 'Assign'), rule.Assign, 'JSONPath');
  const combinators = ['And', 'Or', 'Not'].filter((k) => rule[k] !== undefined);
  if (combinators.length + operators.length !== 1) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      combinators.length + operators.length === 0
        ? 'A choice rule needs one comparison operator (e.g. StringEquals, NumericGreaterThan, IsPresent) or And/Or/Not'
        : `A choice rule must have exactly one of And, Or, Not or a comparison operator (found ${[...combinators, ...operators].join(', ')})`,
    );
    return;
  }
  if (combinators.length === 1) {
    const c = combinators[0]!;
    if (rule.Variable !== undefined)
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, 'Variable'),
        `A rule with '${c}' must not have 'Variable'`,
      );
    const v = rule[c]!;
    if (c === 'Not') {
      if (!isJsonObject(v))
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(at, c),
          "The value for the field 'Not' must be a choice rule OBJECT",
        );
      else checkRule(sink, pointer(at, c), v, false);
    } else if (!Array.isArray(v) || v.length === 0) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(at, c),
        `The value for the field '${c}' must be a non-empty ARRAY of choice rules`,
      );
    } else {
      v.forEach((r, i) => {
        if (isJsonObject(r)) checkRule(sink, pointer(at, c, i), r, false);
        else sink.error('SCHEMA_VALIDATION_FAILED', pointer(at, c, i), 'Each choice rule must be an OBJECT');
      });
    }
    return;
  }
  if (rule.Variable === undefined)
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      `A rule with '${operators[0]}' needs 'Variable' (the path to test)`,
    );
  else checkPath(sink, pointer(at, 'Variable'), 'Variable', rule.Variable);
  checkOperand(sink, pointer(at, operators[0]!), operators[0]!, rule[operators[0]!]!);
}

function checkOperand(sink: DiagnosticSink, at: string, op: string, value: Json): void {
  if (TYPE_TEST_OPERATORS.has(op)) {
    if (typeof value !== 'boolean')
      sink.error('SCHEMA_VALIDATION_FAILED', at, `The value for the field '${op}' must be a BOOLEAN`);
    return;
  }
  const spec = COMPARISON_OPERATORS.get(op)!;
  if (spec.path) {
    checkPath(sink, at, op, value);
    return;
  }
  const bad = (type: string) =>
    sink.error('SCHEMA_VALIDATION_FAILED', at, `The value for the field '${op}' must be a ${type}`);
  if (spec.kind === 'Numeric' && typeof value !== 'number') bad('NUMBER');
  else if (spec.kind === 'Boolean' && typeof value !== 'boolean') bad('BOOLEAN');
  else if ((spec.kind === 'String' || spec.kind === 'Matches') && typeof value !== 'string') bad('STRING');
  else if (spec.kind === 'Timestamp' && !isTimestamp(value))
    bad("timestamp STRING in RFC 3339 form, e.g. '2016-08-18T17:33:00Z'");
}
