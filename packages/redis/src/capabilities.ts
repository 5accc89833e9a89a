import type { Capabilities } from '@bg/core';

/**
 * The Redis adapter's manifest. Redis itself allows 512 MB values; 1 MiB keeps memory and
 * latency sane (raise it with the `maxPayloadBytes` option). Delays (a sorted set) and
 * releases (the pending entry's idle time) up to 10 years are native; leases are clamped at
 * 12 hours.
 */
export const REDIS_CAPABILITIES: Capabilities = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxDelayMs: 10 * 365 * 24 * 3_600_000,
  maxLeaseMs: 12 * 3_600_000,
  minLeaseMs: 1,
  maxReleaseDelayMs: 10 * 365 * 24 * 3_600_000,
  maxBatchSize: 1000,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: true,
  durable: true,
});
