import { randomUUID } from 'node:crypto';
import type { Adapter, DeadLetter, DeadLetterInfo, OutgoingMessage, QueueStats, ReceivedMessage } from '@bg/core';
import {
  BgError,
  DEAD_LETTER_ATTRIBUTE,
  deadLetterMarkOf,
  encodeDeadLetterMark,
  nameMissingQueue,
  queueNotFound,
  withoutDeadLetterMark,
} from '@bg/core';
import { ORDERING_KEY_ATTRIBUTE } from '@bg/core/adapter';

/** Options of {@link moveJobs}. */
export interface MoveOptions {
  /** Queue name, the same on both sides. */
  readonly queue: string;
  /** Also move the dead letters (after the live jobs). */
  readonly dead?: boolean;
  /** Move nothing; count what would move (the live count comes from `stats`). */
  readonly dryRun?: boolean;
  /** Most messages per round trip (default: the smaller `maxBatchSize` of both sides). */
  readonly batchSize?: number;
  /**
   * Lease taken on the source while a batch is copied, and on the destination while dead letters
   * pass through its live queue (default 60 s, clamped to each side's bounds). After a crash, what
   * was in hand comes back when it ends.
   */
  readonly leaseMs?: number;
  /** Stop once a receive waited this long and got nothing (default 2 000 ms). */
  readonly idleMs?: number;
  /** Aborting stops after the batch in hand is copied and acked (never between send and ack). */
  readonly signal?: AbortSignal;
  /** Called after every batch with the running totals. */
  readonly onProgress?: (progress: { live: number; dead: number }) => void;
}

/** What {@link moveJobs} did. */
export interface MoveResult {
  /**
   * Live jobs copied to the destination and removed from the source. In a dry run, the
   * source's ready count: `null` when the source cannot count it (Pub/Sub, a busy Azure queue).
   */
  readonly live: number | null;
  /** Dead letters copied to the destination's dead-letter store and removed from the source. */
  readonly dead: number;
  /**
   * Jobs the destination refused as duplicates of a job it got earlier in this same move (a
   * destination that is the source under another name): they were not acked, and stay on
   * the source.
   */
  readonly duplicates: number;
  /**
   * Why the dead letters were not moved (with `dead`; none was removed from the source):
   * `duplicates`, the destination refused live jobs as duplicates of this move (it looks like
   * the source); `same-store`, a probe dead letter written through the destination could be
   * read through the source: they are one store under two URLs.
   */
  readonly deadSkipped?: 'duplicates' | 'same-store';
  /** True when `signal` stopped the move early: run it again to continue. */
  readonly interrupted: boolean;
  /** Source counts after the move (delayed and in-flight jobs are not moved until visible). */
  readonly sourceAfter?: QueueStats;
}

/**
 * An adapter that can write a dead letter directly. Not part of the adapter contract v1;
 * used when an adapter offers it, otherwise dead letters pass through the live queue, marked
 * `bg-dead-letter` (see {@link copyDeadLetters}).
 */
interface DeadLetterImporter {
  importDeadLetter(queue: string, dead: DeadLetter): Promise<void>;
}

function canImport(adapter: Adapter): adapter is Adapter & DeadLetterImporter {
  return typeof (adapter as Partial<DeadLetterImporter>).importDeadLetter === 'function';
}

/**
 * How many moved job ids a move remembers to notice a destination that is its source (see
 * `movedIds` in {@link moveJobs}): any of them coming back proves it, however large the queue.
 */
const MOVED_IDS_KEPT = 100_000;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * The message sent for `message`. With `run`, it carries the deduplication key
 * `bg-move:<run>:<job id>` where the destination deduplicates: unique to this move, so that an
 * earlier move's key (a queue moved there and back within the window) never makes the
 * destination drop a job the source then deletes.
 */
