// Secret box and master key: sealing round trips, context binding, key file creation and checks.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { SecretBox, loadMasterKey } from '../../src/auth/secret-box.js';
import {
  generateAccessKeyId,
  generateSecretAccessKey,
  generateToken,
  readLocalCredentials,
  writeCredentialsFile,
} from '../../src/auth/credentials.js';
import { parseBearer } from '../../src/auth/bearer-auth.js';

installLeakGuard();

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nimbus-secretbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('seal/open round trip, bound to its context, randomised', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));
  const a = box.seal('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'AKNB1');
  const b = box.seal('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'AKNB1');
  assert.notEqual(a, b, 'a fresh IV per seal');
  assert.match(a, /^v1\.[A-Za-z0-9_-]+$/);
  assert.equal(box.open(a, 'AKNB1'), 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  assert.throws(() => box.open(a, 'AKNB2'), { code: 'ServiceException' });
  assert.throws(() => new SecretBox(Buffer.alloc(32, 8)).open(a, 'AKNB1'), { code: 'ServiceException' });
  assert.throws(() => box.open('plain', 'AKNB1'), { code: 'ServiceException' });
  const tampered = a.slice(0, -2) + (a.endsWith('AA') ? 'BB' : 'AA');
  assert.throws(() => box.open(tampered, 'AKNB1'), { code: 'ServiceException' });
});

test('master.key is created once with mode 0600 and reused', async () => {
  const dataDir = join(dir, 'data');
  const first = await loadMasterKey(dataDir, {});
  assert.equal(first.created, true);
  assert.equal(first.source, 'file');
  const path = join(dataDir, 'master.key');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const second = await loadMasterKey(dataDir, {});
  assert.equal(second.created, false);
  assert.deepEqual(second.key, first.key);
  // Concurrent first starts agree on one key.
  const other = join(dir, 'other');
  const keys = await Promise.all([1, 2, 3, 4].map(() => loadMasterKey(other, {})));
  for (const k of keys) assert.deepEqual(k.key, keys[0]!.key);
  assert.equal(keys.filter((k) => k.created).length, 1);
});

test('master key checks: loose file mode, wrong length, NIMBUS_MASTER_KEY', async () => {
  const path = join(dir, 'master.key');
  await writeFile(path, Buffer.alloc(32, 1), { mode: 0o600 });
  await chmod(path, 0o644);
  await assert.rejects(loadMasterKey(dir, {}), { code: 'InvalidConfigError', message: /chmod 600/ });
  await writeFile(path, Buffer.alloc(16, 1));
  await chmod(path, 0o600);
  await assert.rejects(loadMasterKey(dir, {}), { code: 'InvalidConfigError' });

  const fromEnv = await loadMasterKey(dir, { NIMBUS_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') });
  assert.equal(fromEnv.source, 'env');
  assert.deepEqual(fromEnv.key, Buffer.alloc(32, 9));
  await assert.rejects(loadMasterKey(dir, { NIMBUS_MASTER_KEY: 'c2hvcnQ=' }), { code: 'InvalidConfigError' });
});

test('generated identifiers have the documented shapes and are unique', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const id = generateAccessKeyId();
    assert.match(id, /^AKNB[A-Z2-7]{16}$/);
    ids.add(id);
    assert.match(generateSecretAccessKey(), /^[A-Za-z0-9_-]{40}$/);
    assert.match(generateToken(), /^nbt_[A-Za-z0-9_-]{43}$/);
  }
  assert.equal(ids.size, 200);
});

test('credentials.json: written 0600, read back, env wins, malformed is a config error', async () => {
  assert.equal(readLocalCredentials(dir, {}), undefined);
  const path = await writeCredentialsFile(dir, {
    accessKeyId: 'AKNBA',
    secretAccessKey: 's',
    token: 'nbt_t',
  });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
    accessKeyId: 'AKNBA',
    secretAccessKey: 's',
    token: 'nbt_t',
  });
  assert.deepEqual(readLocalCredentials(dir, {}), {
    accessKeyId: 'AKNBA',
    secretAccessKey: 's',
    token: 'nbt_t',
  });
  assert.deepEqual(
    readLocalCredentials(dir, {
      NIMBUS_ROOT_ACCESS_KEY_ID: 'AKNBENV',
      NIMBUS_ROOT_SECRET_ACCESS_KEY: 'envsecret',
      NIMBUS_TOKEN: 'nbt_env',
    }),
    { accessKeyId: 'AKNBENV', secretAccessKey: 'envsecret', token: 'nbt_env' },
  );
  assert.throws(() => readLocalCredentials(dir, { NIMBUS_ROOT_SECRET_ACCESS_KEY: 'x' }), {
    code: 'InvalidConfigError',
  });
  await writeFile(path, '{"accessKeyId": 1}');
  assert.throws(() => readLocalCredentials(dir, {}), { code: 'InvalidConfigError' });
  await writeFile(path, 'not json');
  assert.throws(() => readLocalCredentials(dir, {}), { code: 'InvalidConfigError' });
});

test('parseBearer forms', () => {
  assert.deepEqual(parseBearer('Bearer nbt_abc'), { kind: 'token', token: 'nbt_abc' });
  assert.deepEqual(parseBearer('Bearer AKNB1:se:cret/+='), {
    kind: 'access-key',
    accessKeyId: 'AKNB1',
    secretAccessKey: 'se:cret/+=',
  });
  assert.throws(() => parseBearer('Bearer'), { code: 'MissingAuthenticationTokenException' });
  assert.throws(() => parseBearer('Bearer :x'), { code: 'UnrecognizedClientException' });
  assert.throws(() => parseBearer('Bearer AKNB1:'), { code: 'UnrecognizedClientException' });
});
