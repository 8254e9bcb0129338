// The background worker that POSTs webhook deliveries: claims due rows with a lease, signs each
// request, retries failures with exponential backoff and marks the delivery failed at the end.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Lifecycle } from '../../lifecycle.js';
import type { Notifier, Subscription } from '../../store/coordination.js';
import { TOPIC_DELIVERIES_CHANNEL } from '../../store/kysely/topic-store.js';
import type { DeliveryRecord, TopicStore } from '../../store/ports/topics.js';
import { parseDeliveryPolicy, type WebhookDeliveryPolicy } from '../../services/topics/topic-types.js';
import { EgressPolicy } from './egress-policy.js';
import { signWebhook, WEBHOOK_HEADERS } from './webhook-signature.js';

/** Options of the {@link WebhookDeliverer}. */
export interface WebhookDelivererOptions {
  /** Deliveries in flight at once. @default 16 */
  readonly concurrency?: number;
  /** How often to look for due deliveries when nothing woke the worker, ms. @default 1000 */
  readonly pollIntervalMs?: number;
  /** Same-host redirects followed per attempt (other hosts are never followed). @default 3 */
  readonly maxRedirects?: number;
  /**
   * Which addresses deliveries may reach, checked on the address each connection (and each
   * redirect) dials. @default the deny-by-default policy with nothing allowed
   */
  readonly egress?: EgressPolicy;
}

/** The outcome of one HTTP attempt. */
interface AttemptResult {
  readonly ok: boolean;
  readonly status?: number | undefined;
  readonly error?: string | undefined;
  /** The attempt was cut short by stop(): put it back without counting it. */
  readonly interrupted?: boolean;
  /** The egress policy refused the target: no retry will reach it either. */
  readonly denied?: boolean;
}

/** Wait before attempt `attempt + 1` after `attempt` failed: min × 3^(attempt-1), capped. */
export function backoffMs(policy: WebhookDeliveryPolicy, attempt: number): number {
  const seconds = Math.min(policy.maxDelaySeconds, policy.minDelaySeconds * 3 ** Math.max(0, attempt - 1));
  return Math.round(seconds * 1000);
}

// A subscription's delivery policy is the topic service's; re-exported for the worker's callers.
export { parseDeliveryPolicy };

/** POSTs webhook deliveries from the store; see docs/events.md (topic triggers) for the contract. */
export class WebhookDeliverer implements Lifecycle {
  readonly #store: TopicStore;
  readonly #notifier: Notifier | undefined;
  readonly #onError: (err: unknown) => void;
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #maxRedirects: number;
  readonly #egress: EgressPolicy;
  readonly #inFlight = new Set<Promise<void>>();
  #running = false;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #wake: (() => void) | undefined;
  #woken = false;
  #listening: Subscription | undefined;
  #listen: Promise<void> | undefined;
  /** Earliest retry this worker scheduled (epoch ms), so it wakes for it before the next poll. */
  #nextDue = Infinity;

  constructor(
    store: TopicStore,
    deps: { notifier?: Notifier | undefined; onError: (err: unknown) => void },
    options: WebhookDelivererOptions = {},
  ) {
    this.#store = store;
    this.#notifier = deps.notifier;
    this.#onError = deps.onError;
    this.#concurrency = options.concurrency ?? 16;
    this.#pollMs = options.pollIntervalMs ?? 1000;
    this.#maxRedirects = options.maxRedirects ?? 3;
    this.#egress = options.egress ?? new EgressPolicy();
  }

