import {
  type Adapter,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterPage,
  isDeadLetterFilterActive,
  matchesDeadLetter,
} from '@bg/core';
import { compareDeadLetters, type DeadLetterPosition, encodeDeadLetterCursor, positionOf } from '@bg/core/adapter';
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
      // Oldest first: every one from here on came after the confirmation.
      if (upto !== undefined && compareDeadLetters(dead, upto) > 0) return { ids, truncated: false };
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
  /**
   * The newest dead letter dated before the confirmation; `null` when there is none. The action
   * acts on none after it.
   */
  readonly upto: DeadLetterPosition | null;
  /**
   * Dead letters dated at or after the confirmation's time (written by a worker whose clock runs
   * ahead): not counted, left alone (they would have let later arrivals in).
   */
  readonly later: number;
  /** `backend`: the number is the backend's own count (`stats().dead`), the store was not read through. */
  readonly counted?: 'backend';
}

/** One-page reads the cheap count of "all" may make before it reads the whole store instead. */
export const MAX_TAIL_READS = 64;

/** A cursor for the dead letters dated `time` or later (a position before every one of that time: ids are never empty). */
const fromTime = (time: number): string => encodeDeadLetterCursor({ deadLetteredAt: time, id: '' });

/**
 * The position of the newest dead letter dated before `cut`, in a store holding more than one
 * page of them from `oldest` on, found with a bounded number of one-page reads instead of reading
 * the whole store: a search over the time `t` of a read from `t` on, halving the span until at
 * most one page is left before `cut`. `undefined` past {@link MAX_TAIL_READS} reads.
 */
async function newestBefore(
  read: (cursor: string) => Promise<DeadLetterPage>,
  oldest: DeadLetter,
  cut: number,
  budget: { reads: number },
): Promise<DeadLetterPosition | undefined> {
  const last = (items: readonly DeadLetter[]) => positionOf(items[items.length - 1] as DeadLetter);
  // Invariant: more than a page dated in [low, cut) from `low` on; none dated in [high, cut).
  let low = oldest.deadLetteredAt;
  let high = cut;
  while (high - low > 1) {
    if (budget.reads >= MAX_TAIL_READS) return undefined;
    const middle = low + (high - low) / 2;
    const page = await read(fromTime(middle));
    const before = page.items.filter((d) => d.deadLetteredAt < cut);
    if (before.length === 0) high = middle;
    else if (before.length < page.items.length || page.cursor === undefined) return last(before);
    else low = middle;
  }
  // More than a page within one millisecond: page through it.
  let cursor: string | undefined = fromTime(low);
  let newest: DeadLetterPosition | undefined;
  while (cursor !== undefined) {
    if (budget.reads >= MAX_TAIL_READS) return undefined;
    const page = await read(cursor);
    const before = page.items.filter((d) => d.deadLetteredAt < cut);
    if (before.length > 0) newest = last(before);
    cursor = before.length < page.items.length ? undefined : page.cursor;
  }
  return newest;
}

/**
 * The scope of an unfiltered ("all") action without reading the whole store, when the adapter
 * counts its dead letters (`stats().dead`, O(1) on Redis): the newest dead letter dated before
 * `cut` (a bounded search), the backend's count less those dated later, and a check that none
 * arrived before `cut` meanwhile. `undefined` when that cannot be had cheaply.
 */
async function countedScope(adapter: Adapter, queue: string, cut: number): Promise<ActionScope | undefined> {
  const budget = { reads: 0 };
  const read = (cursor: string | undefined, limit = SCAN_PAGE_SIZE): Promise<DeadLetterPage> => {
    budget.reads++;
    return adapter.listDeadLetters(queue, { limit, ...(cursor !== undefined ? { cursor } : {}) });
  };
  const first = await read(undefined);
  const oldest = first.items[0];
  if (first.cursor === undefined || oldest === undefined || oldest.deadLetteredAt >= cut) return undefined;
  for (let round = 0; round < 3; round++) {
    const upto = await newestBefore(read, oldest, cut, budget);
    if (upto === undefined) return undefined;
    const { dead } = await adapter.stats(queue);
    if (typeof dead !== 'number') return undefined;
    // Those dated at or after the cut are not counted (usually none: one read).
    let later = 0;
    for (let cursor: string | undefined = fromTime(cut); cursor !== undefined; ) {
      if (budget.reads >= MAX_TAIL_READS) return undefined;
      const page = await read(cursor);
      later += page.items.length;
      cursor = page.cursor;
    }
    // One that arrived between the search and the count (dated before the cut) would be counted:
    // search again.
    const next = await read(encodeDeadLetterCursor(upto), 1);
    if (next.items.some((d) => d.deadLetteredAt < cut)) continue;
    const matching = dead - later;
    return {
      matching: Math.min(matching, MAX_ACTION_IDS),
      truncated: matching > MAX_ACTION_IDS,
      upto,
      later,
      counted: 'backend',
    };
  }
  return undefined;
}

/**
 * Counts the dead letters a "filtered" or "all" action would act on: those dated before `now`,
 * the confirmation's time (a dead letter dated later, from a worker whose clock runs ahead, would
 * let every later arrival in). The confirmation names that number and carries the newest one's
 * position, and the confirmed action acts only on dead letters up to it: it used to act on every
 * one there by the time of "Yes" (a confirmed "purge all 3" purged 5, two of them never shown).
 * "All" uses the backend's count and a bounded search where it can (counting 10 000 dead letters
 * on Redis read all 50 pages of them); a filter needs every dead letter read.
 */
export async function actionScope(
  adapter: Adapter,
  queue: string,
  filter: DeadLetterFilter,
  now = Date.now(),
): Promise<ActionScope> {
  if (!isDeadLetterFilterActive(filter)) {
    const counted = await countedScope(adapter, queue, now);
    if (counted !== undefined) return counted;
  }
  let matching = 0;
  let later = 0;
  let upto: DeadLetterPosition | null = null;
  let cursor: string | undefined;
  do {
    const page = await adapter.listDeadLetters(queue, { limit: SCAN_PAGE_SIZE, ...(cursor !== undefined ? { cursor } : {}) });
    for (const dead of page.items) {
      if (dead.deadLetteredAt >= now) {
        later++;
        continue;
      }
      if (upto === null || compareDeadLetters(dead, upto) > 0) upto = positionOf(dead);
      if (!matchesDeadLetter(dead, filter, now)) continue;
      if (++matching > MAX_ACTION_IDS) return { matching: MAX_ACTION_IDS, truncated: true, upto, later };
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { matching, truncated: false, upto, later };
}