function outgoing(
  message: Pick<ReceivedMessage, 'id' | 'body' | 'attributes'>,
  destination: Adapter,
  run: string | undefined,
): OutgoingMessage {
  // A job enqueued with an orderingKey keeps it (stored as an attribute) where the destination orders.
  const orderingKey = destination.capabilities.ordering ? message.attributes[ORDERING_KEY_ATTRIBUTE] : undefined;
  return {
    id: message.id,
    body: message.body,
    attributes: { ...message.attributes },
    ...(run !== undefined && destination.capabilities.deduplication ? { deduplicationKey: `bg-move:${run}:${message.id}` } : {}),
    ...(orderingKey !== undefined ? { orderingKey } : {}),
  };
}

/**
 * Drains the live jobs (and optionally the dead letters) of one queue from `source` into
 * `destination`, keeping ids, bodies (byte for byte) and attributes.
 *
 * Live jobs: receive a batch with a lease → send it to the destination → ack it on the
 * source. A job leaves the source only after the destination stored it; an interruption
 * between send and ack leaves it on both sides (at worst a duplicate), never lost. Rerunning
 * continues. A job the destination drops as a duplicate of one it got earlier in this move
 * (the source itself, under another URL) is never acked: it stays on the source, counted in
 * `duplicates`.
 *
 * Dead letters: written to the destination first, removed from the source second — and only
 * once the destination is known to be another store: not after the live phase saw duplicates,
 * and not when a probe dead letter written through the destination can be read through the
 * source (`deadSkipped` says which; removing them from the source would delete the only copy).
 *
 * @example
 * ```ts
 * const result = await moveJobs(redis, sqs, { queue: 'default', dead: true })
 * ```
 */
