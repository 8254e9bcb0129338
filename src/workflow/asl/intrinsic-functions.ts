// Evaluates the 18 intrinsic functions (`States.Format`, `States.Array*`, `States.Hash`, ...)
// with AWS's argument rules; a bad argument raises States.IntrinsicFailure.

import { createHash } from 'node:crypto';
import { defaultEnvironment, seededRandom, type AslEnvironment } from './asl-environment.js';
import { isJsonObject, jsonEquals, type Json } from './asl-types.js';
import { parseIntrinsic, type IntrinsicArg, type IntrinsicCall } from './intrinsic-parser.js';
import { readPath, type PathRoots } from './json-path.js';
import { STATES_ERRORS, StatesError } from './states-errors.js';

const MAX_STRING = 10_000;
const MAX_RANGE = 1000;
const HASHES: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** Evaluates an intrinsic call (source text or parsed) against `roots`. */
export function evaluateIntrinsic(
  call: string | IntrinsicCall,
  roots: PathRoots,
  env: AslEnvironment = defaultEnvironment,
): Json {
  const parsed = typeof call === 'string' ? parseIntrinsic(call) : call;
  const args = parsed.args.map((a) => argValue(a, roots, env));
  const fail = (why: string): never => {
    throw new StatesError(STATES_ERRORS.IntrinsicFailure, `Invalid arguments in ${parsed.name}: ${why}`);
  };
  const str = (i: number, max = Infinity): string => {
    const v = args[i];
    if (typeof v !== 'string') fail(`argument ${i + 1} must be a string`);
    if ((v as string).length > max) fail(`argument ${i + 1} is longer than ${max} characters`);
    return v as string;
  };
  const int = (i: number): number => {
    const v = args[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(`argument ${i + 1} must be an integer`);
    return v as number;
  };
  const arr = (i: number): Json[] => {
    const v = args[i];
    if (!Array.isArray(v)) fail(`argument ${i + 1} must be an array`);
    return v as Json[];
  };
  switch (parsed.name) {
    case 'States.Format':
      return format(parsed.args[0]!, args, fail);
    case 'States.StringToJson': {
      try {
        return JSON.parse(str(0)) as Json;
      } catch {
        return fail('argument 1 is not a JSON string');
      }
    }
    case 'States.JsonToString':
      return JSON.stringify(args[0]);
    case 'States.Array':
      return args;
    case 'States.ArrayPartition': {
      const items = arr(0);
      const size = int(1);
      if (size <= 0) fail('the chunk size must be a positive integer');
      const out: Json[] = [];
      for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
      return out;
    }
    case 'States.ArrayContains':
      return arr(0).some((v) => jsonEquals(v, args[1]!));
    case 'States.ArrayRange': {
      const [start, end, stepBy] = [int(0), int(1), int(2)];
      if (stepBy === 0) fail('the step must not be 0');
      const out: number[] = [];
      for (let v = start; stepBy > 0 ? v <= end : v >= end; v += stepBy) {
        out.push(v);
        if (out.length > MAX_RANGE) fail(`the range has more than ${MAX_RANGE} items`);
      }
      return out;
    }
    case 'States.ArrayGetItem': {
      const items = arr(0);
      const index = int(1);
      if (index < 0 || index >= items.length)
        fail(`index ${index} is out of bounds (length ${items.length})`);
      return items[index]!;
    }
    case 'States.ArrayLength':
      return arr(0).length;
    case 'States.ArrayUnique': {
      const out: Json[] = [];
      for (const v of arr(0)) if (!out.some((o) => jsonEquals(o, v))) out.push(v);
      return out;
    }
    case 'States.Base64Encode':
      return Buffer.from(str(0, MAX_STRING), 'utf8').toString('base64');
    case 'States.Base64Decode': {
      const s = str(0, MAX_STRING);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) fail('argument 1 is not base64');
      return Buffer.from(s, 'base64').toString('utf8');
    }
    case 'States.Hash': {
      const data = args[0];
      if (data === null || data === undefined) fail('the data to hash must not be null');
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      if (text.length > MAX_STRING) fail(`the data is longer than ${MAX_STRING} characters`);
      const alg = HASHES[str(1)];
      if (!alg) fail(`the algorithm must be one of ${Object.keys(HASHES).join(', ')}`);
      return createHash(alg!).update(text, 'utf8').digest('hex');
    }
    case 'States.JsonMerge': {
      const [a, b, deep] = args;
      if (!isJsonObject(a) || !isJsonObject(b)) fail('the first two arguments must be JSON objects');
      if (deep !== false) fail('only shallow merging is supported: pass false as the third argument');
      return { ...(a as object), ...(b as object) } as Json;
    }
    case 'States.MathRandom': {
      const start = int(0);
      const end = int(1);
      if (end <= start) fail('the end must be greater than the start');
      const random = args.length === 3 ? seededRandom(int(2)) : env.random;
      return start + Math.floor(random() * (end - start));
    }
    case 'States.MathAdd': {
      const [a, b] = args;
      if (typeof a !== 'number' || typeof b !== 'number') fail('both arguments must be numbers');
      return (a as number) + (b as number);
    }
    case 'States.StringSplit': {
      const s = str(0);
      const delimiters = str(1);
      if (delimiters === '') return [s];
      const out: string[] = [];
      let cur = '';
      for (const ch of s) {
        if (delimiters.includes(ch)) {
          if (cur !== '') out.push(cur);
          cur = '';
        } else cur += ch;
      }
      if (cur !== '') out.push(cur);
      return out;
    }
    case 'States.UUID':
      return env.uuid();
    default:
      return fail('unknown function');
  }
}

function argValue(arg: IntrinsicArg, roots: PathRoots, env: AslEnvironment): Json {
  switch (arg.kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return arg.value;
    case 'null':
      return null;
    case 'call':
      return evaluateIntrinsic(arg, roots, env);
    case 'path': {
      const r = readPath(arg.path, roots);
      if (!r.found) {
        throw new StatesError(
          STATES_ERRORS.Runtime,
          `The JsonPath argument '${arg.path}' could not be found in the input`,
        );
      }
      return r.value;
    }
  }
}

function format(template: IntrinsicArg, args: Json[], fail: (why: string) => never): string {
  const tpl = args[0];
  if (typeof tpl !== 'string') return fail('the template (argument 1) must be a string');
  // A literal template keeps its escapes (\{ is a brace, {} a placeholder); a template read
  // from a path has none.
  const raw = template.kind === 'string' ? template.raw : tpl;
  const values = args.slice(1);
  let out = '';
  let used = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (template.kind === 'string' && c === '\\') {
      out += raw[++i] ?? '';
    } else if (c === '{' && raw[i + 1] === '}') {
      if (used >= values.length) fail('the template has more {} placeholders than arguments');
      const v = values[used++]!;
      if (v !== null && typeof v === 'object')
        fail('placeholder values must be strings, numbers, booleans or null');
      out += v === null ? 'null' : String(v);
      i++;
    } else out += c;
  }
  if (used !== values.length)
    fail(`the template has ${used} {} placeholders but ${values.length} values were given`);
  return out;
}
