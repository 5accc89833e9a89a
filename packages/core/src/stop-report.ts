import type { HandBackVia, HandBackWhy } from './hand-back.js';

/** One delivery a stop handed back (see {@link StopReport}). */
export interface HandedBack {
  readonly jobId: string;
  /** The delivery count of the delivery handed back (1 on its first delivery). */
  readonly deliveryCount: number;
  /** Why: its handler never ran (`not-started`), still ran at the end of the grace period (`unfinished`) or threw after the stop's abort (`gave-up`). */
  readonly why: HandBackWhy;
  /** How: released (`release`, the next delivery counts one more) or sent again as a new message (`re-send`, no attempt spent). */
  readonly via: HandBackVia;
}

/** A delivery a stop could not hand back or settle: it stays in storage and comes back once its lease runs out. */
export interface LeftToLease {
  readonly jobId: string;
  /** What failed or was still pending, as the `error` event that reported it says (`release of <id> on stop` …). */
  readonly during: string;
}

/**
 * What a stop did with the deliveries it held besides finishing them: `worker.lastStop` once
 * `worker.stop()` resolved, and the worker's `stopped` event. Deliveries whose handler
 * finished were acked, retried or dead-lettered as usual (their own events say so) and are not
 * listed; nor are those whose lease was lost (another consumer has them).
 */
export interface StopReport {
  /**
   * Deliveries handed back for immediate redelivery, in the order they went back. One job may be
   * listed twice: a receive in flight when the stop began can bring back the job this stop
   * already handed back, which is then handed back again.
   */
  readonly handedBack: readonly HandedBack[];
  /** Deliveries whose hand-back, ack, retry or dead letter failed or was still pending when the stop ended. */
  readonly leftToLease: readonly LeftToLease[];
}

/** The delivery a ledger entry is about: its job id and delivery count (a `ReceivedMessage`). */
interface Delivery {
  readonly id: string;
  readonly deliveryCount: number;
}

/**
 * Collects a {@link StopReport} while a stop runs. It lists only the deliveries the stop took
 * charge of ({@link StopLedger.cover}), told apart by identity, not job id: a hand-back of an
 * earlier stop that ends during this one belongs to that stop's report (it was left to its lease
 * there), also when this stop holds a later delivery of the same job.
 */
export class StopLedger {
  readonly #handedBack: HandedBack[] = [];
  readonly #left: LeftToLease[] = [];
  /** The deliveries this stop hands back or settles. */
  readonly #covered = new Set<Delivery>();

  /** Takes charge of a delivery: what becomes of it is this stop's to report. */
  cover(delivery: Delivery): void {
    this.#covered.add(delivery);
  }

  /** Notes a delivery handed back (one this stop covers). */
  handedBack(delivery: Delivery, why: HandBackWhy, via: HandBackVia): void {
    if (this.#covered.has(delivery)) {
      this.#handedBack.push({ jobId: delivery.id, deliveryCount: delivery.deliveryCount, why, via });
    }
  }

  /** Notes a delivery left in storage to its lease (one this stop covers). */
  left(delivery: Delivery, during: string): void {
    if (this.#covered.has(delivery)) this.#left.push({ jobId: delivery.id, during });
  }

  /** The report so far (a frozen copy). */
  report(): StopReport {
    return Object.freeze({
      handedBack: Object.freeze([...this.#handedBack]),
      leftToLease: Object.freeze([...this.#left]),
    });
  }

  /** A summary for the log line: `3 handed back (2 not started, 1 unfinished; 2 re-sent), 1 left to its lease`. */
  summary(): string {
    const count = (why: HandBackWhy): number => this.#handedBack.filter((h) => h.why === why).length;
    const parts = [
      [count('not-started'), 'not started'],
      [count('unfinished'), 'unfinished'],
      [count('gave-up'), 'gave up'],
    ]
      .filter(([n]) => (n as number) > 0)
      .map(([n, what]) => `${n} ${what}`);
    const resent = this.#handedBack.filter((h) => h.via === 're-send').length;
    const detail = parts.length === 0 ? '' : ` (${parts.join(', ')}${resent > 0 ? `; ${resent} re-sent` : ''})`;
    const left = this.#left.length;
    return `${this.#handedBack.length} job(s) handed back${detail}${left > 0 ? `, ${left} left to their lease` : ''}`;
  }
}
