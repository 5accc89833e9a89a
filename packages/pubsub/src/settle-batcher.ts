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
  /**
   * Whether the error of a failed `many` may concern only some of its ids without naming them
   * (an invalid ack id among valid ones): then each id is settled alone for its own outcome.
   */
  readonly someIds: (error: unknown) => boolean;
  /** What every caller of a `many` that failed as a whole (unreachable, denied, …) is rejected with. */
  readonly failure: (kind: SettleKind, error: unknown) => unknown;
}

/**
 * Coalesces the acks and the deadline changes (extends, releases) of one subscription issued in
 * the same turn of the event loop into one request per kind — an `acknowledge`, or a
 * `modifyAckDeadline` per deadline — as Google's own client does, while every caller still gets
 * its own outcome: on an exactly-once subscription a failed request lists the failing ack ids
 * (`errorInfoMetadata`) and the others succeeded; a failure that may concern some ids without
 * naming them settles each id on its own (at most {@link MAX_SINGLES_IN_FLIGHT} at once); a
 * failure of the request as a whole fails every caller with it. Without batching, a worker
 * extending thousands of leases in one turn sent thousands of requests at once and they failed
 * `DEADLINE_EXCEEDED` behind one another. Settles of one id go out in the order they were made:
 * one whose id waits under another kind sends what waits first.
 */
export class SettleBatcher {
  readonly #o: SettleBatcherOptions;
  /** Ids waiting for the end of this turn, per kind. */
  #pending = new Map<SettleKind, Waiting[]>();
  /** The kind each waiting id waits under. */
  readonly #kindOf = new Map<string, SettleKind>();
  #scheduled = false;
  /** One-id requests in flight, and the ones waiting for room. */
  #singles = 0;
  readonly #queued: (() => void)[] = [];

  constructor(options: SettleBatcherOptions) {
    this.#o = options;
  }

  /** Settles one id as `kind` says; resolves when Pub/Sub confirmed it. */
  settle(kind: SettleKind, ackId: string): Promise<void> {
    // The same id waits under another kind (an extend, then a release): that one goes first.
    const earlier = this.#kindOf.get(ackId);
    if (earlier !== undefined && earlier !== kind) this.flush();
    this.#kindOf.set(ackId, kind);
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
    for (const w of list) this.#kindOf.delete(w.ackId);
    for (let i = 0; i < list.length; i += MAX_SETTLE_BATCH) void this.#send(kind, list.slice(i, i + MAX_SETTLE_BATCH));
  }

  async #send(kind: SettleKind, batch: readonly Waiting[]): Promise<void> {
    if (batch.length === 1) {
      // Alone in its turn: its own request, never behind a fallback's queue.
      const [only] = batch as [Waiting];
      await this.#settleAlone(kind, only);
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
      if (failures === undefined && !this.#o.someIds(error)) {
        const failure = this.#o.failure(kind, error);
        for (const w of batch) w.reject(failure);
        return;
      }
      await Promise.all(
        batch.map((w) =>
          failures && !failures.has(w.ackId)
            ? w.resolve()
            : // Listed (or possibly concerned): settle this id alone for its own outcome.
              this.#fallback(kind, w),
        ),
      );
    }
  }

  /** One request for one id; its outcome is the caller's (a synchronous throw too). */
  #settleAlone(kind: SettleKind, w: Waiting): Promise<void> {
    return Promise.resolve()
      .then(() => this.#o.single(kind, w.ackId))
      .then(w.resolve, w.reject);
  }

  /** One id of a failed batch on its own, when fewer than {@link MAX_SINGLES_IN_FLIGHT} are in flight. */
  async #fallback(kind: SettleKind, w: Waiting): Promise<void> {
    // A finished one hands its room straight to the next waiting (the count stays).
    if (this.#singles >= MAX_SINGLES_IN_FLIGHT) await new Promise<void>((go) => this.#queued.push(go));
    else this.#singles++;
    try {
      await this.#settleAlone(kind, w);
    } finally {
      const next = this.#queued.shift();
      if (next) next();
      else this.#singles--;
    }
  }
}
