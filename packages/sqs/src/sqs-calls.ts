import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { BackgroundWork, BgError, type CloseGuard } from '@bg/core/adapter';
import { Batcher, type EntryResult } from './batcher.js';
import { isLostReceipt, lostReceipt, mapSqsError, sqsErrorCode } from './map-error.js';

interface VisibilityEntry {
  readonly receipt: string;
  readonly seconds: number;
}

type BatchAnswer = {
  readonly Successful?: readonly { Id?: string }[];
  readonly Failed?: readonly { Id?: string; Code?: string; Message?: string }[];
};

/** One outcome per entry of a batch answer: a failed entry becomes its own error. */
function entryResults(action: string, count: number, answer: BatchAnswer): EntryResult<void>[] {
  return Array.from({ length: count }, (_, i): EntryResult<void> => {
    const failed = answer.Failed?.find((f) => f.Id === String(i));
    if (failed) {
      if (isLostReceipt(failed.Code, failed.Message)) return { ok: false, error: lostReceipt(`${action}: ${failed.Code}`) };
      const error = Object.assign(new Error(failed.Message ?? 'batch entry failed'), { name: failed.Code ?? 'BatchEntryFailed' });
      return { ok: false, error: mapSqsError(error, action) };
    }
    if (!answer.Successful?.some((s) => s.Id === String(i))) {
      return { ok: false, error: new BgError('BACKEND_ERROR', `SQS did not confirm a ${action}`) };
    }
    return { ok: true, value: undefined };
  });
}

/**
 * How long `close()` lets long polls still open end by themselves before it cancels them:
 * enough for a message made visible just before or during close (a job handed back) to be
 * taken by such a poll and handed back again, short enough to keep `close()` prompt.
 */
export const CLOSE_POLL_WAIT_MS = 1_000;

/**
 * The SQS calls of one adapter: error mapping, the queue-URL cache, deletes and visibility
 * changes coalesced into batch calls, and the background work awaited at close.
 */
export class SqsCalls {
  /** Cancels the HTTP requests of long polls still open when `close()` stops waiting for them. */
  readonly #cancel = new AbortController();
  readonly #urls = new Map<string, Promise<string>>();
  /** The URLs of {@link #urls} once resolved (the ack path reads them without awaiting). */
  readonly #known = new Map<string, string>();
  /** Receives still out and their late hand-backs, awaited at close. */
  readonly background = new BackgroundWork();
  readonly #deletes: Batcher<string, void>;
  readonly #visibility: Batcher<VisibilityEntry, void>;

  constructor(
    readonly client: SQSClient,
    private readonly guard: CloseGuard,
  ) {
    this.#deletes = new Batcher(async (url, receipts) => {
      const answer = await this.call('DeleteMessageBatch', () =>
        client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: receipts.map((r, i) => ({ Id: String(i), ReceiptHandle: r })),
          }),
        ),
      );
      return entryResults('DeleteMessage', receipts.length, answer);
    });
    this.#visibility = new Batcher(async (url, entries) => {
      const answer = await this.call('ChangeMessageVisibilityBatch', () =>
        client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receipt, VisibilityTimeout: e.seconds })),
          }),
        ),
      );
      return entryResults('ChangeMessageVisibility', entries.length, answer);
    });
  }

  /** Runs one SDK call, mapping its error (an abort after close is `CLOSED`). */
  async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (this.guard.closed && sqsErrorCode(error) === 'AbortError') {
        throw new BgError('CLOSED', 'the sqs adapter is closed', { cause: error });
      }
      throw mapSqsError(error, action);
    }
  }

  /** The URL of an SQS queue (cached; a failed lookup is not). */
  resolveUrl(name: string): Promise<string> {
    let url = this.#urls.get(name);
    if (!url) {
      url = this.call(`GetQueueUrl ${name}`, async () => {
        const answer = await this.client.send(new GetQueueUrlCommand({ QueueName: name }));
        if (!answer.QueueUrl) throw new BgError('QUEUE_NOT_FOUND', `SQS queue ${name} has no URL`, { retryable: false });
        return answer.QueueUrl;
      });
      this.#urls.set(name, url);
      const lookup = url;
      lookup.then(
        (resolved) => {
          if (this.#urls.get(name) === lookup) this.#known.set(name, resolved);
        },
        () => this.#forget(name),
      );
    }
    return url;
  }

  /** Drops a cached URL (the queue may have been deleted). */
  forgetUrl(name: string): void {
    this.#forget(name);
  }

  #forget(name: string): void {
    this.#urls.delete(name);
    this.#known.delete(name);
  }

  /** Runs an action on a queue URL; a vanished queue drops its cached URL. */
  async onQueue<T>(name: string, action: string, run: (url: string) => Promise<T>): Promise<T> {
    const url = await this.resolveUrl(name);
    try {
      return await this.call(action, () => run(url));
    } catch (error) {
      if (error instanceof BgError && error.code === 'QUEUE_NOT_FOUND') this.#forget(name);
      throw error;
    }
  }

  /** Creates a queue (or finds it) and caches its URL. */
  async createQueue(name: string, attributes: Record<string, string>): Promise<string> {
    const url = await this.call(`CreateQueue ${name}`, async () => {
      const answer = await this.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      return answer.QueueUrl ?? '';
    });
    this.#urls.set(name, Promise.resolve(url));
    this.#known.set(name, url);
    return url;
  }

  /** A queue's approximate counts. */
  async queueCounts(name: string): Promise<{ ready: number; inFlight: number; delayed: number }> {
    const answer = await this.onQueue(name, 'GetQueueAttributes', (url) =>
      this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      ),
    );
    const a = answer.Attributes ?? {};
    return {
      ready: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  /** Deletes a message by receipt (batched). */
  deleteAt(url: string, receipt: string): Promise<void> {
    return this.#deletes.add(url, receipt);
  }

  /** Sets a receipt's visibility timeout (batched). */
  visibilityAt(url: string, receipt: string, seconds: number): Promise<void> {
    return this.#visibility.add(url, { receipt, seconds });
  }

  /** Deletes a message of a named queue by receipt (no wait for a URL already known). */
  deleteReceipt(name: string, receipt: string): Promise<void> {
    const known = this.#known.get(name);
    if (known !== undefined) return this.deleteAt(known, receipt);
    return this.resolveUrl(name).then((url) => this.deleteAt(url, receipt));
  }

  /** Sets the visibility of a receipt of a named queue. */
  async changeVisibility(name: string, receipt: string, seconds: number): Promise<void> {
    await this.visibilityAt(await this.resolveUrl(name), receipt, seconds);
  }

  /** The abort signal of every `ReceiveMessage` call: fires only when `close()` gives up on it. */
  get cancelSignal(): AbortSignal {
    return this.#cancel.signal;
  }

  /**
   * Waits for every batch and background call, once `close()` has closed the guard (whose
   * signal ends the receives' waits at once). Long polls still open get up to
   * {@link CLOSE_POLL_WAIT_MS} to end rather than being cancelled at once: a cancelled HTTP
   * request leaves the poll running on the server, which then takes the next visible message
   * (one this worker just handed back, say) into limbo until its visibility timeout. A poll that
   * ends with messages hands them back at once. Polls still open after that are cancelled, so
   * `close()` stays prompt.
   */
  async drain(): Promise<void> {
    await Promise.all([this.#deletes.drain(), this.#visibility.drain()]);
    await this.background.settle(CLOSE_POLL_WAIT_MS);
    this.#cancel.abort();
    await this.background.settle();
    await Promise.all([this.#deletes.drain(), this.#visibility.drain()]);
  }
}
