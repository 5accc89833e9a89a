import { type QueueStats, redactText, type WorkerEvent } from '@bg/core';
import type { BackendHandle } from './backend-handle.js';

/** Counts of one queue at one instant, plus the worker events seen since the previous sample. */
export interface Sample extends QueueStats {
  /** Epoch ms. */
  readonly at: number;
  /** Jobs completed since the previous sample (from worker events), when a worker reports to the dashboard. */
  readonly succeeded?: number;
  /** Handler failures since the previous sample (from worker events). */
  readonly failed?: number;
}

/** What the poller knows about one backend. */
export interface BackendState {
  readonly queues: readonly string[];
  /** Why the last poll of this backend failed (redacted), if it did. */
  readonly error?: string;
}

/** Options of {@link Poller}. */
export interface PollerOptions {
  readonly intervalMs: number;
  readonly historySize: number;
  readonly idleStopMs: number;
}

const STATS_CONCURRENCY = 8;
/** Most queues per backend polled because someone opened them, beyond the listed ones. */
const MAX_WATCHED = 100;

/**
 * The one poller of a dashboard: every `intervalMs` it reads the counts of every queue of every
 * backend and keeps the last `historySize` samples. Viewers only read what it stored, so the
 * backend sees the same load for one viewer or a hundred. It starts with the first viewer and
 * stops after `idleStopMs` without one.
 */
export class Poller {
  readonly #backends: readonly BackendHandle[];
  readonly #options: PollerOptions;
  readonly #states = new Map<number, BackendState>();
  readonly #history = new Map<string, Sample[]>();
  readonly #events = new Map<string, { succeeded: number; failed: number }>();
  /** Per backend: queues opened by a viewer that are not among the backend's listed queues, and when. */
  readonly #watched = new Map<number, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** The round a viewer started (first viewer, or first after an idle stop), while it runs. */
  #catchUp: Promise<void> | undefined;
  #lastViewer = 0;
  #closed = false;
  /** Number of completed polling rounds (for tests and the page footer). */
  rounds = 0;

  /** Whether the poller is polling (a round running or the next one due), not stopped or idle. */
  get polling(): boolean {
    return this.#timer !== undefined || this.#running !== undefined;
  }

  constructor(backends: readonly BackendHandle[], options: PollerOptions) {
    this.#backends = backends;
    this.#options = options;
  }

