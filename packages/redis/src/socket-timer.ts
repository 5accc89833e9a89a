/**
 * ioredis arms a socket timer (its `socketTimeout`, from the adapter's `commandTimeoutMs`) when it
 * writes commands and clears it when data comes back. A connection closed between the two keeps
 * the timer until it fires (a no-op by then), which holds the process open for that long after
 * `close()`. This clears it. The field is ioredis's own (5.x and 6.x name it alike); a client
 * without it is left alone.
 */
export function clearSocketTimer(client: unknown): void {
  const holder = client as { socketTimeoutTimer?: unknown } | null;
  const timer = holder?.socketTimeoutTimer;
  if (timer === undefined || timer === null) return;
  clearTimeout(timer as ReturnType<typeof setTimeout>);
  (holder as { socketTimeoutTimer?: unknown }).socketTimeoutTimer = undefined;
}

/**
 * Fails at once, with ioredis's own "Connection is closed." (UNREACHABLE, retryable), the commands
 * a connection that just closed left unanswered. With `autoResendUnfulfilledCommands` off, ioredis
 * would otherwise drop them without settling them: their callers waited for `commandTimeout`.
 * `flushQueue` is ioredis's own (5.x and 6.x alike); a client without it is left alone.
 */
export function failUnanswered(client: unknown): void {
  const holder = client as { flushQueue?: (error: Error, options: { offlineQueue: boolean }) => void } | null;
  if (typeof holder?.flushQueue !== 'function') return;
  holder.flushQueue(new Error('Connection is closed.'), { offlineQueue: false });
}
