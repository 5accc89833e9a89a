import type { Adapter, QueueStats } from '@bg/core';
import { isBgError } from '@bg/core';
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { ATTR } from './attributes.js';
import { messagingSystem } from './messaging-system.js';

const STATES = [
  ['ready', 'ready'],
  ['inFlight', 'in_flight'],
  ['delayed', 'delayed'],
  ['dead', 'dead'],
  ['total', 'total'],
] as const satisfies readonly (readonly [keyof QueueStats, string])[];

/** One queue's `stats()`, asked at most once per interval. */
class Sampler {
  readonly attributes: Readonly<Record<string, Attributes>>;
  #last: QueueStats | undefined;
  #at = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;
  closed = false;
  constructor(
    readonly adapter: Adapter,
    readonly queue: string,
  ) {
    const base = { [ATTR.system]: messagingSystem(adapter.name), [ATTR.destination]: queue };
    this.attributes = Object.fromEntries(STATES.map(([, state]) => [state, { ...base, [ATTR.queueState]: state }]));
  }
  /** The latest stats, refreshed first when older than `intervalMs`. */
  async sample(intervalMs: number): Promise<QueueStats | undefined> {
    if (!this.#pending && performance.now() - this.#at >= intervalMs) {
      this.#pending = this.adapter
        .stats(this.queue)
        .then(
          (stats) => {
            this.#last = stats;
          },
          (error: unknown) => {
            // A closed adapter is gone for good; any other failure keeps the last values.
            if (isBgError(error, 'CLOSED')) this.closed = true;
          },
        )
        .finally(() => {
          this.#at = performance.now();
          this.#pending = undefined;
        });
    }
    await this.#pending;
    return this.#last;
  }
}

/**
 * The `bg.queue.backlog` gauge: per queue a producer or a worker was made for, the counts of
 * `stats()` by `bg.queue.state`, sampled when the SDK collects, at most once per `intervalMs`.
 * Nothing is asked of the backend while no SDK collects.
 */
export class Backlog {
  readonly #samplers = new Map<Adapter, Map<string, Sampler>>();
  #observing = false;
  constructor(
    readonly intervalMs: number,
    readonly meter: () => Meter,
  ) {}

  /** Samples this queue from now on (once per adapter and queue). */
  watch(adapter: Adapter, queue: string): void {
    let queues = this.#samplers.get(adapter);
    if (!queues) {
      queues = new Map();
      this.#samplers.set(adapter, queues);
    }
    if (!queues.has(queue)) queues.set(queue, new Sampler(adapter, queue));
    if (this.#observing) return;
    this.#observing = true;
    this.meter()
      .createObservableGauge('bg.queue.backlog', {
        description: 'Jobs in a queue by bg.queue.state (ready, in_flight, delayed, dead; total where only the sum is known)',
        unit: '{job}',
      })
      .addCallback((result) => this.#observe(result));
  }

  async #observe(result: ObservableResult): Promise<void> {
    const samplers = [...this.#samplers.values()].flatMap((queues) => [...queues.values()]);
    await Promise.all(
      samplers.map(async (sampler) => {
        const stats = await sampler.sample(this.intervalMs);
        if (sampler.closed) this.#samplers.get(sampler.adapter)?.delete(sampler.queue);
        if (!stats) return;
        for (const [field, state] of STATES) {
          const value = stats[field];
          if (typeof value === 'number') result.observe(value, sampler.attributes[state]);
        }
      }),
    );
  }
}
