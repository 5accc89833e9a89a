/**
 * What this process knows of the leases it holds, per queue: until when each handle's lease
 * surely runs, on the process's monotonic clock (`performance.now()`), so that an ack inside it
 * can skip the ownership check.
 *
 * A lease is recorded from the time the request that took it was *sent*: Redis restarts an
 * entry's idle time when the read or claim runs, which is later, so the recorded end is never
 * after Redis's own. Until that end (minus the margin) no other consumer can have claimed the
 * entry: the receive script claims an entry only once its idle time reached its owner's lease.
 */
export class OwnedLeases {
  readonly #byQueue = new Map<string, Map<string, number>>();
  /** The size at which each queue's table is next swept of ended leases ({@link OwnedLeases.sweep}). */
  readonly #sweepAt = new WeakMap<Map<string, number>, number>();

  /**
   * @param marginMs - how close to its recorded end a lease no longer counts as surely held
   *   (covers the time an ack takes to reach Redis).
   */
  constructor(private readonly marginMs: number) {}

  /** The handles of `queue` held by this process, by recorded end (made on first use). */
  of(queue: string): Map<string, number> {
    let held = this.#byQueue.get(queue);
    if (held === undefined) {
      held = new Map();
      this.#byQueue.set(queue, held);
    }
    return held;
  }

  /** Records (or renews) the lease of `handle` on `queue` until `until` (monotonic ms). */
  hold(queue: string, handle: string, until: number): void {
    const held = this.of(queue);
    held.set(handle, until);
    this.sweep(held);
  }

  /**
   * Sweeps `held` of ended leases (lost, or never acked here: their process stopped) once it has
   * grown past its threshold: {@link PRUNE_AT}, then twice what a sweep left, so that sweeping
   * stays amortised however many leases are live. Receives record leases straight into the
   * table and call this once per batch.
   */
  sweep(held: Map<string, number>): void {
    if (held.size < (this.#sweepAt.get(held) ?? PRUNE_AT)) return;
    prune(held, performance.now());
    this.#sweepAt.set(held, Math.max(PRUNE_AT, 2 * held.size));
  }

  /** Brings a held lease's end forward to `until` if it is later (a shorter extension on its way). */
  shorten(queue: string, handle: string, until: number): void {
    const held = this.#byQueue.get(queue);
    const current = held?.get(handle);
    if (held !== undefined && current !== undefined && until < current) held.set(handle, until);
  }

  /** Forgets a lease this process gave up (released) or lost. */
  drop(queue: string, handle: string): void {
    this.#byQueue.get(queue)?.delete(handle);
  }

  /** Forgets every lease of a queue (it was deleted). */
  forget(queue: string): void {
    this.#byQueue.delete(queue);
  }

  /** Whether `handle`'s lease in `held` surely runs past `now` plus the margin. */
  ownsNow(held: Map<string, number>, handle: string, now: number): boolean {
    const until = held.get(handle);
    return until !== undefined && now < until - this.marginMs;
  }
}

/** A queue's table is first swept of ended leases (handles never acked: lost, or their process stopped) at this size. */
const PRUNE_AT = 50_000;

function prune(held: Map<string, number>, now: number): void {
  for (const [handle, until] of held) if (until <= now) held.delete(handle);
}
