import type { Adapter } from '@bg/core/adapter';

/** The adapter's queue and dead-letter management calls (each resolves once, without streaming). */
export const MANAGEMENT_CALLS = [
  'ensureQueue',
  'queueExists',
  'listQueues',
  'deleteQueue',
  'listDeadLetters',
  'getDeadLetter',
  'replayDeadLetter',
  'purgeDeadLetters',
  'stats',
] as const;

/**
 * Runs every {@link MANAGEMENT_CALLS} method of `adapter` through `settled` (the adapter's
 * tracking of calls `close()` waits for, whose failure once the clients closed is `CLOSED`).
 * Before, `close()` closed the clients under them: they failed as a retryable
 * `BACKEND_ERROR` ("The client has already been closed."), and a dead-letter scan left the
 * records it had pulled hidden for the 60 s ack deadline.
 */
export function trackManagementCalls(adapter: Adapter, settled: <T>(run: Promise<T>) => Promise<T>): void {
  const methods = adapter as unknown as Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>;
  for (const name of MANAGEMENT_CALLS) {
    const run = methods[name];
    if (run !== undefined) methods[name] = (...args: unknown[]) => settled(run.apply(adapter, args));
  }
}
