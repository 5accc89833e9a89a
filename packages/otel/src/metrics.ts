import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';

/** The instruments bg records (names and units in the README's metrics table). */
export interface BgInstruments {
  readonly sent: Counter;
  /** `messaging.client.operation.duration` of sends (the conventions require it of producers). */
  readonly sendDuration: Histogram;
  readonly consumed: Counter;
  readonly processDuration: Histogram;
  readonly queueLatency: Histogram;
  readonly retries: Counter;
  readonly deadLetters: Counter;
  readonly deferrals: Counter;
  readonly leaseExtensions: Counter;
  readonly leaseLost: Counter;
}

/**
 * Buckets of `messaging.client.operation.duration`, as the messaging conventions advise (a send
 * takes milliseconds).
 */
const OPERATION_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * Buckets of bg's job histograms in seconds, from 1 ms to 10 min: jobs and their queue waits run
 * far past the conventions' 10 s (a wider range than they advise for `messaging.process.duration`,
 * on purpose).
 */
const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** Creates bg's instruments on a meter. */
export function createInstruments(meter: Meter): BgInstruments {
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: SECONDS } });
  return {
    sent: meter.createCounter('messaging.client.sent.messages', {
      description:
        'Jobs a producer sent (enqueue, enqueueMany), failed sends with error.type; jobs refused before sending are not counted',
      unit: '{message}',
    }),
    sendDuration: meter.createHistogram('messaging.client.operation.duration', {
      description: 'Duration of each send (enqueue, enqueueMany), failed ones with error.type',
      unit: 's',
      advice: { explicitBucketBoundaries: OPERATION_SECONDS },
    }),
    consumed: meter.createCounter('messaging.client.consumed.messages', {
      description: 'Deliveries a worker received',
      unit: '{message}',
    }),
    processDuration: seconds('messaging.process.duration', 'Handler run time per attempt; failed ones carry error.type'),
    queueLatency: seconds(
      'bg.job.queue_latency',
      'Time from enqueue (or the notBefore time of a long delay) to the start of the first attempt',
    ),
    retries: meter.createCounter('bg.job.retries', { description: 'Failed attempts released for a retry', unit: '{job}' }),
    deadLetters: meter.createCounter('bg.job.dead_letters', {
      description: 'Jobs dead-lettered, by bg.dead_letter.reason',
      unit: '{job}',
    }),
    deferrals: meter.createCounter('bg.job.deferrals', {
      description: 'Deliveries put back without running, by bg.defer.reason (not-before: a delay hop)',
      unit: '{delivery}',
    }),
    leaseExtensions: meter.createCounter('bg.lease.extensions', {
      description: 'Lease extensions (heartbeats) that succeeded',
      unit: '{extension}',
    }),
    leaseLost: meter.createCounter('bg.lease.lost', { description: 'Leases lost while a job ran', unit: '{lease}' }),
  };
}

/**
 * Attribute sets per (queue, job type, extra key), made once: recording a metric on the hot
 * path allocates nothing.
 */
export class AttributeCache {
  readonly #base: Attributes;
  readonly #sets = new Map<string, Attributes>();
  constructor(base: Attributes) {
    this.#base = Object.freeze({ ...base });
  }
  /** The base attributes plus `extra` (cached by `key`). */
  get(key: string, extra: () => Attributes): Attributes {
    let set = this.#sets.get(key);
    if (!set) {
      set = Object.freeze({ ...this.#base, ...extra() });
      if (this.#sets.size < 10_000) this.#sets.set(key, set);
    }
    return set;
  }
}
