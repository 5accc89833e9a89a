import { randomBytes } from 'node:crypto';

/** How long the result of a form's POST stays readable at its address (ms). */
export const RESULT_TTL_MS = 10 * 60_000;
/** Results kept at most for one session; its oldest go first (it never evicts another session's). */
export const MAX_RESULTS_PER_SESSION = 20;
/** Results kept at most in all; the oldest go first. */
export const MAX_RESULTS = 1_000;

interface Kept<T> {
  readonly session: string;
  readonly value: T;
  readonly at: number;
}

/**
 * The results of mutations, kept briefly so that a POST can answer with a redirect to a page
 * that shows its result (Post/Redirect/Get): reloading that page reads the result again
 * instead of submitting the form again (a second enqueue, or a replay of whatever matches the
 * filter by then). Each result is readable only by the session that made it, under a random id
 * (96 bits); a session keeps at most {@link MAX_RESULTS_PER_SESSION}, so one busy session (or a
 * script) cannot push the results of the others out, and all of them at most {@link MAX_RESULTS}.
 */
export class ResultStore<T> {
  /** By id, oldest first. */
  readonly #kept = new Map<string, Kept<T>>();
  /** The ids of each session, oldest first. */
  readonly #bySession = new Map<string, string[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Keeps `value` for `session`; returns the id its page is addressed by. */
  put(session: string, value: T): string {
    this.#expire();
    const own = this.#bySession.get(session) ?? [];
    while (own.length >= MAX_RESULTS_PER_SESSION) this.#kept.delete(own.shift() as string);
    while (this.#kept.size >= MAX_RESULTS) this.#drop(this.#kept.keys().next().value as string);
    const id = randomBytes(12).toString('base64url');
    this.#kept.set(id, { session, value, at: this.#now() });
    own.push(id);
    this.#bySession.set(session, own);
    return id;
  }

  /** The result `id` of `session`, while it is kept. */
  get(session: string | undefined, id: string | null): T | undefined {
    if (session === undefined || id === null) return undefined;
    this.#expire();
    const kept = this.#kept.get(id);
    return kept !== undefined && kept.session === session ? kept.value : undefined;
  }

  /** Results kept now (all sessions). */
  get size(): number {
    return this.#kept.size;
  }

  #drop(id: string): void {
    const kept = this.#kept.get(id);
    if (kept === undefined) return;
    this.#kept.delete(id);
    const own = this.#bySession.get(kept.session);
    const at = own?.indexOf(id) ?? -1;
    if (own !== undefined && at >= 0) own.splice(at, 1);
    if (own?.length === 0) this.#bySession.delete(kept.session);
  }

  #expire(): void {
    const limit = this.#now() - RESULT_TTL_MS;
    for (const [id, kept] of this.#kept) {
      if (kept.at >= limit) break; // kept in insertion order: the rest are newer
      this.#drop(id);
    }
  }
}
