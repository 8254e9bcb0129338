// Entry point of the `nimbus` command: runs runCli with the real process and sets the exit code.
import { runCli } from './run-cli.js';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (): void => {
  // First Ctrl-C asks the command to wind down (close the server, stop following logs);
  // a second one gives up waiting.
  interrupts += 1;
  if (interrupts > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
process.exitCode = code;
