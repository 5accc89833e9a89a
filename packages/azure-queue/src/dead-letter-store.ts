import type { QueueClient } from '@azure/storage-queue';
import { BgError, type DeadLetter, type DeadLetterPage } from '@bg/core';
import { isLeaseLost, mapAzureError, restErrorOf } from './map-error.js';
import { decodeDeadLetter } from './message-format.js';

/** Azure's limit on peek and receive. */
const PAGE = 32;

/** One record of a poison queue, with the pop receipt when it was received (not peeked). */
export interface PoisonEntry {
  readonly messageId: string;
  readonly popReceipt?: string;
  readonly insertedOn: number;
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
    insertedOn,
    record: decodeDeadLetter(m.messageText, { messageId: m.messageId, insertedOn, dequeueCount: m.dequeueCount }),
  };
}

async function settleAll<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
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
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (errors.length > 0) throw errors[0];
}

/**
 * Reads and edits a `<queue>-poison` queue. Azure can only peek the first 32 messages and
 * needs a pop receipt (from a receive) to delete one, so:
 * - when a peek returns fewer than 32 messages, it is the whole queue and is used as is;
 * - otherwise (and for replay/purge, which delete) the queue is *scanned*: received in pages
 *   of 32 with a short visibility timeout until nothing is left, then every message that is
 *   kept is made visible again at once (`updateMessage`, visibility 0). A scan interrupted
 *   by a crash hides the dead letters for `scanVisibilitySeconds` only. Scans from two
 *   processes at the same time see partial queues: run dead-letter management from one place.
 */
export class DeadLetterStore {
  constructor(
    private readonly client: QueueClient,
    private readonly scanVisibilitySeconds: number,
  ) {}

  /** Every entry, peeked when the queue is small, scanned otherwise (then restored). */
  async snapshot(): Promise<PoisonEntry[]> {
    const peeked = await this.#call('peek dead letters', () => this.client.peekMessages({ numberOfMessages: PAGE }));
    if (peeked.peekedMessageItems.length < PAGE) return peeked.peekedMessageItems.map(entryOf);
    const scanned = await this.scan();
    // Compact while we hold them: a job dead-lettered twice keeps only its latest record.
    const superseded = new Set(supersededEntries(scanned));
    await this.delete([...superseded]);
    const kept = scanned.filter((e) => !superseded.has(e));
    await this.restore(kept);
    return kept;
  }

