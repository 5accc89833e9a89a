import { abortableSleep } from '@bg/core/adapter';

/** The first pause after an empty pull, ms. */
const FIRST_PAUSE_MS = 10;

/**
 * Paces the pulls of one queue while it is empty, across receives: after an empty pull the next
 * pull of a waiting receive comes a pause later, and each empty pull doubles the pause, from
 * 10 ms up to `maxMs`. The spacing holds across receives too (a worker's receives end and start
 * again every `pollMs`; the last pull of one and the first of the next are a pause apart), so an
 * idle worker costs one pull per `maxMs`. A pull that brings messages starts over at 10 ms. A
 * send or release through this process ({@link IdlePacer.wake}) ends every pause of the queue at
 * once, so a job sent into an idle queue by the same process starts without waiting for the
 * next pull. Jobs sent by another process wait at most `maxMs`.
 */
export class IdlePacer {
  readonly #maxMs: number;
  /** The pause that follows the next empty pull. */
  #pause = FIRST_PAUSE_MS;
  /** The pause since the last empty pull (0: the next pull may go at once). */
  #gap = 0;
  /** When the last empty pull came back. */
  #emptyAt = 0;
  /** Aborted by {@link wake}: ends the waits under way (then replaced for later ones). */
  #wake = new AbortController();

  constructor(maxMs: number) {
    this.#maxMs = maxMs;
  }

  /** A pull brought messages: the next empty one pauses briefly again. */
  busy(): void {
    this.#pause = FIRST_PAUSE_MS;
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

  /** Something was sent or released here: end every pause at once and start over at 10 ms. */
  wake(): void {
    this.busy();
    this.#wake.abort();
    this.#wake = new AbortController();
  }
}
