// The upload body of an S3 PUT as a verified stream: aws-chunked decoding, the signed sha256,
// and the x-amz-checksum-* (header or trailer) checked before the stream ends.

import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { SigV4Identity } from '../../auth/sigv4-verifier.js';
import { NimbusError } from '../../errors.js';
import { AwsChunkedDecoder, type ChunkSigning } from './aws-chunked.js';
import {
  CHECKSUM_BYTES,
  checksumHeader,
  createChecksum,
  isChecksumAlgorithm,
  type Checksum,
  type ChecksumAlgorithm,
} from './s3-checksums.js';

/** How many uploads took the aws-chunked path (visible to tests, which assert the SDK used it). */
export const uploadStats = { chunked: 0, plain: 0 };

/** A checksum the body must match, known upfront (header) or at the end (trailer). */
interface ExpectedChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly value: () => string | undefined;
}

/**
 * Passes bytes through while hashing them; in flush, before the stream ends, fails on a sha256 or
 * checksum mismatch so the consumer (the bucket service) never commits a wrong body.
 */
class BodyVerifier extends Transform {
  readonly #sha256Hex: string | undefined;
  readonly #sha: Hash | undefined;
  readonly #expected: ExpectedChecksum | undefined;
  readonly #checksum: Checksum | undefined;
  /** The checksum computed, base64, once ended. */
  computed: string | undefined;

  constructor(sha256Hex: string | undefined, expected: ExpectedChecksum | undefined) {
    super();
    this.#sha256Hex = sha256Hex;
    this.#sha = sha256Hex !== undefined ? createHash('sha256') : undefined;
    this.#expected = expected;
    this.#checksum = expected !== undefined ? createChecksum(expected.algorithm) : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.#sha?.update(chunk);
    this.#checksum?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#sha !== undefined && this.#sha.digest('hex') !== this.#sha256Hex) {
      callback(
        new NimbusError(
          'XAmzContentSHA256Mismatch',
          'The provided x-amz-content-sha256 does not match the body that arrived; nothing was stored.',
        ),
      );
      return;
    }
    if (this.#expected !== undefined && this.#checksum !== undefined) {
      const computed = this.#checksum.digestBase64();
      const want = this.#expected.value();
      if (want === undefined) {
        callback(
          new NimbusError('InvalidDigest', `No ${checksumHeader(this.#expected.algorithm)} value arrived.`),
        );
        return;
      }
      if (computed !== want) {
        callback(
          new NimbusError(
            'BadDigest',
            `The ${this.#expected.algorithm.toUpperCase()} you specified (${want}) did not match the calculated checksum (${computed}); nothing was stored.`,
          ),
        );
        return;
      }
      this.computed = computed;
    }
    callback();
  }
}

/** A request body ready to hand to the bucket service, and what it learned while streaming. */
export interface UploadBody {
  readonly body: Readable;
  /** The payload length the client declared (decoded length for aws-chunked). */
  readonly contentLength: number | undefined;
  /** Whether the body was aws-chunked. */
  readonly chunked: boolean;
  /** The first error of the decode/verify stages: it names the fault better than what the consumer saw. */
  error(): Error | undefined;
  /** After a successful upload: the verified checksum header to echo, if any. */
  checksumHeaders(): Record<string, string>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function checkDigestFormat(algorithm: ChecksumAlgorithm, value: string): void {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== CHECKSUM_BYTES[algorithm] || bytes.toString('base64') !== value) {
    throw new NimbusError(
      'InvalidDigest',
      `x-amz-checksum-${algorithm} '${value.slice(0, 80)}' is not the base64 of a ${CHECKSUM_BYTES[algorithm]}-byte ${algorithm.toUpperCase()}.`,
    );
  }
}

/** The one `x-amz-checksum-<alg>` header the request carries, if any. */
function headerChecksum(req: IncomingMessage): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  for (const [name, raw] of Object.entries(req.headers)) {
    if (
      !name.startsWith('x-amz-checksum-') ||
      name === 'x-amz-checksum-type' ||
      name === 'x-amz-checksum-algorithm' ||
      name === 'x-amz-checksum-mode'
    ) {
      continue;
    }
    const algorithm = name.slice('x-amz-checksum-'.length);
    if (!isChecksumAlgorithm(algorithm)) {
      throw new NimbusError(
        'InvalidRequestContentException',
        `Checksum header '${name}' names an unsupported algorithm; use CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.`,
      );
    }
    const value = String(raw).trim();
    checkDigestFormat(algorithm, value);
    return { algorithm, value };
  }
  return undefined;
}

/**
 * Build the verified body stream of an upload (PutObject, UploadPart) from the request and its
 * verified SigV4 identity. Throws for bad headers before anything is read.
 *
 * @param signingKey The request's derived signing key, needed only for signed aws-chunked bodies.
 */
