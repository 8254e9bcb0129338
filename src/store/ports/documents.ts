// The document tables and their change stream port: what the documents service needs from storage. One implementation per backend family
// (kysely/document-store.ts), one contract suite (test/store/documents-store.contract.test.ts).

/** Storage of document tables and their change stream. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as the service grows
export interface DocumentStore {}
