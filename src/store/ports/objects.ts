// The buckets and object metadata port: what the objects service needs from storage. One implementation per backend family
// (kysely/object-store.ts), one contract suite (test/store/objects-store.contract.test.ts).

/** Storage of buckets and object metadata. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as the service grows
export interface ObjectStore {}
