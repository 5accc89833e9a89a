import { type Adapter, type DeadLetter, type DeadLetterFilter, matchesDeadLetter } from '@bg/core';
import { compareDeadLetters, type DeadLetterPosition, positionOf } from '@bg/core/adapter';
import type { ScanCursor } from './input.js';

/** Dead letters read per adapter call while scanning. */
export const SCAN_PAGE_SIZE = 200;
/** At most this many dead letters are read to fill one filtered page. */
export const SCAN_BUDGET = 5_000;

/** One page of a filtered scan. */
export interface ScanPage {
  readonly items: readonly DeadLetter[];
  /** Where the next page starts; absent at the end of the store. */
  readonly next?: ScanCursor;
  /** Dead letters read to build this page. */
  readonly scanned: number;
  /** The scan stopped at {@link SCAN_BUDGET} before filling the page (there may be more further on). */
  readonly budgetHit: boolean;
}

/**
 * Reads one page of dead letters matching `filter`, starting at `cursor`, without ever loading
 * the whole store: it reads {@link SCAN_PAGE_SIZE} at a time and stops when the page is full,
 * at the end of the store, or after `budget` records (then `budgetHit` is set and `next` lets
 * the viewer scan on).
 */
export async function scanDeadLetters(
  adapter: Adapter,
  queue: string,
  filter: DeadLetterFilter,
  options: { cursor: ScanCursor; limit: number; now?: number; budget?: number },
): Promise<ScanPage> {
  const now = options.now ?? Date.now();
  const budget = options.budget ?? SCAN_BUDGET;
  const items: DeadLetter[] = [];
  let pageCursor = options.cursor.page;
  let after = options.cursor.after;
  let scanned = 0;
  for (;;) {
    const page = await adapter.listDeadLetters(queue, {
      limit: SCAN_PAGE_SIZE,
      ...(pageCursor !== undefined ? { cursor: pageCursor } : {}),
    });
    for (let i = 0; i < page.items.length; i++) {
      const dead = page.items[i] as DeadLetter;
      // Shown on an earlier page (by position: purges meanwhile shift counts, not positions).
      if (after !== undefined && compareDeadLetters(dead, after) <= 0) continue;
      scanned++;
      if (matchesDeadLetter(dead, filter, now)) items.push(dead);
      if (items.length >= options.limit) {
        const next: ScanCursor | undefined =
          i + 1 < page.items.length
            ? { ...(pageCursor !== undefined ? { page: pageCursor } : {}), after: positionOf(dead) }
            : page.cursor !== undefined
              ? { page: page.cursor }
              : undefined;
        return { items, scanned, budgetHit: false, ...(next ? { next } : {}) };
      }
    }
    if (page.cursor === undefined) return { items, scanned, budgetHit: false };
    pageCursor = page.cursor;
    after = undefined;
    if (scanned >= budget) return { items, scanned, budgetHit: true, next: { page: pageCursor } };
  }
}

/** Most dead letters one "filtered" or "all" replay acts on; run it again for the rest. */
export const MAX_ACTION_IDS = 100_000;

/**
 * The ids of every dead letter matching `filter` (up to {@link MAX_ACTION_IDS}), oldest first;
 * with `upto`, only those at or before that position (the dead letters that existed when the
 * action was confirmed).
 */
export async function matchingIds(
  adapter: Adapter,
  queue: string,
  filter: DeadLetterFilter,
  now = Date.now(),
  upto?: DeadLetterPosition,
): Promise<{ ids: string[]; truncated: boolean }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await adapter.listDeadLetters(queue, { limit: SCAN_PAGE_SIZE, ...(cursor !== undefined ? { cursor } : {}) });
    for (const dead of page.items) {
      if (upto !== undefined && compareDeadLetters(dead, upto) > 0) continue;
      if (!matchesDeadLetter(dead, filter, now)) continue;
      ids.push(dead.id);
      if (ids.length >= MAX_ACTION_IDS) return { ids, truncated: true };
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { ids, truncated: false };
}

/** What a "filtered" or "all" action would act on, counted when it is confirmed. */
export interface ActionScope {
  /** Dead letters matching the filter now (at most {@link MAX_ACTION_IDS}). */
  readonly matching: number;
  /** More match than {@link MAX_ACTION_IDS}. */
  readonly truncated: boolean;
  /** The newest dead letter in the store now; `null` when it is empty. The action acts on none after it. */
  readonly upto: DeadLetterPosition | null;
}

/**
 * Counts the dead letters a "filtered" or "all" action would act on, and where the store ends
 * now. The confirmation names that number, and the confirmed action acts only on dead letters up
 * to that end: it used to act on every one there by the time of "Yes" (a confirmed "purge all 3"
 * purged 5, two of them never shown).
 */
export async function actionScope(
  adapter: Adapter,
  queue: string,
  filter: DeadLetterFilter,
  now = Date.now(),
): Promise<ActionScope> {
  let matching = 0;
  let upto: DeadLetterPosition | null = null;
  let cursor: string | undefined;
  do {
    const page = await adapter.listDeadLetters(queue, { limit: SCAN_PAGE_SIZE, ...(cursor !== undefined ? { cursor } : {}) });
    for (const dead of page.items) {
      if (upto === null || compareDeadLetters(dead, upto) > 0) upto = positionOf(dead);
      if (!matchesDeadLetter(dead, filter, now)) continue;
      if (++matching > MAX_ACTION_IDS) return { matching: MAX_ACTION_IDS, truncated: true, upto };
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { matching, truncated: false, upto };
}
