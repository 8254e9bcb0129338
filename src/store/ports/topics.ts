// The topics and their subscriptions port: what the topics service needs from storage. One implementation per backend family
// (kysely/topic-store.ts), one contract suite (test/store/topics-store.contract.test.ts).

/** Storage of topics and their subscriptions. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as the service grows
export interface TopicStore {}
