import { assertQueueName, CloseGuard } from '../adapter-guards.js';
import { BgError, isBgError } from '../errors.js';

/** Maps a backend error to a `BgError` (an adapter's `map-error.ts`); `during` names the call. */
export type MapError = (error: unknown, during: string) => BgError;

/**
 * The frame of every adapter call: refuse it once the adapter is closed (`CLOSED`), check
 * the queue name, run it, and turn what it throws into a `BgError` — `CLOSED` when the
 * adapter was closed under it (a pool or connection ended by `close()`), else the adapter's
 * own mapping. Holds the adapter's {@link CloseGuard}.
 *
 * @example
 * ```ts
 * const calls = new AdapterCalls('postgres', mapPgError)
 * send: (queue, messages) => calls.onQueue(queue, 'send', () => insert(queue, messages)),
 * close: async () => { if (!calls.guard.close()) return; await pool.end() },
 * ```
 */
export class AdapterCalls {
  /** Whether the adapter is closed; `guard.close()` in the adapter's `close()`. */
  readonly guard: CloseGuard;

  /**
   * @param adapter The adapter's name, for `CLOSED` messages.
   * @param mapError Backend errors → `BgError`.
   */
  constructor(
    readonly adapter: string,
    readonly mapError: MapError,
  ) {
    this.guard = new CloseGuard(adapter);
  }

  /** The `BgError` a failed call rejects with (see the class). Pure. */
  failure(error: unknown, during: string): BgError {
    if (this.guard.closed && !isBgError(error)) {
      return new BgError('CLOSED', `the ${this.adapter} adapter is closed`, { cause: error });
    }
    return this.mapError(error, during);
  }

  /** Runs a call that names no queue (`listQueues`, `migrate` …). */
  async run<T>(during: string, fn: () => Promise<T>): Promise<T> {
    this.guard.assertOpen();
    try {
      return await fn();
    } catch (error) {
      throw this.failure(error, during);
    }
  }

  /** Runs a call on `queue`, after checking its name (`INVALID_ARGUMENT`). */
  async onQueue<T>(queue: string, during: string, fn: () => Promise<T>): Promise<T> {
    this.guard.assertOpen();
    assertQueueName(queue);
    try {
      return await fn();
    } catch (error) {
      throw this.failure(error, during);
    }
  }
}
