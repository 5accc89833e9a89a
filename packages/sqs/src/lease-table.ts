import { BgError, RecentHandles } from '@bg/core/adapter';
import { lostReceipt } from './map-error.js';

/** Receipts we stopped owning on purpose, remembered to answer a second ack or a late call. */
const FINISHED_MEMORY = 10_000;
/** Visibility set by an ownership check right before a delete (covers the delete round trip). */
const VERIFY_VISIBILITY_SECONDS = 30;

/** How this process ended a lease. */
export type Finished = 'acked' | 'released';

/** A lease on record: its queue (an SQS queue name) and until when it is held (monotonic ms). */
interface Lease {
  readonly queue: string;
  until: number;
}

/** How a receipt's lease ended, and on which queue. */
interface Ending {
  readonly queue: string;
  readonly how: Finished;
}

/**
 * What this adapter knows about its own SQS receipts, per queue: until when it holds each lease
 * (on the process's monotonic clock, `performance.now()`: a wall clock set back must not make a
 * lease that ended look held) and which ones it acked or released (a second ack is harmless; any
 * other call is `LEASE_LOST`). A receipt is known only on the queue it came from: passed with
 * another queue, it is a receipt this adapter knows nothing about there.
 */
export class LeaseTable {
  readonly #leases = new Map<string, Lease>();
  readonly #finished = new RecentHandles<Ending>(FINISHED_MEMORY);

  constructor(
    /** Within this margin of the local expiry, ownership is proven with a visibility change. */
    private readonly marginMs: number,
  ) {}

  /** Records (or renews) a lease of `queue` we hold until `until` (monotonic ms, `performance.now()`). */
  remember(queue: string, receipt: string, until: number): void {
    const lease = this.#leases.get(receipt);
    if (lease !== undefined && lease.queue === queue) lease.until = until;
    else this.#leases.set(receipt, { queue, until });
    if (this.#leases.size > 4 * FINISHED_MEMORY) {
      const now = performance.now();
      for (const [key, held] of this.#leases) if (held.until < now) this.#leases.delete(key);
    }
  }

  /** The lease on record of `receipt` on `queue`, if any. */
  #lease(queue: string, receipt: string): Lease | undefined {
    const lease = this.#leases.get(receipt);
    return lease !== undefined && lease.queue === queue ? lease : undefined;
  }

  /** Forgets a lease SQS told us we lost. */
  lost(queue: string, receipt: string): void {
    if (this.#lease(queue, receipt) !== undefined) this.#leases.delete(receipt);
  }

  /** Marks a lease of `queue` ended by this process. */
  finish(queue: string, receipt: string, how: Finished): void {
    if (this.#lease(queue, receipt) !== undefined) this.#leases.delete(receipt);
    this.#finished.remember(receipt, { queue, how });
  }

  /**
   * How this process ended the lease on `queue`, if it did. A receipt with a lease on record was
   * not ended (ending removes it): the common case answers from that map, without bringing the
   * finished set's lookup index up to date on every call.
   */
  finished(queue: string, receipt: string): Finished | undefined {
    if (this.#lease(queue, receipt) !== undefined) return undefined;
    const ending = this.#finished.get(receipt);
    return ending !== undefined && ending.queue === queue ? ending.how : undefined;
  }

  /** Throws `LEASE_LOST` when this process already acked or released the receipt on `queue`. */
  assertNotFinished(queue: string, receipt: string): void {
    const state = this.finished(queue, receipt);
    if (state !== undefined) throw lostReceipt(`already ${state}`);
  }

  /**
   * True when the receipt's lease on record on `queue` runs past now plus the margin: it is ours
   * and not ended, so {@link assertOwned} would return at once (the ack path checks this without
   * awaiting anything).
   */
  ownsNow(queue: string, receipt: string): boolean {
    const lease = this.#lease(queue, receipt);
    return lease !== undefined && performance.now() < lease.until - this.marginMs;
  }

  /**
   * Proves a receipt still owns its delivery. Inside its local lease (minus the margin)
   * nobody else can hold the message; later, a `ChangeMessageVisibility` with the receipt
   * succeeds only while it is the message's latest receipt (fauxqs and SQS both reject a
   * receipt superseded by a newer receive), so a stale handle never deletes someone else's
   * delivery. The check keeps what is left of our own lease; a receipt we know nothing about
   * gets 30 s, which covers the delete (or the core's ack after a dead letter) that follows.
   */
  async assertOwned(queue: string, receipt: string, changeVisibility: (seconds: number) => Promise<void>): Promise<void> {
    this.assertNotFinished(queue, receipt);
    const until = this.#lease(queue, receipt)?.until;
    const start = performance.now();
    if (until !== undefined && start < until - this.marginMs) return;
    const secs =
      until !== undefined && until > start ? Math.max(1, Math.ceil((until - start) / 1000)) : VERIFY_VISIBILITY_SECONDS;
    await this.#guarded(queue, receipt, () => changeVisibility(secs));
    this.remember(queue, receipt, start + secs * 1000);
  }

  /** Runs a visibility change of `receipt` on `queue`; a `LEASE_LOST` answer forgets the lease. */
  async changeGuarded(queue: string, receipt: string, change: () => Promise<void>): Promise<void> {
    await this.#guarded(queue, receipt, change);
  }

  async #guarded(queue: string, receipt: string, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      if (error instanceof BgError && error.code === 'LEASE_LOST') this.lost(queue, receipt);
      throw error;
    }
  }
}
