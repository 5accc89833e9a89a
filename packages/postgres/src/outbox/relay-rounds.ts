import { BgError } from '@bg/core';
import type { CheckedOutClient } from '../checked-out-client.js';

/** A row `stop()` abandoned: it stays in the outbox (unless the abandoned commit went through) and is relayed again. */
export interface AbandonedRow {
  /** The row's `seq` in `<schema>.outbox`. */
  readonly seq: string;
  /** The job id. */
  readonly id: string;
  /** The target queue. */
  readonly queue: string;
}

/** A relay round running now, as `stop()` sees it. */
export interface RoundInFlight {
  /** Set by `stop()` when it gave up waiting: the round touches neither the target nor its client again. */
  abandoned: boolean;
  /** Its client, once checked out (`stop()` closes it when it abandons the round). */
  held: CheckedOutClient | undefined;
  /** The rows it took. */
  rows: readonly AbandonedRow[];
}

/**
 * Thrown inside a round `stop()` abandoned, so that it unwinds without a report (and what a
 * `forwardOnce()` abandoned so rejects with).
 */
export const ABANDONED = new BgError(
  'CLOSED',
  'relay.stop() abandoned this round after its graceMs: its transaction was rolled back, its rows stay in the outbox',
  { retryable: false },
);

/** Throws {@link ABANDONED} when `stop()` gave up on the round: it must touch neither the target nor its client again. */
export function stillRunning(state: RoundInFlight): void {
  if (state.abandoned) throw ABANDONED;
}

/** The rounds of one relay running now (the loop's and `forwardOnce()`'s): what `stop()` waits for, then abandons. */
export class RoundsInFlight {
  readonly #rounds = new Map<RoundInFlight, Promise<void>>();

  /** Runs `fn` as a round, tracked until it ends, however it ends. */
  async run<T>(fn: (state: RoundInFlight) => Promise<T>): Promise<T> {
    const state: RoundInFlight = { abandoned: false, held: undefined, rows: [] };
    let settle!: () => void;
    this.#rounds.set(state, new Promise((resolve) => (settle = resolve)));
    try {
      return await fn(state);
    } finally {
      this.#rounds.delete(state);
      settle();
    }
  }

  /** Resolves when every round running now has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.#rounds.values());
  }

  /**
   * Gives up on the rounds still running: marks them abandoned and closes their connections (the
   * server rolls their transactions back, so their rows stay in the outbox). Returns how many
   * rounds, and their rows.
   */
  abandonAll(): { readonly rounds: number; readonly rows: AbandonedRow[] } {
    const rows: AbandonedRow[] = [];
    const rounds = this.#rounds.size;
    for (const state of this.#rounds.keys()) {
      state.abandoned = true;
      state.held?.release(true);
      for (const r of state.rows) rows.push({ seq: r.seq, id: r.id, queue: r.queue });
    }
    this.#rounds.clear();
    return { rounds, rows };
  }
}

/** `promise`'s value, or `otherwise` when it has not settled after `ms`. */
export async function within<T, U>(promise: Promise<T>, ms: number, otherwise: U): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<U>((resolve) => (timer = setTimeout(() => resolve(otherwise), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
