import { abortableSleep } from '@bg/core/adapter';

/** The first pause after an empty pull, ms. */
const FIRST_PAUSE_MS = 10;

/**
 * Paces the pulls of one queue while it is empty, across receives: each empty pull doubles the
 * pause, from 10 ms up to `maxMs` (so an idle worker costs about one pull per `maxMs`, even
 * though its receives end and start again every `pollMs`); a pull that brings messages starts
 * over at 10 ms. A send or release through this process ({@link IdlePacer.wake}) ends every
 * pause of the queue at once, so a job sent into an idle queue by the same process starts
 * without waiting for the next pull. Jobs sent by another process wait at most `maxMs`.
 */
export class IdlePacer {
  readonly #maxMs: number;
  #pause = FIRST_PAUSE_MS;
  /** Aborted by {@link wake}: ends the sleeps under way (then replaced for later ones). */
  #wake = new AbortController();

  constructor(maxMs: number) {
    this.#maxMs = maxMs;
  }

  /** A pull brought messages: the next empty one pauses briefly again. */
  busy(): void {
    this.#pause = FIRST_PAUSE_MS;
  }

  /**
   * Sleeps after an empty pull: the current pause (at most `leftMs`), or until {@link wake} or
   * `signal`. The pause then doubles, unless the sleep was woken.
   */
  sleep(leftMs: number, signal: AbortSignal): Promise<void> {
    const ms = Math.min(this.#pause, this.#maxMs, leftMs);
    this.#pause = Math.min(this.#pause * 2, this.#maxMs);
    return abortableSleep(ms, signal, this.#wake.signal);
  }

  /** Something was sent or released here: end every pause at once and start over at 10 ms. */
  wake(): void {
    this.#pause = FIRST_PAUSE_MS;
    this.#wake.abort();
    this.#wake = new AbortController();
  }
}
