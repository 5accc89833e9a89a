import type { Adapter } from './adapter.js';
import { BgError, isBgError } from './errors.js';
import { describeValue } from './option-checks.js';

/**
 * What a producer or worker does when its queue does not exist yet:
 * - `'create'` (default): create it (and its dead-letter store) on first use — what a
 *   development machine, a test and the Quickstart want;
 * - `'fail'`: never create anything; a missing queue is a `QUEUE_NOT_FOUND` error naming
 *   it. Recommended in production, where queues are created once (`bgctl queue create`,
 *   Terraform …), so a typo in a queue name fails loudly instead of filling a queue nobody
 *   reads, and the runtime credentials need no right to create queues.
 */
export type MissingQueuePolicy = 'create' | 'fail';

/** Checks a `missingQueue` option; `undefined` means `'create'`. */
export function resolveMissingQueue(value: unknown): MissingQueuePolicy {
  if (value === undefined) return 'create';
  if (value === 'create' || value === 'fail') return value;
  throw new BgError('INVALID_ARGUMENT', `missingQueue must be "create" or "fail", got ${describeValue(value)}`);
}

/** The `QUEUE_NOT_FOUND` error of a missing queue: it names the queue, the backend and the fix. */
export function queueNotFound(adapter: Pick<Adapter, 'name'>, queue: string, cause?: unknown): BgError {
  return new BgError(
    'QUEUE_NOT_FOUND',
    `queue "${queue}" does not exist on ${adapter.name}: create it with \`bgctl queue create <url> ${queue}\` ` +
      `or let the producer/worker create it (missingQueue: 'create')`,
    { retryable: false, details: { queue }, ...(cause !== undefined ? { cause } : {}) },
  );
}

/**
 * Makes sure `queue` can be used under `policy`: `'create'` ensures it; `'fail'` asks the
 * adapter whether it exists (when it can tell) and throws {@link queueNotFound} if not.
 */
export async function prepareQueue(adapter: Adapter, queue: string, policy: MissingQueuePolicy): Promise<void> {
  if (policy === 'create') {
    await adapter.ensureQueue(queue);
    return;
  }
  if (typeof adapter.queueExists === 'function' && !(await adapter.queueExists(queue))) {
    throw queueNotFound(adapter, queue);
  }
}

/** Rewrites an adapter's `QUEUE_NOT_FOUND` so that it names the queue; other errors pass through. */
export function nameMissingQueue(error: unknown, adapter: Pick<Adapter, 'name'>, queue: string): unknown {
  if (!isBgError(error, 'QUEUE_NOT_FOUND')) return error;
  if (error.message.includes(`"${queue}"`)) return error;
  return queueNotFound(adapter, queue, error);
}
