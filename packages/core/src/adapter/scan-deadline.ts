/**
 * The share of its visibility timeout a dead-letter scan may take, on backends whose store is a
 * queue read by hiding its messages (SQS, Azure): past it, the records received first would soon
 * be visible again and be received a second time (the scan would never end), and the caller
 * needs the rest of the timeout to act on the records while it holds them.
 */
export const SCAN_TIME_SHARE = 0.75;

/** When a scan that hides what it reads for `visibilitySeconds` must stop (epoch ms); see {@link SCAN_TIME_SHARE}. */
export function scanDeadline(visibilitySeconds: number, now: number = Date.now()): number {
  return now + visibilitySeconds * 1_000 * SCAN_TIME_SHARE;
}
