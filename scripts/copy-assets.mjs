#!/usr/bin/env node
// Copies non-TypeScript runtime assets (runner scripts) from src/ to dist/ after tsc.
import { cpSync, existsSync } from 'node:fs';

const dirs = ['src/runtime/runners'];
for (const dir of dirs) {
  if (existsSync(dir)) cpSync(dir, dir.replace(/^src/, 'dist'), { recursive: true });
}
