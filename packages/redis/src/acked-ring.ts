/**
 * The last `capacity` acked lease handles, in a ring: remembering one is a single array store
 * (no hashing on the ack hot path, which a Map-based memory costs ~1 µs per ack under load);
 * the linear search runs only for an ack the script found gone, to tell a harmless second
 * ack from a lost lease.
 */
export class AckedRing {
  readonly #handles: (string | undefined)[];
  #next = 0;

  /** @param capacity Handles remembered (an integer ≥ 1; default 10 000). */
  constructor(readonly capacity: number = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`AckedRing capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.#handles = new Array<string | undefined>(capacity).fill(undefined);
  }

  /** Remembers `handle`, forgetting the oldest once full. */
  remember(handle: string): void {
    this.#handles[this.#next] = handle;
    this.#next = this.#next + 1 === this.capacity ? 0 : this.#next + 1;
  }

  /** True when `handle` is among the last `capacity` remembered. */
  has(handle: string): boolean {
    return this.#handles.includes(handle);
  }
}
