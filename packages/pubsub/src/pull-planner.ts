/** Most pulls one receive sends at once. */
export const MAX_PARALLEL_PULLS = 8;

/**
 * Splits a receive into parallel pulls while a backlog waits. A synchronous pull returns
 * fewer messages than it asks for even when more are waiting (the emulator at most ~100,
 * real Pub/Sub what one server has at hand), so a worker asking for 500 with one pull gets a
 * fifth of it per round trip. The planner remembers the most one pull of this queue has
 * returned (its yield); while the last receive found a backlog (every pull brought messages
 * and one came back full), a receive asking for more than that yield is split into pulls of
 * about the yield each (at most {@link MAX_PARALLEL_PULLS}), which together ask for no more
 * than the receive's `max`. Otherwise (an idle or draining queue, or the first receive) a
 * receive is one pull: an idle queue costs one request per poll, as before.
 */
export class PullPlanner {
  /** The most messages one pull of this queue returned so far. */
  #yield = 0;
  /** The last receive found a backlog. */
  #backlog = false;

  /** The sizes of the pulls for a receive of `max` messages (they sum to `max`). */
  plan(max: number): number[] {
    if (!this.#backlog || this.#yield <= 0 || max <= this.#yield) return [max];
    const n = Math.min(MAX_PARALLEL_PULLS, Math.ceil(max / this.#yield));
    const base = Math.floor(max / n);
    return Array.from({ length: n }, (_, i) => base + (i < max % n ? 1 : 0));
  }

  /** Records what the pulls of one receive returned (`got[i]` for the pull that asked `asked[i]`). */
  record(asked: readonly number[], got: readonly number[]): void {
    let full = false;
    let empty = false;
    for (let i = 0; i < got.length; i++) {
      const n = got[i] ?? 0;
      if (n > this.#yield) this.#yield = n;
      if (n === 0) empty = true;
      if (n >= (asked[i] ?? 0)) full = true;
    }
    // A pull that returned as many as any pull ever did hit the server's per-pull yield.
    for (const n of got) if (n > 0 && n >= this.#yield) full = true;
    this.#backlog = full && !empty;
  }
}
