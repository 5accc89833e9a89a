import type { Adapter, ReceivedMessage } from '@bg/core';

/** Options of {@link receiveUntil}. */
export interface ReceiveUntilOptions {
  /** Lease of each delivery (default 30 s, within the adapter's limits). */
  readonly leaseMs?: number;
  /** Each receive's long poll (default 1 s). */
  readonly waitMs?: number;
  /** Give up after this long (default 5 s) and return what came. */
  readonly timeoutMs?: number;
}

/**
 * Receives from `queue` (acking nothing) until `count` deliveries came or `timeoutMs` passed, and
 * returns them all: tests assert on what came, and name what is missing themselves.
 */
export async function receiveUntil(
  adapter: Adapter,
  queue: string,
  count: number,
  { leaseMs = 30_000, waitMs = 1_000, timeoutMs = 5_000 }: ReceiveUntilOptions = {},
): Promise<ReceivedMessage[]> {
  const { minLeaseMs, maxLeaseMs, maxBatchSize } = adapter.capabilities;
  const lease = Math.min(Math.max(leaseMs, minLeaseMs), maxLeaseMs);
  const got: ReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await adapter.receive(queue, { max: Math.min(maxBatchSize, count - got.length), leaseMs: lease, waitMs })));
  }
  return got;
}
