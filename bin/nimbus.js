#!/usr/bin/env node
// The `nimbus` command: runs the compiled CLI (npm install builds dist/ through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('nimbus: dist/ is missing; run `npm run build` (npm install does it for you).');
  process.exit(1);
}
await import(main.href);
