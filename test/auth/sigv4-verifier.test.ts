// SigV4 verification against requests signed by the official AWS signer (@smithy/signature-v4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { installLeakGuard } from '../helpers/leak-guard.js';
import {
  SigningKeyCache,
  verifySigV4,
  type SecretLookup,
  type SigV4Request,
  type SigV4VerifyOptions,
} from '../../src/auth/sigv4-verifier.js';
import {
  canonicalQuery,
  canonicalUri,
  normalizeEncoded,
  splitQuery,
  uriEncode,
} from '../../src/auth/sigv4-canonical.js';

installLeakGuard();

const AKID = 'AKNBTESTTESTTESTTEST';
const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNl';
const HOST = 'nimbus.local:9000';
const lookup: SecretLookup = async (id) => (id === AKID ? SECRET : undefined);

/** Strict RFC 3986 encoding, as the AWS SDK serializers put labels and query values on the wire. */
const esc = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

interface ToSign {
  method?: string;
  /** Wire path (already encoded, as the SDK sends it). */
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

function httpRequest(r: ToSign): HttpRequest {
  return new HttpRequest({
    method: r.method ?? 'GET',
    protocol: 'http:',
    hostname: 'nimbus.local',
    port: 9000,
    path: r.path,
    query: r.query ?? {},
    headers: { host: HOST, ...(r.headers ?? {}) },
    body: r.body,
  });
}

function signer(service = 'lambda', secret = SECRET, applyChecksum = true): SignatureV4 {
  return new SignatureV4({
    applyChecksum,
    credentials: { accessKeyId: AKID, secretAccessKey: secret },
    region: 'us-east-1',
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
  });
}

/** What the server sees for a signed HttpRequest: raw target, lowercase headers, body bytes. */
function onTheWire(req: HttpRequest): SigV4Request {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(req.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) parts.push(one == null ? esc(k) : `${esc(k)}=${esc(one)}`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const body = req.body === undefined ? undefined : Buffer.from(req.body as string | Buffer);
  return { method: req.method, path: req.path + (parts.length ? '?' + parts.join('&') : ''), headers, body };
}

/** Sign like the SDK. `applyChecksum` adds x-amz-content-sha256 (the signer's default). */
async function sign(r: ToSign, service = 'lambda', date?: Date, applyChecksum = true): Promise<SigV4Request> {
  const signed = await signer(service, SECRET, applyChecksum).sign(
    httpRequest(r),
    date ? { signingDate: date } : {},
  );
  return onTheWire(signed as HttpRequest);
}

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

const MISMATCH =
  /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\./;

test('GET with query parameters (repeated, reserved characters, empty value)', async () => {
  const req = await sign({
    path: '/2015-03-31/functions/',
    query: { MaxItems: '10', Marker: 'a b/c+d=é', FunctionVersion: 'ALL', tag: ['z', 'a'], empty: '' },
  });
  const id = await verifySigV4(req, lookup);
  assert.deepEqual(
    { accessKeyId: id.accessKeyId, region: id.region, service: id.service, presigned: id.presigned },
    { accessKeyId: AKID, region: 'us-east-1', service: 'lambda', presigned: false },
  );
  assert.match(id.date, /^\d{8}$/);
  assert.equal(id.amzDate.slice(0, 8), id.date);
  assert.ok(id.signedHeaders.includes('host'));
});

test('POST with a JSON body', async () => {
  const body = JSON.stringify({ hello: 'wörld', n: [1, 2, 3] });
  const req = await sign({
    method: 'POST',
    path: '/2015-03-31/functions/my-fn/invocations',
    query: { Qualifier: '$LATEST' },
    headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
    body,
  });
  assert.match(String(req.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/);
  const id = await verifySigV4(req, lookup);
  assert.equal(id.service, 'lambda');
  assert.match(id.payloadHash, /^[0-9a-f]{64}$/);

  // Without x-amz-content-sha256 (Lambda clients usually omit it) the verifier hashes the body.
  const bare = await sign(
    { method: 'POST', path: '/2015-03-31/functions/my-fn/invocations', body },
    'lambda',
    undefined,
    false,
  );
  assert.equal(bare.headers['x-amz-content-sha256'], undefined);
  assert.equal((await verifySigV4(bare, lookup)).payloadHash, id.payloadHash);
  await rejects(
    verifySigV4({ ...bare, body: Buffer.from(body + ' ') }, lookup),
    'InvalidSignatureException',
    MISMATCH,
  );
});

test('paths with characters that need encoding: double-encoded for Lambda, single for S3', async () => {
  const lambdaReq = await sign({
    method: 'POST',
    path: `/2015-03-31/functions/${esc("arn:aws:lambda:us-east-1:000000000000:function:fn name!*'()")}/invocations`,
    body: '{}',
  });
  await verifySigV4(lambdaReq, lookup);

  // S3 keys keep `//`, `.` segments and encoded slashes; the signer uses the path as sent.
  const s3Req = await sign(
    {
      method: 'PUT',
      path: `/bucket/dir//./${esc('a b+c€ (1).txt')}/${esc('x/y')}`,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      body: 'data',
    },
    's3',
  );
  const id = await verifySigV4(s3Req, lookup);
  assert.equal(id.service, 's3');

  // Verifying S3 with double encoding (the wrong mode) must fail: proves the parameter matters.
  await rejects(
    verifySigV4(s3Req, lookup, { doubleEncodePath: true }),
    'InvalidSignatureException',
    MISMATCH,
  );
});

test('UNSIGNED-PAYLOAD and STREAMING-* do not cover the body; a declared sha256 must match it', async () => {
  const req = await sign(
    {
      method: 'PUT',
      path: '/bucket/key',
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      body: 'one',
    },
    's3',
  );
  const id = await verifySigV4({ ...req, body: Buffer.from('something else') }, lookup);
  assert.equal(id.payloadHash, 'UNSIGNED-PAYLOAD');

  const streaming = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  const sreq = await sign(
    { method: 'PUT', path: '/bucket/key', headers: { 'x-amz-content-sha256': streaming }, body: 'chunks' },
    's3',
  );
  const sid = await verifySigV4({ ...sreq, body: undefined }, lookup);
  assert.equal(sid.payloadHash, streaming);
  assert.match(sid.signature, /^[0-9a-f]{64}$/);

  const declared = await sign(
    {
      method: 'PUT',
      path: '/bucket/key',
      headers: { 'x-amz-content-sha256': '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' },
      body: 'hello',
    },
    's3',
  );
  await verifySigV4(declared, lookup);
  await rejects(
    verifySigV4({ ...declared, body: Buffer.from('hellO') }, lookup),
    'InvalidSignatureException',
    /x-amz-content-sha256/,
  );
});

test('presigned URL (query string form)', async () => {
  const date = new Date();
  const presigned = (await signer('s3').presign(
    httpRequest({
      path: `/bucket/${esc('photo 1.jpg')}`,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    }),
    { expiresIn: 300, signingDate: date },
  )) as HttpRequest;
  const req = onTheWire(presigned);
  assert.match(req.path, /X-Amz-Signature=/);
  assert.equal(req.headers.authorization, undefined);
  const id = await verifySigV4(req, lookup);
  assert.equal(id.presigned, true);
  assert.equal(id.payloadHash, 'UNSIGNED-PAYLOAD');

  // Without x-amz-content-sha256 the SDK presigner signs the (empty) body hash; accepted too.
  const plain = onTheWire(
    (await signer('s3').presign(httpRequest({ path: '/bucket/key' }), { expiresIn: 60 })) as HttpRequest,
  );
  await verifySigV4(plain, lookup);

  await rejects(
    verifySigV4(req, lookup, { now: () => date.getTime() + 301_000 }),
    'InvalidSignatureException',
    /Request has expired/,
  );
  await rejects(
    verifySigV4({ ...req, path: req.path.replace('photo%201', 'photo%202') }, lookup),
    'InvalidSignatureException',
    MISMATCH,
  );
  await rejects(
    verifySigV4({ ...req, path: req.path.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000') }, lookup),
    'InvalidSignatureException',
    MISMATCH,
  );
  await rejects(verifySigV4(req, lookup, { allowPresigned: false }), 'MissingAuthenticationTokenException');
});

test('tampered body, header, path, query or method is an InvalidSignatureException', async () => {
  const req = await sign(
    {
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      query: { Qualifier: '1' },
      headers: { 'x-amz-invocation-type': 'Event' },
      body: '{"a":1}',
    },
    'lambda',
    undefined,
    false,
  );
  await verifySigV4(req, lookup);
  const tampered: SigV4Request[] = [
    { ...req, body: Buffer.from('{"a":2}') },
    { ...req, body: undefined },
    { ...req, headers: { ...req.headers, 'x-amz-invocation-type': 'RequestResponse' } },
    { ...req, headers: { ...req.headers, host: 'evil.example:9000' } },
    { ...req, path: req.path.replace('/fn/', '/other/') },
    { ...req, path: req.path.replace('Qualifier=1', 'Qualifier=2') },
    { ...req, path: req.path + '&extra=1' },
    { ...req, method: 'PUT' },
  ];
  for (const t of tampered) await rejects(verifySigV4(t, lookup), 'InvalidSignatureException', MISMATCH);

  // Extra, unsigned headers do not matter (proxies add them); whitespace in signed values is canonical.
  await verifySigV4({ ...req, headers: { ...req.headers, 'x-forwarded-for': '10.0.0.1' } }, lookup);
  await verifySigV4({ ...req, headers: { ...req.headers, 'x-amz-invocation-type': '  Event ' } }, lookup);
});

test('a wrong secret is an InvalidSignatureException', async () => {
  const signed = await signer('lambda', 'not-the-secret').sign(
    httpRequest({ path: '/2015-03-31/functions/' }),
  );
  await rejects(verifySigV4(onTheWire(signed as HttpRequest), lookup), 'InvalidSignatureException', MISMATCH);
});

test('timestamps outside the 15 minute window are rejected', async () => {
  const old = await sign({ path: '/2015-03-31/functions/' }, 'lambda', new Date(Date.now() - 16 * 60_000));
  await rejects(
    verifySigV4(old, lookup),
    'InvalidSignatureException',
    /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
  );
  const future = await sign({ path: '/2015-03-31/functions/' }, 'lambda', new Date(Date.now() + 16 * 60_000));
  await rejects(verifySigV4(future, lookup), 'InvalidSignatureException', /Signature not yet current/);
  const recent = await sign({ path: '/2015-03-31/functions/' }, 'lambda', new Date(Date.now() - 14 * 60_000));
  await verifySigV4(recent, lookup);
  // A tighter window is an option.
  await rejects(
    verifySigV4(recent, lookup, { maxClockSkewMs: 60_000 }),
    'InvalidSignatureException',
    /expired/,
  );
});

test('unknown access key, missing and malformed authentication', async () => {
  const req = await sign({ path: '/2015-03-31/functions/' });
  // An unknown key fails exactly as a wrong secret: the answer must not reveal which ids exist.
  await rejects(
    verifySigV4(req, async () => undefined),
    'InvalidSignatureException',
    MISMATCH,
  );

  const { authorization: _a, ...unsigned } = req.headers;
  await rejects(verifySigV4({ ...req, headers: unsigned }, lookup), 'MissingAuthenticationTokenException');

  const auth = String(req.headers.authorization);
  const malformed = [
    'Bearer nbt_abc',
    auth.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'),
    auth.replace(/Signature=[0-9a-f]+/, 'Signature=zz'),
    auth.replace(/, Signature=[0-9a-f]+/, ''),
    auth.replace('/aws4_request', '/aws5_request'),
    auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-date'),
    auth.replace(/Credential=[^/]+\/\d{8}/, `Credential=${AKID}/19990101`),
  ];
  for (const a of malformed) {
    await rejects(
      verifySigV4({ ...req, headers: { ...req.headers, authorization: a } }, lookup),
      'InvalidSignatureException',
    );
  }
});

test('expectedScope refuses another service or region; UNSIGNED-PAYLOAD only where allowed', async () => {
  const req = await sign({ path: '/2015-03-31/functions/' });
  await verifySigV4(req, lookup, { expectedScope: { service: 'lambda', region: 'us-east-1' } });
  await rejects(
    verifySigV4(req, lookup, { expectedScope: { service: 's3', region: 'us-east-1' } }),
    'InvalidSignatureException',
    /scoped to correct service: 's3'/,
  );
  await rejects(
    verifySigV4(req, lookup, { expectedScope: { service: 'lambda', region: 'eu-west-1' } }),
    'InvalidSignatureException',
    /not 'us-east-1'/,
  );
  const unsigned = await sign(
    { method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: 'x' },
    's3',
  );
  await verifySigV4(unsigned, lookup, { expectedScope: { service: 's3', region: 'us-east-1' } });
  await rejects(
    verifySigV4(unsigned, lookup, { allowUnsignedPayload: false }),
    'InvalidSignatureException',
    /UNSIGNED-PAYLOAD' is not accepted by s3/,
  );
});

test('matches the AWS SigV4 test suite vector "get-vanilla"', async () => {
  // From the AWS Signature Version 4 test suite: GET / on example.amazonaws.com, service "service".
  const req: SigV4Request = {
    method: 'GET',
    path: '/',
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    },
    body: undefined,
  };
  const opts: SigV4VerifyOptions = { now: () => Date.UTC(2015, 7, 30, 12, 40) };
  const id = await verifySigV4(req, async () => 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', opts);
  assert.equal(id.service, 'service');
});

test('signing keys are derived once per (secret, date, region, service)', async () => {
  const cache = new SigningKeyCache(2);
  const a = await sign({ path: '/2015-03-31/functions/' });
  await verifySigV4(a, lookup, { signingKeyCache: cache });
  await verifySigV4(a, lookup, { signingKeyCache: cache });
  assert.equal(cache.size, 1);
  await verifySigV4(await sign({ path: '/q' }, 'sqs'), lookup, { signingKeyCache: cache });
  await verifySigV4(
    await sign({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, 's3'),
    lookup,
    {
      signingKeyCache: cache,
    },
  );
  assert.equal(cache.size, 2, 'bounded');
});

test('canonicalization helpers', () => {
  assert.equal(uriEncode("a b!*'()~._-/é"), 'a%20b%21%2A%27%28%29~._-%2F%C3%A9');
  assert.equal(normalizeEncoded('a%20b%7e%7E+%2f%zz/é'), 'a%20b~~%2B%2F%25zz%2F%C3%A9');
  assert.equal(canonicalUri('/a%20b//./c/../d/', true), '/a%2520b/d/');
  assert.equal(canonicalUri('/a%20b//./c/../d/', false), '/a%20b//./c/../d/');
  assert.equal(canonicalUri('', true), '/');
  assert.equal(
    canonicalQuery(splitQuery('b=2&a=z&a=y&c&X-Amz-Signature=f'), 'X-Amz-Signature'),
    'a=y&a=z&b=2&c=',
  );
});
