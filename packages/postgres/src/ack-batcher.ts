import { type BgError, leaseLost, RecentHandles } from '@bg/core/adapter';
import { formatHandle, type LeaseRef } from './lease-handle.js';

interface PendingAck extends LeaseRef {
  readonly queue: string;
  readonly handle: string;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Deletes the rows of acked leases: `(queue, seqs, tokens, waitForLocks)` → the `seq:token`
 * handles deleted. Without `waitForLocks` it skips rows another transaction has locked.
 */
export type DeleteAcked = (
  queue: string,
  seqs: readonly string[],
  tokens: readonly string[],
  waitForLocks: boolean,
) => Promise<readonly string[]>;

/** `QUEUE_NOT_FOUND` when `queue` is gone (deleted, maybe by another process), else undefined. */
export type QueueGone = (queue: string) => Promise<BgError | undefined>;

/** The `LEASE_LOST` of a lease statement (ack, extend, release, dead letter) that touched no row. */
export function rowNotOwned(): BgError {
  return leaseLost('postgres', 'the row is gone or a later delivery owns it');
}

/**
 * Acks made in one turn of the event loop go to PostgreSQL as one `DELETE` per queue, which
 * skips rows another transaction holds locked (an application's `select … for update`, a
 * `deleteQueue` under way): those, and rows not found, are sent once more in a `DELETE` that
 * waits for the locks, so one locked row delays its own ack, not the whole batch. A handle
 * deleted by this adapter is remembered with its queue (the kit's {@link RecentHandles}), so a
 * second ack of it on that queue is harmless, also while the first is still on its way; any
 * other handle whose row was not deleted is `LEASE_LOST`.
 */
export class AckBatcher {
  readonly #delete: DeleteAcked;
  readonly #failure: (error: unknown) => BgError;
  readonly #queueGone: QueueGone;
  /** Handles deleted by this adapter, each with its queue. */
  readonly #acked = new RecentHandles<string>(10_000);
  #pending: PendingAck[] = [];
  /** Deletes sent and not answered yet: close() waits for them before it ends the pool. */
  readonly #inFlight = new Set<Promise<void>>();
  /** The delete each handle sent and not answered yet is in: a second ack of it waits for that answer. */
  readonly #sending = new Map<string, Promise<void>>();

  /**
   * @param deleteAcked The statement.
   * @param failure Maps its error (for every ack of the batch).
   * @param queueGone Looked at once for a batch with acks whose row was not deleted: their
   *   queue may be gone (then they fail with its error, not `LEASE_LOST`).
   */
  constructor(deleteAcked: DeleteAcked, failure: (error: unknown) => BgError, queueGone: QueueGone) {
    this.#delete = deleteAcked;
    this.#failure = failure;
    this.#queueGone = queueGone;
  }

  /** Queues an ack of `lease` (the handle `handle`) for the end of this turn. */
  ack(queue: string, handle: string, lease: LeaseRef): Promise<void> {
    // Deleted by this adapter already: nothing to send.
    if (this.#acked.get(handle) === queue) return Promise.resolve();
    // Its first ack is on its way: once answered, this one finds the handle remembered (or not).
    const sending = this.#sending.get(handle);
    if (sending !== undefined) {
      const after = sending.then(() => this.ack(queue, handle, lease));
      // close() waits for it too (it may send once more after the answer).
      const tracked = after.then(
        () => {},
        () => {},
      );
      this.#inFlight.add(tracked);
      void tracked.finally(() => this.#inFlight.delete(tracked));
      return after;
    }
    return new Promise<void>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#sendPending());
      this.#pending.push({ queue, handle, seq: lease.seq, token: lease.token, resolve, reject });
    });
  }

  /**
   * Sends the queued acks now and resolves when every ack sent so far is answered (close()
   * calls it, so no ack waits for a turn that never comes and none is cut off by the pool's end).
   */
  async flush(): Promise<void> {
    // Until nothing is left: an answer may queue a waiting second ack, sent at once here.
    for (;;) {
      this.#sendPending();
      if (this.#inFlight.size === 0) return;
      await Promise.all([...this.#inFlight]);
    }
  }

  #sendPending(): void {
    const all = this.#pending;
    if (all.length === 0) return;
    this.#pending = [];
    const byQueue = new Map<string, PendingAck[]>();
    for (const a of all) {
      const list = byQueue.get(a.queue);
      if (list === undefined) byQueue.set(a.queue, [a]);
      else list.push(a);
    }
    for (const [queue, batch] of byQueue) this.#send(queue, batch);
  }

  #send(queue: string, batch: PendingAck[]): void {
    const sent = (async (): Promise<void> => {
      const missed = await this.#deleteRows(queue, batch, false);
      // Rows locked by another transaction (or not found): once more, waiting for the locks.
      const lost = missed.length > 0 ? await this.#deleteRows(queue, missed, true) : missed;
      if (lost.length > 0) this.#rejectLost(queue, lost);
    })();
    this.#inFlight.add(sent);
    for (const a of batch) this.#sending.set(a.handle, sent);
    void sent.finally(() => {
      this.#inFlight.delete(sent);
      for (const a of batch) if (this.#sending.get(a.handle) === sent) this.#sending.delete(a.handle);
    });
  }

  /**
   * One `DELETE` of `batch`'s rows: resolves the acks whose row it deleted (or that this adapter
   * acked before) and returns the others. A failed statement fails every ack of `batch`.
   */
  async #deleteRows(queue: string, batch: readonly PendingAck[], waitForLocks: boolean): Promise<PendingAck[]> {
    let deleted: readonly string[];
    try {
      deleted = await this.#delete(
        queue,
        batch.map((a) => a.seq),
        batch.map((a) => a.token),
        waitForLocks,
      );
    } catch (error) {
      const failure = this.#failure(error);
      for (const a of batch) a.reject(failure);
      return [];
    }
    const done = new Set(deleted);
    const missed: PendingAck[] = [];
    for (const a of batch) {
      // Handles are canonical (lease-handle.ts): the same lease has one spelling.
      if (done.has(formatHandle(a.seq, a.token))) {
        this.#acked.remember(a.handle, queue);
        a.resolve();
      } else if (this.#acked.get(a.handle) === queue) a.resolve();
      else missed.push(a);
    }
    return missed;
  }

  /** Fails acks whose row was not deleted: `LEASE_LOST`, or the queue's error when it is gone. */
  #rejectLost(queue: string, lost: readonly PendingAck[]): void {
    const lease = rowNotOwned();
    this.#queueGone(queue).then(
      (gone) => {
        for (const a of lost) a.reject(gone ?? lease);
      },
      () => {
        for (const a of lost) a.reject(lease);
      },
    );
  }
}

/** The handle of a deleted row, as the ack statement returns it. */
export function deletedHandle(row: { readonly seq: string; readonly lease_token: string }): string {
  return formatHandle(row.seq, row.lease_token);
}
