import type { DeadLetter } from '@bg/core';
import type { CallOptions, protos, v1 } from '@google-cloud/pubsub';
import { decodeDeadLetter, timestampMs } from './message-format.js';

/** One dead-letter record pulled from the dead-letter subscription. */
export interface DeadRecord {
  readonly ackId: string;
  readonly messageId: string;
  /** When the record was written (publish time), epoch ms. */
  readonly storedAt: number;
  readonly letter: DeadLetter;
}

const ACK_CHUNK = 1_000;

/**
 * A dead-letter subscription read as a store. A subscription is not random-access: every
 * read pulls all records (leasing them for the subscription's ack deadline), lets the caller
 * pick, then acks the ones to remove and hands every other one back at once
 * (`modifyAckDeadline` 0). Reads of one queue are serialised by the adapter; a concurrent
 * reader in another process may see fewer records while a scan holds them.
 */
export class DeadLetterScan {
  constructor(
    private readonly subscriber: v1.SubscriberClient,
    private readonly subscription: string,
    private readonly call: CallOptions,
  ) {}

  /** Pulls every record (up to `limit`), oldest first. */
  async pullAll(limit: number): Promise<DeadRecord[]> {
    const records: DeadRecord[] = [];
    const seen = new Set<string>();
    while (records.length < limit) {
      const [response] = await this.subscriber.pull(
        { subscription: this.subscription, maxMessages: Math.min(1_000, limit - records.length), returnImmediately: true },
        this.call,
      );
      const got: protos.google.pubsub.v1.IReceivedMessage[] = response.receivedMessages ?? [];
      if (got.length === 0) break;
      for (const received of got) {
        const message = received.message ?? {};
        const messageId = message.messageId ?? '';
        if (!received.ackId || seen.has(messageId)) continue;
        seen.add(messageId);
        records.push({
          ackId: received.ackId,
          messageId,
          storedAt: timestampMs(message.publishTime) ?? 0,
          letter: decodeDeadLetter(message),
        });
      }
    }
    records.sort((a, b) => a.storedAt - b.storedAt || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
    return records;
  }

  /** Acks `remove` for good and hands `keep` back to the subscription at once. */
  async settle(remove: readonly DeadRecord[], keep: readonly DeadRecord[]): Promise<void> {
    for (let i = 0; i < remove.length; i += ACK_CHUNK) {
      const ackIds = remove.slice(i, i + ACK_CHUNK).map((r) => r.ackId);
      await this.subscriber.acknowledge({ subscription: this.subscription, ackIds }, this.call);
    }
    for (let i = 0; i < keep.length; i += ACK_CHUNK) {
      const ackIds = keep.slice(i, i + ACK_CHUNK).map((r) => r.ackId);
      await this.subscriber.modifyAckDeadline({ subscription: this.subscription, ackIds, ackDeadlineSeconds: 0 }, this.call);
    }
  }
}

/**
 * The newest record per job id (a crash between "write dead letter" and "ack the original"
 * can leave two records for one job), ordered oldest first.
 */
export function latestPerId(records: readonly DeadRecord[]): DeadRecord[] {
  const byId = new Map<string, DeadRecord>();
  for (const record of records) byId.set(record.letter.id, record);
  return [...byId.values()].sort(
    (a, b) => a.storedAt - b.storedAt || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0),
  );
}

/** Opaque paging cursor: the sort key of the last record of the previous page. */
export function encodeCursor(record: DeadRecord): string {
  return Buffer.from(JSON.stringify([record.storedAt, record.messageId]), 'utf8').toString('base64url');
}

/** Parses a cursor from {@link encodeCursor}; undefined when it is not one. */
export function decodeCursor(cursor: string): { storedAt: number; messageId: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
      return { storedAt: parsed[0], messageId: parsed[1] };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** True when `record` sorts after the cursor position. */
export function isAfter(record: DeadRecord, cursor: { storedAt: number; messageId: string }): boolean {
  return record.storedAt > cursor.storedAt || (record.storedAt === cursor.storedAt && record.messageId > cursor.messageId);
}
