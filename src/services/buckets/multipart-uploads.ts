// Multipart uploads: parts stored as files like objects, completed by streaming them into one
// file with S3's multipart ETag (`"<md5 of the parts' binary md5s>-<count>"`).

import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NimbusError } from '../../errors.js';
import type {
  NotificationBuilder,
  ObjectStore,
  StoredPart,
  StoredUpload,
} from '../../store/ports/objects.js';
import type { BucketQuota } from '../../store/ports/quotas.js';
import { checkKey } from './bucket-names.js';
import type { ObjectChange } from './bucket-changes.js';
import type {
  ChangeOrigin,
  MultipartUploadInfo,
  ObjectInfo,
  PutObjectOptions,
  UploadedPart,
} from './bucket-types.js';
import type { BucketLimits } from './bucket-service.js';
import { headerFields, toObjectInfo } from './object-info.js';
import type { KeyedLock } from './keyed-lock.js';
import type { ObjectFiles } from './object-files.js';

/** Most parts in one upload (as S3). */
export const MAX_PARTS = 10_000;

/** What the multipart uploads borrow from the bucket service. */
export interface MultipartDeps {
  readonly store: ObjectStore;
  readonly files: ObjectFiles;
  readonly locks: KeyedLock;
  readonly limits: BucketLimits;
  requireBucket(bucket: string): Promise<void>;
  /** The bucket's quota, for the store to check each write against in its transaction. */
  readonly quota: BucketQuota;
  /** Refuse early (before reading a body) a write that cannot fit the bucket's quota. */
  precheck(bucket: string, bytes: number | undefined): Promise<void>;
  notify(change: ObjectChange): NotificationBuilder;
  /** Notifications were committed: tell the change feed's subscribers. */
  committed(): void;
  discard(fileIds: readonly string[]): Promise<void>;
}

function toUploadInfo(u: StoredUpload): MultipartUploadInfo {
  return { uploadId: u.uploadId, bucket: u.bucket, key: u.key, initiatedAt: u.initiatedAt };
}

function toPartInfo(p: StoredPart): UploadedPart {
  return { partNumber: p.partNumber, etag: p.etag, size: p.size, lastModified: p.lastModified };
}

function unquote(etag: string): string {
  return etag.trim().replace(/^"|"$/g, '');
}

/** The multipart half of the bucket service. */
export class MultipartUploads {
  readonly #d: MultipartDeps;

  constructor(deps: MultipartDeps) {
    this.#d = deps;
  }

