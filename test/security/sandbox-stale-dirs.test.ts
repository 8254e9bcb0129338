// Sandbox run directories: what a SIGKILLed server left is removed at the next start; what a live one owns is not.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { installLeakGuard } from '../helpers/leak-guard.js';
import { ProcessBackend } from '../../src/runtime/process/process-backend.js';
import { cleanupFixtures, tempDir } from '../runtime/runtime-fixtures.js';

installLeakGuard();
after(cleanupFixtures);

const BACKEND = new URL('../../src/runtime/process/process-backend.ts', import.meta.url).pathname;

/** Start a backend with pre-started runners in a child process, wait until its slots exist, SIGKILL it. */
async function killedServer(runDir: string): Promise<string> {
  const script = `
    const { ProcessBackend } = await import(${JSON.stringify(BACKEND)});
    await ProcessBackend.create({ workDir: ${JSON.stringify(runDir)}, sandbox: 'required', prewarm: { nodejs: 1, python: 0, provided: 0 } });
    process.stdout.write('up\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  const own = readdirSync(runDir).find((n) => n.startsWith(`${child.pid}.`));
  assert.ok(own, 'the child made its directory');
  // Wait for a slot of a pre-started runner, then kill the server without any cleanup.
  for (let i = 0; i < 200 && readdirSync(join(runDir, own, 'slots')).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return own;
}

it('a killed server leaves its slots behind; the next start removes them, and nothing of a live process', async () => {
  const runDir = join(tempDir('nimbus-stale-'), 'run');
  const stale = await killedServer(runDir);
  assert.ok(readdirSync(join(runDir, stale, 'slots')).length > 0, 'slots were left behind');

  // A live process's directory (our parent's, with its real start time), the same pid with
  // another start time (pid reuse after the owner died), and a directory of another layout.
  const ppidStart = readFileSync(`/proc/${process.ppid}/stat`, 'latin1').split(') ')[1]?.split(' ')[19];
  const live = `${process.ppid}.${ppidStart}.1`;
  const reused = `${process.ppid}.1.1`;
  for (const name of [live, reused, 'sock']) mkdirSync(join(runDir, name, 'slots'), { recursive: true });

  const logs: string[] = [];
  const backend = await ProcessBackend.create({
    workDir: runDir,
    sandbox: 'off',
    prewarm: { nodejs: 0, python: 0, provided: 0 },
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
  });
  try {
    assert.equal(existsSync(join(runDir, stale)), false, "the killed server's directory is gone");
    assert.equal(existsSync(join(runDir, reused)), false, 'a reused pid with another start time is stale');
    assert.equal(existsSync(join(runDir, live)), true, 'a live process keeps its directory');
    assert.equal(existsSync(join(runDir, 'sock')), true, 'other entries are not touched');
    assert.ok(
      logs.some((l) => /removed 2 sandbox/.test(l)),
      logs.join('\n'),
    );
  } finally {
    await backend.close();
  }
  assert.deepEqual(readdirSync(runDir).sort(), [live, 'sock'].sort(), 'close removes only its own directory');
  if (process.getuid?.() === 0) {
    const st = statSync(runDir);
    assert.equal(st.mode & 0o777, 0o710, 'the run dir is reachable by the sandbox group only');
    assert.equal(st.gid, 65534);
  }
});
