import type { Capabilities } from '@bg/core';

/**
 * What the file-system adapter does. Time is kept in ms in file names, so leases and delays
 * have no coarse unit; the limits are choices, not the disk's.
 */
export const FSQ_CAPABILITIES: Capabilities = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxDelayMs: 7 * 24 * 3_600_000,
  maxLeaseMs: 12 * 3_600_000,
  minLeaseMs: 1,
  maxReleaseDelayMs: 7 * 24 * 3_600_000,
  maxBatchSize: 100,
  extendBeyondMax: 'reject',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: false,
  durable: true,
});
