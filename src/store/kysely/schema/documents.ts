// Kysely table types of document tables and their change stream (see migrations 00N of both backends).

/** The tables of document tables and their change stream, merged into {@link Database}. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in with the migration
export interface DocumentTables {}
