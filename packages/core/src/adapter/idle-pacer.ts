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
 * queue is empty: after an empty pull the next pull of a waiting receive comes a pause later,
 * and each empty pull doubles the pause, from `firstMs` up to `maxMs`. The spacing holds across
 * receives too (a worker's receives end and start again every `pollMs`; the last pull of one and
 * the first of the next are a pause apart), so an idle worker costs one pull per `maxMs`. A pull that brings messages starts over at `firstMs`. A
 * send or release through this process ({@link IdlePacer.wake}) ends every pause of the queue at
 * once, so a job sent into an idle queue by the same process starts without waiting for the
 * next pull. Jobs sent by another process wait at most `maxMs`.
 */
export class IdlePacer {
  readonly #firstMs: number;
  readonly #maxMs: number;
  /** The pause that follows the next empty pull. */
  #pause: number;
  /** The pause since the last empty pull (0: the next pull may go at once). */
  #gap = 0;
  /** When the last empty pull came back. */
  #emptyAt = 0;
  /** Aborted by {@link wake}: ends the waits under way (then replaced for later ones). */
  #wake = new AbortController();

  constructor({ firstMs, maxMs }: IdlePacerOptions) {
    this.#firstMs = firstMs;
    this.#maxMs = Math.max(firstMs, maxMs);
    this.#pause = firstMs;
  }

  /** A pull brought messages: the next empty one pauses `firstMs` again. */
  busy(): void {
    this.#pause = this.#firstMs;
    this.#gap = 0;
  }

  /** A pull came back empty: the next pull waits the current pause, which then doubles. */
  empty(): void {
    this.#gap = Math.min(this.#pause, this.#maxMs);
    this.#pause = Math.min(this.#pause * 2, this.#maxMs);
    this.#emptyAt = Date.now();
  }

  /**
   * Before a pull of a receive that may wait: sleeps until a pause has passed since the last
   * empty pull (at most `leftMs`), or until {@link wake} or `signal`.
   */
  async spaced(leftMs: number, signal: AbortSignal): Promise<void> {
    const ms = Math.min(this.#emptyAt + this.#gap - Date.now(), leftMs);
    if (ms > 0) await abortableSleep(ms, signal, this.#wake.signal);
  }

  /** Something was sent or released here: end every pause at once and start over at `firstMs`. */
  wake(): void {
    this.busy();
    this.#wake.abort();
    this.#wake = new AbortController();
  }
}
