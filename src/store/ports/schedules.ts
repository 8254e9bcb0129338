// The schedules and their fired ticks port: what the schedules service needs from storage. One implementation per backend family
// (kysely/schedule-store.ts), one contract suite (test/store/schedules-store.contract.test.ts).

/** Storage of schedules and their fired ticks. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as the service grows
export interface ScheduleStore {}
