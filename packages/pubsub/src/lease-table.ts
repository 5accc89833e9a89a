import { RecentHandles } from '@bg/core/adapter';

const ACKED_MEMORY = 10_000;

/**
 * What this adapter instance knows about its own leases on one queue: when each handle's
 * lease ends, on the process's monotonic clock (`performance.now()`; for staleness checks on
 * subscriptions without exactly-once delivery: a wall clock set back or forward must not change
 * whether a lease is held) and which handles it already acked (a second ack is harmless).
 */
export class LeaseTable {
  readonly #expiry = new Map<string, number>();
  /** Handles acked by this instance (the kit's bounded set: O(1) eviction). */
  readonly #acked = new RecentHandles<true>(ACKED_MEMORY);

  /** Records (or renews) a lease. */
  set(handle: string, expiresAt: number): void {
    this.#expiry.set(handle, expiresAt);
    if (this.#expiry.size > 4 * ACKED_MEMORY) this.prune(performance.now());
  }

  /** When the handle's lease ends, if this instance leased it (negative once ended: in the past). */
  expiresAt(handle: string): number | undefined {
    return this.#expiry.get(handle);
  }

  /**
   * Marks the lease ended without an ack (released): later use of the handle is stale. Also for a
   * handle another instance received (an extend here would otherwise cancel the release).
   */
  end(handle: string): void {
    const now = performance.now();
    // Negative: ended, and when (pruned ten minutes after that, like an expired lease).
    this.#expiry.set(handle, -(now + 1));
    if (this.#expiry.size > 4 * ACKED_MEMORY) this.prune(now);
  }

  /** True when {@link LeaseTable.end} ended the handle's lease (it was released through this instance). */
  ended(handle: string): boolean {
    return (this.#expiry.get(handle) ?? 0) < 0;
  }

  /** Marks the handle acked. */
  acked(handle: string): void {
    this.#expiry.delete(handle);
    this.#acked.remember(handle, true);
  }

  /**
   * True when this instance acked the handle already. A handle with a lease on record was not
   * acked (an ack removes it): the common case answers from that map, without bringing the
   * acked set's lookup index up to date on every ack.
   */
  wasAcked(handle: string): boolean {
    return !this.#expiry.has(handle) && this.#acked.has(handle);
  }

  /** Leases of this instance still running at `now` (monotonic ms, `performance.now()`). */
  active(now: number): number {
    let n = 0;
    for (const expiresAt of this.#expiry.values()) if (expiresAt > now) n++;
    return n;
  }

  /** Forgets leases that ran out or were ended more than ten minutes ago. */
  prune(now: number): void {
    for (const [handle, expiresAt] of this.#expiry) {
      const endedAt = expiresAt < 0 ? -expiresAt - 1 : expiresAt;
      if (endedAt < now - 600_000) this.#expiry.delete(handle);
    }
  }
}
