import type { Context, Span } from '@opentelemetry/api';

/** One delivery a worker holds, from its `received` event until its outcome. */
export interface Delivery {
  readonly jobId: string;
  /** Epoch ms of its receipt (the start of its `process` span). */
  readonly receivedAt: number;
  readonly deliveryCount: number;
  jobType: string | undefined;
  span: Span | undefined;
  context: Context | undefined;
  /** True once its handler started: only such a delivery gets `succeeded`, `failed` or `retried`. */
  started: boolean;
  /**
   * The queue latency (s) of a first delivery, recorded only once it turns out to be an attempt
   * (its handler starts, or it is dead-lettered): a delivery put back without running is none.
   */
  latency: number | undefined;
}

/**
 * The deliveries a worker holds, by job id. One job may have two at once:
 * - a lease that expired while its handler ran, and the job's next delivery (a higher delivery
 *   count tells them apart);
 * - a job re-sent as a new message (a delay hop, a fresh count, an unknown-version deferral) whose
 *   new message is received before the old delivery's `deferred` event: both have delivery
 *   count 1. The old one never runs its handler, so events are matched by phase: `started` and
 *   the handler's outcomes go to the delivery that runs, `deferred` to the oldest that did not.
 *
 * `decoded` and `runHandler` follow their delivery's `received` and `started` events at once (the
 * worker calls them synchronously), so those two are the delivery just received or started.
 */
export class OpenDeliveries {
  readonly #open = new Map<string, Delivery[]>();
  #received: Delivery | undefined;
  #started: Delivery | undefined;

  /** A new delivery (its `received` event). */
  receive(jobId: string, deliveryCount: number, receivedAt: number): Delivery {
    const delivery: Delivery = {
      jobId,
      receivedAt,
      deliveryCount,
      jobType: undefined,
      span: undefined,
      context: undefined,
      started: false,
      latency: undefined,
    };
    const list = this.#open.get(jobId);
    if (list) list.push(delivery);
    else this.#open.set(jobId, [delivery]);
    this.#received = delivery;
    return delivery;
  }

  /** The delivery whose envelope was just decoded (the one just received; a new one if none was reported). */
  decoded(jobId: string, deliveryCount: number, receivedAt: number): Delivery {
    const last = this.#received;
    this.#received = undefined;
    if (last && last.jobId === jobId && last.deliveryCount === deliveryCount && this.#holds(last)) return last;
    return this.receive(jobId, deliveryCount, receivedAt);
  }

  /** The delivery whose handler starts now (its `started` event): the newest one of that count not started yet. */
  start(jobId: string, attempt: number): Delivery | undefined {
    const list = this.#counted(jobId, attempt);
    const delivery = list.findLast((d) => !d.started) ?? list.at(-1);
    if (delivery) delivery.started = true;
    this.#started = delivery;
    return delivery;
  }

  /** The delivery whose handler runs now (`runHandler`, right after its `started` event). */
  running(jobId: string, attempt: number): Delivery | undefined {
    const last = this.#started;
    if (last && last.jobId === jobId && last.deliveryCount === attempt && this.#holds(last)) return last;
    return this.ran(jobId, attempt);
  }

  /** The delivery an outcome after the handler (or a dead letter) is about: one that started, else the newest of that count. */
  ran(jobId: string, attempt: number): Delivery | undefined {
    const list = this.#counted(jobId, attempt);
    return list.find((d) => d.started) ?? list.at(-1);
  }

  /** The delivery a `deferred` event is about: the oldest of that count that did not start, else the oldest of that count. */
  deferred(jobId: string, deliveryCount: number): Delivery | undefined {
    const list = this.#counted(jobId, deliveryCount);
    return list.find((d) => !d.started) ?? list[0];
  }

  /** The oldest delivery of a job (events that name no count: lease lost or extended, a failed settle). */
  oldest(jobId: string): Delivery | undefined {
    return this.#open.get(jobId)?.[0];
  }

  /** The newest delivery of a job (log lines about it). */
  newest(jobId: string): Delivery | undefined {
    return this.#open.get(jobId)?.at(-1);
  }

  /** Forgets a delivery (its outcome is known). */
  delete(delivery: Delivery): void {
    const list = this.#open.get(delivery.jobId);
    if (!list) return;
    const at = list.indexOf(delivery);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.#open.delete(delivery.jobId);
  }

  /** Deliveries of a job with this count; all of them when none has it (a backend that counts otherwise). */
  #counted(jobId: string, deliveryCount: number): readonly Delivery[] {
    const list = this.#open.get(jobId);
    if (!list) return [];
    if (list.length === 1) return list;
    const counted = list.filter((d) => d.deliveryCount === deliveryCount);
    return counted.length > 0 ? counted : list;
  }

  #holds(delivery: Delivery): boolean {
    return this.#open.get(delivery.jobId)?.includes(delivery) ?? false;
  }
}
