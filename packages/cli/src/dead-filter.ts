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

/** What {@link findDeadLetters} found. */
export interface FoundDeadLetters {
  /** The dead letters matching the filter, oldest first, at most `limit`. */
  readonly items: DeadLetter[];
  /**
   * Ids of the filter that are no dead letter of the queue at all (whatever the other filters
   * and the limit), in the order given. Empty when the filter names no ids.
   */
  readonly notFound: string[];
  /** True when more dead letters match than `limit`: `items` is the oldest `limit` of them. */
  readonly more: boolean;
}

/**
 * The dead letters of `queue` matching `filter`, oldest first (by `deadLetteredAt`), at most
 * `limit`, whether more match, and the ids named in the filter that are not there. Ids are looked up one by one,
 * all of them (the limit applies after sorting); everything else pages through the whole
 * dead-letter store.
 */
export async function findDeadLetters(
  adapter: Adapter,
  queue: string,
  filter: DeadLetterFilter,
  options: { limit?: number; now?: number } = {},
): Promise<FoundDeadLetters> {
  const now = options.now ?? Date.now();
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const selected: DeadLetter[] = [];
  if (filter.ids && filter.ids.length > 0) {
    const notFound: string[] = [];
    for (const id of new Set(filter.ids)) {
      const dead = await adapter.getDeadLetter(queue, id);
      if (!dead) notFound.push(id);
      else if (matchesDeadLetter(dead, filter, now)) selected.push(dead);
    }
    // Stable: ids dead-lettered at the same moment keep the order given.
    selected.sort((a, b) => a.deadLetteredAt - b.deadLetteredAt);
    return { items: selected.slice(0, limit), notFound, more: selected.length > limit };
  }
  let cursor: string | undefined;
  do {
    const page = await adapter.listDeadLetters(queue, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const dead of page.items) {
      if (matchesDeadLetter(dead, filter, now)) selected.push(dead);
      // One past the limit tells whether there are more (a cut list must not look whole).
      if (selected.length > limit) return { items: selected.slice(0, limit), notFound: [], more: true };
    }
    cursor = page.cursor;
  } while (cursor);
  return { items: selected, notFound: [], more: false };
}

/**
 * The dead letters of `queue` matching `filter`, oldest first, at most `limit` (see
 * {@link findDeadLetters}, which also names the ids that are not there).
 */
export async function selectDeadLetters(
  adapter: Adapter,
  queue: string,
  filter: DeadLetterFilter,
  options: { limit?: number; now?: number } = {},
): Promise<DeadLetter[]> {
  return (await findDeadLetters(adapter, queue, filter, options)).items;
}
