// Streaming decoder of S3 `aws-chunked` bodies: chunk framing, per-chunk SigV4 signatures chained
// from the seed signature, trailers (checksum, trailer signature) and the declared decoded length.

import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { NimbusError } from '../../errors.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const CRLF = Buffer.from('\r\n');
/** Longest chunk header or trailer line accepted; real ones are < 100 bytes. */
const MAX_LINE = 4096;

/** What verifying chunk signatures needs (from the request's verified SigV4 header). */
export interface ChunkSigning {
  /** The derived SigV4 signing key of the request's scope. */
  readonly signingKey: Buffer;
  /** `x-amz-date` of the request (`YYYYMMDDTHHMMSSZ`). */
  readonly amzDate: string;
  /** `<date>/<region>/<service>/aws4_request`. */
  readonly scope: string;
  /** The verified signature of the request headers: the first chunk's "previous signature". */
  readonly seedSignature: string;
}

/** Options of {@link AwsChunkedDecoder}. */
export interface AwsChunkedOptions {
  /** Set for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: every chunk must carry a valid signature. */
  readonly signing?: ChunkSigning | undefined;
  /** Whether the trailer carries `x-amz-trailer-signature` (the signed `-TRAILER` variant). @default false */
  readonly signedTrailer?: boolean | undefined;
  /** `x-amz-decoded-content-length`: the decoded body must have exactly this many bytes. */
  readonly decodedLength?: number | undefined;
  /** Lowercase trailer header names announced in `x-amz-trailer`; each must arrive. @default [] */
  readonly expectedTrailers?: readonly string[] | undefined;
}

type State = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

function malformed(message: string): NimbusError {
  return new NimbusError(
    'MalformedChunkedEncoding',
    `${message} The body is not valid aws-chunked encoding (see the S3 SigV4 streaming documentation); nothing was stored.`,
  );
}

function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Decodes an `aws-chunked` body into its payload bytes as they arrive (only the current chunk
 * header line is ever held), verifying chunk signatures when signed. Failures (bad framing, a
 * wrong signature, a length other than declared) error the stream instead of ending it, so a
 * consumer that commits only on end stores nothing. The payload of a chunk is passed on before its
 * signature is checked at the chunk's end: holding each chunk back would cost a copy per chunk and
 * buys nothing, since the error still arrives before the end.
 */
export class AwsChunkedDecoder extends Transform {
  readonly #opts: AwsChunkedOptions;
  #state: State = 'header';
  #line: Buffer[] = [];
  #lineLength = 0;
  #remaining = 0;
  #crlfSeen = 0;
  #chunkSignature: string | undefined;
  #chunkHash: Hash | undefined;
  #previousSignature: string | undefined;
  #decoded = 0;
  #chunks = 0;
  readonly #trailers = new Map<string, string>();
  #trailerLines: string[] = [];

  constructor(options: AwsChunkedOptions = {}) {
    super();
    this.#opts = options;
    this.#previousSignature = options.signing?.seedSignature;
  }

  /** Trailer headers received (lowercase names), complete once the stream has ended. */
  get trailers(): ReadonlyMap<string, string> {
    return this.#trailers;
  }

  /** Payload bytes decoded so far. */
  get decodedBytes(): number {
    return this.#decoded;
  }

