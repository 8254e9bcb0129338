// A one-line progress indicator for long steps (deploys); animates on a TTY, plain lines elsewhere.
import type { Output } from './output.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const INTERVAL_MS = 80;

/**
 * A progress line. On a TTY it redraws `⠋ text` in place until {@link Spinner.succeed} or
 * {@link Spinner.fail} replaces it with a final line; elsewhere (pipes, CI, tests) only the
 * final lines are written, so logs carry no control characters.
 */
export class Spinner {
  readonly #out: Output;
  readonly #animate: boolean;
  #text = '';
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  /** @param out where the line is drawn (normally stderr, keeping stdout for results). */
  constructor(out: Output) {
    this.#out = out;
    this.#animate = out.stream.isTTY === true;
  }

  /** Whether a progress line is showing. */
  get active(): boolean {
    return this.#timer !== undefined;
  }

  /** Shows (or replaces) the progress text. */
  start(text: string): void {
    this.#text = text;
    if (!this.#animate) return;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#draw(), INTERVAL_MS);
      // A spinner never keeps the process alive on its own.
      this.#timer.unref();
    }
    this.#draw();
  }

  /** Changes the text of the running line. */
  update(text: string): void {
    this.start(text);
  }

  /** Replaces the line with `✓ text`. */
  succeed(text: string = this.#text): void {
    this.#finish(`${this.#out.style('green', '✓')} ${text}`);
  }

  /** Replaces the line with `✗ text`. */
  fail(text: string = this.#text): void {
    this.#finish(`${this.#out.style('red', '✗')} ${text}`);
  }

  /** Replaces the line with `text` as is. */
  info(text: string): void {
    this.#finish(text);
  }

  /** Erases the line without a final message. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#out.stream.write('\r\u001b[2K');
    }
  }

  #finish(line: string): void {
    this.stop();
    this.#out.line(line);
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length]!;
    const width = this.#out.stream.columns ?? 80;
    // Keep to one row so the carriage return redraws the same line.
    const text = this.#text.length > width - 3 ? `${this.#text.slice(0, width - 4)}…` : this.#text;
    this.#out.stream.write(`\r\u001b[2K${this.#out.style('cyan', frame)} ${text}`);
  }
}
