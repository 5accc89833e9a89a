import type { DeadLetter, DeadLetterPage } from '../adapter.js';
import { compareDeadLetters, decodeDeadLetterCursor, encodeDeadLetterCursor } from './dead-letter-cursor.js';
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
