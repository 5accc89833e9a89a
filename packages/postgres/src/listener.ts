import { settleWithin } from '@bg/core/adapter';
import pg from 'pg';

/** Longest the LISTEN connection's goodbye may take before its socket is destroyed. */
const END_WAIT_MS = 1_000;

/**
 * How often, while receivers wait, the LISTEN connection is checked with a `select 1`. A
 * connection the network forgot (a NAT or firewall idle timeout, a failed-over host: no RST
 * ever comes) gives no error by itself: without the check, notifications were lost for good and
 * every idle receive waited for its deadline or the fallback poll.
 */
const PING_EVERY_MS = 5_000;
/** Longest that check may take before the connection is given up (and made again). */
const PING_TIMEOUT_MS = 3_000;

/**
 * Ends `client`, destroying its socket when the goodbye is not answered within
 * {@link END_WAIT_MS}: on a black-holed or half-open connection `end()` waits for ever for the
 * server's side to close (and the open socket would keep the process alive).
 */
async function endConnection(client: pg.Client): Promise<void> {
  await settleWithin(client.end(), END_WAIT_MS);
  // node-postgres's connection object (typed only by later @types/pg): its socket.
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/**
 * LISTEN/NOTIFY wake-ups for idle receivers: one connection of its own (a `pg.Client` made
 * from the pool's connection settings, never one of the pool's: a pool of one connection, or
 * one whose connections are all busy, keeps working) listens on the schema's channel; every
 * send, release and replay notifies with the queue name. A receiver registers before it looks
 * at the table (a generation counter per queue), so a notification between its empty look
 * and its wait is never missed. When the listening connection drops, every waiter is woken
 * to look again, and waits fall back to a brisk poll until it is back.
 */
export class Wakeups {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #generations = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #lastAttempt = 0;
  #lastPing = 0;
  #closed = false;

  /**
   * @param pool The pool whose connection settings the LISTEN connection copies (it takes
   *   none of the pool's connections).
   * @param channel The channel to listen on.
   */
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

  /** A client of its own with the pool's connection settings (its custom `Client` class too). */
  #newClient(): pg.Client {
    // `pool.options` is typed only by recent @types/pg: read it structurally (the floor's types lack it).
    const options = ((this.#pool as unknown as { options?: pg.PoolConfig }).options ?? {}) as pg.PoolConfig & {
      Client?: typeof pg.Client;
    };
    const Client = options.Client ?? pg.Client;
    return new Client(options);
  }

  /** Starts listening (at most one attempt a second); never rejects: waits then poll instead. */
  listen(): Promise<void> {
    if (this.#client !== undefined || this.#closed) return Promise.resolve();
    if (this.#connecting !== undefined) return this.#connecting;
    if (Date.now() - this.#lastAttempt < 1_000) return Promise.resolve();
    this.#lastAttempt = Date.now();
    this.#connecting = (async () => {
      let client: pg.Client | undefined;
      try {
        client = this.#newClient();
        const current = client;
        // Errors of this connection are never shown (they may name the server): a drop only
        // makes waits poll until the next attempt.
        current.on('error', () => this.#drop(current));
        current.on('end', () => this.#drop(current));
        current.on('notification', (n) => {
          if (n.channel === this.#channel && n.payload !== undefined) this.#wake(n.payload);
        });
        await current.connect();
        await current.query(`listen "${this.#channel}"`);
        if (this.#closed) {
          this.#drop(current);
          return;
        }
        this.#client = current;
        this.#lastPing = Date.now();
        // Anything sent while we were not listening: let every waiter look again.
        this.wakeAll();
      } catch {
        if (client !== undefined) this.#drop(client);
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  /** Ends `client`; when it was the LISTEN connection, wakes every waiter (it may have missed a notification). */
  #drop(client: pg.Client): void {
    const wasListening = this.#client === client;
    if (wasListening) this.#client = undefined;
    void endConnection(client);
    if (wasListening) this.wakeAll();
  }

  #wake(queue: string): void {
    this.#generations.set(queue, this.generation(queue) + 1);
    const waiting = this.#waiters.get(queue);
    if (waiting === undefined) return;
    this.#waiters.delete(queue);
    for (const wake of waiting) wake();
  }

  /** Wakes every waiter (close, reconnect, a dropped connection). */
  wakeAll(): void {
    for (const queue of [...this.#waiters.keys()]) this.#wake(queue);
  }

  /**
   * Checks the LISTEN connection (at most every {@link PING_EVERY_MS}, and only while someone
   * waits on it): one that does not answer within {@link PING_TIMEOUT_MS} is dropped, which wakes
   * every waiter to look again and poll briskly until {@link listen} has made a new one.
   */
  #checkNowAndThen(): void {
    const client = this.#client;
    if (client === undefined || this.#closed || Date.now() - this.#lastPing < PING_EVERY_MS) return;
    this.#lastPing = Date.now();
    // A timer of its own, not node-postgres's per-query `query_timeout` (older 8.x releases
    // within the supported range do not apply it to a query given that way).
    const giveUp = (): void => {
      clearTimeout(late);
      // Dropped already (a timeout, an error, close()): nothing more to do.
      if (this.#client === client) this.#drop(client);
    };
    const late = setTimeout(giveUp, PING_TIMEOUT_MS);
    late.unref();
    client.query('select 1').then(() => clearTimeout(late), giveUp);
  }

  /**
   * Waits until a notification for `queue` arrives after generation `since`, `ms` pass, or
   * `signal` aborts. While it waits, the LISTEN connection is checked now and then.
   */
  wait(queue: string, since: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.generation(queue) !== since || this.#closed || signal?.aborted || ms <= 0) return Promise.resolve();
    this.#checkNowAndThen();
    return new Promise<void>((resolve) => {
      let waiting = this.#waiters.get(queue);
      if (waiting === undefined) {
        waiting = new Set();
        this.#waiters.set(queue, waiting);
      }
      const done = (): void => {
        clearTimeout(timer);
        clearInterval(checks);
        this.#waiters.get(queue)?.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      // A long wait checks the connection during it too (a worker may wait 20 s in one receive).
      const checks = ms > PING_EVERY_MS ? setInterval(() => this.#checkNowAndThen(), PING_EVERY_MS) : undefined;
      waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Stops listening and wakes every waiter. The LISTEN connection's goodbye goes on in the
   * background, never waited for: the connection holds nothing (no lease, no statement), and
   * its goodbye took 0.1–3 s on a loaded machine, which close() must not. A connection still
   * being made is dropped by listen() itself once it is up (or failed); an unanswered goodbye
   * destroys the socket after {@link END_WAIT_MS}, so nothing keeps the process alive longer.
   */
  close(): void {
    this.#closed = true;
    this.wakeAll();
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) void endConnection(client);
  }
}
