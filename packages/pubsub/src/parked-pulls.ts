/**
 * Blocking pulls that outlive the receive that sent them.
 *
 * A long poll (`receive` with `waitMs`) sends a blocking pull (`returnImmediately: false`):
 * the server holds it until a message arrives, so an idle queue costs one call per server
 * hold instead of one every few ms. When the receive's `waitMs` ends first, the pull is not
 * cancelled (a cancelled pull may already hold messages, which would then wait out their ack
 * deadline and spend a delivery attempt): it is **parked**, and the next receive of the queue
 * adopts it. A parked pull that resolves with messages nobody adopts within `holdMs` (the
 * worker is busy or stopping) hands them back at once, well inside the ack deadline.
 */
export class ParkedPulls<R> {
  readonly #entries = new Set<Entry<R>>();
  readonly #holdMs: number;
  readonly #handBack: (response: R) => Promise<void>;

  /**
   * @param holdMs longest a resolved, unadopted pull keeps its messages before handing them back
   * @param handBack makes a response's messages deliverable again at once (ack deadline 0)
   */
  constructor(holdMs: number, handBack: (response: R) => Promise<void>) {
    this.#holdMs = holdMs;
    this.#handBack = handBack;
  }

  /** How many pulls are parked (in flight or resolved and waiting). */
  get size(): number {
    return this.#entries.size;
  }

  /** Takes the oldest parked pull for a receive to wait on, or undefined when none is parked. */
  take(): ParkedPull<R> | undefined {
    for (const entry of this.#entries) {
      this.#entries.delete(entry);
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      return entry.pull;
    }
    return undefined;
  }

  /** Parks a pull in flight whose receive stopped waiting. */
  park(pull: ParkedPull<R>): void {
    const entry: Entry<R> = { pull };
    this.#entries.add(entry);
    pull.response.then(
      (response) => {
        if (!this.#entries.has(entry)) return;
        entry.resolved = response;
        entry.timer = setTimeout(() => {
          if (this.#entries.delete(entry)) this.#handBack(response).catch(() => undefined);
        }, this.#holdMs);
        entry.timer.unref?.();
      },
      () => {
        this.#entries.delete(entry);
      },
    );
  }

  /**
   * Hands back every parked pull that already resolved and forgets the others (closing the
   * client cancels them). Awaited by `close()`.
   */
  async drain(): Promise<void> {
    const resolved: R[] = [];
    for (const entry of this.#entries) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      if (entry.resolved !== undefined) resolved.push(entry.resolved);
    }
    this.#entries.clear();
    await Promise.all(resolved.map((response) => this.#handBack(response).catch(() => undefined)));
  }
}

/** A pull sent to the server: its response and when it was sent. */
export interface ParkedPull<R> {
  readonly response: Promise<R>;
  /** `Date.now()` when the pull was sent. */
  readonly startedAt: number;
  /** Cancels the call (blocking pulls): the server lets go of it before it takes a message. */
  readonly cancel?: () => void;
}

interface Entry<R> {
  readonly pull: ParkedPull<R>;
  resolved?: R;
  timer?: ReturnType<typeof setTimeout>;
}
