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
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #lastViewer = 0;
  #closed = false;
  /** Number of completed polling rounds (for tests and the page footer). */
  rounds = 0;

  constructor(backends: readonly BackendHandle[], options: PollerOptions) {
    this.#backends = backends;
    this.#options = options;
  }

  /** A viewer arrived: starts polling if stopped, and waits for the first round when nothing is known yet. */
  async touch(): Promise<void> {
    this.#lastViewer = Date.now();
    if (this.#closed) return;
    if (this.#timer === undefined && this.#running === undefined) this.#schedule(0);
    if (this.rounds === 0) await this.#waitForRound();
  }

  async #waitForRound(): Promise<void> {
    while (this.rounds === 0 && !this.#closed) {
      if (this.#running !== undefined) await this.#running;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (Date.now() - this.#lastViewer > this.#options.idleStopMs) return; // idle: stop until the next viewer
      this.#running = this.#round().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#options.intervalMs);
      });
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
      let firstError: string | undefined;
      for (let i = 0; i < queues.length; i += STATS_CONCURRENCY) {
        await Promise.all(
          queues.slice(i, i + STATS_CONCURRENCY).map(async (queue) => {
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
