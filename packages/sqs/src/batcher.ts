import { SQS_MAX_BATCH } from './capabilities.js';

/** The outcome of one entry of a batch call. */
export type EntryResult<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

interface Pending<E, R> {
  readonly entry: E;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Batch calls of one {@link Batcher} in flight at most; the others wait their turn. The SDK holds
 * 50 sockets per client: thousands of calls sent at once wait for one, and its connection
 * timeout counts that wait, so they failed `UNREACHABLE` (20 000 extends in one turn).
 */
export const BATCH_CALLS_IN_FLIGHT = 32;

/**
 * Coalesces single calls made in the same turn of the event loop into SQS batch calls of
 * up to 10 entries per key (queue URL), {@link BATCH_CALLS_IN_FLIGHT} in flight at most. Each
 * caller gets its own entry's outcome: a failed entry rejects only its caller and is never
 * reported as done.
 */
export class Batcher<E, R> {
  readonly #run: (key: string, entries: readonly E[]) => Promise<readonly EntryResult<R>[]>;
  readonly #pending = new Map<string, Pending<E, R>[]>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Batches waiting for a call in flight to end. */
  readonly #queued: [string, Pending<E, R>[]][] = [];
  #timer: ReturnType<typeof setImmediate> | undefined;

  /** `run` sends one batch and returns one result per entry, in order; if it throws, every entry fails. */
  constructor(run: (key: string, entries: readonly E[]) => Promise<readonly EntryResult<R>[]>) {
    this.#run = run;
  }

  /** Adds one entry; resolves or rejects with that entry's outcome. */
  add(key: string, entry: E): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let list = this.#pending.get(key);
      if (!list) {
        list = [];
        this.#pending.set(key, list);
      }
      list.push({ entry, resolve, reject });
      if (list.length >= SQS_MAX_BATCH) {
        this.#pending.delete(key);
        this.#send(key, list);
      } else if (this.#timer === undefined) {
        this.#timer = setImmediate(() => this.flush());
      }
    });
  }

  /** Sends everything pending now. */
  flush(): void {
    if (this.#timer !== undefined) clearImmediate(this.#timer);
    this.#timer = undefined;
    const all = [...this.#pending];
    this.#pending.clear();
    for (const [key, list] of all) this.#send(key, list);
  }

  /** Sends what is pending and waits until every batch call has settled (those waiting their turn too). */
  async drain(): Promise<void> {
    this.flush();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #send(key: string, list: Pending<E, R>[]): void {
    if (this.#inFlight.size >= BATCH_CALLS_IN_FLIGHT) {
      this.#queued.push([key, list]);
      return;
    }
    const call = (async () => {
      let results: readonly EntryResult<R>[];
      try {
        results = await this.#run(
          key,
          list.map((p) => p.entry),
        );
      } catch (error) {
        for (const p of list) p.reject(error);
        return;
      }
      list.forEach((p, i) => {
        const result = results[i];
        if (result === undefined) p.reject(new Error('SQS batch answer is missing an entry'));
        else if (result.ok) p.resolve(result.value);
        else p.reject(result.error);
      });
    })();
    this.#inFlight.add(call);
    void call.finally(() => {
      this.#inFlight.delete(call);
      const next = this.#queued.shift();
      if (next !== undefined) this.#send(next[0], next[1]);
    });
  }
}
