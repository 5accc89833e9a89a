import type { RoundResult } from './round-result.js';

/** Requests by key since counting started (a key ending in " max" is a peak, not a count). */
export type RequestCounts = Record<string, number>;

/**
 * Counts a bench's requests by key, for every client of the process (the bench wraps the SDK's
 * methods and calls {@link RequestCounter.add} / {@link RequestCounter.started}), and keeps
 * one count record per round of each contestant ({@link RequestCounter.counted}) for
 * {@link printRequestTable}.
 */
export class RequestCounter {
  readonly #counts: RequestCounts = {};
  readonly #inFlight = new Map<string, number>();
  /** Contestant name → the counts of each of its rounds. */
  readonly perRound = new Map<string, RequestCounts[]>();

  /** Adds `n` to `key`. */
  add(key: string, n = 1): void {
    this.#counts[key] = (this.#counts[key] ?? 0) + n;
  }

  /**
   * A request of kind `key` started: tracks the most of them in flight at once as
   * `"<key> in flight max"`. Call the returned function once it has settled.
   */
  started(key: string): () => void {
    const now = (this.#inFlight.get(key) ?? 0) + 1;
    this.#inFlight.set(key, now);
    const max = `${key} in flight max`;
    if (now > (this.#counts[max] ?? 0)) this.#counts[max] = now;
    return () => {
      this.#inFlight.set(key, (this.#inFlight.get(key) ?? 1) - 1);
    };
  }

  /** The live counts. */
  counts(): Readonly<RequestCounts> {
    return this.#counts;
  }

  /** Starts a round: every in-flight maximum restarts from what is in flight now; returns a copy to diff against. */
  roundStart(): RequestCounts {
    for (const [key, n] of this.#inFlight) this.#counts[`${key} in flight max`] = n;
    return { ...this.#counts };
  }

  /** The counts since `before` ({@link roundStart}); in-flight maxima are the round's own. */
  countsSince(before: Readonly<RequestCounts>): RequestCounts {
    const out: RequestCounts = {};
    for (const [key, value] of Object.entries(this.#counts)) out[key] = key.endsWith(' max') ? value : value - (before[key] ?? 0);
    return out;
  }

  /** `round`, with the requests it made recorded under `name` (one record per round). */
  counted(name: string, round: () => Promise<RoundResult>): () => Promise<RoundResult> {
    return async () => {
      const before = this.roundStart();
      const result = await round();
      this.perRound.set(name, [...(this.perRound.get(name) ?? []), this.countsSince(before)]);
      return result;
    };
  }
}
