import type { Adapter, DeadLetter, DeadLetterPage } from '../adapter.js';
import { latestPerJob, pageDeadLetters } from './dead-letter-page.js';
import { KeyedMutex, type SectionLock } from './keyed-mutex.js';
import { checkPageOptions, checkPurgeIds } from './receive-checks.js';

/**
 * What an adapter maps onto its backend for a {@link DeadLetterStore}: the few calls that
 * differ per backend. `R` is the backend's record: a stored dead letter plus whatever
 * removing it needs (a receipt, a pop receipt, an ack id, a stream id …).
 */
export interface DeadLetterBackend<R> {
  /**
   * Every record of the queue's dead-letter store, in any order, duplicates of a job
   * included. `intent` is `'write'` when records may be removed afterwards (they must carry
   * what `remove` needs) and `'read'` for listings (a backend may peek instead). A backend
   * whose scan hides the records it reads (receive with a visibility timeout) implements
   * `restore`.
   */
  scan(queue: string, intent: 'read' | 'write'): Promise<readonly R[]>;
  /** The dead letter a record holds. Pure. */
  letterOf(record: R): DeadLetter;
  /** Removes records for good; a record removed already is not an error. */
  remove(queue: string, records: readonly R[]): Promise<void>;
  /**
   * Writes a dead letter back to the live queue: same id, body and attributes, a fresh
   * delivery count. The store removes the dead letter only after it resolved.
   */
  requeue(queue: string, letter: DeadLetter): Promise<void>;
  /**
   * Optional: makes scanned records visible again at once, for backends whose scan hides
   * them. Called after every scan with every record not removed. A failure is ignored: the
   * records come back when the scan's visibility timeout ends.
   */
  restore?(queue: string, records: readonly R[]): Promise<void>;
  /** Optional: the records of one job id without a scan (random-access stores). */
  find?(queue: string, id: string): Promise<readonly R[]>;
  /**
   * Optional, for backends whose one scan may stop short of the whole store (a record limit,
   * a deadline, records another receive hides for a moment): how many records the store holds
   * now (approximate counts do). A purge of every dead letter then scans again while its last
   * scan removed something and records remain, up to the number there when it began.
   */
  remaining?(queue: string): Promise<number>;
}

/** Options of {@link DeadLetterStore}. */
export interface DeadLetterStoreOptions {
  /**
   * The lock serialising the store's sections per queue (default: a new `KeyedMutex`).
   * Conformance tests pass a lock that does not lock, to prove a case catches it.
   */
  readonly lock?: SectionLock;
}

/**
 * The dead-letter side of an adapter — list, get, replay, purge — over a
 * {@link DeadLetterBackend}. It gives every adapter the same behaviour:
 * - one cursor format and oldest-first paging (see `pageDeadLetters`);
 * - the latest record per job id; older copies (a crash between dead-letter and ack) are
 *   deleted whenever a scan sees them (compaction, best effort);
 * - replay writes the live message first and removes the dead letter second (a crash in
 *   between leaves a duplicate, never a loss);
 * - mutations of one queue run one at a time in this process (and reads too when scans hide
 *   records), so two concurrent replays or purges never hide each other's records. Processes
 *   do not share the lock: run dead-letter management from one process at a time.
 */
export class DeadLetterStore<R> {
  readonly #backend: DeadLetterBackend<R>;
  readonly #lock: SectionLock;
  /** Reads need the lock only when a scan hides what it reads. */
  readonly #readsLock: boolean;

  constructor(backend: DeadLetterBackend<R>, options: DeadLetterStoreOptions = {}) {
    this.#backend = backend;
    this.#lock = options.lock ?? new KeyedMutex();
    this.#readsLock = backend.restore !== undefined;
  }