  async create(bucket: string, key: string, options?: PutObjectOptions): Promise<MultipartUploadInfo> {
    checkKey(key);
    const fields = headerFields(options);
    const upload: StoredUpload = {
      uploadId: randomBytes(24).toString('base64url'),
      bucket,
      key,
      options: { ...fields },
      initiatedAt: Date.now(),
    };
    await this.#d.store.createUpload(upload);
    return toUploadInfo(upload);
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    options?: { contentLength?: number | undefined; contentMd5?: string | undefined },
  ): Promise<UploadedPart> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new NimbusError(
        'InvalidParameterValueException',
        `Part number must be an integer from 1 to ${MAX_PARTS}, not ${partNumber}.`,
      );
    }
    await this.#upload(bucket, key, uploadId);
    await this.#d.precheck(bucket, options?.contentLength);
    const written = await this.#d.files.write(body, {
      contentLength: options?.contentLength,
      contentMd5: options?.contentMd5,
      maxSize: this.#d.limits.maxObjectSize,
    });
    const part: StoredPart = {
      uploadId,
      partNumber,
      fileId: written.fileId,
      size: written.size,
      etag: `"${written.md5.toString('hex')}"`,
      lastModified: Date.now(),
    };
    try {
      const { replacedFileId } = await this.#d.locks.run(`upload\u0000${uploadId}`, () =>
        this.#d.store.putPart(part, this.#d.quota),
      );
      if (replacedFileId !== undefined) await this.#d.discard([replacedFileId]);
    } catch (err) {
      await this.#d.discard([written.fileId]);
      throw err;
    }
    return toPartInfo(part);
  }

  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    parts: ReadonlyArray<{ partNumber: number; etag: string }>,
    origin?: ChangeOrigin,
  ): Promise<ObjectInfo> {
    const upload = await this.#upload(bucket, key, uploadId);
    if (parts.length === 0) {
      throw new NimbusError(
        'InvalidPart',
        'Completing a multipart upload needs at least one part; upload a part first.',
      );
    }
    for (let i = 1; i < parts.length; i++) {
      if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) {
        throw new NimbusError(
          'InvalidPartOrder',
          `Parts must be listed in ascending part-number order without repeats; part ${parts[i]!.partNumber} follows ${parts[i - 1]!.partNumber}.`,
        );
      }
    }
    // Under the upload's lock, so no part is replaced while its file is being concatenated.
    return this.#d.locks.run(`upload\u0000${uploadId}`, async () => {
      const stored = new Map((await this.#d.store.listParts(uploadId)).map((p) => [p.partNumber, p]));
      const chosen = parts.map((p) => {
        const part = stored.get(p.partNumber);
        if (!part || unquote(part.etag) !== unquote(p.etag)) {
          throw new NimbusError(
            'InvalidPart',
            `Part ${p.partNumber} ${part ? `has ETag ${part.etag}, not ${p.etag}` : 'was not uploaded'}; list the parts with ListParts and complete with their ETags.`,
          );
        }
        return part;
      });
      chosen.slice(0, -1).forEach((part) => {
        if (part.size < this.#d.limits.minPartSize) {
          throw new NimbusError(
            'EntityTooSmall',
            `Part ${part.partNumber} is ${part.size} bytes; every part but the last must be at least ${this.#d.limits.minPartSize} bytes.`,
          );
        }
      });
      const md5s = Buffer.concat(chosen.map((p) => Buffer.from(unquote(p.etag), 'hex')));
      const etag = `"${createHash('md5').update(md5s).digest('hex')}-${chosen.length}"`;
      const { fileId, size } = await this.#d.files.concat(chosen.map((p) => p.fileId));
      const object = {
        bucket,
        key,
        fileId,
        size,
        etag,
        ...(upload.options as ReturnType<typeof headerFields>),
        lastModified: Date.now(),
      };
      let result: { replacedFileId?: string | undefined; partFileIds: readonly string[] };
      try {
        result = await this.#d.locks.run(`${bucket}\u0000${key}`, () =>
          this.#d.store.completeUpload(
            uploadId,
            object,
            this.#d.notify({
              eventName: 'ObjectCreated:CompleteMultipartUpload',
              bucket,
              key,
              size,
              etag,
              time: object.lastModified,
              traceHeader: origin?.traceHeader,
            }),
            this.#d.quota,
          ),
        );
      } catch (err) {
        await this.#d.discard([fileId]);
        throw err;
      }
      this.#d.committed();
      // Unlisted parts are discarded too, as S3 does.
      await this.#d.discard([
        ...result.partFileIds,
        ...(result.replacedFileId === undefined ? [] : [result.replacedFileId]),
      ]);
      return toObjectInfo(object);
    });
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.#upload(bucket, key, uploadId);
    const fileIds = await this.#d.locks.run(`upload\u0000${uploadId}`, () =>
      this.#d.store.abortUpload(uploadId),
    );
    if (fileIds === undefined) throw noSuchUpload(uploadId);
    await this.#d.discard(fileIds);
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]> {
    await this.#upload(bucket, key, uploadId);
    return (await this.#d.store.listParts(uploadId)).map(toPartInfo);
  }

  async list(bucket: string, prefix?: string): Promise<MultipartUploadInfo[]> {
    return (await this.#d.store.listUploads(bucket, prefix)).map(toUploadInfo);
  }

  /** The upload, which must belong to `bucket`/`key`. */
  async #upload(bucket: string, key: string, uploadId: string): Promise<StoredUpload> {
    // Ids are base64url; anything else (e.g. with a NUL, which PostgreSQL text refuses) cannot exist.
    const upload = /^[A-Za-z0-9_-]{1,128}$/.test(uploadId)
      ? await this.#d.store.getUpload(uploadId)
      : undefined;
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      await this.#d.requireBucket(bucket);
      throw noSuchUpload(uploadId);
    }
    return upload;
  }
}

function noSuchUpload(uploadId: string): NimbusError {
  return new NimbusError(
    'NoSuchUpload',
    `Multipart upload '${uploadId}' does not exist for this bucket and key: it was completed or aborted, or never created. Start a new one.`,
  );
}
