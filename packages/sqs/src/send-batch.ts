import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { type OutgoingMessage, partialSendError, RecentHandles, type SendFailure, type SendResult } from '@bg/core/adapter';
import { SQS_MAX_BATCH, SQS_MAX_DELAY_SECONDS } from './capabilities.js';
import { fifoToken } from './fifo-token.js';
import type { EncodedMessage } from './message-codec.js';
import type { SqsCalls } from './sqs-calls.js';

/** SQS deduplicates FIFO sends for five minutes. */
const DEDUP_WINDOW_MS = 5 * 60_000;

/** Splits encoded messages into batches of at most 10 entries and `maxBytes` in total. */
function batchesOf(encoded: readonly EncodedMessage[], maxBytes: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let total = 0;
  encoded.forEach((e, i) => {
    if (current.length > 0 && (total + e.bytes > maxBytes || current.length >= SQS_MAX_BATCH)) {
      groups.push(current);
      current = [];
      total = 0;
    }
    current.push(i);
    total += e.bytes;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * Sends encoded messages with `SendMessageBatch` (split by count and size; on a standard
 * queue the batches go in parallel, on FIFO one after another, in order, stopping at the
 * first that fails). FIFO: the ordering key is the group id, the deduplication key the deduplication
 * id (a replay gets a fresh one), and a send answered with a MessageId seen within the
 * window is reported as a duplicate of the job stored under it. Any failed entry rejects
 * the call with the kit's `partialSendError`.
 */
export class SendBatch {
  /** FIFO: SQS MessageIds returned recently → when, and the job id stored under each. */
  readonly #recentMessageIds = new RecentHandles<{ readonly at: number; readonly jobId: string }>(10_000);

  constructor(
    private readonly calls: SqsCalls,
    private readonly fifo: boolean,
    private readonly maxMessageBytes: number,
  ) {}

  /** Sends `messages` (encoded as `encoded`, same order) to the SQS queue `queueName`. */
  async send(
    queueName: string,
    messages: readonly OutgoingMessage[],
    encoded: readonly EncodedMessage[],
    replay = false,
  ): Promise<SendResult[]> {
    const results: SendResult[] = messages.map((m) => ({ id: m.id, duplicate: false }));
    const failed: SendFailure[] = [];
    let firstError: unknown;
    const sendGroup = async (group: readonly number[]): Promise<boolean> => {
      try {
        const answer = await this.calls.onQueue(queueName, 'SendMessageBatch', (url, abortSignal) =>
          this.calls.client.send(
            new SendMessageBatchCommand({
              QueueUrl: url,
              Entries: group.map((i) => this.#entry(messages[i] as OutgoingMessage, encoded[i] as EncodedMessage, i, replay)),
            }),
            { abortSignal },
          ),
        );
        let allStored = true;
        for (const i of group) {
          const m = messages[i] as OutgoingMessage;
          const ok = answer.Successful?.find((s) => s.Id === String(i));
          if (!ok) {
            allStored = false;
            const bad = answer.Failed?.find((f) => f.Id === String(i));
            failed.push({
              id: m.id,
              ...(bad?.Code ? { code: bad.Code } : {}),
              ...(bad?.Message ? { message: bad.Message } : {}),
            });
            continue;
          }
          if (this.fifo && ok.MessageId) {
            const earlier = this.#noteMessageId(ok.MessageId, m.id);
            if (earlier !== undefined) results[i] = { id: earlier, duplicate: true };
          }
        }
        return allStored;
      } catch (error) {
        firstError ??= error;
        for (const i of group) failed.push({ id: (messages[i] as OutgoingMessage).id });
        return false;
      }
    };
    const groups = batchesOf(encoded, this.maxMessageBytes);
    if (this.fifo) {
      // FIFO: a group's order on the queue is the order SQS stores the calls in, so the calls
      // of one send go one after another; after a failed one the rest is not sent (storing
      // later messages of a group before the failed ones would break the group's order).
      for (const [n, group] of groups.entries()) {
        if (await sendGroup(group)) continue;
        for (const rest of groups.slice(n + 1)) {
          for (const i of rest) {
            failed.push({
              id: (messages[i] as OutgoingMessage).id,
              code: 'NotSent',
              message: 'not sent: an earlier SendMessageBatch of this FIFO send failed',
            });
          }
        }
        break;
      }
    } else {
      await Promise.all(groups.map(sendGroup));
    }
    if (failed.length > 0) throw partialSendError('sqs', messages, failed, firstError);
    return results;
  }

  #entry(m: OutgoingMessage, encoded: EncodedMessage, index: number, replay: boolean): SendMessageBatchRequestEntry {
    const entry: SendMessageBatchRequestEntry = {
      Id: String(index),
      MessageBody: encoded.body,
      MessageAttributes: encoded.attributes,
    };
    if (this.fifo) {
      entry.MessageGroupId = fifoToken(m.orderingKey ?? m.id);
      entry.MessageDeduplicationId = m.deduplicationKey !== undefined && !replay ? fifoToken(m.deduplicationKey) : randomUUID();
    } else if ((m.delayMs ?? 0) > 0) {
      entry.DelaySeconds = Math.min(SQS_MAX_DELAY_SECONDS, Math.ceil((m.delayMs ?? 0) / 1000));
    }
    return entry;
  }

  /**
   * FIFO duplicate detection: SQS answers a deduplicated send with the original's MessageId.
   * Returns the job id stored earlier under that MessageId (seen by this adapter within the
   * window), or undefined for a new message.
   */
  #noteMessageId(messageId: string, jobId: string): string | undefined {
    const now = Date.now();
    const seen = this.#recentMessageIds.get(messageId);
    if (seen !== undefined && now - seen.at < DEDUP_WINDOW_MS) return seen.jobId;
    this.#recentMessageIds.remember(messageId, { at: now, jobId });
    return undefined;
  }
}
