// Optional coordination a backend offers when its Capabilities say so: LISTEN/NOTIFY wake-ups
// and advisory locks. Shared code asks `notifierOf(store)` / `advisoryLocksOf(store)`, which
// answer undefined on a backend without the capability, and falls back to polling / one node.

import type { Store } from './store.js';

/** Channel the invocation queue notifies on after every enqueue (payload: the invocation id). */
export const INVOCATIONS_CHANNEL = 'nimbus_invocations';

/** A live subscription to a channel. */
export interface Subscription {
  /** Resolves if the subscription dies before close (connection dropped): listen again. */
  readonly lost: Promise<void>;
  /** Stop listening and free the connection. Idempotent. */
  close(): Promise<void>;
}

/** Cross-node wake-ups (`LISTEN/NOTIFY`). Channels are scoped to the store's schema. */
export interface Notifier {
  /** Calls `onMessage` with each payload notified on `channel` until the subscription closes. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<Subscription>;
  /** Notifies every listener of `channel` (on any node), after the current transaction commits. */
  notify(channel: string, payload?: string): Promise<void>;
}

/** A session lock this process holds until {@link HeldLock.release} or its connection dies. */
export interface HeldLock {
  readonly key: string;
  /** Resolves if the lock is lost before release (connection dropped): stop acting as leader. */
  readonly lost: Promise<void>;
  /** Release the lock. Idempotent. */
  release(): Promise<void>;
}

/** Advisory locks for leader election. Keys are scoped to the store's schema. */
export interface AdvisoryLocks {
  /** Takes the lock named `key` if nobody holds it; undefined if another session does. */
  tryAcquire(key: string): Promise<HeldLock | undefined>;
}

/** The optional members a {@link Store} may carry next to its ports. */
export interface StoreCoordination {
  readonly notifier?: Notifier | undefined;
  readonly locks?: AdvisoryLocks | undefined;
}

/** The store's notifier if its capabilities include `listenNotify`, else undefined. */
export function notifierOf(store: Store): Notifier | undefined {
  return store.capabilities.listenNotify ? (store as Store & StoreCoordination).notifier : undefined;
}

/** The store's advisory locks if its capabilities include `advisoryLocks`, else undefined. */
export function advisoryLocksOf(store: Store): AdvisoryLocks | undefined {
  return store.capabilities.advisoryLocks ? (store as Store & StoreCoordination).locks : undefined;
}
