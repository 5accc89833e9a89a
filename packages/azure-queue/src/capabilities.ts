import type { Capabilities } from '@bg/core/adapter';
import { MAX_BODY_BYTES } from './message-codec.js';

const DAY_MS = 86_400_000;

/** Azure's longest visibility timeout: leases, delays and release delays (7 days). */
export const MAX_VISIBILITY_MS = 7 * DAY_MS;

/** Azure's most messages per receive (and per peek). */
export const MAX_RECEIVE = 32;

/** The capability manifest of the Azure Storage Queues adapter. */
export const AZURE_QUEUE_CAPABILITIES: Capabilities = Object.freeze({
  maxPayloadBytes: MAX_BODY_BYTES,
  maxDelayMs: MAX_VISIBILITY_MS,
  maxLeaseMs: MAX_VISIBILITY_MS,
  minLeaseMs: 1_000,
  maxReleaseDelayMs: MAX_VISIBILITY_MS,
  maxBatchSize: MAX_RECEIVE,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: false,
  durable: true,
});

/** Whole seconds of visibility for a duration in ms (rounded up: Azure counts seconds). */
export function seconds(ms: number): number {
  return Math.ceil(ms / 1_000);
}
