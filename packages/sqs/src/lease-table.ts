import { BgError, RecentHandles } from '@bg/core/adapter';
import { lostReceipt } from './map-error.js';

/** Receipts we stopped owning on purpose, remembered to answer a second ack or a late call. */
const FINISHED_MEMORY = 10_000;
/** Visibility set by an ownership check right before a delete (covers the delete round trip). */
const VERIFY_VISIBILITY_SECONDS = 30;

/** How this process ended a lease. */
export type Finished = 'acked' | 'released';

/**
 * What this adapter knows about its own SQS receipts: until when it holds each lease (on the
 * process's monotonic clock, `performance.now()`: a wall clock set back must not make a lease
 * that ended look held) and which ones it acked or released (a second ack is harmless; any other
 * call is `LEASE_LOST`).
 */
export class LeaseTable {
  readonly #leases = new Map<string, number>();
  readonly #finished = new RecentHandles<Finished>(FINISHED_MEMORY);

  constructor(
    /** Within this margin of the local expiry, ownership is proven with a visibility change. */
    private readonly marginMs: number,
  ) {}

  /** Records (or renews) a lease we hold until `until` (monotonic ms, `performance.now()`). */
  remember(receipt: string, until: number): void {
    this.#leases.set(receipt, until);
    if (this.#leases.size > 4 * FINISHED_MEMORY) {
      const now = performance.now();
      for (const [key, until] of this.#leases) if (until < now) this.#leases.delete(key);
    }
  }

  /** Forgets a lease SQS told us we lost. */
  lost(receipt: string): void {
    this.#leases.delete(receipt);
  }

  /** Marks a lease ended by this process. */
  finish(receipt: string, how: Finished): void {
    this.#leases.delete(receipt);
    this.#finished.remember(receipt, how);
  }

  /**
   * How this process ended the lease, if it did. A receipt with a lease on record was not
   * ended (ending removes it): the common case answers from that map, without bringing the
   * finished set's lookup index up to date on every call.
   */
  finished(receipt: string): Finished | undefined {
    return this.#leases.has(receipt) ? undefined : this.#finished.get(receipt);
  }

  /** Throws `LEASE_LOST` when this process already acked or released the receipt. */
  assertNotFinished(receipt: string): void {
    const state = this.finished(receipt);
    if (state !== undefined) throw lostReceipt(`already ${state}`);
  }

  /**
   * True when the receipt's lease on record runs past now plus the margin: it is ours and not
   * ended, so {@link assertOwned} would return at once (the ack path checks this without
   * awaiting anything).
   */
  ownsNow(receipt: string): boolean {
    const until = this.#leases.get(receipt);
    return until !== undefined && performance.now() < until - this.marginMs;
  }

  /**
   * Proves a receipt still owns its delivery. Inside its local lease (minus the margin)
   * nobody else can hold the message; later, a `ChangeMessageVisibility` with the receipt
   * succeeds only while it is the message's latest receipt (fauxqs and SQS both reject a
   * receipt superseded by a newer receive), so a stale handle never deletes someone else's
   * delivery. The check keeps what is left of our own lease; a receipt we know nothing about
   * gets 30 s, which covers the delete (or the core's ack after a dead letter) that follows.
   */
  async assertOwned(receipt: string, changeVisibility: (seconds: number) => Promise<void>): Promise<void> {
    this.assertNotFinished(receipt);
    const until = this.#leases.get(receipt);
    const start = performance.now();
    if (until !== undefined && start < until - this.marginMs) return;
    const secs =
      until !== undefined && until > start ? Math.max(1, Math.ceil((until - start) / 1000)) : VERIFY_VISIBILITY_SECONDS;
    await this.#guarded(receipt, () => changeVisibility(secs));
    this.remember(receipt, start + secs * 1000);
  }

  /** Runs a visibility change of `receipt`; a `LEASE_LOST` answer forgets the lease. */
  async changeGuarded(receipt: string, change: () => Promise<void>): Promise<void> {
    await this.#guarded(receipt, change);
  }

  async #guarded(receipt: string, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (error) {
      if (error instanceof BgError && error.code === 'LEASE_LOST') this.lost(receipt);
      throw error;
    }
  }
}
