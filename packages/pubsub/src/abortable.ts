/** Sleeps `ms`, ending early (without error) when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Races `promise` against `signal`: resolves `{ done: true, value }` when the promise
 * settles first, `{ done: false }` as soon as the signal aborts. The caller decides what
 * to do with a promise that settles later (`late`).
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<{ done: true; value: T } | { done: false }> {
  if (!signal) return promise.then((value) => ({ done: true as const, value }));
  if (signal.aborted) return Promise.resolve({ done: false as const });
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve({ done: false });
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ done: true, value });
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
