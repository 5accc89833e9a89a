import { type Adapter, DEAD_LETTER_REASONS, type DeadLetter, type DeadLetterReason, decodeEnvelope } from '@bg/core';
import { UsageError } from './exit-codes.js';

/** Which dead letters a `bgctl dead` command acts on. Empty fields match everything. */
export interface DeadLetterFilter {
  /** Only these job ids. */
  readonly ids?: readonly string[];
  /** Only these reasons. */
  readonly reasons?: readonly DeadLetterReason[];
  /** Only these job types. */
  readonly types?: readonly string[];
  /** Only dead letters set aside at least this long ago, ms. */
  readonly olderThanMs?: number;
  /** Only dead letters set aside at most this long ago, ms. */
  readonly newerThanMs?: number;
}

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

/** The job type of a dead letter: its `bg-type` attribute, else its envelope's type. */
export function jobTypeOf(dead: Pick<DeadLetter, 'attributes' | 'body'>): string | undefined {
  const attr = dead.attributes['bg-type'];
  if (attr) return attr;
  try {
    return decodeEnvelope(dead.body).type;
  } catch {
    return undefined;
  }
}

/** True when `dead` passes every condition of `filter` at time `now`. */
export function matchesFilter(dead: DeadLetter, filter: DeadLetterFilter, now: number): boolean {
  if (filter.ids && filter.ids.length > 0 && !filter.ids.includes(dead.id)) return false;
  if (filter.reasons && filter.reasons.length > 0 && !filter.reasons.includes(dead.reason)) return false;
  if (filter.types && filter.types.length > 0) {
    const type = jobTypeOf(dead);
    if (type === undefined || !filter.types.includes(type)) return false;
  }
  const age = now - dead.deadLetteredAt;
  if (filter.olderThanMs !== undefined && age < filter.olderThanMs) return false;
  if (filter.newerThanMs !== undefined && age > filter.newerThanMs) return false;
  return true;
}

/** True when the filter selects by something (ids, reason, type or age). */
export function hasFilter(filter: DeadLetterFilter): boolean {
  return Boolean(
    (filter.ids && filter.ids.length > 0) ||
      (filter.reasons && filter.reasons.length > 0) ||
      (filter.types && filter.types.length > 0) ||
      filter.olderThanMs !== undefined ||
      filter.newerThanMs !== undefined,
  );
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
      if (dead && matchesFilter(dead, filter, now)) selected.push(dead);
      if (selected.length >= limit) break;
    }
    return selected;
  }
  let cursor: string | undefined;
  do {
    const page = await adapter.listDeadLetters(queue, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const dead of page.items) {
      if (matchesFilter(dead, filter, now)) selected.push(dead);
      if (selected.length >= limit) return selected;
    }
    cursor = page.cursor;
  } while (cursor);
  return selected;
}
