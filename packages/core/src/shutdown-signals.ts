import { BgError } from './errors.js';
import { checkDuration, checkOptionalFunction, checkOptionsObject } from './option-checks.js';
import type { StopReport } from './stop-report.js';
import type { Worker } from './worker.js';

/** Signals a process cannot catch: listening for them fails (EINVAL). */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

/** Options of {@link stopOnSignals}. */
export interface StopOnSignalsOptions {
  /** Signals to handle (default SIGTERM and SIGINT). */
  readonly signals?: readonly NodeJS.Signals[];
  /** Grace period for the first signal (default: the worker's `graceMs`). */
  readonly graceMs?: number;
  /**
   * Called once every worker has stopped (e.g. close the adapter, then `process.exit(0)`), with
   * each worker's stop report ({@link Worker.lastStop}; in the order of `workers`): what each
   * handed back and left to its lease.
   */
  readonly onStopped?: (reports: readonly (StopReport | undefined)[]) => Promise<void> | void;
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
  // Checked now: a mistake found only when the signal comes would crash the process instead of stopping it.
  if (!Array.isArray(workers) || workers.some((w) => typeof (w as Partial<Worker> | null)?.stop !== 'function')) {
    throw new BgError('INVALID_ARGUMENT', 'stopOnSignals needs an array of workers (from createWorker)');
  }
  checkOptionsObject('stopOnSignals options', options);
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !/^SIG[A-Z0-9]+$/.test(s) || UNCATCHABLE.has(s))) {
    throw new BgError('INVALID_ARGUMENT', 'stopOnSignals signals must be an array of catchable signal names such as ["SIGTERM"]');
  }
  if (options.graceMs !== undefined) checkDuration('graceMs', options.graceMs);
  checkOptionalFunction('onStopped', options.onStopped);
  let signalled = false;
  const onSignal = (): void => {
    if (signalled) {
      for (const worker of workers) void worker.stop();
      return;
    }
    signalled = true;
    void Promise.all(workers.map((worker) => worker.stop(options.graceMs !== undefined ? { graceMs: options.graceMs } : {})))
      .then(() => options.onStopped?.(workers.map((worker) => worker.lastStop)))
      .catch(() => {});
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
