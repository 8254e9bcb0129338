// A node's stable id, kept in its data directory: async claims carry it so that a restarted node
// can take back what its previous (crashed) process had claimed.

import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The id in `<dataDir>/node-id`, created on first use. Two live processes must not share a data
 * dir (they would share this id), which `nimbus start` never does.
 */
export function loadNodeId(dataDir: string): string {
  const file = join(dataDir, 'node-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[\w-]{8,64}$/.test(id)) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}
