/** What every page renderer gets about the request. */
export interface PageContext {
  /** Mount path without trailing slash. */
  readonly base: string;
  readonly readOnly: boolean;
  /** The CSRF form value of this browser's session. */
  readonly csrf: string;
  /** A fresh one-time value for a mutation form (`_once`): the form acts once however often it is sent. */
  readonly once: string;
  /** Live refresh interval for `data-live` regions, ms. */
  readonly refreshMs: number;
  readonly now: number;
}

/** The path of a queue's pages. */
export function queuePath(ctx: PageContext, backend: number, queue: string): string {
  return `${ctx.base}/b/${backend}/q/${encodeURIComponent(queue)}`;
}

/**
 * A job id as one URL path segment. An id holding a lone UTF-16 surrogate (possible in the store,
 * not in a URL) is written with U+FFFD in its place: its link then says "no dead letter", where
 * `encodeURIComponent` threw and took the whole dead-letter list down with a 500.
 */
export function idSegment(id: string): string {
  return encodeURIComponent((id as string & { toWellFormed(): string }).toWellFormed());
}
