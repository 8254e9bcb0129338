// AuthService: root bootstrap (generated and from env), bearer verification, issuing keys and tokens.
//
// The suite runs on the in-memory store and on every real store in NIMBUS_TEST_STORES (via
// test/helpers/test-stores.ts), so it also proves the SQLite/PostgreSQL CredentialStore keep
// what auth relies on (put replaces by id; scopes round trip; nothing stored in plain text).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { AuthService } from '../../src/auth/auth-service.js';
import { hashSecret, readLocalCredentials } from '../../src/auth/credentials.js';
import type { CredentialStore } from '../../src/store/store.js';
import { forEachStore } from '../helpers/test-stores.js';
import { MemoryCredentialStore } from './memory-credential-store.js';

installLeakGuard();

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'nimbus-auth-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    return true;
  });
}

async function signedBy(accessKeyId: string, secretAccessKey: string) {
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region: 'us-east-1',
    service: 'lambda',
    sha256: Sha256,
  });
  const req = (await signer.sign(
    new HttpRequest({
      method: 'GET',
      hostname: 'localhost',
      path: '/2015-03-31/functions/',
      headers: { host: 'localhost' },
    }),
  )) as HttpRequest;
  return { method: req.method, path: req.path, headers: req.headers, body: undefined };
}

/** The store-independent part: `open` gives a new, empty CredentialStore. */
function authServiceSuite(open: () => Promise<CredentialStore>): void {
  test('first start creates root credentials, writes credentials.json 0600, and only once', async () => {
    const store = await open();
    const auth = new AuthService(store, { dataDir, env: {} });
    const root = await auth.bootstrap();
    assert.ok(root);
    assert.match(root.accessKeyId, /^AKNB[A-Z2-7]{16}$/);
    assert.match(root.secretAccessKey, /^[A-Za-z0-9_-]{40}$/);
    assert.match(root.token, /^nbt_[A-Za-z0-9_-]{43}$/);
    assert.equal(root.credentialsFile, join(dataDir, 'credentials.json'));

    const file = await stat(root.credentialsFile);
    assert.equal(file.mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(root.credentialsFile, 'utf8')), {
      accessKeyId: root.accessKeyId,
      secretAccessKey: root.secretAccessKey,
      token: root.token,
    });
    assert.equal((await stat(join(dataDir, 'master.key'))).mode & 0o777, 0o600);
    assert.equal((await readFile(join(dataDir, 'master.key'))).length, 32);
    assert.deepEqual(readLocalCredentials(dataDir, {}), {
      accessKeyId: root.accessKeyId,
      secretAccessKey: root.secretAccessKey,
      token: root.token,
    });

    // The secret and token appear in no stored record, in any form but hash/ciphertext.
    const stored = JSON.stringify([
      await store.getAccessKey(root.accessKeyId),
      await store.getToken(hashSecret(root.token)),
    ]);
    assert.ok(!stored.includes(root.secretAccessKey));
    assert.ok(!stored.includes(root.token));
    assert.ok(!stored.includes(Buffer.from(root.secretAccessKey).toString('base64')));
    const rec = await store.getAccessKey(root.accessKeyId);
    assert.ok(rec);
    assert.equal(rec.secretHash, hashSecret(root.secretAccessKey));
    assert.match(rec.secretEncrypted, /^v1\./);
    assert.equal(rec.name, 'root');

    // Second start (same store, new process): nothing new.
    const again = new AuthService(store, { dataDir, env: {} });
    assert.equal(await again.bootstrap(), undefined);
    assert.equal(await store.countAccessKeys(), 1);

    // The new process decrypts the secret with the persisted master key and verifies SigV4.
    const id = await again.verifySigV4(await signedBy(root.accessKeyId, root.secretAccessKey));
    assert.equal(id.accessKeyId, root.accessKeyId);
    await rejects(again.verifySigV4(await signedBy(root.accessKeyId, 'wrong')), 'InvalidSignatureException');
    // An unknown key id is answered as a wrong secret (no oracle for which ids exist).
    await rejects(
      again.verifySigV4(await signedBy('AKNBUNKNOWNUNKNOWN00', 'x')),
      'InvalidSignatureException',
    );
  });

  test('root key from NIMBUS_ROOT_* env: inserted, kept, replaced on a new secret; nothing generated', async () => {
    const store = await open();
    const env = {
      NIMBUS_ROOT_ACCESS_KEY_ID: 'AKNBFROMENV000000000',
      NIMBUS_ROOT_SECRET_ACCESS_KEY: 'env/secret+1',
    };
    const auth = new AuthService(store, { dataDir, env });
    assert.equal(await auth.bootstrap(), undefined);
    assert.equal(await store.countAccessKeys(), 1);
    await assert.rejects(stat(join(dataDir, 'credentials.json')), { code: 'ENOENT' });
    const first = await store.getAccessKey(env.NIMBUS_ROOT_ACCESS_KEY_ID);
    assert.ok(first);
    assert.ok(!JSON.stringify(first).includes('env/secret+1'));
    await auth.verifySigV4(await signedBy(env.NIMBUS_ROOT_ACCESS_KEY_ID, env.NIMBUS_ROOT_SECRET_ACCESS_KEY));

    // Restart with the same env: the record is left alone.
    assert.equal(await new AuthService(store, { dataDir, env }).bootstrap(), undefined);
    assert.deepEqual(await store.getAccessKey(env.NIMBUS_ROOT_ACCESS_KEY_ID), first);

    // Restart with a rotated secret: the key is replaced, the old secret stops working.
    const rotated = { ...env, NIMBUS_ROOT_SECRET_ACCESS_KEY: 'rotated-secret' };
    const auth2 = new AuthService(store, { dataDir, env: rotated });
    assert.equal(await auth2.bootstrap(), undefined);
    assert.equal(await store.countAccessKeys(), 1);
    await auth2.verifySigV4(await signedBy(env.NIMBUS_ROOT_ACCESS_KEY_ID, 'rotated-secret'));
    await rejects(
      auth2.verifySigV4(await signedBy(env.NIMBUS_ROOT_ACCESS_KEY_ID, env.NIMBUS_ROOT_SECRET_ACCESS_KEY)),
      'InvalidSignatureException',
    );
    assert.equal(
      (await auth2.verifyBearer(`Bearer ${env.NIMBUS_ROOT_ACCESS_KEY_ID}:rotated-secret`)).kind,
      'access-key',
    );

    // The env vars win over credentials.json for the CLI.
    assert.deepEqual(readLocalCredentials(dataDir, rotated), {
      accessKeyId: 'AKNBFROMENV000000000',
      secretAccessKey: 'rotated-secret',
    });

    // Only one of the two is a configuration error.
    await rejects(
      new AuthService(store, { dataDir, env: { NIMBUS_ROOT_ACCESS_KEY_ID: 'AKNBX00' } }).bootstrap(),
      'InvalidConfigError',
    );
  });

  test('env root key is re-sealed when the master key changed', async () => {
    const store = await open();
    const keyA = Buffer.alloc(32, 1).toString('base64');
    const keyB = Buffer.alloc(32, 2).toString('base64');
    const env = {
      NIMBUS_ROOT_ACCESS_KEY_ID: 'AKNBFROMENV000000000',
      NIMBUS_ROOT_SECRET_ACCESS_KEY: 's3cret',
    };
    await new AuthService(store, { dataDir, env: { ...env, NIMBUS_MASTER_KEY: keyA } }).bootstrap();
    const withB = new AuthService(store, { dataDir, env: { ...env, NIMBUS_MASTER_KEY: keyB } });
    await withB.bootstrap();
    await withB.verifySigV4(await signedBy(env.NIMBUS_ROOT_ACCESS_KEY_ID, 's3cret'));
    // No key file is created when NIMBUS_MASTER_KEY is set.
    await assert.rejects(stat(join(dataDir, 'master.key')), { code: 'ENOENT' });
    // A generated key sealed under A cannot be opened under B: a clear ServiceException, not a mismatch.
    const issued = await new AuthService(store, {
      dataDir,
      env: { NIMBUS_MASTER_KEY: keyA },
    }).createAccessKey('ci');
    await rejects(
      withB.verifySigV4(await signedBy(issued.accessKeyId, issued.secretAccessKey)),
      'ServiceException',
    );
  });

  test('verifyBearer: tokens, access key pairs, and every way to fail', async () => {
    const store = await open();
    const auth = new AuthService(store, { dataDir, env: {} });
    const root = await auth.bootstrap();
    assert.ok(root);

    assert.deepEqual(await auth.verifyBearer(`Bearer ${root.token}`), {
      kind: 'token',
      name: 'root',
      scopes: ['*'],
    });
    assert.deepEqual(await auth.verifyBearer(`bearer   ${root.accessKeyId}:${root.secretAccessKey}  `), {
      kind: 'access-key',
      name: 'root',
      accessKeyId: root.accessKeyId,
      scopes: ['*'],
    });

    const ci = await auth.createToken('ci', ['functions:invoke']);
    assert.match(ci.token, /^nbt_[A-Za-z0-9_-]{43}$/);
    assert.equal(ci.record.tokenHash, hashSecret(ci.token));
    assert.deepEqual(await auth.verifyBearer(`Bearer ${ci.token}`), {
      kind: 'token',
      name: 'ci',
      scopes: ['functions:invoke'],
    });

    const key = await auth.createAccessKey('deployer');
    assert.match(key.accessKeyId, /^AKNB[A-Z2-7]{16}$/);
    assert.equal(
      (await auth.verifyBearer(`Bearer ${key.accessKeyId}:${key.secretAccessKey}`)).name,
      'deployer',
    );
    await auth.verifySigV4(await signedBy(key.accessKeyId, key.secretAccessKey));

    await rejects(auth.verifyBearer(undefined), 'MissingAuthenticationTokenException');
    await rejects(auth.verifyBearer(''), 'MissingAuthenticationTokenException');
    await rejects(auth.verifyBearer(`Basic ${root.token}`), 'MissingAuthenticationTokenException');
    await rejects(auth.verifyBearer('Bearer nbt_nope'), 'UnrecognizedClientException');
    await rejects(auth.verifyBearer('Bearer garbage'), 'UnrecognizedClientException');
    await rejects(auth.verifyBearer(`Bearer ${root.accessKeyId}:wrong`), 'UnrecognizedClientException');
    await rejects(
      auth.verifyBearer(`Bearer AKNBNOPE:${root.secretAccessKey}`),
      'UnrecognizedClientException',
    );
  });
}

