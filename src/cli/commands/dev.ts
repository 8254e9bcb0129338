// `nimbus dev`: start a server, deploy a directory, and redeploy it whenever a file changes.
import { existsSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { ApiClient } from '../api-client.js';
import { bearerToken, resolveToken } from '../cli-credentials.js';
import type { CommandSpec } from '../command.js';
import { CliError, expectPositionals } from '../command.js';
import { formatDuration } from '../output.js';
import { reportError } from '../report-error.js';
import { Spinner } from '../spinner.js';
import { TreeWatcher } from '../tree-watcher.js';
import { deployApp, printDeploy, stopBundling } from './deploy.js';
import { SERVER_OPTIONS, launchServer, serverOptionsFrom, waitForAbort } from './start.js';

/** Quiet period after the last change before redeploying; editors write a file in bursts. */
export const DEV_DEBOUNCE_MS = 150;

/** `nimbus dev`. */
export const devCommand: CommandSpec = {
  name: 'dev',
  summary: 'Start a local server, deploy a directory and redeploy it on every change',
  usage: [
    'dev [dir] [--port 8080] [--host 127.0.0.1] [--store URL] [--sandbox auto|required|off] [--webhook-allow CIDR|HOST]...',
  ],
  options: SERVER_OPTIONS,
  async run(ctx, args) {
    const [dir = '.'] = expectPositionals(devCommand, args, ['dir?']);
    const options = serverOptionsFrom(devCommand, ctx, args);
    const appDir = ctx.resolvePath(dir);
    if (!existsSync(appDir) || !statSync(appDir).isDirectory()) {
      throw new CliError(`directory not found: ${appDir}; create an app with \`nimbus init ${dir}\``);
    }
    const { stdout, stderr, signal } = ctx;
    const server = await launchServer(ctx, options);
    const token = server.rootCredentials
      ? bearerToken(server.rootCredentials)
      : resolveToken(options.dataDir, ctx.io.env);
    const client = new ApiClient({ endpoint: server.url, token, signal });
    const spinner = new Spinner(stderr);

    let deploys = 0;
    const deployOnce = async (): Promise<void> => {
      try {
        const outcome = await deployApp(appDir, client, spinner);
        deploys += 1;
        if (ctx.globals.json) {
          stdout.stream.write(`${JSON.stringify(outcome.response)}\n`);
        } else if (deploys === 1) {
          printDeploy(stdout, outcome, ctx.stderr);
        } else {
          const n = outcome.response.functions.length;
          stdout.line(
            `${stdout.style('green', '✓')} ${time()} redeployed ${outcome.response.app} ` +
              `(${n} function${n === 1 ? '' : 's'}, ${formatDuration(outcome.elapsedMs)})`,
          );
          for (const w of outcome.warnings) ctx.stderr.line(`${ctx.stderr.style('yellow', 'warning')} ${w}`);
        }
      } catch (err) {
        spinner.stop();
        // Errors are shown and dev keeps watching: the next save may fix them.
        if (!signal.aborted) reportError(stderr, err, ctx.io.env);
      }
    };

    // At most one deploy runs; changes during it schedule exactly one more.
    let running: Promise<void> | undefined;
    let again = false;
    const trigger = (): Promise<void> => {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          await deployOnce();
        } while (again && !signal.aborted);
      })().finally(() => {
        running = undefined;
      });
      return running;
    };

    let timer: NodeJS.Timeout | undefined;
    const dataDirRel = relative(appDir, options.dataDir);
    const watcher = new TreeWatcher(appDir, {
      ignore: (path) =>
        dataDirRel !== '' &&
        !dataDirRel.startsWith('..') &&
        (path === dataDirRel || path.startsWith(`${dataDirRel}/`)),
      onChange: () => {
        clearTimeout(timer);
        timer = setTimeout(() => void trigger(), DEV_DEBOUNCE_MS);
      },
      onError: (err) => stderr.line(`${stderr.style('yellow', 'warn')} watching ${appDir}: ${err.message}`),
    });

    try {
      watcher.start();
      await trigger();
      if (!ctx.globals.json && !signal.aborted) {
        stdout.line(stdout.style('dim', `watching ${appDir} for changes (Ctrl-C to stop)`));
      }
      await waitForAbort(signal);
    } finally {
      watcher.close();
      clearTimeout(timer);
      await running;
      spinner.stop();
      await stopBundling();
      await server.close();
    }
    return 0;
  },
};

function time(): string {
  return new Date().toTimeString().slice(0, 8);
}
