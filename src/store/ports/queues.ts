// The queues and their messages port: what the queues service needs from storage. One implementation per backend family
// (kysely/queue-store.ts), one contract suite (test/store/queues-store.contract.test.ts).

/** Storage of queues and their messages. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as the service grows
export interface QueueStore {}
