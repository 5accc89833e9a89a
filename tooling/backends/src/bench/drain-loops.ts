import { abortableSleep } from '@bg/core/adapter';

/** Options of {@link startDrain}. */
export interface DrainOptions<T> {
  /** Jobs to settle; the drain is done when this many were settled. */
  readonly jobs: number;
  /** Receive loops running at once. */
  readonly loops: number;
  /** One receive. When `signal` aborts it must resolve (or reject) soon. */
  receive(signal: AbortSignal): Promise<readonly T[]>;
  /** Settles (acks, deletes) one received batch; resolves when the backend confirmed it. */
  settle(batch: readonly T[]): Promise<void>;
  /** Pause of a loop after an empty receive, ms (default none: for long polls). */
  readonly pauseWhenEmptyMs?: number;
}

/** A running drain: see {@link startDrain}. */
export interface Drain {
  /** Resolves when the last job's settle was confirmed (the event every contestant stops at). */
  readonly done: Promise<void>;
  /** Aborts the receives still open (a long poll past the last job) and waits for every loop. */
  close(): Promise<void>;
}

/**
 * The benches' consumer loop, the same for a raw client and an adapter: `loops` loops each
 * receive a batch and settle it while receiving the next (at most one settle in flight per
 * loop, as a hand-written pipelined consumer would). `done` resolves at the confirmation
 * of the last job's settle; no contestant pays for a long poll still open then.
 */
export function startDrain<T>(options: DrainOptions<T>): Drain {
  const stop = new AbortController();
  let settled = 0;
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const loop = async (): Promise<void> => {
    let previous: Promise<void> = Promise.resolve();
    try {
      while (!stop.signal.aborted) {
        const got = await options.receive(stop.signal);
        if (got.length === 0) {
          if (options.pauseWhenEmptyMs !== undefined && !stop.signal.aborted) {
            await abortableSleep(options.pauseWhenEmptyMs, stop.signal);
          }
          continue;
        }
        await previous;
        previous = options.settle(got).then(() => {
          settled += got.length;
          if (settled >= options.jobs) finish();
        });
      }
      await previous;
    } catch (error) {
      if (!stop.signal.aborted) fail(error);
    }
  };
  const running = Array.from({ length: options.loops }, loop);
  return {
    done,
    async close() {
      stop.abort();
      await Promise.all(running);
    },
  };
}
