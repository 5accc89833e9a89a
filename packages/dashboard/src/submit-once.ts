import { randomBytes } from 'node:crypto';

/** How long a form's one-time value is remembered after its first submission (ms). */
const REMEMBER_MS = 10 * 60_000;
/** One-time values remembered at most; the oldest go first. */
const MAX_REMEMBERED = 1_000;

interface Submission {
  readonly at: number;
  /** The id of the result the first submission left, or `undefined` when it left none (refused). */
  readonly result: Promise<string | undefined>;
}

/**
 * Makes each mutation form act once. Every rendered form carries a fresh random value
 * (`_once`); the first POST with it acts, and another POST of the same form by the same
 * session (a double click, a resubmission, a page restored by the back button) waits for the
 * first one and is sent to its result instead of acting again (a second enqueue, a second
 * replay of whatever matches by then). Post/Redirect/Get alone covered reloads of the result
 * page, not a form sent twice.
 */
export class SubmitOnce {
  readonly #seen = new Map<string, Submission>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A fresh one-time value for a form. */
  newValue(): string {
    return randomBytes(12).toString('base64url');
  }

  /**
   * Runs `act` for the first submission of `value` by `session`, which resolves to the id of the
   * result it kept (or `undefined` when it answered by itself, e.g. refused the input). Returns
   * `{ again: id }` for a later submission of a form whose first one kept a result, and
   * `{ acted: true }` otherwise. Without a value (a scripted client) `act` always runs.
   */
  async run(
    session: string,
    value: string | null,
    act: () => Promise<string | undefined>,
  ): Promise<{ readonly again: string } | { readonly acted: true }> {
    if (value === null || value === '') {
      await act();
      return { acted: true };
    }
    this.#expire();
    const key = `${session}\u0000${value}`;
    const first = this.#seen.get(key);
    if (first !== undefined) {
      const result = await first.result.catch(() => undefined);
      if (result !== undefined) return { again: result };
    }
    const result = act();
    this.#seen.delete(key);
    this.#seen.set(key, { at: this.#now(), result });
    while (this.#seen.size > MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value as string);
    await result;
    return { acted: true };
  }

  #expire(): void {
    const limit = this.#now() - REMEMBER_MS;
    for (const [key, seen] of this.#seen) {
      if (seen.at >= limit) break; // kept in insertion order: the rest are newer
      this.#seen.delete(key);
    }
  }
}
