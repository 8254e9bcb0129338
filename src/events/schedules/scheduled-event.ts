// The event a schedule delivers: EventBridge's "Scheduled Event", or the schedule's static input.

import { createHash } from 'node:crypto';
import type { ScheduleRecord } from '../../store/ports/schedules.js';

/** The EventBridge "Scheduled Event" shape a function receives when the schedule has no input. */
export interface ScheduledEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Scheduled Event';
  readonly source: 'aws.events';
  readonly account: string;
  /** The tick, ISO 8601 UTC without milliseconds (`2026-12-01T12:00:00Z`). */
  readonly time: string;
  readonly region: string;
  /** The rule ARN: `arn:aws:events:<region>:<account>:rule/<app>-<name>`. */
  readonly resources: readonly string[];
  readonly detail: Record<string, never>;
}

/** The rule ARN of a schedule. */
export function ruleArn(s: Pick<ScheduleRecord, 'app' | 'name'>, region: string, account: string): string {
  return `arn:aws:events:${region}:${account}:rule/${s.app}-${s.name}`;
}

/**
 * The event id: a UUID derived from schedule and tick, so a tick re-enqueued after a crash carries
 * the same id (functions can dedupe on it), unlike EventBridge's random ids.
 */
function eventId(scheduleId: string, tick: number): string {
  const h = createHash('sha256').update(`${scheduleId}:${tick}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The Scheduled Event for `tick` (epoch ms). */
export function scheduledEvent(
  s: ScheduleRecord,
  tick: number,
  region: string,
  account: string,
): ScheduledEvent {
  return {
    version: '0',
    id: eventId(s.id, tick),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date(tick).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [ruleArn(s, region, account)],
    detail: {},
  };
}

/** The payload of a tick: the static input as written, else the Scheduled Event. */
export function schedulePayload(s: ScheduleRecord, tick: number, region: string, account: string): Buffer {
  if (s.input !== undefined) return Buffer.from(s.input);
  return Buffer.from(JSON.stringify(scheduledEvent(s, tick, region, account)));
}
