import { ackIdFailures } from './map-error.js';

/** What a settle does to an ack id: `'ack'`, or set its ack deadline to that many seconds (0: hand it back). */
export type SettleKind = 'ack' | number;

interface Waiting {
  readonly ackId: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Most ack ids per `acknowledge` or `modifyAckDeadline` request (well within Pub/Sub's 512 KB request limit). */
export const MAX_SETTLE_BATCH = 1_000;
/** Most one-id requests in flight at once when a batch falls back to settling each id alone. */
export const MAX_SINGLES_IN_FLIGHT = 32;

/** Options of {@link SettleBatcher}. */
export interface SettleBatcherOptions {
  /** One request settling every id of `ackIds` the same way. */
  readonly many: (kind: SettleKind, ackIds: string[]) => Promise<void>;
  /** One request for one id, with its own outcome (its error says what became of that id). */
  readonly single: (kind: SettleKind, ackId: string) => Promise<void>;
}

/**
 * Coalesces the acks and the deadline changes (extends, releases) of one subscription issued in
 * the same turn of the event loop into one request per kind — an `acknowledge`, or a
 * `modifyAckDeadline` per deadline — as Google's own client does, while every caller still gets
 * its own outcome: on an exactly-once subscription a failed request lists the failing ack ids
 * (`errorInfoMetadata`) and the others succeeded; any other failure settles each id on its own
 * (at most {@link MAX_SINGLES_IN_FLIGHT} at once) so each caller sees its own error. Without
 * it, a worker extending thousands of leases in one turn sent thousands of requests at once and
 * they failed `DEADLINE_EXCEEDED` behind one another.
 */
export class SettleBatcher {
  readonly #o: SettleBatcherOptions;
  /** Ids waiting for the end of this turn, per kind. */
  #pending = new Map<SettleKind, Waiting[]>();
  #scheduled = false;
  /** One-id requests in flight, and the ones waiting for room. */
  #singles = 0;
  readonly #queued: (() => void)[] = [];

  constructor(options: SettleBatcherOptions) {
    this.#o = options;
  }

  /** Settles one id as `kind` says; resolves when Pub/Sub confirmed it. */
  settle(kind: SettleKind, ackId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let list = this.#pending.get(kind);
      if (!list) {
        list = [];
        this.#pending.set(kind, list);
      }
      list.push({ ackId, resolve, reject });
      if (list.length >= MAX_SETTLE_BATCH) this.#flushKind(kind, list);
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Sends every settle waiting for the end of the event-loop turn now (`close()`). */
  flush(): void {
    for (const [kind, list] of this.#pending) this.#flushKind(kind, list);
  }

  #flushKind(kind: SettleKind, list: Waiting[]): void {
    this.#pending.delete(kind);
    for (let i = 0; i < list.length; i += MAX_SETTLE_BATCH) void this.#send(kind, list.slice(i, i + MAX_SETTLE_BATCH));
  }

  async #send(kind: SettleKind, batch: readonly Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting];
      await this.#single(kind, only);
      return;
    }
    try {
      await this.#o.many(
        kind,
        batch.map((w) => w.ackId),
      );
      for (const w of batch) w.resolve();
      return;
    } catch (error) {
      const failures = ackIdFailures(error);
      await Promise.all(
        batch.map((w) =>
          failures && !failures.has(w.ackId)
            ? w.resolve()
            : // Listed (or an error without per-id detail): settle this id alone for its own outcome.
              this.#single(kind, w),
        ),
      );
    }
  }

  /** One id on its own, when fewer than {@link MAX_SINGLES_IN_FLIGHT} are in flight. */
  async #single(kind: SettleKind, w: Waiting): Promise<void> {
    // A finished one hands its room straight to the next waiting (the count stays).
    if (this.#singles >= MAX_SINGLES_IN_FLIGHT) await new Promise<void>((go) => this.#queued.push(go));
    else this.#singles++;
    try {
      await this.#o.single(kind, w.ackId).then(w.resolve, w.reject);
    } finally {
      const next = this.#queued.shift();
      if (next) next();
      else this.#singles--;
    }
  }
}
