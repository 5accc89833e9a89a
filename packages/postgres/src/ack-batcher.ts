import { type BgError, leaseLost, RecentHandles } from '@bg/core/adapter';
import { formatHandle, type LeaseRef } from './lease-handle.js';

interface PendingAck extends LeaseRef {
  readonly queue: string;
  readonly handle: string;
  resolve(): void;
  reject(error: unknown): void;
}

/** Deletes the rows of acked leases: `(queue, seqs, tokens)` → the `seq:token` handles deleted. */
export type DeleteAcked = (queue: string, seqs: readonly string[], tokens: readonly string[]) => Promise<readonly string[]>;

/**
 * Acks made in one turn of the event loop go to PostgreSQL as one `DELETE` per queue. A
 * handle deleted by this adapter is remembered (the kit's {@link RecentHandles}), so a second
 * ack of it is harmless; any other handle whose row was not deleted is `LEASE_LOST`.
 */
export class AckBatcher {
  readonly #delete: DeleteAcked;
  readonly #failure: (error: unknown) => BgError;
  readonly #acked = new RecentHandles(10_000);
  #pending: PendingAck[] = [];
  /** Deletes sent and not answered yet: close() waits for them before it ends the pool. */
  readonly #inFlight = new Set<Promise<void>>();

  /**
   * @param deleteAcked The statement.
   * @param failure Maps its error (for every ack of the batch).
   */
  constructor(deleteAcked: DeleteAcked, failure: (error: unknown) => BgError) {
    this.#delete = deleteAcked;
    this.#failure = failure;
  }

  /** Queues an ack of `lease` (the handle `handle`) for the end of this turn. */
  ack(queue: string, handle: string, lease: LeaseRef): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#sendPending());
      this.#pending.push({ queue, handle, seq: lease.seq, token: lease.token, resolve, reject });
    });
  }

  /**
   * Sends the queued acks now and resolves when every ack sent so far is answered (close()
   * calls it, so no ack waits for a turn that never comes and none is cut off by the pool's end).
   */
  flush(): Promise<void> {
    this.#sendPending();
    return Promise.all([...this.#inFlight]).then(() => {});
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
    const sent = this.#delete(
      queue,
      batch.map((a) => a.seq),
      batch.map((a) => a.token),
    ).then(
      (deleted) => {
        const done = new Set(deleted);
        for (const a of batch) {
          // Handles are canonical (lease-handle.ts): the same lease has one spelling.
          if (done.has(formatHandle(a.seq, a.token))) {
            this.#acked.remember(a.handle, true);
            a.resolve();
          } else if (this.#acked.has(a.handle)) a.resolve();
          else a.reject(leaseLost('postgres', 'the row is gone or a later delivery owns it'));
        }
      },
      (error: unknown) => {
        const failure = this.#failure(error);
        for (const a of batch) a.reject(failure);
      },
    );
    this.#inFlight.add(sent);
    void sent.finally(() => this.#inFlight.delete(sent));
  }
}

/** The handle of a deleted row, as the ack statement returns it. */
export function deletedHandle(row: { readonly seq: string; readonly lease_token: string }): string {
  return formatHandle(row.seq, row.lease_token);
}
