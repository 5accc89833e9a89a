import { BgError } from './errors.js';
import { checkDuration, checkOptionalFunction, checkOptionsObject } from './option-checks.js';
import { redactText } from './redact.js';
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
 * the two-phase stop; a second signal skips the rest of the grace period. Once the stop has
 * ended (after `onStopped`), or after that second signal, the listeners are removed, so that a
 * further signal ends the process as it would without them. A stop or `onStopped` that fails is
 * reported as a process warning (redacted) and sets `process.exitCode` to 1. Returns a function
 * that removes the listeners.
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
  const dispose = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  const onSignal = (): void => {
    if (signalled) {
      // The second signal skips the rest of the grace period; from then on a signal has its
      // default effect again (a third Ctrl-C ends the process).
      dispose();
      for (const worker of workers) void worker.stop();
      return;
    }
    signalled = true;
    void Promise.all(workers.map((worker) => worker.stop(options.graceMs !== undefined ? { graceMs: options.graceMs } : {})))
      .then(() => options.onStopped?.(workers.map((worker) => worker.lastStop)))
      .catch(reportStopFailure)
      .finally(dispose);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return dispose;
}

/**
 * A stop or an `onStopped` callback that failed on a signal: nobody awaits it, so it is said
 * (a process warning, redacted) and the process exit code is set to 1.
 */
function reportStopFailure(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.exitCode = 1;
  process.emitWarning(`stopOnSignals: the stop on a signal failed: ${redactText(message)}`, { code: 'BG_STOP_FAILED' });
}
