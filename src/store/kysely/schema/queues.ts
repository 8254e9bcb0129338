// Kysely table types of queues and their messages (see migrations 00N of both backends).

/** The tables of queues and their messages, merged into {@link Database}. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in with the migration
export interface QueueTables {}