  /** Look for due deliveries now (after a publish stored some). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#loop = this.#run();
    if (this.#notifier !== undefined) {
      this.#listen = this.#notifier
        .listen(TOPIC_DELIVERIES_CHANNEL, () => this.wake())
        .then(async (sub) => {
          if (this.#running) this.#listening = sub;
          else await sub.close();
        })
        .catch(this.#onError);
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    // In-flight requests are cut short and put back unpenalised: waiting out a slow endpoint's
    // timeout would hold up shutdown, and the lease would only delay them anyway.
    this.#abort.abort();
    this.wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    // A listen still connecting closes its own subscription once it sees the worker stopped.
    await this.#listen;
    await this.#listening?.close().catch(this.#onError);
    this.#listening = undefined;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.#concurrency - this.#inFlight.size;
      if (free > 0) {
        try {
          // The lease outlives the longest attempt (60 s timeout, redirects) with room to spare.
          const rows = await this.#store.claimDeliveries(free, 5 * 60_000);
          for (const row of rows) {
            const task: Promise<void> = this.#deliver(row)
              .catch(this.#onError)
              .finally(() => {
                this.#inFlight.delete(task);
                this.wake();
              });
            this.#inFlight.add(task);
          }
        } catch (err) {
          this.#onError(err);
        }
      }
      // Sleep until a finished delivery, a publish, a notification or the poll interval: a claim
      // that returned fewer rows than free slots took everything due.
      await this.#sleep();
    }
  }

  #sleep(): Promise<void> {
    if (this.#woken || !this.#running) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // Retries this worker scheduled wake it when due, not at the next poll.
      const wait = Math.max(0, Math.min(this.#pollMs, this.#nextDue - Date.now()));
      this.#nextDue = Infinity;
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        this.#woken = false;
        done();
      };
    });
  }

  async #deliver(row: DeliveryRecord): Promise<void> {
    const sub = await this.#store.getSubscription(row.subscriptionId);
    if (sub === undefined) {
      await this.#store.completeDelivery(row.id, { status: 'failed', error: 'the subscription was deleted' });
      return;
    }
    const policy = parseDeliveryPolicy(sub.deliveryPolicy);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': sub.rawMessageDelivery ? 'text/plain; charset=utf-8' : 'application/json',
      'user-agent': 'Nimbus-Topics/1',
      [WEBHOOK_HEADERS.topic]: row.topic,
      [WEBHOOK_HEADERS.messageId]: row.messageId,
      [WEBHOOK_HEADERS.deliveryId]: row.id,
      [WEBHOOK_HEADERS.attempt]: String(row.attempts),
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    };
    if (sub.secret !== undefined)
      headers[WEBHOOK_HEADERS.signature] = signWebhook(sub.secret, timestamp, row.body);
    const result = await this.#post(row.endpoint, headers, row.body, policy.timeoutSeconds * 1000);
    if (result.ok) {
      await this.#store.completeDelivery(row.id, { status: 'delivered', lastStatus: result.status });
    } else if (result.interrupted) {
      await this.#store.releaseDelivery(row.id, Date.now(), { refund: true });
    } else if (row.attempts >= row.maxAttempts || result.denied) {
      await this.#store.completeDelivery(row.id, {
        status: 'failed',
        lastStatus: result.status,
        error: result.error,
      });
    } else {
      const due = Date.now() + backoffMs(policy, row.attempts);
      this.#nextDue = Math.min(this.#nextDue, due);
      await this.#store.releaseDelivery(row.id, due, {
        lastStatus: result.status,
        error: result.error,
      });
    }
  }

  async #post(
    url: string,
    headers: Record<string, string>,
    body: Buffer,
    timeoutMs: number,
  ): Promise<AttemptResult> {
    let target = new URL(url);
    for (let hop = 0; ; hop++) {
      const r = await this.#once(target, headers, body, timeoutMs);
      if (r.location === undefined) return r;
      const next = new URL(r.location, target);
      // Redirects to another host are never followed: a webhook URL is a promise about where
      // the signed body goes.
      if (next.origin !== target.origin) {
        return {
          ok: false,
          status: r.status,
          error: `redirect to ${next.origin} not followed (only same-host redirects are)`,
        };
      }
      if (hop >= this.#maxRedirects) return { ok: false, status: r.status, error: 'too many redirects' };
      target = next;
    }
  }

  #once(
    url: URL,
    headers: Record<string, string>,
    body: Buffer,
    timeoutMs: number,
  ): Promise<AttemptResult & { location?: string }> {
    if (this.#abort.signal.aborted) return Promise.resolve({ ok: false, interrupted: true });
    const send =
      url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (send === undefined)
      return Promise.resolve({ ok: false, error: `unsupported URL scheme ${url.protocol}` });
    // Address literals are judged here (Node dials them without a lookup); names in `lookup`,
    // on the very addresses the socket then connects to.
    const literal = this.#egress.literal(url);
    if (literal !== 'name' && literal !== undefined) return Promise.resolve(deniedResult(literal));
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: AttemptResult & { location?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#abort.signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      // A fresh connection per attempt (no keep-alive pool): deliveries are independent, and no
      // idle socket outlives the worker.
      const req = send(url, {
        method: 'POST',
        agent: false,
        lookup: this.#egress.lookup,
        headers: { ...headers, 'content-length': String(body.length), connection: 'close' },
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish({ ok: false, error: `no response within ${timeoutMs} ms` });
      }, timeoutMs);
      const onAbort = () => {
        req.destroy();
        finish({ ok: false, interrupted: true });
      };
      this.#abort.signal.addEventListener('abort', onAbort);
      req.on('error', (err) =>
        finish(
          (err as { code?: unknown }).code === 'WebhookTargetDeniedException'
            ? deniedResult(err)
            : { ok: false, error: err.message },
        ),
      );
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        res.resume(); // the answer's body is not needed
        const location = res.headers.location;
        if (status >= 300 && status < 400 && location !== undefined) {
          finish({ ok: false, status, location });
        } else if (status >= 200 && status < 300) {
          finish({ ok: true, status });
        } else {
          finish({ ok: false, status, error: `HTTP ${status}` });
        }
      });
      req.end(body);
    });
  }
}

/** A delivery the egress policy refused: failed at once, with the policy's reason. */
function deniedResult(err: Error): AttemptResult {
  return { ok: false, denied: true, error: `WebhookTargetDeniedException: ${err.message}` };
}
