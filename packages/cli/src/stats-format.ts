import type { QueueStats } from '@bg/core';

/** A count for a human table: the number, or `?` when the backend cannot know it (`null`). */
export function formatCount(count: number | null | undefined): string {
  return count === null || count === undefined ? '?' : String(count);
}

/** Lines explaining the `?` of a stats table (nothing when every count is known). */
export function unknownCountNotes(backend: string, rows: readonly (QueueStats & { readonly queue: string })[]): string[] {
  const unknown = rows.some((r) => r.ready === null || r.inFlight === null || r.delayed === null || r.dead === null);
  if (!unknown) return [];
  const notes = [`? = unknown: the ${backend} backend cannot count these (they are not 0)`];
  for (const r of rows) {
    if (typeof r.total === 'number')
      notes.push(`${r.queue}: about ${r.total} live job(s) in all (ready, in flight and delayed together)`);
  }
  return notes;
}

/** Live jobs a stats row is known to hold (unknown counts add nothing), for progress totals. */
export function knownLive(stats: QueueStats): number | undefined {
  if (stats.ready !== null) return stats.ready;
  return typeof stats.total === 'number' ? stats.total : undefined;
}
