// Keeps the error code table (src/errors.ts) and docs/errors.md in step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, NimbusError, isNimbusError } from '../src/errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

test('every error code is documented with its status', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    const row = doc.split('\n').find((l) => new RegExp(`^\\|\\s*\`${code}\`\\s*\\|`).test(l));
    assert.ok(row, `docs/errors.md lacks a row for ${code}`);
    assert.match(
      row,
      new RegExp(`\\|\\s*${info.status}\\s*\\|`),
      `docs/errors.md has the wrong status for ${code}`,
    );
  }
});

test('docs/errors.md says which codes are worth retrying, as the table does', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    const row = doc.split('\n').find((l) => new RegExp(`^\\|\\s*\`${code}\`\\s*\\|`).test(l));
    const cells = row?.split('|').map((c) => c.trim());
    assert.equal(cells?.[3], info.retryable ? 'yes' : 'no', `docs/errors.md's retry? column for ${code}`);
  }
});

test('docs/errors.md lists no code the table lacks', () => {
  const documented = [...doc.matchAll(/^\|\s*`([A-Za-z.]+)`\s*\|/gm)].map((m) => m[1]);
  for (const code of documented)
    assert.ok(code! in ERROR_CODES, `docs/errors.md documents unknown code ${code}`);
});

test('NimbusError carries code, status and retryable; isNimbusError works across realms', () => {
  const e = new NimbusError('TooManyRequestsException', 'slow down', { headers: { 'Retry-After': '1' } });
  assert.equal(e.status, 429);
  assert.equal(e.retryable, true);
  assert.equal(e.headers?.['Retry-After'], '1');
  assert.ok(isNimbusError(e));
  // A plain object with the same shape (e.g. deserialized from another realm) passes too.
  assert.ok(isNimbusError({ code: 'NotFound', status: 404, message: 'x' }));
  assert.ok(!isNimbusError(new Error('plain')));
  assert.ok(!isNimbusError({ code: 'ENOENT', status: 1 }));
});
