/**
 * A bounded memory of recently seen lease handles (acked, released, leased …), each with a
 * value. It keeps two generations of at most `capacity` entries: when the current one is
 * full it becomes the previous one and the oldest generation is dropped whole. Every
 * operation is O(1) (no one-by-one eviction of the oldest entry, which makes V8 walk the
 * tombstones of a Map and turns a busy adapter quadratic). A handle is remembered for at
 * least `capacity` later insertions and at most `2 × capacity`.
 *
 * @example
 * ```ts
 * const finished = new RecentHandles<'acked' | 'released'>(10_000)
 * finished.remember(receipt, 'acked')
 * if (finished.get(receipt) === 'acked') return // a second ack is harmless
 * ```
 */
export class RecentHandles<V = true> {
  #current = new Map<string, V>();
  #previous = new Map<string, V>();

  /** @param capacity Entries per generation (an integer ≥ 1; default 10 000). */
  constructor(readonly capacity: number = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RecentHandles capacity must be an integer ≥ 1, got ${capacity}`);
    }
  }

  /** Remembers `handle` with `value` (replacing an earlier value). */
  remember(handle: string, value: V): void {
    // A value left in the previous generation is shadowed: lookups read the current one first.
    if (this.#current.size >= this.capacity) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(handle, value);
  }

  /** The value remembered for `handle`, if it is still remembered. */
  get(handle: string): V | undefined {
    return this.#current.has(handle) ? this.#current.get(handle) : this.#previous.get(handle);
  }

  /** True when `handle` is still remembered. */
  has(handle: string): boolean {
    return this.#current.has(handle) || this.#previous.has(handle);
  }

  /** Forgets `handle`. */
  forget(handle: string): void {
    this.#current.delete(handle);
    this.#previous.delete(handle);
  }

  /** Entries held now, at most `2 × capacity` (a handle remembered in both generations counts twice). */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}
