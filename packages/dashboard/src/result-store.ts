import { randomBytes } from 'node:crypto';

/** How long the result of a form's POST stays readable at its address (ms). */
export const RESULT_TTL_MS = 10 * 60_000;
/** Results kept at most; the oldest go first. */
const MAX_RESULTS = 200;

interface Kept<T> {
  readonly session: string;
  readonly value: T;
  readonly at: number;
}

/**
 * The results of mutations, kept briefly so that a POST can answer with a redirect to a page
 * that shows its result (Post/Redirect/Get): reloading that page reads the result again
 * instead of submitting the form again (a second enqueue, or a replay of whatever matches the
 * filter by then). Each result is readable only by the session that made it.
 */
export class ResultStore<T> {
  readonly #kept = new Map<string, Kept<T>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Keeps `value` for `session`; returns the id its page is addressed by. */
  put(session: string, value: T): string {
    this.#expire();
    while (this.#kept.size >= MAX_RESULTS) {
      const oldest = this.#kept.keys().next().value as string;
      this.#kept.delete(oldest);
    }
    const id = randomBytes(12).toString('base64url');
    this.#kept.set(id, { session, value, at: this.#now() });
    return id;
  }

  /** The result `id` of `session`, while it is kept. */
  get(session: string | undefined, id: string | null): T | undefined {
    if (session === undefined || id === null) return undefined;
    this.#expire();
    const kept = this.#kept.get(id);
    return kept !== undefined && kept.session === session ? kept.value : undefined;
  }

  #expire(): void {
    const limit = this.#now() - RESULT_TTL_MS;
    for (const [id, kept] of this.#kept) {
      if (kept.at >= limit) break; // kept in insertion order: the rest are newer
      this.#kept.delete(id);
    }
  }
}
