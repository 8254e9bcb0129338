// CLI argument parsing, help and usage errors, run in-process (no server needed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommand } from '../../src/cli/cli-args.js';
import { COMMANDS } from '../../src/cli/run-cli.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { run } from './cli-test-io.js';

installLeakGuard();

// Nothing listens here: any test that reached the network would fail with ConnectionError,
// which proves the usage errors below are caught before a request is made.
const NO_SERVER = { NIMBUS_ENDPOINT: 'http://127.0.0.1:9' };

describe('splitCommand', () => {
  it('finds the command after global flags and their values', () => {
    assert.deepEqual(splitCommand(['--endpoint', 'http://x', '--json', 'ls', '--app', 'a']), {
      command: 'ls',
      rest: ['--endpoint', 'http://x', '--json', '--app', 'a'],
    });
    assert.deepEqual(splitCommand(['--endpoint=http://x', 'ls']), {
      command: 'ls',
      rest: ['--endpoint=http://x'],
    });
    assert.deepEqual(splitCommand(['--data-dir', 'd', 'deploy', 'app']), {
      command: 'deploy',
      rest: ['--data-dir', 'd', 'app'],
    });
  });

  it('reports no command when there are only flags', () => {
    assert.deepEqual(splitCommand(['--json']), { command: undefined, rest: ['--json'] });
    assert.deepEqual(splitCommand([]), { command: undefined, rest: [] });
  });
});

describe('help', () => {
  it('prints the command list for --help and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: nimbus <command>/);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`\\n  ${c.name} `));
    assert.equal(r.stderr, '');
  });

  it('prints help for every command with --help, -h and `help <cmd>`', async () => {
    for (const c of COMMANDS) {
      for (const argv of [
        [c.name, '--help'],
        [c.name, '-h'],
        ['help', c.name],
      ]) {
        const r = await run(argv);
        assert.equal(r.code, 0, argv.join(' '));
        assert.match(r.stdout, new RegExp(`Usage: nimbus ${c.name}`));
        assert.match(r.stdout, /Global options:\n[\s\S]*--endpoint URL/);
      }
    }
  });

  it('--help wins over missing arguments and bad values', async () => {
    const r = await run(['invoke', '--data', 'not json', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--data JSON\|@FILE/);
  });

  it('prints the version', async () => {
    const r = await run(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe('usage errors exit 2 with a message and the synopsis', () => {
  const cases: Array<{ argv: string[]; error: RegExp; usage?: RegExp }> = [
    { argv: [], error: /no command given/, usage: /nimbus --help/ },
    { argv: ['deploi'], error: /unknown command: deploi \(did you mean `nimbus deploy`\?\)/ },
    { argv: ['frobnicate'], error: /unknown command: frobnicate\n/ },
    { argv: ['--bogus'], error: /unknown option: --bogus/ },
    { argv: ['ls', '--bogus'], error: /unknown option: --bogus/, usage: /Usage: nimbus ls/ },
    { argv: ['ls', '-z'], error: /unknown option: -z/ },
    { argv: ['ls', 'extra'], error: /unexpected argument: extra/ },
    { argv: ['ls', '--app'], error: /option --app needs a value/ },
    { argv: ['ls', '--json=yes'], error: /option --json takes no value/ },
    { argv: ['invoke'], error: /missing argument: <app-fn>/, usage: /Usage: nimbus invoke/ },
    { argv: ['invoke', 'a-b', '--data', '{oops'], error: /--data is not valid JSON/ },
    { argv: ['invoke', 'a-b', '--async', '--log'], error: /--log works only with synchronous/ },
    { argv: ['logs', 'a-b', '--since', 'yesterday'], error: /--since must be a duration/ },
    { argv: ['rm'], error: /missing argument: <app-fn>/, usage: /nimbus rm --app APP/ },
    { argv: ['rm', 'a-b', '--app', 'a'], error: /unexpected argument: a-b/ },
    { argv: ['versions'], error: /missing argument: <app-fn>/ },
    { argv: ['versions', 'publish'], error: /missing argument: <app-fn>/ },
    { argv: ['versions', 'a-b', '--description', 'x'], error: /--description goes with/ },
    { argv: ['alias'], error: /missing subcommand/ },
    { argv: ['alias', 'mv', 'a-b'], error: /unknown subcommand: alias mv/ },
    { argv: ['alias', 'set', 'a-b', 'live'], error: /missing argument: <version>/ },
    {
      argv: ['alias', 'set', 'a-b', 'live', '1', '--weight', '2=1.5'],
      error: /--weight must be VERSION=WEIGHT/,
    },
    { argv: ['alias', 'set', 'a-b', 'live', '1', '--weight', '1=0.5'], error: /already points at/ },
    { argv: ['alias', 'rm', 'a-b', 'live', '--weight', '2=0.1'], error: /go with `nimbus alias set`/ },
    { argv: ['init'], error: /missing argument: <dir>/ },
    { argv: ['init', 'x'], error: /missing --runtime/ },
    {
      argv: ['init', 'x', '--runtime', 'cobol'],
      error: /--runtime must be one of nodejs, typescript, python/,
    },
    { argv: ['init', 'x', '--runtime', 'nodejs', '--name', 'bad name'], error: /--name must be/ },
    { argv: ['start', '--port', 'eighty'], error: /--port must be an integer/ },
    { argv: ['start', '--port', '70000'], error: /--port must be an integer/ },
    { argv: ['dev', '--sandbox', 'maybe'], error: /--sandbox must be one of auto, required, off/ },
    { argv: ['start', '--webhook-allow', '127.0.0.1/99'], error: /--webhook-allow '127\.0\.0\.1\/99'/ },
    { argv: ['dev', '--webhook-allow', 'not a host!'], error: /--webhook-allow 'not a host!': give a CIDR/ },
    { argv: ['ls', '--endpoint', 'not a url'], error: /invalid endpoint URL/ },
    { argv: ['ls', '--endpoint', 'ftp://host'], error: /must be an http/ },
  ];
  for (const c of cases) {
    it(`nimbus ${c.argv.join(' ')}`, async () => {
      const r = await run(c.argv, { env: NO_SERVER });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: /);
      assert.match(r.stderr, c.error);
      assert.match(r.stderr, c.usage ?? /Usage: nimbus|nimbus --help/);
    });
  }
});

describe('errors that are not usage errors', () => {
  it('a missing --data file exits 1', async () => {
    const r = await run(['invoke', 'a-b', '--data', '@/nonexistent/event.json'], { env: NO_SERVER });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read \/nonexistent\/event.json: ENOENT/);
  });

  it('an unreachable server is a ConnectionError naming the fix, exit 1', async () => {
    const r = await run(['ls'], { env: NO_SERVER });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error ConnectionError: cannot reach Nimbus at http:\/\/127\.0\.0\.1:9 /);
    assert.match(r.stderr, /nimbus start/);
  });

  it('--endpoint beats NIMBUS_ENDPOINT', async () => {
    const r = await run(['ls', '--endpoint', 'http://127.0.0.1:7/'], { env: NO_SERVER });
    assert.match(r.stderr, /cannot reach Nimbus at http:\/\/127\.0\.0\.1:7 /);
  });
});
