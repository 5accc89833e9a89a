import type { Worker } from './worker.js';

/** Options of {@link stopOnSignals}. */
export interface StopOnSignalsOptions {
  /** Signals to handle (default SIGTERM and SIGINT). */
  readonly signals?: readonly NodeJS.Signals[];
  /** Grace period for the first signal (default: the worker's `graceMs`). */
  readonly graceMs?: number;
  /** Called once every worker has stopped (e.g. close the adapter, then `process.exit(0)`). */
  readonly onStopped?: () => Promise<void> | void;
}

/**
 * Wires SIGTERM/SIGINT to a graceful stop of the given workers: the first signal starts
 * the two-phase stop; a second signal skips the rest of the grace period. Returns a
 * function that removes the listeners.
 *
 * @example
 * ```ts
 * stopOnSignals([worker], { graceMs: 10_000, onStopped: () => adapter.close() })
 * ```
 */
export function stopOnSignals(workers: readonly Worker[], options: StopOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let signalled = false;
  const onSignal = (): void => {
    if (signalled) {
      for (const worker of workers) void worker.stop();
      return;
    }
    signalled = true;
    void Promise.all(workers.map((worker) => worker.stop(options.graceMs !== undefined ? { graceMs: options.graceMs } : {})))
      .then(() => options.onStopped?.())
      .catch(() => {});
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
