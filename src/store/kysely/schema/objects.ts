// Kysely table types of buckets and object metadata (see migrations 00N of both backends).

/** The tables of buckets and object metadata, merged into {@link Database}. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in with the migration
export interface ObjectTables {}
