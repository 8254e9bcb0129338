// Child-process entry for bench/buckets.ts: the baseline, a bare node:http server that stores a
// PUT body as a file (write, fsync, rename, like a durable object store) and streams it back on
// GET, answering just enough S3 (an ETag) for the same SDK client. Prints its URL; exits when
// stdin closes.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open, rename, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-bare-objects-'));
let seq = 0;
const fileOf = (url: string): string =>
  join(dir, createHash('sha1').update(url.split('?')[0]!).digest('hex'));

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const file = fileOf(req.url ?? '/');
  if (req.method === 'PUT') {
    const tmp = `${file}.${seq++}.tmp`;
    const md5 = createHash('md5');
    const out = createWriteStream(tmp);
    req.on('data', (c: Buffer) => md5.update(c));
    req.pipe(out);
    out.on('finish', () => {
      void (async () => {
        const fh = await open(tmp, 'r');
        await fh.sync();
        await fh.close();
        await rename(tmp, file);
        res.writeHead(200, { etag: `"${md5.digest('hex')}"`, 'content-length': 0 });
        res.end();
      })();
    });
    return;
  }
  if (req.method === 'GET') {
    void stat(file).then(
      (s) => {
        res.writeHead(200, { 'content-length': s.size, 'content-type': 'application/octet-stream' });
        createReadStream(file).pipe(res);
      },
      () => {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
      },
    );
    return;
  }
  req.resume();
  res.writeHead(200, { 'content-length': 0 });
  res.end();
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid }) + '\n');
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
