import type { LeaseHandle, ReceivedMessage } from './adapter.js';

/** A handler's abort signal, made only when the handler asks for it (most never do). */
export class LazyAbort {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  /** The signal, created on first use (already aborted if {@link abort} ran before). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }
  /** True once {@link abort} ran. */
  get aborted(): boolean {
    return this.#aborted;
  }
  /** Aborts with `reason` (the first call wins). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** A delivery the worker holds, from receive until it is acked, released or dead-lettered. */
export interface HeldDelivery {
  readonly message: ReceivedMessage;
  /** The current lease handle (extensions may rotate it). */
  handle: LeaseHandle;
  readonly controller: LazyAbort;
  /** Set when the worker gave the lease back or lost it: never ack after that. */
  abandoned: boolean;
  /** Set when it was abandoned because its lease was lost (not handed back by a stop). */
  leaseLost: boolean;
  jobType: string | undefined;
  /** When the lease keeper extends the lease next (ms on the worker's clock). */
  renewAt: number;
  /**
   * When the lease ends at the latest, as far as this worker knows (ms on the worker's clock):
   * set when the lease keeper first keeps it, moved by each extension that succeeds. Once it
   * has passed and an extension fails, the lease is lost.
   */
  leaseEndsAt: number;
  /** An extension is in flight. */
  renewing: boolean;
  /** The extension in flight, if any (it never rejects): settle only after it, with its handle. */
  renewal: Promise<void> | undefined;
  /** Its lease is kept by the heartbeat (while it waits for a slot or its handler runs). */
  beating: boolean;
  /** Holds one of the `concurrency` slots: from delivery until its handler has returned. */
  slot: boolean;
  /**
   * Its outcome is decided and being carried out (ack, retry, dead letter, hop): a stop waits
   * for it and never hands it back (that would run a finished job again).
   */
  settling: boolean;
  /**
   * Its handler was called. A stop hands a delivery back `not-started` until then (its payload
   * may still be being checked): that hand-back spends no attempt.
   */
  ran: boolean;
  /** Resolves once the delivery is settled. */
  done: Promise<void>;
}

/** The `done` of a delivery not started yet (shared: one less promise per job). */
const NOT_STARTED: Promise<void> = Promise.resolve();

/**
 * A delivery as the worker holds it: its fields, and its handler's {@link LazyAbort} in the same
 * object (`controller` is the delivery itself), so that holding a delivery makes one object.
 */
class Held extends LazyAbort implements HeldDelivery {
  handle: LeaseHandle;
  abandoned = false;
  leaseLost = false;
  jobType: string | undefined = undefined;
  renewAt = Number.POSITIVE_INFINITY;
  leaseEndsAt = Number.POSITIVE_INFINITY;
  renewing = false;
  renewal: Promise<void> | undefined = undefined;
  beating = false;
  slot = false;
  settling = false;
  ran = false;
  done: Promise<void> = NOT_STARTED;

  constructor(readonly message: ReceivedMessage) {
    super();
    this.handle = message.handle;
  }

  get controller(): LazyAbort {
    return this;
  }
}

/** A fresh {@link HeldDelivery} for a received message (no slot, no heartbeat yet). */
export function holdDelivery(message: ReceivedMessage): HeldDelivery {
  return new Held(message);
}
