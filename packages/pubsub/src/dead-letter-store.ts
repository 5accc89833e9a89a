import type { DeadLetter, DeadLetterBackend } from '@bg/core/adapter';
import type { CallOptions, protos, v1 } from '@google-cloud/pubsub';
import { mapError } from './map-error.js';
import { decodeDeadLetter } from './message-codec.js';

/** One dead-letter record pulled from the dead-letter subscription. */
export interface DeadRecord {
  readonly ackId: string;
  readonly letter: DeadLetter;
}

const ACK_CHUNK = 1_000;

/**
 * A queue's dead-letter subscription as the kit's `DeadLetterBackend`. A subscription is not
 * random-access: a scan pulls every record (up to `scanLimit`, leasing them for the
 * subscription's ack deadline); `remove` acks records for good and `restore` hands every
 * other one back at once (`modifyAckDeadline` 0). A reader in another process may see fewer
 * records while a scan holds them.
 */
export function pubsubDeadLetterBackend(
  subscriber: v1.SubscriberClient,
  call: CallOptions,
  deadSubscription: (queue: string) => Promise<string>,
  requeue: (queue: string, letter: DeadLetter) => Promise<void>,
  scanLimit: number,
): DeadLetterBackend<DeadRecord> {
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
  return {
    async scan(queue) {
      const subscription = await deadSubscription(queue);
      const records: DeadRecord[] = [];
      const seen = new Set<string>();
      try {
        while (records.length < scanLimit) {
          const [response] = await subscriber.pull(
            { subscription, maxMessages: Math.min(1_000, scanLimit - records.length), returnImmediately: true },
            call,
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
        throw mapError(error, 'pull (dead letters)');
      }
      return records;
    },
    letterOf: (record) => record.letter,
    remove: (queue, records) =>
      chunked(queue, records, 'acknowledge (dead letters)', (subscription, ackIds) =>
        subscriber.acknowledge({ subscription, ackIds }, call),
      ),
    requeue,
    restore: (queue, records) =>
      chunked(queue, records, 'modifyAckDeadline (dead letters)', (subscription, ackIds) =>
        subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 }, call),
      ),
  };
}
