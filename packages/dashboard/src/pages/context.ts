/** What every page renderer gets about the request. */
export interface PageContext {
  /** Mount path without trailing slash. */
  readonly base: string;
  readonly readOnly: boolean;
  /** The CSRF form value of this browser's session. */
  readonly csrf: string;
  /** Live refresh interval for `data-live` regions, ms. */
  readonly refreshMs: number;
  readonly now: number;
}

/** The path of a queue's pages. */
export function queuePath(ctx: PageContext, backend: number, queue: string): string {
  return `${ctx.base}/b/${backend}/q/${encodeURIComponent(queue)}`;
}
