// Output formatting: colour rules, tables, sizes, times, log lines, --since, --weight, the spinner.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  colorEnabled,
  createOutput,
  formatBytes,
  formatDuration,
  formatTable,
  formatTime,
  stripAnsi,
} from '../../src/cli/output.js';
import { formatLogLine, parseSince } from '../../src/cli/commands/logs.js';
import { parseWeight } from '../../src/cli/commands/alias.js';
import { Spinner } from '../../src/cli/spinner.js';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { run } from './cli-test-io.js';

installLeakGuard();

/* eslint-disable no-control-regex -- these tests assert on ANSI escape codes */

function buffer(isTTY: boolean): { write(s: string): void; isTTY: boolean; text: string } {
  return {
    isTTY,
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

describe('colour', () => {
  it('is on for a TTY only, and off with NO_COLOR or --json', () => {
    const tty = { write() {}, isTTY: true };
    const pipe = { write() {}, isTTY: false };
    assert.equal(colorEnabled(tty, { env: {} }), true);
    assert.equal(colorEnabled(pipe, { env: {} }), false);
    assert.equal(colorEnabled(tty, { env: { NO_COLOR: '1' } }), false);
    assert.equal(colorEnabled(tty, { env: { NO_COLOR: '' } }), true, 'an empty NO_COLOR does not count');
    assert.equal(colorEnabled(tty, { env: {}, json: true }), false);
    assert.equal(colorEnabled(pipe, { env: { FORCE_COLOR: '1' } }), true);
    assert.equal(colorEnabled(tty, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }), false);
  });

  it('styles only when enabled', () => {
    assert.equal(createOutput(buffer(false), { env: {} }).style('red', 'x'), 'x');
    const styled = createOutput(buffer(true), { env: {} }).style(['red', 'bold'], 'x');
    assert.notEqual(styled, 'x');
    assert.equal(stripAnsi(styled), 'x');
  });

  it('the CLI writes no escape codes when not on a terminal', async () => {
    const r = await run(['nope']);
    assert.doesNotMatch(r.stderr, /\u001b/);
    const tty = await run(['nope'], { tty: true });
    assert.match(tty.stderr, /\u001b\[/);
    const noColor = await run(['nope'], { tty: true, env: { NO_COLOR: '1' } });
    assert.doesNotMatch(noColor.stderr, /\u001b/);
  });
});

describe('formatTable', () => {
  const plain = createOutput(buffer(false), { env: {} });
  const rows = [
    { name: 'demo-hello', size: 512 },
    { name: 'b', size: 123456 },
  ];
  const columns = [
    { header: 'function', value: (r: (typeof rows)[number]) => r.name },
    { header: 'size', value: (r: (typeof rows)[number]) => formatBytes(r.size), align: 'right' as const },
    { header: 'note', value: () => 'x' },
  ];

  it('pads columns, right-aligns numbers and leaves no trailing spaces', () => {
    assert.deepEqual(formatTable(plain, rows, columns), [
      'FUNCTION        SIZE  NOTE',
      'demo-hello     512 B  x',
      'b           120.6 KB  x',
    ]);
  });

  it('measures styled cells by their visible width', () => {
    const color = createOutput(buffer(true), { env: {} });
    const lines = formatTable(color, rows, [{ ...columns[0]!, style: 'bold' }, columns[1]!]);
    assert.deepEqual(lines.map(stripAnsi), formatTable(plain, rows, [columns[0]!, columns[1]!]));
  });

  it('prints the empty text when there are no rows', () => {
    assert.deepEqual(formatTable(plain, [], columns, 'nothing here'), ['nothing here']);
  });
});

describe('formatters', () => {
  it('formats sizes, times and durations', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1.0 KB');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MB');
    assert.equal(formatTime('2026-11-22T06:40:12.345Z'), '2026-11-22 06:40:12');
    assert.equal(formatTime(0), '1970-01-01 00:00:00');
    assert.equal(formatTime(undefined), '-');
    assert.equal(formatTime('garbage'), 'garbage');
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(1234), '1.2 s');
    assert.equal(formatDuration(185_000), '3m 05s');
  });

  it('formats a log line', () => {
    const plain = createOutput(buffer(false), { env: {} });
    const line = formatLogLine(plain, {
      id: 7,
      timestamp: Date.UTC(2026, 10, 22, 6, 40, 12, 5),
      requestId: 'abcdef0123456789',
      stream: 'stdout',
      message: 'hello world\n',
      version: '$LATEST',
    });
    assert.equal(line, '2026-11-22 06:40:12.005  $LATEST  abcdef01  hello world');
  });
});

describe('parseSince', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it('parses durations back from now', () => {
    assert.equal(parseSince('30s', now), now - 30_000);
    assert.equal(parseSince('10m', now), now - 600_000);
    assert.equal(parseSince('1h', now), now - 3_600_000);
    assert.equal(parseSince('2d', now), now - 2 * 86_400_000);
    assert.equal(parseSince('1.5h', now), now - 5_400_000);
    assert.equal(parseSince('250ms', now), now - 250);
  });
  it('parses ISO times and epoch ms', () => {
    assert.equal(parseSince('2026-01-01T11:00:00Z', now), now - 3_600_000);
    assert.equal(parseSince('2026-01-01', now), Date.UTC(2026, 0, 1));
    assert.equal(parseSince('1767268800000', now), 1767268800000);
  });
  it('rejects anything else', () => {
    for (const bad of ['', '10', 'yesterday', '5 minutes', '10x', '-1h', 'May 1']) {
      assert.equal(parseSince(bad, now), undefined, bad);
    }
  });
});

describe('parseWeight', () => {
  it('parses VERSION=WEIGHT with weight in 0..1', () => {
    assert.deepEqual(parseWeight('2=0.1'), { version: '2', weight: 0.1 });
    assert.deepEqual(parseWeight('3=1'), { version: '3', weight: 1 });
    assert.deepEqual(parseWeight('3=.25'), { version: '3', weight: 0.25 });
    for (const bad of ['2', '2=', '=0.1', '2=1.5', '2=-0.1', '2=abc'])
      assert.equal(parseWeight(bad), undefined, bad);
  });
});

describe('Spinner', () => {
  it('writes only final lines when not on a TTY', () => {
    const stream = buffer(false);
    const spinner = new Spinner(createOutput(stream, { env: {} }));
    spinner.start('bundling hello');
    spinner.update('uploading hello');
    assert.equal(spinner.active, false);
    spinner.succeed('hello  1.0 KB  uploaded');
    spinner.start('deploying');
    spinner.fail('deploying failed');
    spinner.stop();
    assert.equal(stream.text, '✓ hello  1.0 KB  uploaded\n✗ deploying failed\n');
  });

  it('redraws one line on a TTY and stops its timer when done', () => {
    const stream = buffer(true);
    const spinner = new Spinner(createOutput(stream, { env: { NO_COLOR: '1' } }));
    spinner.start('bundling hello');
    assert.equal(spinner.active, true);
    assert.match(stream.text, /^\r\u001b\[2K⠋ bundling hello$/);
    spinner.succeed('done');
    assert.equal(spinner.active, false);
    assert.match(stream.text, /\r\u001b\[2K✓ done\n$/);
    spinner.stop();
  });
});
