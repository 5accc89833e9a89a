/**
 * How long an adapter's `close()` waits ({@link BackgroundWork.settle}) for receives still out
 * to come back and hand back what they took before it closes its clients: the calls normally
 * end within milliseconds, so this only bounds a hung one and keeps `close()` prompt.
 */
export const CLOSE_HAND_BACK_WAIT_MS = 2_000;

/**
 * Work an adapter started on its own and must finish before `close()` lets go of its clients:
 * above all receives still out and the late hand-backs of aborted ones (`raceAbortHandBack`
 * tracks both when given this), which would otherwise leave a message leased by nobody until
 * its lease ends.
 *
 * @example
 * ```ts
 * const background = new BackgroundWork()
 * // in receive:
 * const outcome = await raceAbortHandBack(pull(), signal, (late) => nack(late), background)
 * // in close, after aborting the receives' signal and before closing the clients:
 * await background.settle(CLOSE_HAND_BACK_WAIT_MS)
 * ```
 */
export class BackgroundWork {
  readonly #pending = new Set<Promise<void>>();

  /** Keeps `task` until it settles. Its rejection is swallowed here: report it where it happens. */
  track(task: Promise<unknown>): void {
    const kept: Promise<void> = task.then(
      () => {
        this.#pending.delete(kept);
      },
      () => {
        this.#pending.delete(kept);
      },
    );
    this.#pending.add(kept);
  }

  /** How many tracked tasks have not settled yet. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Waits until every tracked task settled, including tasks tracked while it waits, or until
   * `limitMs` passed (default: no limit). True when nothing is left pending.
   */
  async settle(limitMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.#pending.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => {
      if (limitMs !== Number.POSITIVE_INFINITY) timer = setTimeout(() => resolve(false), Math.max(0, limitMs));
    });
    try {
      while (this.#pending.size > 0) {
        const all = Promise.all([...this.#pending]).then(() => true as const);
        if (!(await Promise.race([all, late]))) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
