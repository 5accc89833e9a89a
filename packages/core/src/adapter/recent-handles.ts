/**
 * One generation of a {@link RecentHandles}: handles and values in insertion order, in
 * preallocated arrays, with an index (handle → slot) brought up to date only when a lookup
 * needs it.
 */
class Generation<V> {
  readonly handles: (string | undefined)[];
  readonly values: (V | undefined)[];
  /** Slots written. */
  count = 0;
  /** Slots written and then forgotten. */
  forgotten = 0;
  /** Handle → its newest slot, for the slots below {@link indexed}. */
  index: Map<string, number> | undefined;
  /** Slots the index covers. */
  indexed = 0;

  constructor(capacity: number) {
    this.handles = new Array<string | undefined>(capacity).fill(undefined);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
  }

  /** The newest slot holding `handle`, or -1. */
  slotOf(handle: string): number {
    if (this.count === 0) return -1;
    let index = this.index;
    if (index === undefined) {
      index = new Map();
      this.index = index;
    }
    // Index what was written since the last lookup, oldest first (a newer slot of a handle wins).
    for (let slot = this.indexed; slot < this.count; slot++) {
      const h = this.handles[slot];
      if (h !== undefined) index.set(h, slot);
    }
    this.indexed = this.count;
    return index.get(handle) ?? -1;
  }

  /** Forgets `handle` (its newest slot). */
  forget(handle: string): void {
    const slot = this.slotOf(handle);
    if (slot < 0) return;
    this.handles[slot] = undefined;
    this.values[slot] = undefined;
    this.index?.delete(handle);
    this.forgotten++;
  }

  /** Empties the generation for reuse (dropping what it held). */
  clear(): void {
    this.handles.fill(undefined, 0, this.count);
    this.values.fill(undefined, 0, this.count);
    this.count = 0;
    this.forgotten = 0;
    this.index = undefined;
    this.indexed = 0;
  }
}

/**
 * A bounded memory of recently seen lease handles (acked, released, leased …), each with a
 * value. It keeps two generations of at most `capacity` entries: when the current one is
 * full it becomes the previous one and the oldest generation is dropped whole. A handle is
 * remembered for at least `capacity` later insertions and at most `2 × capacity`.
 *
 * Remembering is two array stores (no hashing: on an adapter's ack path it runs once per
 * job, and a Map costs a hash of a fresh string and a table that grows with it); each
 * generation's handle → slot index is brought up to date only when a lookup needs it, so an
 * adapter that rarely looks up (a second ack of a handle) pays for the index only then, and
 * one that looks up on every call pays what a Map would. Every operation is O(1) amortized.
 *
 * @example
 * ```ts
 * const finished = new RecentHandles<'acked' | 'released'>(10_000)
 * finished.remember(receipt, 'acked')
 * if (finished.get(receipt) === 'acked') return // a second ack is harmless
 * ```
 */
export class RecentHandles<V = true> {
  #current: Generation<V>;
  #previous: Generation<V>;

  /** @param capacity Entries per generation (an integer ≥ 1; default 10 000). */
  constructor(readonly capacity: number = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`RecentHandles capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.#current = new Generation(capacity);
    this.#previous = new Generation(capacity);
  }

  /** Remembers `handle` with `value` (replacing an earlier value). */
  remember(handle: string, value: V): void {
    let current = this.#current;
    if (current.count === this.capacity) {
      // The previous generation is dropped whole; its arrays hold the new current one.
      const dropped = this.#previous;
      dropped.clear();
      this.#previous = current;
      this.#current = dropped;
      current = dropped;
    }
    // A value left in an older slot is shadowed: lookups read the newest slot, current generation first.
    const slot = current.count++;
    current.handles[slot] = handle;
    current.values[slot] = value;
  }

  /** The value remembered for `handle`, if it is still remembered. */
  get(handle: string): V | undefined {
    const slot = this.#current.slotOf(handle);
    if (slot >= 0) return this.#current.values[slot];
    const old = this.#previous.slotOf(handle);
    return old >= 0 ? this.#previous.values[old] : undefined;
  }

  /** True when `handle` is still remembered. */
  has(handle: string): boolean {
    return this.#current.slotOf(handle) >= 0 || this.#previous.slotOf(handle) >= 0;
  }

  /** Forgets `handle`. */
  forget(handle: string): void {
    // Older slots of the same handle stay shadowed: an index only moves forward.
    this.#current.forget(handle);
    this.#previous.forget(handle);
  }

  /**
   * Entries held now, at most `2 × capacity` (each remembering counts until it is forgotten
   * or dropped with its generation, even of a handle remembered before).
   */
  get size(): number {
    return this.#current.count - this.#current.forgotten + this.#previous.count - this.#previous.forgotten;
  }
}