describe('memory', () => authServiceSuite(async () => new MemoryCredentialStore()));
forEachStore((_name, open) => authServiceSuite(async () => (await open()).credentials));

test('looked-up keys are cached for cacheTtlMs, then re-read from the store', async () => {
  let now = 1_700_000_000_000;
  const store = new MemoryCredentialStore();
  const auth = new AuthService(store, { dataDir, env: {}, now: () => now, cacheTtlMs: 1000 });
  const key = await auth.createAccessKey('k');
  const before = store.keyLookups;
  for (let i = 0; i < 5; i++) await auth.verifyBearer(`Bearer ${key.accessKeyId}:${key.secretAccessKey}`);
  assert.equal(store.keyLookups - before, 1);
  now += 1001;
  await auth.verifyBearer(`Bearer ${key.accessKeyId}:${key.secretAccessKey}`);
  assert.equal(store.keyLookups - before, 2);
});

forEachStore((name, _open, stores) => {
  if (name !== 'sqlite') return;
  test('the SQLite file never contains a secret or token in plain text', async () => {
    const target = stores.target();
    const store = await stores.openAt(target);
    const auth = new AuthService(store.credentials, { dataDir, env: {} });
    const root = await auth.bootstrap();
    assert.ok(root);
    const key = await auth.createAccessKey('second');
    await store.close();
    const dbPath = target.url.slice('sqlite:'.length);
    const dir = dbPath.slice(0, dbPath.lastIndexOf('/'));
    const base = dbPath.slice(dbPath.lastIndexOf('/') + 1);
    let bytes = Buffer.alloc(0);
    for (const f of await readdir(dir)) {
      if (f.startsWith(base)) bytes = Buffer.concat([bytes, await readFile(join(dir, f))]);
    }
    assert.ok(bytes.includes(root.accessKeyId), 'sanity: the file holds the records');
    for (const secret of [root.secretAccessKey, root.token, key.secretAccessKey]) {
      assert.ok(!bytes.includes(secret), 'secret found in the database file');
    }
  });
});
