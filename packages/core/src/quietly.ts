import type { Logger } from './worker-events.js';

const ignore = (): void => {};

/**
 * Calls an observer (an `onEvent` callback, an instrumentation hook, a logger method) so that it
 * can never break job handling: a throw is swallowed, and so is the rejection of a promise it
 * returns (an async `onEvent` that rejected was an unhandled rejection, which ends the process).
 */
export function quietly(call: () => unknown): void {
  try {
    swallowRejection(call());
  } catch {
    // observability must never break job handling
  }
}

/**
 * {@link quietly} for a listener called with one argument, `listener.call(self, arg)`: the same
 * protection without a closure per call (the worker's `onEvent` gets a few events per job).
 */
export function quietlyNotify<A>(listener: (this: unknown, arg: A) => unknown, self: unknown, arg: A): void {
  try {
    swallowRejection(listener.call(self, arg));
  } catch {
    // observability must never break job handling
  }
}

/** Swallows the rejection of `result` when it is a promise or another thenable. */
function swallowRejection(result: unknown): void {
  if (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
    (result as PromiseLike<unknown>).then(undefined, ignore);
  }
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** `logger` with each method called {@link quietly}: a logger that throws cannot fail a job or a stop. */
export function quietLogger(logger: Logger): Logger {
  const quiet: { -readonly [K in keyof Logger]: Logger[K] } = {};
  for (const level of LEVELS) {
    const method = logger[level];
    if (typeof method === 'function') {
      quiet[level] = (message, data) => quietly(() => method.call(logger, message, data));
    }
  }
  return quiet;
}
