// `nimbus tables` against a real server: create, ls, put, get, query (begins-with, limit,
// cursor), scan, delete, rm, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { cliServer } from './cli-server.js';

const server = cliServer('tables');
const { cli } = server;
installLeakGuard();

test('nimbus tables: create, ls, put, get, query, scan, delete, rm', async () => {
  let r = await cli('tables', 'create', 'events', '--pk', 'user', '--sk', 'ts:number', '--stream');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created table events/);
  r = await cli('tables', 'ls');
  assert.match(r.stdout, /events\s+user:string\s+ts:number\s+NEW_AND_OLD_IMAGES/);
  for (const ts of [1, 2, 3]) {
    r = await cli('tables', 'put', 'events', JSON.stringify({ user: 'u1', ts, kind: ts === 2 ? 'b' : 'a' }));
    assert.equal(r.code, 0, r.stderr);
  }
  r = await cli('tables', 'put', 'events', '{"user":"u1","ts":1}', '--if', 'attribute_not_exists(user)');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ConditionalCheckFailedException|condition/);
  r = await cli('tables', 'get', 'events', '{"user":"u1","ts":2}');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { user: 'u1', ts: 2, kind: 'b' });
  r = await cli('tables', 'query', 'events', '--pk', 'u1', '--limit', '2');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(
    lines.slice(0, 2).map((l) => (JSON.parse(l) as { ts: number }).ts),
    [1, 2],
  );
  const cursor = /--cursor (\S+)/.exec(r.stdout)?.[1];
  assert.ok(cursor, r.stdout);
  r = await cli('tables', 'query', 'events', '--pk', 'u1', '--cursor', cursor);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { user: 'u1', ts: 3, kind: 'a' });
  r = await cli('tables', 'scan', 'events', '--json');
  assert.equal((JSON.parse(r.stdout) as { count: number }).count, 3);
  r = await cli('tables', 'delete', 'events', '{"user":"u1","ts":3}');
  assert.match(r.stdout, /deleted item/);
  r = await cli('tables', 'rm', 'events');
  assert.equal(r.code, 0, r.stderr);
  r = await cli('tables', 'ls');
  assert.match(r.stdout, /no tables/);
});

test('nimbus tables: string sort keys with --sk-begins, and usage errors', async () => {
  let r = await cli('tables', 'create', 'docs', '--pk', 'id:number', '--sk', 'path');
  assert.equal(r.code, 0, r.stderr);
  for (const path of ['a/1', 'a/2', 'b/1'])
    await cli('tables', 'put', 'docs', JSON.stringify({ id: 7, path }));
  r = await cli('tables', 'query', 'docs', '--pk', '7', '--sk-begins', 'a/');
  assert.deepEqual(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { path: string }).path),
    ['a/1', 'a/2'],
  );
  r = await cli('tables', 'query', 'docs', '--pk', 'seven');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /number key/);
  r = await cli('tables', 'create', 'other');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /needs --pk/);
  r = await cli('tables', 'put', 'docs', 'not json');
  assert.match(r.stderr, /not valid JSON/);
  r = await cli('tables', 'frobnicate');
  assert.match(r.stderr, /unknown subcommand/);
});
