// Listing on every store: bytewise key order, prefix, delimiter, continuation across pages, startAfter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../../helpers/leak-guard.js';
import { forEachStore } from '../../helpers/test-stores.js';
import { prefixSuccessor } from '../../../src/services/buckets/object-listing.js';
import type { ListObjectsOptions } from '../../../src/services/buckets/bucket-types.js';
import type { BucketService } from '../../../src/services/buckets/bucket-service.js';
import { body, bucketService } from './bucket-test-context.js';

installLeakGuard();

/** Every page of a listing, following continuation tokens. */
async function listAll(buckets: BucketService, bucket: string, options: ListObjectsOptions) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await buckets.listObjects(bucket, { ...options, continuationToken: token });
    keys.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.commonPrefixes);
    assert.ok(page.objects.length + page.commonPrefixes.length <= (options.maxKeys ?? 1000));
    token = page.nextContinuationToken;
    assert.equal(page.isTruncated, token !== undefined);
    pages++;
  } while (token);
  return { keys, prefixes, pages };
}

/** S3's order: bytewise over UTF-8. */
const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('prefixSuccessor bounds exactly the strings with the prefix', () => {
  assert.equal(prefixSuccessor('dir/'), 'dir0');
  assert.equal(prefixSuccessor('a\u{10FFFF}'), 'b');
  assert.equal(prefixSuccessor('\u{D7FF}'), '\u{E000}');
  assert.equal(prefixSuccessor('\u{10FFFF}'), undefined);
});

forEachStore((_name, open) => {
  const KEYS = [
    'a',
    'a/b',
    'a/b/c',
    'a/c',
    'a0',
    'B',
    'b/1',
    'b/2',
    'b/3/x',
    'b/3/y',
    'é',
    'z/ü',
    '\u{1F600}smile',
    '\u{FF5E}fullwidth',
    'c%2Fd',
    'c d',
  ];

  test('keys list in bytewise order; prefix and delimiter group as S3 does; pages follow tokens', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('keys');
      for (const k of [...KEYS].reverse()) await t.buckets.putObject('keys', k, body(k));
      const sorted = [...KEYS].sort(bytewise);
      // Astral-plane keys sort after U+FF5E in UTF-8 byte order (not in JS UTF-16 order).
      assert.ok(sorted.indexOf('\u{1F600}smile') > sorted.indexOf('\u{FF5E}fullwidth'));
      for (const maxKeys of [1, 2, 3, 1000]) {
        const all = await listAll(t.buckets, 'keys', { maxKeys });
        assert.deepEqual(all.keys, sorted, `maxKeys ${maxKeys}`);
      }
      const grouped = await listAll(t.buckets, 'keys', { delimiter: '/', maxKeys: 2 });
      assert.deepEqual(grouped.prefixes, ['a/', 'b/', 'z/']);
      assert.deepEqual(
        grouped.keys,
        sorted.filter((k) => !k.includes('/')),
      );
      const underB = await listAll(t.buckets, 'keys', { prefix: 'b/', delimiter: '/' });
      assert.deepEqual(underB.keys, ['b/1', 'b/2']);
      assert.deepEqual(underB.prefixes, ['b/3/']);
      const paged = await listAll(t.buckets, 'keys', { prefix: 'b/', delimiter: '/', maxKeys: 1 });
      assert.deepEqual([...paged.keys, ...paged.prefixes], ['b/1', 'b/2', 'b/3/']);
      assert.equal(paged.pages, 3);
      assert.deepEqual((await listAll(t.buckets, 'keys', { prefix: 'a/' })).keys, ['a/b', 'a/b/c', 'a/c']);
      assert.deepEqual((await listAll(t.buckets, 'keys', { prefix: 'nothing' })).keys, []);
      // A multi-character delimiter.
      const dd = await listAll(t.buckets, 'keys', { prefix: 'a', delimiter: '/b' });
      assert.deepEqual(dd.prefixes, ['a/b']);
      assert.deepEqual(dd.keys, ['a', 'a/c', 'a0']);
      // startAfter, also below the prefix.
      assert.deepEqual((await listAll(t.buckets, 'keys', { startAfter: 'b/2', prefix: 'b/' })).keys, [
        'b/3/x',
        'b/3/y',
      ]);
      assert.deepEqual((await listAll(t.buckets, 'keys', { startAfter: 'a', prefix: 'b/' })).keys, [
        'b/1',
        'b/2',
        'b/3/x',
        'b/3/y',
      ]);
      const empty = await t.buckets.listObjects('keys', { maxKeys: 0 });
      assert.equal(empty.objects.length, 0);
      await assert.rejects(t.buckets.listObjects('keys', { continuationToken: 'garbage!' }), {
        code: 'InvalidParameterValueException',
      });
      await assert.rejects(t.buckets.listObjects('keys', { maxKeys: 5000 }), {
        code: 'InvalidParameterValueException',
      });
      await assert.rejects(t.buckets.listObjects('missing'), { code: 'ResourceNotFoundException' });
    } finally {
      await t.close();
    }
  });

  test('a delimiter listing over many keys under few prefixes returns just the prefixes', async () => {
    const t = bucketService(await open());
    try {
      await t.buckets.createBucket('many');
      for (let d = 0; d < 3; d++) {
        for (let i = 0; i < 40; i++)
          await t.buckets.putObject('many', `d${d}/${String(i).padStart(3, '0')}`, body('x'));
      }
      await t.buckets.putObject('many', 'top', body('x'));
      const page = await t.buckets.listObjects('many', { delimiter: '/', maxKeys: 10 });
      assert.deepEqual(page.commonPrefixes, ['d0/', 'd1/', 'd2/']);
      assert.deepEqual(
        page.objects.map((o) => o.key),
        ['top'],
      );
      assert.equal(page.isTruncated, false);
    } finally {
      await t.close();
    }
  });
});
