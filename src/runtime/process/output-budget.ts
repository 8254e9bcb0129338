// Bounded collection of what one invocation printed: keeps the first bytes up to a cap, counts the rest.

import { StringDecoder } from 'node:string_decoder';

/**
 * Output kept per invocation (or init), in bytes: the same 1 MiB the runners already cap their
 * own console capture at (`MAX_LOGS` in handler-host.cjs, `MAX_LOG_BYTES` in python-runner.py,
 * `MAX_LOG_CHARS` in provided-runner.mjs; test/security/limits-output.test.ts checks they agree).
 * Here it covers everything the host receives for an invocation: fd 1/2 bytes that bypassed the
 * runner (`fs.writeSync(1)`, `os.write(1)`, child processes), `log` frames and the result's logs.
 */
export const MAX_LOG_BYTES = 1024 * 1024;

/** Output kept while an instance is idle (late output of the previous invocation). */
export const MAX_IDLE_LOG_BYTES = 256 * 1024;

/**
 * Collects output up to `limit` bytes and counts what it drops. Why not pause the pipe instead:
 * a function blocked on a full pipe would hang until its timeout; draining at pipe speed and
 * dropping keeps it running and keeps the server's memory bounded (measured before this: a
 * 512 MB fd-1 flood ended the server with `RangeError: Invalid string length`). Memory held is
 * at most `limit` bytes of text (as UTF-16, ≤ 2× that) plus ≤ 3 bytes of a split UTF-8
 * character per stream; nothing is split into lines here, so no partial line is ever held.
 */
export class OutputBudget {
  readonly #limit: number;
  #parts: string[] = [];
  #kept = 0;
  #dropped = 0;
  readonly #decoders = new Map<number, StringDecoder>();

  /** @param limit bytes kept; @default {@link MAX_LOG_BYTES} */
  constructor(limit = MAX_LOG_BYTES) {
    this.#limit = limit;
  }

  /** Bytes dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Raw bytes read from the process's fd 1 or fd 2. Never decodes what it drops. */
  appendBytes(fd: number, chunk: Buffer): void {
    const room = this.#limit - this.#kept;
    if (room <= 0) {
      this.#dropped += chunk.length;
      return;
    }
    const keep = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#dropped += chunk.length - keep.length;
    this.#kept += keep.length;
    let decoder = this.#decoders.get(fd);
    if (decoder === undefined) {
      decoder = new StringDecoder('utf8');
      this.#decoders.set(fd, decoder);
    }
    const text = decoder.write(keep);
    if (text !== '') this.#parts.push(text);
  }

  /** Text the runner captured (a `log` frame or a result's logs), counted in UTF-8 bytes. */
  appendText(text: string): void {
    if (text === '') return;
    const room = this.#limit - this.#kept;
    // A char is at most 3 UTF-8 bytes per UTF-16 unit: short texts skip the byte count.
    const bytes = text.length * 3 <= room ? -1 : Buffer.byteLength(text);
    if (bytes <= room) {
      this.#parts.push(text);
      this.#kept += bytes < 0 ? Buffer.byteLength(text) : bytes;
      return;
    }
    if (room <= 0) {
      this.#dropped += bytes;
      return;
    }
    const buf = Buffer.from(text.slice(0, room));
    let cut = Math.min(room, buf.length);
    // Cut at a character boundary (skip back over UTF-8 continuation bytes).
    while (cut > 0 && cut < buf.length && ((buf[cut] as number) & 0xc0) === 0x80) cut--;
    this.#parts.push(buf.toString('utf8', 0, cut));
    this.#kept += cut;
    this.#dropped += bytes - cut;
  }

  /** Move everything (text and dropped count) into `next`, e.g. idle output into an invocation's. */
  moveTo(next: OutputBudget): void {
    const { text, dropped } = this.take(false);
    next.appendText(text);
    next.addDropped(dropped);
  }

  /** Count bytes a runner dropped itself (its own console cap) as dropped here. */
  addDropped(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0) this.#dropped += Math.floor(bytes);
  }

  /**
   * The kept text, with a note when bytes were dropped (unless `note` is false), and the dropped
   * count; then empty. The note makes the cut visible in the logs; the REPORT line has the count.
   */
  take(note = true): { text: string; dropped: number } {
    for (const decoder of this.#decoders.values()) {
      const rest = decoder.end();
      if (rest !== '') this.#parts.push(rest);
    }
    this.#decoders.clear();
    let text = this.#parts.join('');
    const dropped = this.#dropped;
    if (dropped > 0 && note) {
      if (text !== '' && !text.endsWith('\n')) text += '\n';
      text += `[nimbus] output over ${this.#limit} bytes: ${dropped} bytes dropped\n`;
    }
    this.#parts = [];
    this.#kept = 0;
    this.#dropped = 0;
    return { text, dropped };
  }
}
