import type { BackgroundWork } from './background-work.js';

/**
 * Sleeps `ms` (0 or less: resolves at once), ending early — without an error — as soon as
 * any of the given signals aborts. Listeners and the timer are removed when it ends.
 */
export function abortableSleep(ms: number, ...signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    if (!(ms > 0) || live.some((s) => s.aborted)) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of live) s.addEventListener('abort', done, { once: true });
  });
}

/** The outcome of {@link raceAbort}: the promise's value, or `done: false` when the signal won. */
export type RaceOutcome<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/**
 * Races `promise` against `signal`: `{ done: true, value }` when the promise settles first
 * (a rejection rejects), `{ done: false }` as soon as the signal aborts (at once when it is
 * already aborted). The promise is not cancelled: what it delivers later is the caller's
 * (see {@link raceAbortHandBack}).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<RaceOutcome<T>> {
  if (signal === undefined) return promise.then((value) => ({ done: true as const, value }));
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve({ done: false as const });
  }
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

/** The outcome of {@link raceAbortHandBack}. */
export type HandBackOutcome<T> =
  | { readonly done: true; readonly value: T }
  | {
      readonly done: false;
      /** Settles (never rejects) once the late result was handed back, or the receive failed. */
      readonly handedBack: Promise<void>;
    };

/**
 * An aborted receive that must not lose what it receives later. Races `pending` (a receive
 * call already sent to the backend) against `signal`; when the signal wins, whatever
 * `pending` delivers afterwards is passed to `handBack` (the adapter's own "make these
 * visible again at once": visibility 0, `modifyAckDeadline` 0 …), so a message never sits
 * leased by nobody until its lease runs out. Errors of the late receive and of `handBack`
 * are swallowed (the lease expiry is the fallback).
 *
 * Pass the adapter's {@link BackgroundWork} as `background` and `close()` can await every
 * receive still out, hand-back included: it is tracked from this call on, so a `close()` that
 * aborts the signal and settles at once still waits for it.
 *
 * @example
 * ```ts
 * const outcome = await raceAbortHandBack(pull(), opts.signal, (late) => nack(late), background)
 * if (!outcome.done) return []
 * ```
 */
export async function raceAbortHandBack<T>(
  pending: Promise<T>,
  signal: AbortSignal | undefined,
  handBack: (late: T) => unknown,
  background?: BackgroundWork,
): Promise<HandBackOutcome<T>> {
  let finished: () => void = () => {};
  background?.track(
    new Promise<void>((resolve) => {
      finished = resolve;
    }),
  );
  let outcome: RaceOutcome<T>;
  try {
    outcome = await raceAbort(pending, signal);
  } catch (error) {
    finished();
    throw error;
  }
  if (outcome.done) {
    finished();
    return outcome;
  }
  const handedBack = pending.then(
    async (late) => {
      try {
        await handBack(late);
      } catch {
        // The lease expiry makes them visible again anyway.
      }
    },
    () => undefined,
  );
  void handedBack.then(finished);
  return { done: false, handedBack };
}
