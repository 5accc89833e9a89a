import type pg from 'pg';

/**
 * LISTEN/NOTIFY wake-ups for idle receivers: one connection (taken from the pool and kept)
 * listens on the schema's channel; every send, release(0) and replay notifies with the queue
 * name. A receiver registers before it looks at the table (a generation counter per queue),
 * so a notification between its empty look and its wait is never missed. When the listening
 * connection is down, waits fall back to their bounded timer (the poll interval).
 */
export class Wakeups {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #generations = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #client: pg.PoolClient | undefined;
  #connecting: Promise<void> | undefined;
  #lastAttempt = 0;
  #closed = false;

  constructor(pool: pg.Pool, channel: string) {
    this.#pool = pool;
    this.#channel = channel;
  }

  /** Whether the LISTEN connection is up. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Notifications seen for `queue` so far. */
  generation(queue: string): number {
    return this.#generations.get(queue) ?? 0;
  }

  /** Starts listening (at most one attempt a second); never rejects: waits then poll instead. */
  listen(): Promise<void> {
    if (this.#client !== undefined || this.#closed) return Promise.resolve();
    if (this.#connecting !== undefined) return this.#connecting;
    if (Date.now() - this.#lastAttempt < 1_000) return Promise.resolve();
    this.#lastAttempt = Date.now();
    this.#connecting = (async () => {
      let client: pg.PoolClient | undefined;
      try {
        client = await this.#pool.connect();
        const current = client;
        current.on('notification', (n) => {
          if (n.channel === this.#channel && n.payload !== undefined) this.#wake(n.payload);
        });
        current.on('error', () => this.#drop(current, true));
        current.on('end', () => this.#drop(current, true));
        await current.query(`listen "${this.#channel}"`);
        if (this.#closed) {
          current.release();
          return;
        }
        this.#client = current;
        // Anything sent while we were not listening: let every waiter look again.
        this.wakeAll();
      } catch {
        if (client !== undefined) this.#drop(client, true);
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  #drop(client: pg.PoolClient, broken: boolean): void {
    if (this.#client === client) this.#client = undefined;
    try {
      client.release(broken);
    } catch {
      // released already
    }
  }

  #wake(queue: string): void {
    this.#generations.set(queue, this.generation(queue) + 1);
    const waiting = this.#waiters.get(queue);
    if (waiting === undefined) return;
    this.#waiters.delete(queue);
    for (const wake of waiting) wake();
  }

  /** Wakes every waiter (close, reconnect). */
  wakeAll(): void {
    for (const queue of [...this.#waiters.keys()]) this.#wake(queue);
  }

  /**
   * Waits until a notification for `queue` arrives after generation `since`, `ms` pass, or
   * `signal` aborts.
   */
  wait(queue: string, since: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.generation(queue) !== since || this.#closed || signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let waiting = this.#waiters.get(queue);
      if (waiting === undefined) {
        waiting = new Set();
        this.#waiters.set(queue, waiting);
      }
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.get(queue)?.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Stops listening and wakes every waiter. */
  async close(): Promise<void> {
    this.#closed = true;
    this.wakeAll();
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    try {
      await client.query(`unlisten "${this.#channel}"`);
      client.release();
    } catch {
      client.release(true);
    }
  }
}
