// AppTokenStore contract (migration 010), run on every backend: record, list live tokens, revoke once, prune.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppTokenRecord } from '../../src/store/ports/app-tokens.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { forEachStore } from '../helpers/test-stores.js';

installLeakGuard();

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;
const tok = (id: string, app: string, issuedAt: number, ttl = 12 * HOUR): AppTokenRecord => ({
  id: id.padEnd(22, 'x'),
  app,
  issuedAt,
  expiresAt: issuedAt + ttl,
});

forEachStore((_name, open) => {
  test('put, get, list (per app, unexpired, newest first), revoke once, prune expired', async () => {
    const store = await open();
    const s = store.credentials;
    await s.putAppToken(tok('a1', 'shop', T0));
    await s.putAppToken(tok('a2', 'shop', T0 + HOUR));
    await s.putAppToken(tok('b1', 'blog', T0 + 2 * HOUR));
    await s.putAppToken(tok('old', 'shop', T0 - 20 * HOUR));
    // A second put of the same id changes nothing.
    await s.putAppToken({ ...tok('a1', 'shop', T0), app: 'other' });

    assert.deepEqual(await s.getAppToken(tok('a1', 'shop', T0).id), {
      ...tok('a1', 'shop', T0),
      revokedAt: undefined,
    });
    assert.equal(await s.getAppToken('nope'.padEnd(22, 'x')), undefined);

    const now = T0 + 3 * HOUR;
    assert.deepEqual(
      (await s.listAppTokens({ now })).map((r) => r.id.slice(0, 2)),
      ['b1', 'a2', 'a1'],
    );
    assert.deepEqual(
      (await s.listAppTokens({ now, app: 'shop' })).map((r) => [r.id.slice(0, 2), r.issuedAt, r.expiresAt]),
      [
        ['a2', T0 + HOUR, T0 + 13 * HOUR],
        ['a1', T0, T0 + 12 * HOUR],
      ],
    );

    const revoked = await s.revokeAppToken(tok('a2', 'shop', 0).id, now);
    assert.equal(revoked?.revokedAt, now);
    const again = await s.revokeAppToken(tok('a2', 'shop', 0).id, now + 5);
    assert.equal(again?.revokedAt, now, 'the first revocation time is kept');
    assert.equal(await s.revokeAppToken('nope'.padEnd(22, 'x'), now), undefined);
    assert.equal((await s.listAppTokens({ now, app: 'shop' }))[0]?.revokedAt, now);

    assert.equal(await s.deleteExpiredAppTokens(T0), 1);
    assert.equal(await s.getAppToken(tok('old', 'shop', 0).id), undefined);
    assert.equal((await s.listAppTokens({ now: T0 - 30 * HOUR })).length, 3);
  });
});
