import { GetQueueAttributesCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type DeadLetter, type DeadLetterBackend, isBgError, scanDeadline } from '@bg/core/adapter';
import { decodeMessage } from './message-codec.js';
import type { SqsCalls } from './sqs-calls.js';

/** One dead-letter message read by a scan, with the receipt that holds it. */
export interface ScannedDeadLetter {
  readonly letter: DeadLetter;
  readonly receipt: string;
  readonly messageId: string;
}

/** Settings of {@link scanDeadLetters}. */
export interface ScanSettings {
  /** The adapter's calls (each receive of the scan is one call, with its own timeout). */
  readonly calls: SqsCalls;
  readonly url: string;
  readonly visibilitySeconds: number;
  readonly limit: number;
  /** Longest wait of a confirming receive, in seconds (1 unless the request timeout is short). */
  readonly maxWaitSeconds?: number;
  /** The live queue's redrive `maxReceiveCount`: the attempts of a record the redrive policy moved. */
  readonly redriveMaxReceiveCount?: number | undefined;
}

/** The messages of a queue SQS counts as visible (`ApproximateNumberOfMessages`). */
async function visibleMessages(calls: SqsCalls, url: string, during: string): Promise<number> {
  const attrs = await calls.call(during, (abortSignal) =>
    calls.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }), {
      abortSignal,
    }),
  );
  return Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/**
 * Turns a dead-letter queue message into a dead letter (records moved by an SQS redrive policy
 * too). A moved record carries no bg dead-letter info; its attempt count is the redrive policy's
 * `maxReceiveCount` (SQS moves a message once it has been received that often), or 0 when not
 * known: never its `ApproximateReceiveCount`, which every dead-letter scan raises by one.
 */
export function toDeadLetter(message: Message, redriveMaxReceiveCount?: number): DeadLetter {
  const decoded = decodeMessage(message);
  const sent = Number(message.Attributes?.SentTimestamp ?? Date.now());
  const dead = decoded.dead;
  if (dead) {
    return {
      id: decoded.id,
      body: decoded.body,
      attributes: decoded.attributes,
      reason: dead.reason,
      ...(dead.error ? { error: dead.error } : {}),
      attempts: dead.attempts,
      ...(dead.enqueuedAt !== undefined ? { enqueuedAt: dead.enqueuedAt } : {}),
      deadLetteredAt: dead.deadLetteredAt,
    };
  }
  // Moved by the SQS RedrivePolicy (or written by another client): no bg dead-letter info.
  return {
    id: decoded.id,
    body: decoded.body,
    attributes: decoded.attributes,
    reason: 'max-attempts',
    error: { message: 'moved to the dead-letter queue by the SQS redrive policy', name: 'SqsRedrivePolicy' },
    attempts: redriveMaxReceiveCount ?? 0,
    enqueuedAt: sent,
    deadLetteredAt: sent,
  };
}

/**
 * Reads the whole dead-letter queue: receives every message (batches of 10) with a
 * visibility timeout of `visibilitySeconds`, until SQS has no visible message left. It stops
 * early, with what it has read, at `limit` records, once three quarters ({@link scanDeadline}) of the
 * visibility timeout has passed since its first receive, or when a receive brings only
 * records it holds already (their visibility ran out: the queue has been read round).
 * The caller must delete or release (visibility 0) every returned receipt.
 * Messages another consumer holds invisible at that moment are not seen.
 */