export function openUploadBody(
  req: IncomingMessage,
  identity: SigV4Identity,
  signingKey: Buffer | undefined,
): UploadBody {
  const payloadHash = identity.payloadHash;
  const encoding = (header(req, 'content-encoding') ?? '').split(',').map((s) => s.trim().toLowerCase());
  const chunked = payloadHash.startsWith('STREAMING-') || encoding.includes('aws-chunked');
  let fromHeader = headerChecksum(req);
  let decoder: AwsChunkedDecoder | undefined;
  let contentLength: number | undefined;
  const lengthHeader = header(req, 'content-length');

  if (chunked) {
    const known = [
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    ];
    if (!known.includes(payloadHash)) {
      throw new NimbusError(
        'NotImplemented',
        `x-amz-content-sha256 '${payloadHash}' is not supported for aws-chunked bodies; use one of ${known.join(', ')}.`,
      );
    }
    const decodedText = header(req, 'x-amz-decoded-content-length');
    const decodedLength = decodedText === undefined ? undefined : Number(decodedText);
    if (decodedLength !== undefined && (!Number.isSafeInteger(decodedLength) || decodedLength < 0)) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `x-amz-decoded-content-length '${decodedText}' is not a byte count.`,
      );
    }
    const signed = payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    let signing: ChunkSigning | undefined;
    if (signed) {
      if (signingKey === undefined)
        throw new NimbusError('ServiceException', 'No signing key for a signed chunked body.');
      signing = {
        signingKey,
        amzDate: identity.amzDate,
        scope: `${identity.date}/${identity.region}/${identity.service}/aws4_request`,
        seedSignature: identity.signature,
      };
    }
    const trailerNames = (header(req, 'x-amz-trailer') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    const trailerChecksums = trailerNames.filter((n) => n.startsWith('x-amz-checksum-'));
    if (trailerChecksums.length > 1) {
      throw new NimbusError(
        'InvalidRequestContentException',
        'x-amz-trailer may announce only one checksum.',
      );
    }
    decoder = new AwsChunkedDecoder({
      signing,
      signedTrailer: payloadHash.endsWith('-TRAILER') && signed,
      decodedLength,
      expectedTrailers: trailerNames,
    });
    const trailer = trailerChecksums[0];
    if (trailer !== undefined) {
      const algorithm = trailer.slice('x-amz-checksum-'.length);
      if (!isChecksumAlgorithm(algorithm)) {
        throw new NimbusError(
          'InvalidRequestContentException',
          `x-amz-trailer '${trailer}' names an unsupported checksum; use CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.`,
        );
      }
      if (fromHeader !== undefined) {
        throw new NimbusError(
          'InvalidRequestContentException',
          'Send a checksum either as a header or as a trailer, not both.',
        );
      }
      const d = decoder;
      fromHeader = undefined;
      const expected: ExpectedChecksum = { algorithm, value: () => d.trailers.get(trailer) };
      return build(req, decoder, undefined, expected, decodedLength, true);
    }
    contentLength = decodedLength;
  } else if (lengthHeader !== undefined) {
    contentLength = Number(lengthHeader);
  }
  const expected: ExpectedChecksum | undefined =
    fromHeader === undefined ? undefined : { algorithm: fromHeader.algorithm, value: () => fromHeader.value };
  const sha = /^[0-9a-f]{64}$/.test(payloadHash) ? payloadHash : undefined;
  return build(req, decoder, sha, expected, contentLength, chunked);
}

function build(
  req: IncomingMessage,
  decoder: AwsChunkedDecoder | undefined,
  sha256Hex: string | undefined,
  expected: ExpectedChecksum | undefined,
  contentLength: number | undefined,
  chunked: boolean,
): UploadBody {
  if (chunked) uploadStats.chunked++;
  else uploadStats.plain++;
  const verifier = new BodyVerifier(sha256Hex, expected);
  let firstError: Error | undefined;
  const fail = (err: Error): void => {
    firstError ??= err;
    // Unpipe rather than destroy the request: destroying it would kill the socket, and the
    // client would see a reset instead of the S3 error. The facade drains what is left.
    req.unpipe();
    if (!verifier.destroyed) verifier.destroy(err);
  };
  req.once('aborted', () =>
    fail(new NimbusError('IncompleteBody', 'The client closed the connection mid-body; nothing was stored.')),
  );
  req.once('close', () => {
    if (!req.readableEnded)
      fail(new NimbusError('IncompleteBody', 'The request body closed before its end; nothing was stored.'));
  });
  req.on('error', fail);
  verifier.on('error', (err) => (firstError ??= err));
  if (decoder !== undefined) {
    decoder.on('error', fail);
    req.pipe(decoder).pipe(verifier);
  } else {
    req.pipe(verifier);
  }
  return {
    body: verifier,
    contentLength,
    chunked,
    error: () => firstError,
    checksumHeaders: () =>
      expected !== undefined && verifier.computed !== undefined
        ? { [checksumHeader(expected.algorithm)]: verifier.computed }
        : {},
  };
}
