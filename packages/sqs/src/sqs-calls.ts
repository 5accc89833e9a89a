import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { warnOnce } from '@bg/core';
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

/** True for the error of a `CreateQueue` naming a queue that exists with other attributes. */
function isQueueExists(error: unknown): boolean {
  const cause = error instanceof BgError ? error.cause : error;
  const code = sqsErrorCode(cause);
  return code !== undefined && /(^|\.)Queue(NameExists|AlreadyExists)$/.test(code);
}

/** What one SQS call may wait for, beyond the adapter's call timeout. */
export interface CallOptions {
  /** The call's long poll in seconds (`WaitTimeSeconds`): its deadline grows by as much. */
  readonly waitSeconds?: number;
  /** A long poll `close()` may cancel once it stops waiting for it (see {@link SqsCalls.drain}). */
  readonly cancellable?: boolean;
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
  /**
   * The adapter's calls in flight (sends, acks, scans, stats, `ensureQueue` …): `close()`
   * waits for them before it destroys the client, which would otherwise cut their HTTP
   * requests, and the SDK would retry attempts SQS had already carried out (a
   * `SendMessageBatch` stored twice).
   */
  readonly operations = new BackgroundWork();
  readonly #deletes: Batcher<string, void>;
  readonly #visibility: Batcher<VisibilityEntry, void>;

  /**
   * @param callTimeoutMs - the longest wait for one call beyond its long poll, retries
   *   included (0: none); see `SqsAdapterOptions.callTimeoutMs`.
   */
  constructor(
    readonly client: SQSClient,
    private readonly guard: CloseGuard,
    private readonly callTimeoutMs: number,
  ) {
    this.#deletes = new Batcher(async (url, receipts) => {
      const answer = await this.call('DeleteMessageBatch', (abortSignal) =>
        client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: receipts.map((r, i) => ({ Id: String(i), ReceiptHandle: r })),
          }),
          { abortSignal },
        ),
      );
      return entryResults('DeleteMessage', receipts.length, answer);
    });
    this.#visibility = new Batcher(async (url, entries) => {
      const answer = await this.call('ChangeMessageVisibilityBatch', (abortSignal) =>
        client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receipt, VisibilityTimeout: e.seconds })),
          }),
          { abortSignal },
        ),
      );
      return entryResults('ChangeMessageVisibility', entries.length, answer);
    });
  }

  /**
   * Runs one SDK call, mapping its error (an abort after close is `CLOSED`). `run` passes the
   * signal it gets to `client.send` as `abortSignal`: it aborts the call (retries included)
   * when it has had no answer within the call timeout plus its long poll, which then fails
   * with `UNREACHABLE` — and, for a `cancellable` poll, when `close()` gives up on it.
   */
  async call<T>(action: string, run: (abortSignal: AbortSignal | undefined) => Promise<T>, options?: CallOptions): Promise<T> {
    const limitMs = this.callTimeoutMs > 0 ? this.callTimeoutMs + (options?.waitSeconds ?? 0) * 1000 : 0;
    const cancellable = options?.cancellable === true;
    if (limitMs === 0 && !cancellable) {
      try {
        return await run(undefined);
      } catch (error) {
        throw this.#mapped(error, action);
      }
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      limitMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort(new Error(`no answer within ${limitMs} ms`));
          }, limitMs)
        : undefined;
    const cancel = this.#cancel.signal;
    const onCancel = (): void => controller.abort(cancel.reason);
    if (cancellable) {
      if (cancel.aborted) onCancel();
      else cancel.addEventListener('abort', onCancel, { once: true });
    }
    try {
      return await run(controller.signal);
    } catch (error) {
      if (timedOut) {
        throw new BgError(
          'UNREACHABLE',
          `SQS ${action} failed: no answer within ${limitMs} ms (callTimeoutMs ${this.callTimeoutMs}${limitMs > this.callTimeoutMs ? ' + the long poll' : ''})`,
          { retryable: true, cause: error, details: { networkCode: 'ETIMEDOUT', timeoutMs: limitMs } },
        );
      }
      throw this.#mapped(error, action);
    } finally {
      clearTimeout(timer);
      if (cancellable) cancel.removeEventListener('abort', onCancel);
    }
  }

  #mapped(error: unknown, action: string): BgError {
    if (this.guard.closed && sqsErrorCode(error) === 'AbortError') {
      return new BgError('CLOSED', 'the sqs adapter is closed', { cause: error });
    }
    return mapSqsError(error, action);
  }

  /** The URL of an SQS queue (cached; a failed lookup is not). */
  resolveUrl(name: string): Promise<string> {
    let url = this.#urls.get(name);
    if (!url) {
      url = this.call(`GetQueueUrl ${name}`, async (abortSignal) => {
        const answer = await this.client.send(new GetQueueUrlCommand({ QueueName: name }), { abortSignal });
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

  /** Runs an action on a queue URL (see {@link call}); a vanished queue drops its cached URL. */
  async onQueue<T>(
    name: string,
    action: string,
    run: (url: string, abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const url = await this.resolveUrl(name);
    try {
      return await this.call(action, (abortSignal) => run(url, abortSignal));
    } catch (error) {
      if (error instanceof BgError && error.code === 'QUEUE_NOT_FOUND') this.#forget(name);
      throw error;
    }
  }

  /** Runs `operation` as one of the adapter's calls in flight, awaited by `close()`. */
  track<T>(operation: Promise<T>): Promise<T> {
    this.operations.track(operation);
    return operation;
  }

  /**
   * Creates a queue (or finds it) and caches its URL. A queue that already exists with other
   * attributes (created by hand or by infrastructure code: SQS answers `QueueNameExists`) is
   * used as it is: its URL is looked up, and a warning (once per queue and process) says that
   * its attributes were left alone.
   */
  async createQueue(name: string, attributes: Record<string, string>): Promise<string> {
    let url: string;
    try {
      url = await this.call(`CreateQueue ${name}`, async (abortSignal) => {
        const answer = await this.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }), {
          abortSignal,
        });
        return answer.QueueUrl ?? '';
      });
    } catch (error) {
      if (!isQueueExists(error)) throw error;
      this.forgetUrl(name);
      url = await this.resolveUrl(name);
      warnOnce(
        `sqs:existing-queue:${name}`,
        `@bg/sqs: SQS queue ${name} already exists with other attributes than ensureQueue sets (${Object.keys(attributes).join(', ')}); it is used as it is`,
      );
      return url;
    }
    this.#urls.set(name, Promise.resolve(url));
    this.#known.set(name, url);
    return url;
  }

  /** A queue's approximate counts. */
  async queueCounts(name: string): Promise<{ ready: number; inFlight: number; delayed: number }> {
    const answer = await this.onQueue(name, 'GetQueueAttributes', (url, abortSignal) =>
      this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
        { abortSignal },
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