  /** Receives every message of the poison queue (hiding them for the scan visibility). */
  async scan(): Promise<PoisonEntry[]> {
    const byId = new Map<string, PoisonEntry>();
    for (;;) {
      const got = await this.#call('scan dead letters', () =>
        this.client.receiveMessages({ numberOfMessages: PAGE, visibilityTimeout: this.scanVisibilitySeconds }),
      );
      for (const m of got.receivedMessageItems) byId.set(m.messageId, entryOf(m));
      if (got.receivedMessageItems.length === 0) return [...byId.values()];
    }
  }

  /** Makes scanned entries visible again at once. */
  async restore(entries: readonly PoisonEntry[]): Promise<void> {
    await settleAll(entries, 16, async (e) => {
      if (e.popReceipt === undefined) return;
      try {
        await this.client.updateMessage(e.messageId, e.popReceipt, undefined, 0);
      } catch (error) {
        if (!isLeaseLost(error)) throw mapAzureError(error, 'restore dead letter');
      }
    });
  }

  /** Deletes scanned entries (already-deleted ones are ignored). */
  async delete(entries: readonly PoisonEntry[]): Promise<void> {
    await settleAll(entries, 16, async (e) => {
      if (e.popReceipt === undefined) return;
      try {
        await this.client.deleteMessage(e.messageId, e.popReceipt);
      } catch (error) {
        if (!isLeaseLost(error)) throw mapAzureError(error, 'delete dead letter');
      }
    });
  }

  /** Deletes everything, page by page; returns the number of distinct job ids removed. */
  async purgeAll(): Promise<number> {
    const ids = new Set<string>();
    for (;;) {
      const got = await this.#call('purge dead letters', () =>
        this.client.receiveMessages({ numberOfMessages: PAGE, visibilityTimeout: this.scanVisibilitySeconds }),
      );
      if (got.receivedMessageItems.length === 0) return ids.size;
      const entries = got.receivedMessageItems.map(entryOf);
      await this.delete(entries);
      for (const e of entries) ids.add(e.record.id);
    }
  }

  /**
   * Dead-lettered jobs (0 when the poison queue does not exist). A job dead-lettered twice (a
   * crash between the dead-letter write and the ack) counts once while the poison queue holds
   * fewer than 32 records (they are peeked); beyond that it is Azure's approximate count of
   * records, until a scan (replay, purge, a listing of 32 or more) drops the older copy.
   */
  async count(): Promise<number> {
    let records: number;
    try {
      records = (await this.client.getProperties()).approximateMessagesCount ?? 0;
    } catch (error) {
      if (restErrorOf(error).code === 'QueueNotFound') return 0;
      throw mapAzureError(error, 'count dead letters');
    }
    if (records === 0 || records >= PAGE) return records;
    const peeked = await this.#call('peek dead letters', () => this.client.peekMessages({ numberOfMessages: PAGE }));
    if (peeked.peekedMessageItems.length >= PAGE) return records;
    return new Set(peeked.peekedMessageItems.map((m) => entryOf(m).record.id)).size;
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapAzureError(error, what);
    }
  }
}

function latestEntries(entries: readonly PoisonEntry[]): Map<string, PoisonEntry> {
  const latest = new Map<string, PoisonEntry>();
  for (const e of entries) {
    const seen = latest.get(e.record.id);
    if (
      !seen ||
      e.record.deadLetteredAt > seen.record.deadLetteredAt ||
      (e.record.deadLetteredAt === seen.record.deadLetteredAt && e.insertedOn > seen.insertedOn)
    ) {
      latest.set(e.record.id, e);
    }
  }
  return latest;
}

/** The latest record per job id, oldest first (by dead-letter time, then id). */
export function latestById(entries: readonly PoisonEntry[]): DeadLetter[] {
  return [...latestEntries(entries).values()].map((e) => e.record).sort(compareDeadLetters);
}

/** Every entry but the latest of its job id: older copies of a job dead-lettered twice. */
export function supersededEntries(entries: readonly PoisonEntry[]): PoisonEntry[] {
  const latest = latestEntries(entries);
  return entries.filter((e) => latest.get(e.record.id) !== e);
}

function compareDeadLetters(a: DeadLetter, b: DeadLetter): number {
  if (a.deadLetteredAt !== b.deadLetteredAt) return a.deadLetteredAt - b.deadLetteredAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** One page after `cursor` (an opaque position: the last item's time and id). */
export function pageOf(sorted: readonly DeadLetter[], limit: number, cursor: string | undefined): DeadLetterPage {
  if (!Number.isInteger(limit) || limit < 1) throw new BgError('INVALID_ARGUMENT', 'limit must be an integer ≥ 1');
  let start = 0;
  if (cursor !== undefined) {
    let after: unknown;
    try {
      after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      after = undefined;
    }
    if (!Array.isArray(after) || typeof after[0] !== 'number' || typeof after[1] !== 'string') {
      throw new BgError('INVALID_ARGUMENT', `bad dead-letter cursor ${cursor}`);
    }
    const position = { deadLetteredAt: after[0], id: after[1] } as DeadLetter;
    start = sorted.findIndex((d) => compareDeadLetters(d, position) > 0);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const last = items[items.length - 1];
  if (!last || start + items.length >= sorted.length) return { items };
  return { items, cursor: Buffer.from(JSON.stringify([last.deadLetteredAt, last.id]), 'utf8').toString('base64url') };
}
