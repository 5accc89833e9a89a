import { partialSendError, type SendFailure } from './adapter/partial-send-error.js';
import type { OutgoingMessage, SendResult } from './adapter.js';
import { isBgError } from './errors.js';

/** Batches one `enqueueMany` keeps in flight at once (unless its jobs have ordering keys). */
export const SEND_LANES = 8;

/** How {@link sendInBatches} sends. */
export interface SendBatchesOptions {
  /** The adapter's name, for the error message. */
  readonly adapter: string;
  /** The adapter's `capabilities.maxBatchSize`. */
  readonly maxBatchSize: number;
  /** Batches in flight at once (default {@link SEND_LANES}); 1 when any message has an `orderingKey`. */
  readonly lanes?: number;
}

/**
 * Sends `messages` in batches of `maxBatchSize`, several batches in flight at once (one at a
 * time, in order, when any message has an ordering key, so per-key order holds). Results are
 * in input order. After a failure no further batch is started; the error is the adapter's
 * own when nothing was stored, else a partial-send error (the failing batch's code and
 * `retryable`) whose `details` list every id of the call that was stored (`sentIds`) and not
 * stored (`failedIds`), so the caller knows exactly what to send again.
 *
 * @param send The adapter's `send` for the queue (one batch per call).
 */
export async function sendInBatches(
  send: (batch: OutgoingMessage[]) => Promise<SendResult[]>,
  messages: readonly OutgoingMessage[],
  options: SendBatchesOptions,
): Promise<SendResult[]> {
  const size = options.maxBatchSize;
  if (messages.length <= size) return send(messages.slice());
  const batches: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += size) batches.push(messages.slice(i, i + size));
  const ordered = messages.some((m) => m.orderingKey !== undefined);
  const lanes = ordered ? 1 : Math.max(1, Math.min(options.lanes ?? SEND_LANES, batches.length));
  const results: (SendResult[] | undefined)[] = new Array(batches.length);
  const failures: { readonly index: number; readonly error: unknown }[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length && failures.length === 0) {
      const index = next++;
      try {
        results[index] = await send(batches[index] as OutgoingMessage[]);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failures.length === 0) return results.flatMap((r) => r ?? []);

  // What was not stored: the failing batches' unstored entries, and every batch not sent.
  const failed: SendFailure[] = [];
  let stored = 0;
  for (let index = 0; index < batches.length; index++) {
    const batch = batches[index] as OutgoingMessage[];
    if (results[index] !== undefined) {
      stored += batch.length;
      continue;
    }
    const failure = failures.find((f) => f.index === index);
    const unstored = failure ? failedIdsOf(failure.error, batch) : batch.map((m) => m.id);
    stored += batch.length - unstored.length;
    const why = failure && isBgError(failure.error) ? failure.error.code : failure ? undefined : 'not sent';
    for (const id of unstored) failed.push({ id, ...(why !== undefined ? { code: why } : {}) });
  }
  const first = failures.reduce((a, b) => (a.index <= b.index ? a : b)).error;
  if (stored === 0) throw first;
  return Promise.reject(partialSendError(options.adapter, messages, failed, first));
}

/** The ids of `batch` that a failed `send` did not store: its partial-send details, else all. */
function failedIdsOf(error: unknown, batch: readonly OutgoingMessage[]): string[] {
  const details = isBgError(error) ? (error.details as { failedIds?: unknown } | undefined) : undefined;
  const ids = details?.failedIds;
  if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) {
    const inBatch = new Set(batch.map((m) => m.id));
    return (ids as string[]).filter((id) => inBatch.has(id));
  }
  return batch.map((m) => m.id);
}