export async function scanDeadLetters(settings: ScanSettings): Promise<ScannedDeadLetter[]> {
  const byMessageId = new Map<string, ScannedDeadLetter>();
  const { calls } = settings;
  const deadline = scanDeadline(settings.visibilitySeconds);
  let emptyRounds = 0;
  while (byMessageId.size < settings.limit && Date.now() < deadline) {
    const waitSeconds = emptyRounds > 0 ? Math.min(1, settings.maxWaitSeconds ?? 1) : 0;
    const answer = await calls.call(
      'ReceiveMessage (dead-letter scan)',
      (abortSignal) =>
        calls.client.send(
          new ReceiveMessageCommand({
            QueueUrl: settings.url,
            MaxNumberOfMessages: Math.min(10, settings.limit - byMessageId.size),
            VisibilityTimeout: settings.visibilitySeconds,
            WaitTimeSeconds: waitSeconds,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          }),
          { abortSignal },
        ),
      { waitSeconds },
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) {
      // A short poll samples a subset of SQS servers: confirm the queue really looks empty.
      if (emptyRounds >= 2) break;
      if ((await visibleMessages(calls, settings.url, 'GetQueueAttributes (dead-letter scan)')) === 0) break;
      emptyRounds++;
      continue;
    }
    emptyRounds = 0;
    let fresh = 0;
    for (const message of messages) {
      if (!message.ReceiptHandle || !message.MessageId) continue;
      if (!byMessageId.has(message.MessageId)) fresh++;
      // Seen twice (visibility ran out mid-scan): keep the newest receipt only.
      byMessageId.set(message.MessageId, {
        letter: toDeadLetter(message, settings.redriveMaxReceiveCount),
        receipt: message.ReceiptHandle,
        messageId: message.MessageId,
      });
    }
    // Only records read already: the queue has been read round (their visibility ran out).
    if (fresh === 0) break;
  }
  return [...byMessageId.values()];
}

/** What {@link sqsDeadLetterBackend} needs from its adapter. */
export interface SqsDeadLetterSettings {
  readonly calls: SqsCalls;
  /** The SQS name of a bg queue's dead-letter queue. */
  readonly deadName: (queue: string) => string;
  /** Visibility timeout of a scan, in seconds. */
  readonly visibilitySeconds: number;
  /** Most messages one scan reads. */
  readonly limit: number;
  /** Longest wait of a confirming receive, in seconds. */
  readonly maxWaitSeconds: number;
  /** The live queue's redrive `maxReceiveCount` (`redriveMaxReceiveCount`), if set. */
  readonly redriveMaxReceiveCount?: number | undefined;
  /** Writes a dead letter back to the live queue (replay). */
  readonly requeue: (queue: string, letter: DeadLetter) => Promise<void>;
}

/**
 * The `<queue>-dlq` queue as a kit `DeadLetterBackend`: a scan receives every message (hiding
 * them for the scan's visibility timeout), `remove` deletes by receipt, `restore` makes the
 * rest visible again at once, `requeue` sends to the live queue.
 */
export function sqsDeadLetterBackend(settings: SqsDeadLetterSettings): DeadLetterBackend<ScannedDeadLetter> {
  const { calls } = settings;
  const urlOf = (queue: string): Promise<string> => calls.resolveUrl(settings.deadName(queue));
  return {
    async scan(queue) {
      const url = await urlOf(queue);
      return scanDeadLetters({
        calls,
        url,
        visibilitySeconds: settings.visibilitySeconds,
        limit: settings.limit,
        maxWaitSeconds: settings.maxWaitSeconds,
        redriveMaxReceiveCount: settings.redriveMaxReceiveCount,
      });
    },
    // A scan stops at its limit or deadline (and on FIFO, records behind a received one of their
    // message group stay hidden until it is deleted): a purge of all of them scans again.
    remaining: async (queue) => visibleMessages(calls, await urlOf(queue), 'GetQueueAttributes (dead letters left)'),
    letterOf: (record) => record.letter,
    async remove(queue, records) {
      const url = await urlOf(queue);
      await Promise.all(
        records.map((r) =>
          calls.deleteAt(url, r.receipt).catch((error: unknown) => {
            // Deleted already (or superseded by a later receive): nothing left to remove.
            if (!isBgError(error, 'LEASE_LOST')) throw error;
          }),
        ),
      );
    },
    async restore(queue, records) {
      const url = await urlOf(queue);
      await Promise.allSettled(records.map((r) => calls.visibilityAt(url, r.receipt, 0)));
    },
    requeue: settings.requeue,
  };
}
