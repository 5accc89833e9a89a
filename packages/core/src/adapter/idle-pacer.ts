import { abortableSleep } from './abortable.js';

/** Options of {@link IdlePacer}. */
export interface IdlePacerOptions {
  /** The pause after the first empty look, ms. */
  readonly firstMs: number;
  /** The longest pause, ms: an idle queue costs one look per `maxMs`. */
  readonly maxMs: number;
}

/**
 * Paces the looks (pulls, polls) of one queue of a backend without blocking reads while the
 * queue is empty: after an empty look the next look of a waiting receive comes a pause later,
 * and each empty look doubles the pause, from `firstMs` up to `maxMs`. The spacing holds across
 * receives too (a worker's receives end and start again every `pollMs`; the last look of one and
 * the first of the next are a pause apart), so an idle worker costs one look per `maxMs`. A look
 * that brings messages starts over at `firstMs`. A send or release through this process
 * ({@link IdlePacer.wake}) ends every pause of the queue at once, so a job sent into an idle
 * queue by the same process starts without waiting for the next look. Jobs sent by another
 * process wait at most `maxMs`.
 */
export class IdlePacer {
  readonly #firstMs: number;
  readonly #maxMs: number;
  /** The pause that follows the next empty look. */
  #pause: number;
  /** When the next look of a waiting receive may go (0: at once). */
  #nextLookAt = 0;
  /** Aborted by {@link wake}: ends the waits under way (then replaced for later ones). */
  #wake = new AbortController();

  constructor({ firstMs, maxMs }: IdlePacerOptions) {
    this.#firstMs = firstMs;
    this.#maxMs = Math.max(firstMs, maxMs);
    this.#pause = firstMs;
  }

  /**
   * One receive: looks (`look`; a receive that waits looks a pause after the queue's last empty
   * look, one with `waitMs` 0 at once) until a look brings messages, `waitMs` passes, `signal`
   * aborts or `look` gives up (undefined: returns nothing).
   */
  async receive<T>(waitMs: number, signal: AbortSignal, look: () => Promise<T[] | undefined>): Promise<T[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (waitMs > 0) await this.spaced(deadline - Date.now(), signal);
      if (signal.aborted) return [];
      const got = await look();
      if (got === undefined) return [];
      if (got.length > 0) {
        this.busy();
        return got;
      }
      this.empty();
      if (deadline - Date.now() <= 0) return got;
    }
  }

  /** A look brought messages: the next one may go at once, and the next empty one pauses `firstMs`. */
  busy(): void {
    this.#pause = this.#firstMs;
    this.#nextLookAt = 0;
  }

  /** A look came back empty: the next one waits the current pause, which then doubles. */
  empty(): void {
    this.#nextLookAt = Date.now() + this.#pause;
    this.#pause = Math.min(this.#pause * 2, this.#maxMs);
  }

  /**
   * Before a look of a receive that may wait: sleeps until a pause has passed since the last
   * empty look (at most `leftMs`), or until {@link wake} or `signal`.
   */
  async spaced(leftMs: number, signal: AbortSignal): Promise<void> {
    const ms = Math.min(this.#nextLookAt - Date.now(), leftMs);
    if (ms > 0) await abortableSleep(ms, signal, this.#wake.signal);
  }

  /** Something was sent or released here: end every pause at once and start over at `firstMs`. */
  wake(): void {
    this.busy();
    this.#wake.abort();
    this.#wake = new AbortController();
  }
}