export async function moveJobs(source: Adapter, destination: Adapter, options: MoveOptions): Promise<MoveResult> {
  const { queue } = options;
  const src = source.capabilities;
  const dst = destination.capabilities;
  const batch = Math.max(1, Math.min(options.batchSize ?? Number.POSITIVE_INFINITY, src.maxBatchSize, dst.maxBatchSize));
  const wantedLeaseMs = options.leaseMs ?? 60_000;
  const leaseMs = clamp(wantedLeaseMs, src.minLeaseMs, src.maxLeaseMs);
  const idleMs = options.idleMs ?? 2_000;
  const aborted = (): boolean => options.signal?.aborted === true;
  let live = 0;
  let dead = 0;
  const run = randomUUID();
  /** Deliveries the destination did not store (duplicates): held until the end, then released. */
  const held: ReceivedMessage[] = [];
  const heldIds = new Set<string>();
  /**
   * Ids of jobs this move stored in the destination (the first {@link MOVED_IDS_KEPT}): one coming
   * back from the source means the two are one store (a backend that does not deduplicate would
   * otherwise move the same jobs round and round for ever).
   */
  const movedIds = new Set<string>();

  // A missing destination queue is named up front (not as a failed send of a batch of ids),
  // in a dry run too: it says what the move would do.
  if (typeof destination.queueExists === 'function' && !(await destination.queueExists(queue))) {
    throw queueNotFound(destination, queue);
  }
  if (options.dryRun) {
    const stats = await source.stats(queue);
    let deadCount = 0;
    if (options.dead) deadCount = stats.dead ?? 0;
    return { live: stats.ready, dead: deadCount, duplicates: 0, interrupted: false, sourceAfter: stats };
  }

  try {
    while (!aborted()) {
      const received = await source.receive(queue, {
        max: batch,
        leaseMs,
        waitMs: idleMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (received.length === 0) break;
      // (A destination that deduplicates refuses the copy instead: held below, counted as a duplicate.)
      const back = dst.deduplication ? undefined : received.find((m) => movedIds.has(m.id));
      if (back !== undefined) {
        await Promise.allSettled(received.map((m) => source.release(queue, m.handle, 0)));
        throw new BgError(
          'INVALID_ARGUMENT',
          `--from and --to are one store under two URLs: job ${back.id}, moved by this run, came back from the source. Every job is stored once; nothing more was moved`,
          { retryable: false, details: { jobId: back.id } },
        );
      }
      let results: readonly { duplicate: boolean }[];
      try {
        results = await destination.send(
          queue,
          received.map((m) => outgoing(m, destination, run)),
        );
      } catch (error) {
        // Nothing was acked: hand the batch back to the source at once, then fail.
        await Promise.allSettled(received.map((m) => source.release(queue, m.handle, 0)));
        throw nameMissingQueue(error, destination, queue);
      }
      for (const [i, m] of received.entries()) {
        // Only what the destination stored leaves the source.
        if (results[i]?.duplicate === false) {
          if (!dst.deduplication && movedIds.size < MOVED_IDS_KEPT) movedIds.add(m.id);
          await source.ack(queue, m.handle);
          live++;
        } else {
          held.push(m);
          heldIds.add(m.id);
        }
      }
      options.onProgress?.({ live, dead });
    }
  } finally {
    await Promise.allSettled(held.map((m) => source.release(queue, m.handle, 0)));
  }

  let deadSkipped: MoveResult['deadSkipped'];
  if (options.dead && !aborted()) {
    // A destination that refused jobs of this very move as duplicates is the source under
    // another name: a dead letter "moved" there and then purged from the source would be gone.
    if (heldIds.size > 0) deadSkipped = 'duplicates';
    let distinct = false;
    while (deadSkipped === undefined && !aborted()) {
      const page = await source.listDeadLetters(queue, { limit: batch });
      if (page.items.length === 0) break;
      // Before the first purge: prove the destination is another store.
      if (!distinct) {
        if (await isOneStore(source, destination, queue, wantedLeaseMs)) {
          deadSkipped = 'same-store';
          break;
        }
        distinct = true;
      }
      await copyDeadLetters(destination, queue, page.items, wantedLeaseMs);
      const removed = await source.purgeDeadLetters(
        queue,
        page.items.map((d) => d.id),
      );
      if (removed === 0) {
        throw new BgError('BACKEND_ERROR', `${source.name} did not remove dead letters it listed; stopping to avoid a loop`);
      }
      dead += page.items.length;
      options.onProgress?.({ live, dead });
    }
  }

  let sourceAfter: QueueStats | undefined;
  try {
    sourceAfter = await source.stats(queue);
  } catch {
    sourceAfter = undefined;
  }
  return {
    live,
    dead,
    duplicates: heldIds.size,
    ...(deadSkipped ? { deadSkipped } : {}),
    interrupted: aborted(),
    ...(sourceAfter ? { sourceAfter } : {}),
  };
}

/**
 * Whether `destination` is `source` under another URL, for this queue's dead letters: a probe
 * dead letter (a fresh id, a body that is no bg job) is written through the destination
 * and looked up through the source, then removed through the destination. Two URLs that
 * `sameBackend` cannot see through (a host name this machine resolves to itself) are caught
 * here, before anything is removed from the source. A destination that cannot find the probe
 * it just wrote proves nothing, and stops the move.
 */
async function isOneStore(source: Adapter, destination: Adapter, queue: string, leaseMs: number): Promise<boolean> {
  const id = randomUUID();
  const probe: DeadLetter = {
    id,
    body: JSON.stringify({ bgctlMoveProbe: id }),
    attributes: {},
    reason: 'manual',
    error: { message: 'bgctl move: a probe telling the destination from the source; removed at once' },
    attempts: 1,
    deadLetteredAt: Date.now(),
  };
  await copyDeadLetters(destination, queue, [probe], leaseMs);
  let seen: boolean;
  try {
    seen = (await source.getDeadLetter(queue, id)) !== undefined;
  } catch (error) {
    await destination.purgeDeadLetters(queue, [id]).catch(() => 0);
    throw error;
  }
  // Removed whatever the answer, through the destination (it wrote it).
  const removed = await destination.purgeDeadLetters(queue, [id]);
  if (!seen && removed === 0) {
    throw new BgError(
      'BACKEND_ERROR',
      `${destination.name} did not find the probe dead letter it had just written: cannot tell it from the source, so no dead letter was moved`,
    );
  }
  return seen;
}

/**
 * The live message that carries dead letter `dead` through the destination's live queue: its
 * id, body and attributes, plus the `bg-dead-letter` marker holding its record (reason,
 * attempts, timestamps, the error cut to fit one attribute). A worker that receives it
 * dead-letters it at once with that record and never runs it.
 */
function inTransit(dead: DeadLetter, destination: Adapter): OutgoingMessage {
  const message = outgoing(dead, destination, undefined);
  const mark = encodeDeadLetterMark(recordOf(dead));
  return { ...message, attributes: { ...message.attributes, [DEAD_LETTER_ATTRIBUTE]: mark } };
}

/** The dead-letter record of `dead` (reason, error, attempts, timestamps), whole. */
function recordOf(dead: DeadLetter): DeadLetterInfo {
  return {
    reason: dead.reason,
    ...(dead.error ? { error: dead.error } : {}),
    attempts: dead.attempts,
    ...(dead.enqueuedAt !== undefined ? { enqueuedAt: dead.enqueuedAt } : {}),
    deadLetteredAt: dead.deadLetteredAt,
  };
}

/** Dead-letters a leased delivery with `info` (its marker left out of the record), then acks it. */
async function settleInTransit(destination: Adapter, queue: string, m: ReceivedMessage, info: DeadLetterInfo): Promise<void> {
  await destination.deadLetter(queue, { ...m, attributes: withoutDeadLetterMark(m.attributes) }, info);
  await destination.ack(queue, m.handle);
}

/**
 * Writes dead letters to the destination. With an adapter that imports dead letters, directly;
 * otherwise through the live queue (the contract only dead-letters a leased delivery): send
 * each marked `bg-dead-letter` ({@link inTransit}), receive until every id is leased,
 * `deadLetter` with the original reason/error/attempts/timestamps (the marker left out), then
 * ack. No one ever runs them meanwhile: a worker on the destination that receives one
 * dead-letters it with the marker's record (then it is found in the dead-letter store here), and
 * one left behind by a crash (`kill -9` of this process) is dead-lettered by the next worker or
 * move that receives it. Other deliveries received on the way are held and released afterwards;
 * a marked one of an earlier, interrupted move is dead-lettered with its own record.
 */
async function copyDeadLetters(
  destination: Adapter,
  queue: string,
  items: readonly DeadLetter[],
  wantedLeaseMs: number,
): Promise<void> {
  if (canImport(destination)) {
    for (const item of items) await destination.importDeadLetter(queue, item);
    return;
  }
  const caps = destination.capabilities;
  const leaseMs = clamp(wantedLeaseMs, caps.minLeaseMs, caps.maxLeaseMs);
  const wanted = new Map(items.map((d) => [d.id, d]));
  await destination.send(
    queue,
    items.map((d) => inTransit(d, destination)),
  );
  const others: ReceivedMessage[] = [];
  const deadline = Date.now() + 60_000;
  try {
    while (wanted.size > 0) {
      if (Date.now() > deadline) {
        throw new BgError(
          'TIMEOUT',
          `could not lease ${wanted.size} moved dead letter(s) back on ${destination.name} within 60 s`,
        );
      }
      const got = await destination.receive(queue, { max: caps.maxBatchSize, leaseMs, waitMs: 1_000 });
      let found = false;
      for (const m of got) {
        const original = wanted.get(m.id);
        if (original) {
          // The original record, whole (the marker's error may be cut).
          await settleInTransit(destination, queue, m, recordOf(original));
          wanted.delete(m.id);
          found = true;
          continue;
        }
        const mark = deadLetterMarkOf(m.attributes);
        // A dead letter in transit left by an interrupted move: set aside as a worker would.
        if (mark?.valid === true) await settleInTransit(destination, queue, m, mark.info);
        else others.push(m);
      }
      // None of ours came back: a worker on the destination may have dead-lettered them.
      if (!found) {
        for (const id of [...wanted.keys()]) {
          if ((await destination.getDeadLetter(queue, id)) !== undefined) wanted.delete(id);
        }
      }
    }
  } finally {
    await Promise.allSettled(others.map((m) => destination.release(queue, m.handle, 0)));
  }
}