  /** A page of dead letters, oldest first (`limit` default 100; `INVALID_ARGUMENT` on a bad cursor or limit). */
  async list(queue: string, options: { readonly limit?: number; readonly cursor?: string } = {}): Promise<DeadLetterPage> {
    // Check limit and cursor before any I/O.
    pageDeadLetters([], options);
    return await this.#read(queue, () =>
      this.#scanned(queue, 'read', async (live) =>
        pageDeadLetters(
          live.map((r) => this.#backend.letterOf(r)),
          options,
        ),
      ),
    );
  }

  /** The latest dead letter of a job id, or undefined. */
  get(queue: string, id: string): Promise<DeadLetter | undefined> {
    return this.#read(queue, () =>
      this.#withRecordsOf(queue, id, 'read', async (live) => {
        const latest = latestPerJob(live, (r) => this.#backend.letterOf(r)).latest[0];
        return latest === undefined ? undefined : this.#backend.letterOf(latest);
      }),
    );
  }

  /**
   * Moves the dead letter of `id` back to the live queue (live write first, then every
   * record of the job removed). False when there is none.
   */
  replay(queue: string, id: string): Promise<boolean> {
    return this.exclusive(queue, () =>
      this.#withRecordsOf(queue, id, 'write', async (live, remove) => {
        const latest = latestPerJob(live, (r) => this.#backend.letterOf(r)).latest[0];
        if (latest === undefined) return false;
        await this.#backend.requeue(queue, this.#backend.letterOf(latest));
        await remove(live);
        return true;
      }),
    );
  }

  /** Deletes the dead letters of the given job ids, or all of them; resolves how many jobs were removed. */
  purge(queue: string, ids?: readonly string[]): Promise<number> {
    return this.exclusive(queue, async () => {
      if (ids !== undefined && this.#backend.find !== undefined) {
        let n = 0;
        for (const id of new Set(ids)) {
          const found = await this.#withRecordsOf(queue, id, 'write', async (live, remove) => {
            await remove(live);
            return live.length > 0;
          });
          if (found) n++;
        }
        return n;
      }
      const wanted = ids === undefined ? undefined : new Set(ids);
      const round = (): Promise<number> =>
        this.#scanned(queue, 'write', async (live, remove) => {
          const targets = wanted === undefined ? live : live.filter((r) => wanted.has(this.#backend.letterOf(r).id));
          await remove(targets);
          return new Set(targets.map((r) => this.#backend.letterOf(r).id)).size;
        });
      const { remaining } = this.#backend;
      if (wanted !== undefined || remaining === undefined) return await round();
      // One scan may stop short (see `remaining`): scan again while the last round removed
      // something and records remain, until as many as the store held at the start are gone
      // (dead letters written meanwhile do not keep a purge going for ever).
      const atStart = await remaining.call(this.#backend, queue);
      let removed = 0;
      for (let last = await round(); ; last = await round()) {
        removed += last;
        if (last === 0 || removed >= atStart || (await remaining.call(this.#backend, queue)) === 0) return removed;
      }
    });
  }

  /**
   * The four dead-letter methods of an adapter, delegating to this store after `open(queue)`
   * (the adapter's own checks: closed, queue name …). Spread them into the adapter object.
   */
  adapterMethods(
    open: (queue: string) => void,
  ): Pick<Adapter, 'listDeadLetters' | 'getDeadLetter' | 'replayDeadLetter' | 'purgeDeadLetters'> {
    return {
      listDeadLetters: async (queue, options) => {
        open(queue);
        return this.list(queue, checkPageOptions(options));
      },
      getDeadLetter: async (queue, id) => {
        open(queue);
        return this.get(queue, id);
      },
      replayDeadLetter: async (queue, id) => {
        open(queue);
        return this.replay(queue, id);
      },
      purgeDeadLetters: async (queue, ids) => {
        open(queue);
        return this.purge(queue, checkPurgeIds(ids));
      },
    };
  }

  /** Runs `fn` under the queue's lock, one at a time with every other mutation of that queue. */
  exclusive<T>(queue: string, fn: () => Promise<T>): Promise<T> {
    return this.#lock.run(queue, fn);
  }

  #read<T>(queue: string, fn: () => Promise<T>): Promise<T> {
    return this.#readsLock ? this.exclusive(queue, fn) : fn();
  }

  /**
   * Runs `use` with the records of one job: found by `find` when the backend has it, else
   * by a full scan (and `use` runs inside it, before the scanned records are handed back).
   */
  #withRecordsOf<T>(
    queue: string,
    id: string,
    intent: 'read' | 'write',
    use: (live: readonly R[], remove: (records: readonly R[]) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const backend = this.#backend;
    if (backend.find !== undefined) {
      const find = backend.find.bind(backend);
      return find(queue, id).then((live) =>
        use(live, (records) => (records.length === 0 ? Promise.resolve() : backend.remove(queue, records))),
      );
    }
    return this.#scanned(queue, intent, (live, remove) =>
      use(
        live.filter((r) => backend.letterOf(r).id === id),
        remove,
      ),
    );
  }

  /**
   * Scans, compacts (removes superseded copies), runs `use` with the records left, then
   * hands every record not removed back (`restore`).
   */
  async #scanned<T>(
    queue: string,
    intent: 'read' | 'write',
    use: (live: readonly R[], remove: (records: readonly R[]) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    const backend = this.#backend;
    const records = await backend.scan(queue, intent);
    const removed = new Set<R>();
    const remove = async (targets: readonly R[]): Promise<void> => {
      const fresh = targets.filter((r) => !removed.has(r));
      if (fresh.length === 0) return;
      await backend.remove(queue, fresh);
      for (const r of fresh) removed.add(r);
    };
    try {
      const { superseded } = latestPerJob(records, (r) => backend.letterOf(r));
      if (superseded.length > 0) await remove(superseded).catch(() => undefined);
      return await use(
        records.filter((r) => !removed.has(r)),
        remove,
      );
    } finally {
      if (backend.restore !== undefined) {
        const left = records.filter((r) => !removed.has(r));
        if (left.length > 0) await backend.restore(queue, left).catch(() => undefined);
      }
    }
  }
}
