import type { DeadLetter, DeadLetterPage } from '../adapter.js';
import type { DeadLetterPosition } from './dead-letter-cursor.js';
import { compareDeadLetters, decodeDeadLetterCursor, encodeDeadLetterCursor, positionOf } from './dead-letter-cursor.js';
import { checkLimit } from './receive-checks.js';

/** The records a scan found, split by {@link latestPerJob}. */
export interface LatestSplit<R> {
  /** The latest record of each job id, in the order of first appearance of the id. */
  readonly latest: R[];
  /** Every other record: older copies of a job dead-lettered twice. */
  readonly superseded: R[];
}

/**
 * A crash between writing a dead letter and acking the delivery leaves two records of one
 * job. This keeps the latest of each job id (the greatest `deadLetteredAt`; on a tie the
 * later one in `records`) and names the others, which a scanning store deletes (compaction).
 */
export function latestPerJob<R>(records: readonly R[], letterOf: (record: R) => DeadLetter): LatestSplit<R> {
  const latest = new Map<string, R>();
  for (const record of records) {
    const id = letterOf(record).id;
    const seen = latest.get(id);
    if (seen === undefined || letterOf(seen).deadLetteredAt <= letterOf(record).deadLetteredAt) latest.set(id, record);
  }
  const kept = new Set(latest.values());
  return { latest: [...latest.values()], superseded: records.filter((r) => !kept.has(r)) };
}

/**
 * One page of dead letters, oldest first (see `compareDeadLetters`): the first `limit`
 * (checked with `checkLimit`, default 100) records after `cursor` (a cursor of a previous
 * page; a bad one is `INVALID_ARGUMENT`). `letters` may be in any order and may hold
 * several records of a job (the latest is listed). The page has a `cursor` only when more
 * records follow.
 */
export function pageDeadLetters(
  letters: Iterable<DeadLetter>,
  options: { readonly limit?: number; readonly cursor?: string } = {},
): DeadLetterPage {
  const limit = checkLimit(options.limit);
  const after = options.cursor === undefined ? undefined : decodeDeadLetterCursor(options.cursor);
  const sorted = latestPerJob([...letters], (l) => l).latest.sort(compareDeadLetters);
  let start = 0;
  if (after !== undefined) {
    // First record strictly after the cursor position (binary search).
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareDeadLetters(sorted[mid] as DeadLetter, after) <= 0) low = mid + 1;
      else high = mid;
    }
    start = low;
  }
  const items = sorted.slice(start, start + limit);
  const last = items[items.length - 1];
  if (last === undefined || start + items.length >= sorted.length) return { items };
  return { items, cursor: encodeDeadLetterCursor(last) };
}

/**
 * One page of dead letters from a store that reads them in the kit's order itself (rows with
 * an index on `(dead_lettered_at, id)`, a sorted set …), so nothing is scanned: checks
 * `limit` (`checkLimit`, default 100) and `cursor` (`INVALID_ARGUMENT`) before any I/O, asks
 * `read` for at most `limit + 1` records strictly after the cursor's position (`undefined`:
 * from the start), oldest first and one per job, and returns the first `limit`, with a cursor
 * only when more followed.
 *
 * @example
 * ```ts
 * listDeadLetters: (queue, opts) =>
 *   readDeadLetterPage(opts, (after, count) => selectDead(queue, after, count))
 * ```
 */
export async function readDeadLetterPage(
  options: { readonly limit?: number; readonly cursor?: string },
  read: (after: DeadLetterPosition | undefined, count: number) => Promise<readonly DeadLetter[]>,
): Promise<DeadLetterPage> {
  const limit = checkLimit(options.limit);
  const after = options.cursor === undefined ? undefined : decodeDeadLetterCursor(options.cursor);
  const letters = await read(after, limit + 1);
  const items = letters.slice(0, limit);
  const last = items.at(-1);
  return letters.length > limit && last !== undefined ? { items, cursor: encodeDeadLetterCursor(positionOf(last)) } : { items };
}
