import { BgError, type DeadLetter, type DeadLetterBackend } from '@bg/core/adapter';
import type { CallOptions, protos, v1 } from '@google-cloud/pubsub';
import { mapError } from './map-error.js';
import { decodeDeadLetter } from './message-codec.js';

/** One dead-letter record pulled from the dead-letter subscription. */
export interface DeadRecord {
  readonly ackId: string;
  readonly letter: DeadLetter;
}

const ACK_CHUNK = 1_000;

/** A scan's records (at most the scan limit) and whether more were left in the store. */
export interface DeadScan {
  readonly records: readonly DeadRecord[];
  /** True when the store held more than the scan limit: `records` is only part of it. */
  readonly truncated: boolean;
}

/** The dead-letter side of the adapter: the kit's backend plus a scan that says when it was cut short. */
export interface PubsubDeadLetters {
  /** For the kit's `DeadLetterStore`: its `scan` fails (`UNSUPPORTED`) rather than work on part of the store. */
  readonly backend: DeadLetterBackend<DeadRecord> & Required<Pick<DeadLetterBackend<DeadRecord>, 'restore'>>;
  /** Pulls up to `scanLimit` records (and says whether more were left); the caller removes or restores them. */
  scanAll(queue: string): Promise<DeadScan>;
}

/** The error of a list/get/replay/purge-by-id whose scan would see only part of the store. */
export function scanLimitError(queue: string, scanLimit: number): BgError {
  return new BgError(
    'UNSUPPORTED',
    `queue ${queue} holds more than deadLetterScanLimit (${scanLimit}) dead letters: Pub/Sub cannot look one up without reading them all, and an answer from part of them would be wrong. Raise the deadLetterScanLimit option, or purge them (purgeDeadLetters without ids removes them all, in rounds)`,
    { retryable: false, details: { queue, deadLetterScanLimit: scanLimit } },
  );
}

/**
 * A queue's dead-letter subscription as the kit's `DeadLetterBackend`. A subscription is not
 * random-access: a scan pulls every record (leasing them for the subscription's ack
 * deadline); `remove` acks records for good and `restore` hands every other one back at once
 * (`modifyAckDeadline` 0). A scan reads at most `scanLimit` records: when the store holds more,
 * it hands them all back and fails (`UNSUPPORTED`) instead of answering from part of the store
 * ({@link PubsubDeadLetters.scanAll} says so instead, for counts and purge-all). A reader in
 * another process may see fewer records while a scan holds them.
 */
export function pubsubDeadLetterBackend(
  subscriber: v1.SubscriberClient,
  call: () => CallOptions,
  deadSubscription: (queue: string) => Promise<string>,
  requeue: (queue: string, letter: DeadLetter) => Promise<void>,
  scanLimit: number,
): PubsubDeadLetters {
  const chunked = async (
    queue: string,
    records: readonly DeadRecord[],
    what: string,
    fn: (subscription: string, ackIds: string[]) => Promise<unknown>,
  ) => {
    const subscription = await deadSubscription(queue);
    try {
      for (let i = 0; i < records.length; i += ACK_CHUNK)
        await fn(
          subscription,
          records.slice(i, i + ACK_CHUNK).map((r) => r.ackId),
        );
    } catch (error) {
      throw mapError(error, what);
    }
  };
  const restore = (queue: string, records: readonly DeadRecord[]) =>
    chunked(queue, records, 'modifyAckDeadline (dead letters)', (subscription, ackIds) =>
      subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 }, call()),
    );
  async function scanAll(queue: string): Promise<DeadScan> {
    const subscription = await deadSubscription(queue);
    const records: DeadRecord[] = [];
    const seen = new Set<string>();
    // One record past the limit tells a store of exactly `scanLimit` from a larger one.
    const wanted = scanLimit + 1;
    try {
      while (records.length < wanted) {
        const [response] = await subscriber.pull(
          { subscription, maxMessages: Math.min(1_000, wanted - records.length), returnImmediately: true },
          call(),
        );
        const got: protos.google.pubsub.v1.IReceivedMessage[] = response.receivedMessages ?? [];
        if (got.length === 0) break;
        for (const received of got) {
          const message = received.message ?? {};
          const messageId = message.messageId ?? '';
          if (!received.ackId || seen.has(messageId)) continue;
          seen.add(messageId);
          records.push({ ackId: received.ackId, letter: decodeDeadLetter(message) });
        }
      }
    } catch (error) {
      if (records.length > 0) await restore(queue, records).catch(() => undefined);
      throw mapError(error, 'pull (dead letters)');
    }
    if (records.length <= scanLimit) return { records, truncated: false };
    const extra = records.splice(scanLimit);
    await restore(queue, extra).catch(() => undefined);
    return { records, truncated: true };
  }
  return {
    scanAll,
    backend: {
      async scan(queue) {
        const { records, truncated } = await scanAll(queue);
        if (!truncated) return records;
        await restore(queue, records).catch(() => undefined);
        throw scanLimitError(queue, scanLimit);
      },
      letterOf: (record) => record.letter,
      remove: (queue, records) =>
        chunked(queue, records, 'acknowledge (dead letters)', (subscription, ackIds) =>
          subscriber.acknowledge({ subscription, ackIds }, call()),
        ),
      requeue,
      restore,
    },
  };
}
