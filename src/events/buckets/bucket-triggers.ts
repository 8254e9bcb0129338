// Bucket triggers: parsing `events: - bucket:` / `- s3:` entries of nimbus.yml, matching an
// object change against them, and building the S3 event notification record a function receives.

import { randomBytes } from 'node:crypto';
import type { AppEventSpec } from '../../deploy/app-deploy-hook.js';
import { eventsOfType } from '../../deploy/app-deploy-hook.js';
import { NimbusError } from '../../errors.js';
import type { BucketNotification, BucketTrigger } from '../../store/ports/objects.js';
import { isValidBucketName } from '../../services/buckets/bucket-names.js';
import type { BucketEventName, ObjectChange } from '../../services/buckets/bucket-changes.js';

// The bucket service's change feed defines what a change is; re-exported for the trigger code.
export type { BucketEventName, ObjectChange };

/** Patterns a trigger may subscribe to (S3's notification event types). */
const KNOWN_PATTERNS = new Set([
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
]);

const SHORTHANDS: Readonly<Record<string, string>> = {
  created: 's3:ObjectCreated:*',
  removed: 's3:ObjectRemoved:*',
  deleted: 's3:ObjectRemoved:*',
};

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A bucket name, also accepted as an S3 ARN (`arn:aws:s3:::images`). */
function bucketNameOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s.startsWith('arn:') ? s.slice(s.lastIndexOf(':') + 1) : s;
}

function eventPattern(raw: unknown, where: string): string {
  if (typeof raw !== 'string')
    throw invalid(where, `must be a string such as 'created' or 's3:ObjectCreated:*'`);
  const s = raw.trim();
  const pattern = SHORTHANDS[s] ?? (s.startsWith('s3:') ? s : `s3:${s}`);
  if (!KNOWN_PATTERNS.has(pattern)) {
    throw invalid(
      where,
      `'${s}' is not a bucket event; use created, removed, or one of ${[...KNOWN_PATTERNS].join(', ')}`,
    );
  }
  return pattern;
}

function invalid(where: string, problem: string): NimbusError {
  return new NimbusError('InvalidParameterValueException', `${where}: ${problem}.`);
}

/**
 * The bucket triggers of a deploy, validated. Accepted forms:
 * `bucket: images`; `bucket: { bucket: images, on: created|removed|<s3 event>|[...], prefix, suffix }`;
 * Serverless `s3: images` and `s3: { bucket: images, event: s3:ObjectCreated:*, rules: [{ prefix }, { suffix }] }`.
 * Throws InvalidParameterValueException naming `functions.<fn>.events[i].<type>` and the fix.
 */
export function parseBucketTriggers(spec: AppEventSpec): BucketTrigger[] {
  const out: BucketTrigger[] = [];
  for (const fn of spec.functions) {
    for (const { index, type, value } of eventsOfType(fn, ['bucket', 's3'])) {
      const where = `functions.${fn.name}.events[${index}].${type}`;
      const body = isMapping(value) ? value : { bucket: value };
      const bucket = bucketNameOf(body['bucket']);
      if (bucket === undefined || !isValidBucketName(bucket)) {
        throw invalid(
          where,
          bucket === undefined
            ? `needs a bucket name (e.g. \`${type}: images\` or \`${type}: { bucket: images }\`)`
            : `'${bucket}' is not a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)`,
        );
      }
      const rawEvents = body['on'] ?? body['event'] ?? body['events'] ?? 'created';
      const events = (Array.isArray(rawEvents) ? rawEvents : [rawEvents]).map((e, i) =>
        eventPattern(e, Array.isArray(rawEvents) ? `${where}.on[${i}]` : `${where}.on`),
      );
      if (events.length === 0) throw invalid(`${where}.on`, 'lists no events; use e.g. `on: created`');
      let prefix = body['prefix'];
      let suffix = body['suffix'];
      if (body['rules'] !== undefined) {
        if (!Array.isArray(body['rules']))
          throw invalid(`${where}.rules`, 'must be a list like `[{ prefix: uploads/ }]`');
        body['rules'].forEach((rule: unknown, i) => {
          if (isMapping(rule) && typeof rule['prefix'] === 'string') prefix = rule['prefix'];
          else if (isMapping(rule) && typeof rule['suffix'] === 'string') suffix = rule['suffix'];
          else throw invalid(`${where}.rules[${i}]`, 'must be `{ prefix: <text> }` or `{ suffix: <text> }`');
        });
      }
      for (const [name, v] of [
        ['prefix', prefix],
        ['suffix', suffix],
      ] as const) {
        if (v !== undefined && typeof v !== 'string') throw invalid(`${where}.${name}`, 'must be a string');
      }
      out.push({
        app: spec.app,
        functionName: fn.fullName,
        position: index,
        bucket,
        events: [...new Set(events)],
        prefix: (prefix as string | undefined) ?? '',
        suffix: (suffix as string | undefined) ?? '',
      });
    }
  }
  return out;
}

/** True when `trigger` wants `eventName` on `key`. */
export function triggerMatches(trigger: BucketTrigger, eventName: BucketEventName, key: string): boolean {
  if (!key.startsWith(trigger.prefix) || !key.endsWith(trigger.suffix)) return false;
  const full = `s3:${eventName}`;
  return trigger.events.some((p) => p === full || (p.endsWith(':*') && full.startsWith(p.slice(0, -1))));
}

/** Where records say they come from. */
export interface EventOrigin {
  readonly region: string;
  readonly accountId: string;
}

let sequence = 0;

/**
 * A `sequencer` as S3 sends it: hex that grows for later changes (time in ms, then a counter),
 * so consumers can order events of one key by comparing the strings.
 */
function sequencer(time: number): string {
  sequence = (sequence + 1) % 0x10000;
  return (time.toString(16).padStart(12, '0') + sequence.toString(16).padStart(4, '0')).toUpperCase();
}

/** S3 URL-encodes keys in records (form style: space as `+`, `/` kept). */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** The S3 event notification (`{ Records: [ ... ] }`) for one change and one trigger. */
export function s3EventRecord(change: ObjectChange, trigger: BucketTrigger, origin: EventOrigin): unknown {
  const principalId = change.principal ?? 'nimbus';
  const object: Record<string, unknown> = { key: encodeEventKey(change.key) };
  if (change.size !== undefined) object['size'] = change.size;
  if (change.etag !== undefined) object['eTag'] = change.etag.replace(/"/g, '');
  object['sequencer'] = sequencer(change.time);
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: origin.region,
        eventTime: new Date(change.time).toISOString(),
        eventName: change.eventName,
        userIdentity: { principalId },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
          'x-amz-id-2': randomBytes(24).toString('base64'),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: `${trigger.functionName}-${trigger.position}`,
          bucket: {
            name: change.bucket,
            ownerIdentity: { principalId: origin.accountId },
            arn: `arn:aws:s3:::${change.bucket}`,
          },
          object,
        },
      },
    ],
  };
}

/** The notifications of `change`: one per matching trigger. */
export function notificationsFor(
  change: ObjectChange,
  triggers: readonly BucketTrigger[],
  origin: EventOrigin,
): BucketNotification[] {
  return triggers
    .filter((t) => triggerMatches(t, change.eventName, change.key))
    .map((t) => ({
      functionName: t.functionName,
      payload: Buffer.from(JSON.stringify(s3EventRecord(change, t, origin))),
      traceHeader: change.traceHeader,
    }));
}
