import type { Adapter } from './adapter.js';
import { BgError, isBgError } from './errors.js';
import type { HeldDelivery } from './held-delivery.js';
import type { Logger, WorkerEvent } from './worker-events.js';

/** What a {@link LeaseKeeper} needs from its worker. */
export interface LeaseKeeperOptions {
  readonly adapter: Adapter;
  readonly queue: string;
  readonly leaseMs: number;
  /** Every delivery the worker holds; the heartbeat extends those marked `beating`. */
  readonly held: Iterable<HeldDelivery>;
  readonly now: () => number;
  readonly emit: (event: WorkerEvent) => void;
  readonly log: Logger;
  /** Reports a failure (an `error` event and a log line). */
  readonly reportError: (during: string, error: unknown) => void;
}

/**
 * Keeps the leases of a worker's deliveries: one heartbeat timer for all of them extends each
 * lease once a third of it has passed (so thousands of jobs cost one timer), notices a lost
 * lease (`LEASE_LOST`, or extensions that failed until the lease ran out: the delivery is
 * abandoned and its handler's signal aborted). Handing deliveries back when the worker stops is
 * the outcome executor's (`handBackAtStop`), after {@link LeaseKeeper.quiesce}.
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #renewEvery: number;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.#renewEvery = Math.max(Math.floor(options.leaseMs / 3), 5);
  }

  /** Starts keeping the lease of `item` (its handler runs, or it waits for a slot). */
  keep(item: HeldDelivery, jobType: string | undefined): void {
    const t = this.#options.now();
    item.jobType = jobType;
    item.renewAt = t + this.#renewEvery;
    // The lease was taken at the receive, a moment before: it ends no later than a lease from now.
    if (item.leaseEndsAt === Number.POSITIVE_INFINITY) item.leaseEndsAt = t + this.#options.leaseMs;
    item.beating = true;
    if (!this.#heartbeat) {
      this.#heartbeat = setInterval(() => this.#beatAll(), Math.max(5, Math.min(Math.floor(this.#renewEvery / 4), 1_000)));
      this.#heartbeat.unref();
    }
  }

  /** Stops keeping the lease of `item` (its handler returned, or it leaves the waiting line). */
  pause(item: HeldDelivery): void {
    item.beating = false;
  }

  /**
   * Stops keeping the lease of `item` and waits for an extension still in flight, so that the
   * ack, release or dead-letter that follows uses the handle that extension returned (on
   * backends that rotate handles, Azure's pop receipts, the old one is dead once it lands).
   */
  async quiesce(item: HeldDelivery): Promise<void> {
    item.beating = false;
    await item.renewal;
  }

  /** Stops the heartbeat timer (the worker stopped). */
  end(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #beatAll(): void {
    const t = this.#options.now();
    for (const item of this.#options.held) {
      if (item.beating && !item.renewing && !item.abandoned && t >= item.renewAt) {
        item.renewal = this.#renew(item).finally(() => {
          item.renewal = undefined;
        });
      }
    }
  }

  async #renew(item: HeldDelivery): Promise<void> {
    const { adapter, queue, leaseMs, now, emit, reportError } = this.#options;
    item.renewing = true;
    // The new lease runs from no earlier than this request: time the next renewal from here,
    // not from the answer, or a slow backend (a round trip of half a lease) lets it lapse.
    const sentAt = now();
    try {
      const next = await adapter.extend(queue, item.handle, leaseMs);
      if (!item.abandoned) {
        item.handle = next.handle;
        item.renewAt = sentAt + this.#renewEvery;
        item.leaseEndsAt = sentAt + leaseMs;
        emit({ type: 'lease-extended', jobId: item.message.id, jobType: item.jobType });
      }
    } catch (error) {
      if (isBgError(error, 'LEASE_LOST')) {
        this.#lose(item, 'was lost');
      } else {
        reportError('lease extension', error);
        const t = now();
        // Extensions failed until the lease ran out: another consumer may hold the job now.
        if (t >= item.leaseEndsAt) this.#lose(item, 'ran out while its extensions failed');
        // Tried again soon, and once more when the lease ends at the latest (to notice its loss then).
        else item.renewAt = Math.min(t + Math.min(this.#renewEvery, 1_000), item.leaseEndsAt);
      }
    } finally {
      item.renewing = false;
    }
  }

  /** Gives up a lost lease: the delivery is abandoned (never acked) and its handler's signal aborted. */
  #lose(item: HeldDelivery, why: string): void {
    if (item.abandoned) return;
    const { queue, emit, log } = this.#options;
    item.abandoned = true;
    item.leaseLost = true;
    item.beating = false;
    emit({ type: 'lease-lost', jobId: item.message.id, jobType: item.jobType });
    log.warn?.(`bg worker: the lease of ${item.message.id} ${why}`, { queue, jobId: item.message.id });
    item.controller.abort(new BgError('LEASE_LOST', `the lease of job ${item.message.id} ${why}`, { retryable: false }));
  }
}
