// Kysely table types of schedules and their fired ticks (see migrations 00N of both backends).

/** The tables of schedules and their fired ticks, merged into {@link Database}. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in with the migration
export interface ScheduleTables {}
