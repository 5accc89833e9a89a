import type { Adapter } from '../adapter.js';
import type { BackgroundWork } from './background-work.js';

/** The methods {@link trackCalls} leaves alone: `receive` (`close()` ends it itself) and `close`. */
const UNTRACKED: ReadonlySet<string> = new Set(['receive', 'close']);

/**
 * `adapter` with every method but `receive` and `close` tracked in `work` while in flight, so
 * that `close()` can wait for them (`await work.settle()`) before it lets go of its clients. A
 * process that exits once `close()` resolved must not lose the sends and acks still on their
 * way, and an SDK client destroyed under a request may retry an attempt the service carried out.
 * The methods keep their results and rejections; the adapter object is copied, not changed.
 *
 * @example
 * ```ts
 * const inFlight = new BackgroundWork()
 * const adapter: Adapter = {
 *   // … every method …
 *   async close() {
 *     if (!guard.close()) return // later calls are CLOSED
 *     await inFlight.settle()    // the calls in flight finish first
 *     client.destroy()
 *   },
 * }
 * return trackCalls(adapter, inFlight)
 * ```
 */
export function trackCalls<A extends Adapter>(adapter: A, work: BackgroundWork): A {
  const tracked = { ...adapter } as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(adapter)) {
    if (typeof value !== 'function' || UNTRACKED.has(key)) continue;
    const method = value as (...args: unknown[]) => unknown;
    tracked[key] = (...args: unknown[]): unknown => {
      const result = method(...args);
      if (result instanceof Promise) work.track(result);
      return result;
    };
  }
  return tracked as unknown as A;
}
