// The S3 flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) as incremental hashers, for
// the `x-amz-checksum-*` headers and aws-chunked trailers.

import { createHash, type Hash } from 'node:crypto';
import * as zlib from 'node:zlib';

/** An incremental checksum whose result is sent base64-encoded, as S3 does. */
export interface Checksum {
  update(data: Buffer): void;
  /** Base64 of the big-endian digest. */
  digestBase64(): string;
}

/** The checksum algorithms S3 names in `x-amz-checksum-<name>` (lowercase). */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;

/** One of {@link CHECKSUM_ALGORITHMS}. */
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Whether `name` (lowercase) is a supported checksum algorithm. */
export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

function u32(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
}

// zlib.crc32 arrived in Node 20.15 / 22.2; the table version covers older 20.x releases.
const zlibCrc32 = (zlib as { crc32?: (data: Buffer, value?: number) => number }).crc32;

function reflectedTable32(poly: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = reflectedTable32(0xedb88320);
const CRC32C_TABLE = reflectedTable32(0x82f63b78);

/** A reflected 32-bit CRC (init and final xor all ones) over `table`. */
class TableCrc32 implements Checksum {
  #crc = 0xffffffff;
  constructor(readonly table: Uint32Array) {}
  update(data: Buffer): void {
    const t = this.table;
    let c = this.#crc;
    for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.#crc = c;
  }
  digestBase64(): string {
    return u32(this.#crc ^ 0xffffffff);
  }
}

class ZlibCrc32 implements Checksum {
  #crc = 0;
  constructor(readonly fn: (data: Buffer, value?: number) => number) {}
  update(data: Buffer): void {
    this.#crc = this.fn(data, this.#crc);
  }
  digestBase64(): string {
    return u32(this.#crc);
  }
}

// CRC-64/NVME (reflected poly 0x9a6c9329ac4bc9b5), kept as two 32-bit halves: BigInt per byte is
// an order of magnitude slower.
const CRC64_POLY_HI = 0x9a6c9329;
const CRC64_POLY_LO = 0xac4bc9b5;
const CRC64_HI = new Uint32Array(256);
const CRC64_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let k = 0; k < 8; k++) {
    const bit = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (bit) {
      hi = (hi ^ CRC64_POLY_HI) >>> 0;
      lo = (lo ^ CRC64_POLY_LO) >>> 0;
    }
  }
  CRC64_HI[i] = hi;
  CRC64_LO[i] = lo;
}

class Crc64Nvme implements Checksum {
  #hi = 0xffffffff;
  #lo = 0xffffffff;
  update(data: Buffer): void {
    let hi = this.#hi;
    let lo = this.#lo;
    for (let i = 0; i < data.length; i++) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!) >>> 0;
      hi = ((hi >>> 8) ^ CRC64_HI[idx]!) >>> 0;
    }
    this.#hi = hi;
    this.#lo = lo;
  }
  digestBase64(): string {
    const b = Buffer.alloc(8);
    b.writeUInt32BE((this.#hi ^ 0xffffffff) >>> 0, 0);
    b.writeUInt32BE((this.#lo ^ 0xffffffff) >>> 0, 4);
    return b.toString('base64');
  }
}

class CryptoChecksum implements Checksum {
  readonly #hash: Hash;
  constructor(algorithm: 'sha1' | 'sha256' | 'md5') {
    this.#hash = createHash(algorithm);
  }
  update(data: Buffer): void {
    this.#hash.update(data);
  }
  digestBase64(): string {
    return this.#hash.digest('base64');
  }
}

/** A new hasher for `algorithm`. */
export function createChecksum(algorithm: ChecksumAlgorithm | 'md5'): Checksum {
  switch (algorithm) {
    case 'crc32':
      return zlibCrc32 !== undefined ? new ZlibCrc32(zlibCrc32) : new TableCrc32(CRC32_TABLE);
    case 'crc32c':
      return new TableCrc32(CRC32C_TABLE);
    case 'crc64nvme':
      return new Crc64Nvme();
    case 'sha1':
    case 'sha256':
    case 'md5':
      return new CryptoChecksum(algorithm);
  }
}

/** The checksum of a whole buffer, base64. */
export function checksumOf(algorithm: ChecksumAlgorithm | 'md5', data: Buffer): string {
  const c = createChecksum(algorithm);
  c.update(data);
  return c.digestBase64();
}

/** Byte length of each algorithm's digest, to reject malformed header values early. */
export const CHECKSUM_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  crc32: 4,
  crc32c: 4,
  crc64nvme: 8,
  sha1: 20,
  sha256: 32,
};

/** The response header name S3 uses for `algorithm`'s checksum. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm}`;
}

/** For tests: the table CRC32, to compare against zlib's. */
export function tableCrc32(): Checksum {
  return new TableCrc32(CRC32_TABLE);
}