  /**
   * A viewer arrived. When the poller is stopped (the first viewer, or the first after an idle
   * stop) it reads every queue now and waits for that round: the samples it holds are old, and
   * a page must not show hour-old counts as the current ones. Otherwise it returns at once.
   */
  async touch(): Promise<void> {
    this.#lastViewer = Date.now();
    if (this.#closed) return;
    // Viewers arriving while that round runs wait for it too.
    if (!this.polling)
      this.#catchUp = this.#startRound().finally(() => {
        this.#catchUp = undefined;
      });
    await this.#catchUp;
  }

  /** Starts a round now (a viewer is waiting: no idle check), then schedules the next one. */
  #startRound(): Promise<void> {
    const running = this.#round().finally(() => {
      this.#running = undefined;
      this.#schedule(this.#options.intervalMs);
    });
    this.#running = running;
    return running;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (Date.now() - this.#lastViewer > this.#options.idleStopMs) return; // idle: stop until the next viewer
      void this.#startRound();
    }, delayMs);
    this.#timer.unref();
  }

  async #round(): Promise<void> {
    await Promise.all(this.#backends.map((backend, index) => this.#pollBackend(backend, index)));
    this.rounds++;
  }

  async #pollBackend(backend: BackendHandle, index: number): Promise<void> {
    try {
      const queues = await backend.queues();
      const adapter = await backend.adapter();
      const polled = [...new Set([...queues, ...this.#watchedQueues(index)])];
      let firstError: string | undefined;
      for (let i = 0; i < polled.length; i += STATS_CONCURRENCY) {
        await Promise.all(
          polled.slice(i, i + STATS_CONCURRENCY).map(async (queue) => {
            try {
              this.#record(index, queue, await adapter.stats(queue));
            } catch (error) {
              firstError ??= `${queue}: ${describe(error)}`;
            }
          }),
        );
      }
      this.#states.set(index, { queues, ...(firstError ? { error: firstError } : {}) });
    } catch (error) {
      const known = this.#states.get(index)?.queues ?? [];
      this.#states.set(index, { queues: known, error: describe(error) });
    }
  }

  #record(backend: number, queue: string, stats: QueueStats): void {
    const key = `${backend}\u0000${queue}`;
    const events = this.#events.get(key);
    this.#events.delete(key);
    const sample: Sample = {
      at: Date.now(),
      ready: stats.ready,
      inFlight: stats.inFlight,
      delayed: stats.delayed,
      dead: stats.dead,
      ...(stats.total !== undefined ? { total: stats.total } : {}),
      ...(events ? { succeeded: events.succeeded, failed: events.failed } : {}),
    };
    const list = this.#history.get(key) ?? [];
    list.push(sample);
    if (list.length > this.#options.historySize) list.splice(0, list.length - this.#options.historySize);
    this.#history.set(key, list);
  }

  /**
   * The samples of a queue a viewer opened, read now when there are none or they are old. A
   * queue that is not among the backend's listed ones (a `queues` option, more than the listed
   * maximum, an adapter without `listQueues`) is read by the rounds too from then on, while
   * viewers come: its counts used to stay at their first reading for good.
   */
  async viewed(backend: number, queue: string): Promise<readonly Sample[]> {
    this.#watch(backend, queue);
    const last = this.history(backend, queue).at(-1);
    if (last === undefined || Date.now() - last.at > 2 * this.#options.intervalMs) await this.refreshQueue(backend, queue);
    return this.history(backend, queue);
  }

  #watch(backend: number, queue: string): void {
    if (this.#states.get(backend)?.queues.includes(queue)) return;
    const watched = this.#watched.get(backend) ?? new Map<string, number>();
    watched.delete(queue);
    watched.set(queue, Date.now());
    if (watched.size > MAX_WATCHED) watched.delete(watched.keys().next().value as string);
    this.#watched.set(backend, watched);
  }

  /** The watched queues of a backend that a viewer opened within the idle time. */
  #watchedQueues(backend: number): string[] {
    const watched = this.#watched.get(backend);
    if (!watched) return [];
    const since = Date.now() - this.#options.idleStopMs;
    for (const [queue, at] of watched) if (at < since) watched.delete(queue);
    return [...watched.keys()];
  }

  /** Reads one queue's counts now (after a mutation), outside the regular rounds. */
  async refreshQueue(backend: number, queue: string): Promise<void> {
    const handle = this.#backends[backend];
    if (!handle) return;
    try {
      this.#record(backend, queue, await (await handle.adapter()).stats(queue));
    } catch {
      // the next round reports it
    }
  }

  /** What is known about a backend (its queues and last error). */
  state(backend: number): BackendState | undefined {
    return this.#states.get(backend);
  }

  /** The samples of one queue, oldest first. */
  history(backend: number, queue: string): readonly Sample[] {
    return this.#history.get(`${backend}\u0000${queue}`) ?? [];
  }

  /** Counts a worker event for the throughput chart of `queue`. */
  recordEvent(backend: number, queue: string, event: WorkerEvent): void {
    if (event.type !== 'succeeded' && event.type !== 'failed') return;
    const key = `${backend}\u0000${queue}`;
    const counts = this.#events.get(key) ?? { succeeded: 0, failed: 0 };
    if (event.type === 'succeeded') counts.succeeded++;
    else counts.failed++;
    this.#events.set(key, counts);
  }

  /** Stops polling for good. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return redactText(typeof code === 'string' ? `${code}: ${message}` : message);
}
