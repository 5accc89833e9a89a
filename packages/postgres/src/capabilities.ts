import type { Capabilities } from '@bg/core';

/**
 * The PostgreSQL adapter's manifest. A `text` column holds up to 1 GB; 1 MiB keeps rows and
 * round trips sane (raise it with the `maxPayloadBytes` option). Delays and releases are a
 * `visible_at` time in the row, so any length up to 10 years is native; leases are clamped at
 * 12 hours. The delivery count is a column bumped by the receiving statement, so it survives
 * any crash. Deduplication is a unique index on `(queue, dedup_key)`: a key blocks a second
 * send while the first job is stored (waiting, delayed or running).
 */
export const POSTGRES_CAPABILITIES: Capabilities = Object.freeze({
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
