import {
  type Adapter,
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterReason,
  matchesDeadLetter,
} from '@bg/core';
import { UsageError } from './exit-codes.js';

/** Checks reason names given on the command line against {@link DEAD_LETTER_REASONS}. */
export function parseReasons(values: readonly string[]): DeadLetterReason[] {
  const reasons = values.flatMap((v) => v.split(',')).filter((v) => v.length > 0);
  for (const r of reasons) {
    if (!(DEAD_LETTER_REASONS as readonly string[]).includes(r)) {
      throw new UsageError(`--reason: unknown reason "${r}"; use one of ${DEAD_LETTER_REASONS.join(', ')}`);
    }
  }
  return reasons as DeadLetterReason[];
}

/**
 * The dead letters of `queue` matching `filter`, oldest first, at most `limit`. Ids are
 * looked up one by one; everything else pages through the whole dead-letter store.
 */
export async function selectDeadLetters(
  adapter: Adapter,
  queue: string,
  filter: DeadLetterFilter,
  options: { limit?: number; now?: number } = {},
): Promise<DeadLetter[]> {
  const now = options.now ?? Date.now();
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const selected: DeadLetter[] = [];
  if (filter.ids && filter.ids.length > 0) {
    for (const id of new Set(filter.ids)) {
      const dead = await adapter.getDeadLetter(queue, id);
      if (dead && matchesDeadLetter(dead, filter, now)) selected.push(dead);
      if (selected.length >= limit) break;
    }
    return selected;
  }
  let cursor: string | undefined;
  do {
    const page = await adapter.listDeadLetters(queue, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const dead of page.items) {
      if (matchesDeadLetter(dead, filter, now)) selected.push(dead);
      if (selected.length >= limit) return selected;
    }
    cursor = page.cursor;
  } while (cursor);
  return selected;
}
