// Kysely table types of schedules and their fired ticks (migration 009 of both backends).

import type { EpochMs } from '../database.js';

/**
 * One schedule. `next_fire_at` is the tick to fire next (null: disabled or no tick left); a
 * claim moves it forward with a compare-and-set. `pending_tick` is a tick claimed whose enqueue is
 * not yet confirmed (null once confirmed), so a crash between the two is repaired by any node.
 */
export interface SchedulesTable {
  /** `<app>:<name>`. */
  id: string;
  app: string;
  /** Lambda full name of the target function. */
  function_name: string;
  name: string;
  /** Normalised expression (`rate(5 minutes)`, `cron(0 12 * * ? *)`). */
  expression: string;
  time_zone: string;
  /** Static input as JSON text (the event delivered instead of the Scheduled Event), or null. */
  input: string | null;
  description: string | null;
  /** 1 or 0 (an INTEGER on both backends). */
  enabled: number;
  /** 1: fire once for ticks missed while down; 0: skip them. */
  catch_up: number;
  next_fire_at: EpochMs | null;
  /** The latest tick fired (claimed), null before the first. */
  last_tick: EpochMs | null;
  pending_tick: EpochMs | null;
  /** When `pending_tick` was claimed (lease start for crash repair). */
  claimed_at: EpochMs | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/** The tables of schedules and their fired ticks, merged into {@link Database}. */
export interface ScheduleTables {
  schedules: SchedulesTable;
}
