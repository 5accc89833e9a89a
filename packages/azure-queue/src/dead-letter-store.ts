import type { QueueClient } from '@azure/storage-queue';
import { type DeadLetter, type DeadLetterBackend, isBgError, scanDeadline } from '@bg/core/adapter';
import { isLeaseLost, mapAzureError, restErrorOf } from './map-error.js';
import { decodeDeadLetter } from './message-codec.js';

/** Azure's limit on peek and receive. */
const PAGE = 32;

/** One record of a poison queue, with the pop receipt when it was received (not peeked). */
export interface PoisonEntry {
  readonly messageId: string;
  readonly popReceipt?: string;
  readonly record: DeadLetter;
}

function entryOf(m: {
  messageId: string;
  popReceipt?: string;
  insertedOn: Date;
  dequeueCount: number;
  messageText: string;
}): PoisonEntry {
  const insertedOn = m.insertedOn.getTime();
  return {
    messageId: m.messageId,
    ...(m.popReceipt !== undefined ? { popReceipt: m.popReceipt } : {}),
    record: decodeDeadLetter(m.messageText, { messageId: m.messageId, insertedOn, dequeueCount: m.dequeueCount }),
  };
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw mapAzureError(error, what);
  }
}

/** Runs `fn` on every item, 16 at a time; every item is tried, then the first error is thrown. */
async function settleAll<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, items.length) }, lane));
  if (errors.length > 0) throw errors[0];
}

/** Default {@link ScanSettings.limit}: most records one scan reads. */
export const DEFAULT_SCAN_LIMIT = 10_000;

/** How a poison queue is scanned. */
export interface ScanSettings {
  /** Visibility timeout of the records received, in seconds. */
  readonly visibilitySeconds: number;
  /** Most records one scan reads. */
  readonly limit: number;
}

/**
 * Receives every message of a poison queue, hiding them for `visibilitySeconds`, until a
 * receive is empty. It stops early, with what it has read, at `limit` records, once
 * three quarters ({@link scanDeadline}) of the visibility timeout has passed, or when a receive brings only
 * records it holds already (their visibility ran out: the queue has been read round).
 */
async function receiveAll(client: QueueClient, settings: ScanSettings): Promise<PoisonEntry[]> {
  const byId = new Map<string, PoisonEntry>();
  const deadline = scanDeadline(settings.visibilitySeconds);
  while (byId.size < settings.limit && Date.now() < deadline) {
    const got = await call('scan dead letters', () =>
      client.receiveMessages({
        numberOfMessages: Math.min(PAGE, settings.limit - byId.size),
        visibilityTimeout: settings.visibilitySeconds,
      }),
    );
    let fresh = 0;
    for (const m of got.receivedMessageItems) {
      if (!byId.has(m.messageId)) fresh++;
      byId.set(m.messageId, entryOf(m));
    }
    if (fresh === 0) break;
  }
  return [...byId.values()];
}

/**
 * The `<queue>-poison` queue as the kit's `DeadLetterBackend`. Azure can only peek the first
 * 32 messages and needs a pop receipt (from a receive) to delete one, so a listing peeks when
 * the poison queue holds fewer than 32 messages, and otherwise — and always before a replay
 * or purge — *scans*: receives in pages of 32 with a short visibility timeout until nothing
 * is left (or the scan's limit or deadline, see {@link receiveAll}); `restore` then makes every message kept visible again at once (visibility 0). A
 * scan interrupted by a crash hides the dead letters for `visibilitySeconds` only.
 */
export function azureDeadLetterBackend(
  poison: (queue: string) => QueueClient,
  requeue: (queue: string, letter: DeadLetter) => Promise<void>,
  settings: ScanSettings,
  liveExists: (queue: string) => Promise<boolean>,
): DeadLetterBackend<PoisonEntry> {
  return {
    async scan(queue, intent) {
      const client = poison(queue);
      try {
        if (intent === 'read') {
          const peeked = await call('peek dead letters', () => client.peekMessages({ numberOfMessages: PAGE }));
          if (peeked.peekedMessageItems.length < PAGE) return peeked.peekedMessageItems.map(entryOf);
        }
        return await receiveAll(client, settings);
      } catch (error) {
        // The poison queue is created on first use (a live queue made outside ensureQueue has
        // none): no poison queue beside an existing live queue is no dead letters, not an error.
        if (isBgError(error, 'QUEUE_NOT_FOUND') && (await liveExists(queue))) return [];
        throw error;
      }
    },
    letterOf: (entry) => entry.record,
    async remove(queue, entries) {
      const client = poison(queue);
      await settleAll(entries, async (e) => {
        if (e.popReceipt === undefined) return; // peeked: removed by the next scan
        try {
          await client.deleteMessage(e.messageId, e.popReceipt);
        } catch (error) {
          if (!isLeaseLost(error)) throw mapAzureError(error, 'delete dead letter');
        }
      });
    },
    requeue,
    // A scan stops at its limit or deadline: a purge of all of them scans again while records remain.
    remaining: (queue) => countDeadLetters(poison(queue)),
    async restore(queue, entries) {
      const client = poison(queue);
      await settleAll(entries, async (e) => {
        if (e.popReceipt === undefined) return;
        try {
          await client.updateMessage(e.messageId, e.popReceipt, undefined, 0);
        } catch (error) {
          if (!isLeaseLost(error)) throw mapAzureError(error, 'restore dead letter');
        }
      });
    },
  };
}

/**
 * Dead-lettered jobs (0 when the poison queue does not exist). A job dead-lettered twice (a
 * crash between the dead-letter write and the ack) counts once while the poison queue holds
 * fewer than 32 records (the visible ones are peeked; records a scan holds invisible count one
 * each); beyond that it is Azure's approximate count of records, until a scan (replay, purge, a
 * listing of 32 or more) drops the older copy.
 */
export async function countDeadLetters(client: QueueClient): Promise<number> {
  let records: number;
  try {
    records = (await client.getProperties()).approximateMessagesCount ?? 0;
  } catch (error) {
    if (restErrorOf(error).code === 'QueueNotFound') return 0;
    throw mapAzureError(error, 'count dead letters');
  }
  if (records === 0 || records >= PAGE) return records;
  const peeked = (await call('peek dead letters', () => client.peekMessages({ numberOfMessages: PAGE }))).peekedMessageItems;
  if (peeked.length >= PAGE) return records;
  // Records a scan holds (another process's replay or purge, or a scan that crashed) are not
  // peeked: they count as records, or the count would drop by them until their visibility ends.
  const hidden = Math.max(0, records - peeked.length);
  return new Set(peeked.map((m) => entryOf(m).record.id)).size + hidden;
}
