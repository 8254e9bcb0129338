// Validation of Retry and Catch fields: shapes, bounds, and States.ALL placement.

import { isJsonObject, type Json, type QueryLanguage } from './asl-types.js';
import { CATCHER_FIELDS, MAX_DELAY_SECONDS, MAX_SECONDS, RETRIER_FIELDS } from './definition-schema.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';
import { STATES_ERRORS } from './states-errors.js';
import { checkAssign, checkInteger, checkJsonataValue, checkPath } from './validate-values.js';

function checkErrorEquals(
  sink: DiagnosticSink,
  at: string,
  value: Json | undefined,
  last: boolean,
  what: string,
): void {
  const here = pointer(at, 'ErrorEquals');
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      value === undefined ? at : here,
      `A ${what} needs 'ErrorEquals': a non-empty ARRAY of error names such as "States.ALL"`,
    );
    return;
  }
  if (value.includes(STATES_ERRORS.ALL)) {
    if (value.length > 1)
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        here,
        `"States.ALL" must appear alone in ErrorEquals; make it a ${what} of its own`,
      );
    if (!last)
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        here,
        `A ${what} with "States.ALL" must be the last one; move it to the end`,
      );
  }
}

/** Checks a Retry array. */
export function checkRetry(sink: DiagnosticSink, at: string, retry: Json | undefined): void {
  if (retry === undefined) return;
  if (!Array.isArray(retry)) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      "The value for the field 'Retry' must be an ARRAY of retriers",
    );
    return;
  }
  retry.forEach((r, i) => {
    const here = pointer(at, i);
    if (!isJsonObject(r)) {
      sink.error('SCHEMA_VALIDATION_FAILED', here, 'Each retrier must be an OBJECT');
      return;
    }
    for (const key of Object.keys(r)) {
      if (!RETRIER_FIELDS.has(key))
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(here, key),
          `Field '${key}' is not supported in a retrier (use ${[...RETRIER_FIELDS].join(', ')})`,
        );
    }
    checkErrorEquals(sink, here, r.ErrorEquals, i === retry.length - 1, 'retrier');
    checkInteger(
      sink,
      pointer(here, 'IntervalSeconds'),
      'IntervalSeconds',
      r.IntervalSeconds,
      1,
      MAX_SECONDS,
    );
    checkInteger(sink, pointer(here, 'MaxAttempts'), 'MaxAttempts', r.MaxAttempts, 0, MAX_SECONDS);
    checkInteger(
      sink,
      pointer(here, 'MaxDelaySeconds'),
      'MaxDelaySeconds',
      r.MaxDelaySeconds,
      1,
      MAX_DELAY_SECONDS,
    );
    if (r.BackoffRate !== undefined && (typeof r.BackoffRate !== 'number' || r.BackoffRate < 1)) {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(here, 'BackoffRate'),
        "The value for the field 'BackoffRate' must be a NUMBER of at least 1.0",
      );
    }
    if (r.JitterStrategy !== undefined && r.JitterStrategy !== 'FULL' && r.JitterStrategy !== 'NONE') {
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        pointer(here, 'JitterStrategy'),
        'The value for the field \'JitterStrategy\' must be "FULL" or "NONE"',
      );
    }
  });
}

/** Checks a Catch array; returns each catcher's Next and the variables the catchers assign. */
export function checkCatch(
  sink: DiagnosticSink,
  at: string,
  catchers: Json | undefined,
  language: QueryLanguage,
): { nexts: Array<{ next: string; at: string }>; assigned: string[] } {
  const out = { nexts: [] as Array<{ next: string; at: string }>, assigned: [] as string[] };
  if (catchers === undefined) return out;
  if (!Array.isArray(catchers)) {
    sink.error(
      'SCHEMA_VALIDATION_FAILED',
      at,
      "The value for the field 'Catch' must be an ARRAY of catchers",
    );
    return out;
  }
  catchers.forEach((c, i) => {
    const here = pointer(at, i);
    if (!isJsonObject(c)) {
      sink.error('SCHEMA_VALIDATION_FAILED', here, 'Each catcher must be an OBJECT');
      return;
    }
    const allowed = CATCHER_FIELDS[language];
    for (const key of Object.keys(c)) {
      if (!allowed.has(key)) {
        const other = CATCHER_FIELDS[language === 'JSONata' ? 'JSONPath' : 'JSONata'].has(key);
        sink.error(
          'SCHEMA_VALIDATION_FAILED',
          pointer(here, key),
          other
            ? `Field '${key}' is not supported in a ${language} catcher; ${language === 'JSONata' ? "use 'Output'" : "use 'ResultPath' or set QueryLanguage to JSONata"}`
            : `Field '${key}' is not supported in a catcher`,
        );
      }
    }
    checkErrorEquals(sink, here, c.ErrorEquals, i === catchers.length - 1, 'catcher');
    if (typeof c.Next !== 'string')
      sink.error(
        'SCHEMA_VALIDATION_FAILED',
        here,
        "A catcher needs 'Next': the STRING name of the state to go to",
      );
    else out.nexts.push({ next: c.Next, at: pointer(here, 'Next') });
    if (language === 'JSONPath')
      checkPath(sink, pointer(here, 'ResultPath'), 'ResultPath', c.ResultPath, {
        nullable: true,
        reference: true,
      });
    else if (c.Output !== undefined)
      checkJsonataValue(sink, pointer(here, 'Output'), 'Output', c.Output, {
        errorOutput: true,
        noResult: true,
      });
    out.assigned.push(
      ...checkAssign(sink, pointer(here, 'Assign'), c.Assign, language, {
        errorOutput: true,
        noResult: true,
      }),
    );
  });
  return out;
}
