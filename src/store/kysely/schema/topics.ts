// Kysely table types of topics and their subscriptions (see migrations 00N of both backends).

/** The tables of topics and their subscriptions, merged into {@link Database}. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in with the migration
export interface TopicTables {}
