import { ackIdFailures } from './map-error.js';

interface Waiting {
  readonly ackId: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Most ack ids per acknowledge request (well within Pub/Sub's 512 KB request limit). */
const MAX_BATCH = 1_000;

/**
 * Coalesces the acks of one subscription issued in the same turn of the event loop into
 * one `acknowledge` request (as Google's own client does), while every caller still gets
 * its own outcome: on an exactly-once subscription a failed request lists the failing ack
 * ids (`errorInfoMetadata`) and the others succeeded; any other failure falls back to
 * acking each id on its own so each caller sees its own error.
 */
export class AckBatcher {
  #pending: Waiting[] = [];
  #scheduled = false;

  constructor(
    private readonly acknowledge: (ackIds: string[]) => Promise<void>,
    private readonly single: (ackId: string) => Promise<void>,
  ) {}

  /** Acks one id; resolves when Pub/Sub confirmed it. */
  ack(ackId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ackId, resolve, reject });
      if (this.#pending.length >= MAX_BATCH) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Sends every ack waiting for the end of the event-loop turn now (`close()`). */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, MAX_BATCH);
      void this.#send(batch);
    }
  }

  async #send(batch: readonly Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting];
      await this.single(only.ackId).then(only.resolve, only.reject);
      return;
    }
    try {
      await this.acknowledge(batch.map((w) => w.ackId));
      for (const w of batch) w.resolve();
      return;
    } catch (error) {
      const failures = ackIdFailures(error);
      await Promise.all(
        batch.map((w) =>
          failures && !failures.has(w.ackId)
            ? w.resolve()
            : // Listed (or an error without per-id detail): settle this id alone for its own outcome.
              this.single(w.ackId).then(w.resolve, w.reject),
        ),
      );
    }
  }
}
