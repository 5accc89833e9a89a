import { SQS_MAX_BATCH } from './capabilities.js';

/**
 * Splits a receive of more than 10 messages (SQS's most per `ReceiveMessage`) into parallel
 * calls while a backlog waits. A receive is one call of up to 10 unless the last receive of
 * the queue found a backlog (every call came back full); then a receive of `max` is
 * `ceil(max / 10)` calls that together ask for `max`, all short polls (`WaitTimeSeconds` 0),
 * so a receive never waits out a long poll for messages another call of it already got (their
 * lease would run out meanwhile). An idle queue costs one call per long poll, as before.
 */
export class ReceiveFanout {
  #backlog = false;

  /** The sizes of the calls for a receive of `max` messages (they sum to at most `max`). */
  plan(max: number): number[] {
    if (!this.#backlog || max <= SQS_MAX_BATCH) return [Math.min(max, SQS_MAX_BATCH)];
    const n = Math.ceil(max / SQS_MAX_BATCH);
    const base = Math.floor(max / n);
    return Array.from({ length: n }, (_, i) => base + (i < max % n ? 1 : 0));
  }

  /** Records what the calls of one receive returned (`got[i]` for the call that asked `asked[i]`). */
  record(asked: readonly number[], got: readonly number[]): void {
    this.#backlog = asked.every((n, i) => (got[i] ?? 0) >= n);
  }
}