  /** Chunks with data decoded so far (the final empty chunk not counted). */
  get chunkCount(): number {
    return this.#chunks;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#finish();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  #consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.#state) {
        case 'header':
        case 'trailer': {
          const nl = buf.indexOf(10, i);
          const end = nl < 0 ? buf.length : nl + 1;
          this.#lineLength += end - i;
          if (this.#lineLength > MAX_LINE)
            throw malformed(`A chunk header or trailer line is longer than ${MAX_LINE} bytes.`);
          this.#line.push(buf.subarray(i, end));
          i = end;
          if (nl >= 0) {
            const line = Buffer.concat(this.#line).toString('latin1');
            this.#line = [];
            this.#lineLength = 0;
            if (!line.endsWith('\r\n'))
              throw malformed('A chunk header or trailer line does not end with CRLF.');
            if (this.#state === 'header') this.#onHeader(line.slice(0, -2));
            else this.#onTrailerLine(line.slice(0, -2));
          }
          break;
        }
        case 'data': {
          const n = Math.min(this.#remaining, buf.length - i);
          const part = buf.subarray(i, i + n);
          this.#chunkHash?.update(part);
          this.push(part);
          this.#remaining -= n;
          this.#decoded += n;
          i += n;
          if (this.#remaining === 0) {
            this.#state = 'data-crlf';
            this.#crlfSeen = 0;
          }
          break;
        }
        case 'data-crlf': {
          if (buf[i] !== CRLF[this.#crlfSeen])
            throw malformed('A chunk is longer than its declared size (no CRLF after its data).');
          i++;
          if (++this.#crlfSeen === 2) {
            this.#verifyChunk();
            this.#state = 'header';
          }
          break;
        }
        case 'done':
          throw malformed('Data follows the end of the aws-chunked body.');
      }
    }
  }

  #onHeader(line: string): void {
    const semi = line.indexOf(';');
    const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText))
      throw malformed(`Chunk size '${sizeText.slice(0, 40)}' is not hexadecimal.`);
    const size = parseInt(sizeText, 16);
    this.#chunkSignature = undefined;
    if (semi >= 0) {
      for (const ext of line.slice(semi + 1).split(';')) {
        const eq = ext.indexOf('=');
        if (eq > 0 && ext.slice(0, eq).trim() === 'chunk-signature')
          this.#chunkSignature = ext.slice(eq + 1).trim();
      }
    }
    if (this.#opts.signing !== undefined && this.#chunkSignature === undefined) {
      throw new NimbusError(
        'InvalidSignatureException',
        'A chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body has no chunk-signature; sign every chunk or use STREAMING-UNSIGNED-PAYLOAD-TRAILER.',
      );
    }
    const declared = this.#opts.decodedLength;
    if (declared !== undefined && this.#decoded + size > declared) {
      throw new NimbusError(
        'IncompleteBody',
        `The aws-chunked body carries more than the ${declared} bytes declared in x-amz-decoded-content-length; nothing was stored.`,
      );
    }
    this.#chunkHash = this.#opts.signing !== undefined ? createHash('sha256') : undefined;
    if (size === 0) {
      // The final chunk: signed over empty data, then the trailer section (possibly empty).
      this.#verifyChunk();
      this.#state = 'trailer';
      return;
    }
    this.#chunks++;
    this.#remaining = size;
    this.#state = 'data';
  }

  #verifyChunk(): void {
    const signing = this.#opts.signing;
    if (signing === undefined) return;
    const dataHash = this.#chunkHash?.digest('hex') ?? EMPTY_SHA256;
    const expected = hmacHex(
      signing.signingKey,
      `AWS4-HMAC-SHA256-PAYLOAD\n${signing.amzDate}\n${signing.scope}\n${this.#previousSignature}\n${EMPTY_SHA256}\n${dataHash}`,
    );
    if (!sameHex(expected, (this.#chunkSignature ?? '').toLowerCase())) {
      throw new NimbusError(
        'InvalidSignatureException',
        `The signature of chunk ${this.#chunks} does not match its data: the body was changed in transit or signed with another key. Nothing was stored.`,
      );
    }
    this.#previousSignature = expected;
  }

  #onTrailerLine(line: string): void {
    if (line === '') {
      this.#state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`Trailer line '${line.slice(0, 60)}' is not 'name:value'.`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    this.#trailers.set(name, value);
    if (name !== 'x-amz-trailer-signature') this.#trailerLines.push(`${name}:${value}\n`);
  }

  #finish(): void {
    if (this.#state === 'header' && this.#lineLength === 0 && this.#decoded === 0 && this.#chunks === 0) {
      throw malformed('The body is empty; an aws-chunked body ends with a zero-size chunk.');
    }
    // `0\r\n` with no trailer and no final CRLF is what the JS SDK sends without a checksum.
    const atEnd = this.#state === 'done' || (this.#state === 'trailer' && this.#lineLength === 0);
    if (!atEnd) {
      throw new NimbusError(
        'IncompleteBody',
        `The aws-chunked body ended before its final zero-size chunk (${this.#decoded} bytes decoded); nothing was stored.`,
      );
    }
    for (const name of this.#opts.expectedTrailers ?? []) {
      if (!this.#trailers.has(name)) {
        throw malformed(`The trailer '${name}' announced in x-amz-trailer did not arrive.`);
      }
    }
    const signing = this.#opts.signing;
    if (signing !== undefined && this.#opts.signedTrailer === true) {
      const given = this.#trailers.get('x-amz-trailer-signature');
      const hash = createHash('sha256').update(this.#trailerLines.join('')).digest('hex');
      const expected = hmacHex(
        signing.signingKey,
        `AWS4-HMAC-SHA256-TRAILER\n${signing.amzDate}\n${signing.scope}\n${this.#previousSignature}\n${hash}`,
      );
      if (given === undefined || !sameHex(expected, given.toLowerCase())) {
        throw new NimbusError(
          'InvalidSignatureException',
          'The x-amz-trailer-signature does not match the trailer headers; nothing was stored.',
        );
      }
    }
    const declared = this.#opts.decodedLength;
    if (declared !== undefined && this.#decoded !== declared) {
      throw new NimbusError(
        'IncompleteBody',
        `The aws-chunked body decoded to ${this.#decoded} bytes but x-amz-decoded-content-length declared ${declared}; nothing was stored.`,
      );
    }
  }
}
